package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// seedResources puts resources straight through the store (a fixture, not
// audited changes): n owned by ws, each shared with every one of grantees.
func seedResources(b *testing.B, env *rostertest.Env, ws rostertest.Workspace, prefix string, n int, grantees ...string) {
	ctx := context.Background()
	now := env.Clock.Now()
	var ops []func(roster.Tx) error
	for i := range n {
		r := roster.Resource{ID: roster.NewID(roster.PrefixResource), WorkspaceID: ws.ID, OrgID: ws.OrgID, Type: "document",
			ExternalID: fmt.Sprintf("%s-%d", prefix, i), Name: "Document", CreatedAt: now, UpdatedAt: now}
		ops = append(ops, func(tx roster.Tx) error {
			if _, err := tx.CreateResource(ctx, r); err != nil {
				return err
			}
			for _, g := range grantees {
				kind := roster.GranteeWorkspace
				if roster.ValidID(roster.PrefixUser, g) {
					kind = roster.GranteeUser
				}
				if _, err := tx.PutShare(ctx, roster.ResourceShare{ResourceID: r.ID, GranteeKind: kind, GranteeID: g, Role: roster.ShareViewer, CreatedAt: now, UpdatedAt: now}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	writeInChunks(b, env, ops)
}

// BenchmarkUserResources reads the first page of GET /v1/users/{id}/resources
// over HTTP for a user who reaches 5,000 of 50,000 resources: 4,000 of
// their workspace, 600 shared with it and 400 as a guest.
func BenchmarkUserResources(b *testing.B) {
	for _, backend := range rostertest.Backends {
		b.Run(string(backend), func(b *testing.B) {
			env := rostertest.NewEnv(b, backend)
			acme, other := newTenant(b, env, "acme"), newTenant(b, env, "other")
			seedResources(b, env, acme.ws, "own", 4000)
			seedResources(b, env, other.ws, "shared", 600, acme.ws.ID)
			seedResources(b, env, other.ws, "guest", 400, acme.alice.ID)
			seedResources(b, env, other.ws, "unreached", 45_000)
			client := &http.Client{}
			get := func() int {
				req, _ := http.NewRequest(http.MethodGet, env.HTTP.URL+"/v1/users/"+acme.alice.ID+"/resources", nil)
				req.Header.Set("Authorization", "Bearer "+acme.aliceToken)
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				defer res.Body.Close()
				var page struct{ Data []json.RawMessage }
				if err := json.NewDecoder(res.Body).Decode(&page); err != nil || res.StatusCode != http.StatusOK {
					body, _ := io.ReadAll(res.Body)
					b.Fatalf("status %d: %v %s", res.StatusCode, err, body)
				}
				return len(page.Data)
			}
			if n := get(); n != roster.DefaultPageLimit {
				b.Fatalf("first page: %d resources", n)
			}
			for b.Loop() {
				get()
			}
		})
	}
}
