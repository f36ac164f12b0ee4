package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// seedMembers puts n members into an organisation straight through the
// store (a fixture, not n audited changes): 88% organisation members with a
// permanent seat, 12% externals of its workspace whose seat expires.
func seedMembers(b *testing.B, env *rostertest.Env, tn tenant, n int) {
	ctx := context.Background()
	now := env.Clock.Now()
	var ops []func(roster.Tx) error
	for i := range n {
		email := fmt.Sprintf("m%d@big.example", i)
		u := roster.User{ID: roster.NewID(roster.PrefixUser), Email: &email, Status: roster.UserActive, PlatformRole: roster.PlatformNone, CreatedAt: now, UpdatedAt: now}
		ops = append(ops, func(tx roster.Tx) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			seat := roster.Seat{OrgID: tn.org.ID, UserID: u.ID, Role: roster.SeatRole(roster.OrgMember)}
			if i%100 < 12 {
				until := now.Add(time.Duration(1+i%48) * time.Hour)
				seat.Role, seat.Until = roster.SeatRole(roster.RoleExternal), &until
				if _, err := tx.CreateWorkspaceMembership(ctx, roster.WorkspaceMembership{ID: roster.NewID(roster.PrefixMembership), WorkspaceID: tn.ws.ID,
					OrgID: tn.org.ID, UserID: u.ID, Role: roster.RoleExternal, Source: roster.SourceDirect, JoinedAt: now, ExpiresAt: &until, UpdatedAt: now}); err != nil {
					return err
				}
			} else if _, err := tx.CreateOrgMembership(ctx, roster.OrgMembership{ID: roster.NewID(roster.PrefixMembership), OrgID: tn.org.ID,
				UserID: u.ID, Role: roster.OrgMember, JoinedAt: now, UpdatedAt: now}); err != nil {
				return err
			}
			return tx.ReplaceSeat(ctx, roster.Seat{OrgID: tn.org.ID, UserID: u.ID}, seat)
		})
	}
	writeInChunks(b, env, ops)
}

// writeInChunks runs a fixture's writes straight through the store, 5,000
// to a transaction.
func writeInChunks(b *testing.B, env *rostertest.Env, ops []func(roster.Tx) error) {
	for chunk := range slices.Chunk(ops, 5000) {
		if err := env.DB.Update(context.Background(), func(tx roster.Tx) error {
			for _, op := range chunk {
				if err := op(tx); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSeats100k reads seat counts of, and creates invitations in, an
// organisation of 100,000 members over HTTP.
func BenchmarkSeats100k(b *testing.B) {
	for _, backend := range rostertest.Backends {
		b.Run(string(backend), func(b *testing.B) {
			env := rostertest.NewEnv(b, backend)
			tn := newTenant(b, env, "big")
			seedMembers(b, env, tn, 100_000)
			env.Expect(200, rostertest.Req{Method: "PUT", Path: "/v1/orgs/" + tn.org.ID + "/plan", Token: env.AdminToken, Body: map[string]any{"seat_cap": 1_000_000, "free_roles": []string{"viewer"}}})
			client := &http.Client{}
			do := func(method, path string, body any, want int) {
				var rd io.Reader
				if body != nil {
					raw, _ := json.Marshal(body)
					rd = bytes.NewReader(raw)
				}
				req, _ := http.NewRequest(method, env.HTTP.URL+path, rd)
				req.Header.Set("Authorization", "Bearer "+tn.aliceToken)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				out, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != want {
					b.Fatalf("%s %s: %d %s", method, path, res.StatusCode, out)
				}
			}
			var s seatCounts
			req, _ := http.NewRequest(http.MethodGet, env.HTTP.URL+"/v1/orgs/"+tn.org.ID+"/seats", nil)
			req.Header.Set("Authorization", "Bearer "+tn.aliceToken)
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			json.NewDecoder(res.Body).Decode(&s)
			res.Body.Close()
			if s.Used != 100_001 {
				b.Fatalf("seeded %d seats, want 100001", s.Used)
			}
			b.Run("get-seats", func(b *testing.B) {
				for b.Loop() {
					do(http.MethodGet, "/v1/orgs/"+tn.org.ID+"/seats", nil, http.StatusOK)
				}
			})
			b.Run("create-invitation", func(b *testing.B) {
				i := 0
				for b.Loop() {
					do(http.MethodPost, "/v1/workspaces/"+tn.ws.ID+"/invitations", map[string]any{"email": fmt.Sprintf("inv%d@new.example", i), "role": "member"}, http.StatusCreated)
					i++
				}
			})
		})
	}
}
