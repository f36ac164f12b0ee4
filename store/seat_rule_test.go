package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// TestSeatHoldingSQLAgreesWithGo: whether a seat row holds a seat is decided
// in Go (Seat.Held) and, for speed, in the SQL that counts seats and pending
// seats. Around the instant a seat ends, both must say the same.
func TestSeatHoldingSQLAgreesWithGo(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		now := t0
		org := roster.Org{ID: roster.NewID(roster.PrefixOrg), Name: "Acme", Slug: "acme", Plan: roster.DefaultPlan(), CreatedAt: t0, UpdatedAt: t0}
		ws := roster.Workspace{ID: roster.NewID(roster.PrefixWorkspace), OrgID: org.ID, Name: "Main", Slug: "main", CreatedAt: t0, UpdatedAt: t0}
		write(t, db, func(tx roster.Tx) error { return errors.Join(tx.CreateOrg(ctx, org), tx.CreateWorkspace(ctx, ws)) })

		ends := []*time.Time{nil, ptr(now.Add(-time.Hour)), ptr(now.Add(-time.Microsecond)), ptr(now), ptr(now.Add(time.Microsecond)), ptr(now.Add(time.Hour))}
		roles := []roster.SeatRole{roster.SeatRole(roster.RoleMember), roster.SeatRole(roster.RoleAdmin), roster.SeatRole(roster.RoleExternal)}
		want := roster.SeatCounts{}
		wantPending := 0
		for i, until := range ends {
			for j, role := range roles {
				u := newUser(fmt.Sprintf("u%d-%d@example.com", i, j))
				seat := roster.Seat{OrgID: org.ID, UserID: u.ID, Role: role, Until: until}
				inv := roster.Invitation{ID: roster.NewID(roster.PrefixInvitation), OrgID: org.ID, WorkspaceID: ws.ID, Email: *u.Email,
					Role: roster.RoleMember, TokenHash: roster.NewID(roster.PrefixInvitation), ExpiresAt: now.Add(24 * time.Hour), Open: true, CreatedAt: t0, UpdatedAt: t0}
				write(t, db, func(tx roster.Tx) error {
					_, err := tx.CreateInvitation(ctx, inv)
					return errors.Join(tx.CreateUser(ctx, u), tx.ReplaceSeat(ctx, roster.Seat{OrgID: org.ID, UserID: u.ID}, seat), err)
				})
				if seat.Held(now) {
					want[role]++
				} else {
					wantPending++ // invited, and not already a seat holder
				}
			}
		}
		got, err := db.CountSeats(ctx, org.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, role := range roles {
			if got[role] != want[role] {
				t.Errorf("%s: SQL counts %d seats held at the instant, Seat.Held %d", role, got[role], want[role])
			}
		}
		pending, err := db.CountPendingSeats(ctx, org.ID, []roster.WorkspaceRole{roster.RoleMember}, now)
		if err != nil || pending != wantPending {
			t.Errorf("pending seats: SQL %d (%v), Seat.Held leaves %d invited users without a seat", pending, err, wantPending)
		}
	})
}
