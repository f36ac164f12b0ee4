package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
	"github.com/roster-dev/roster/store"
)

// seedEveryTable writes a row into every table, through the store, and
// reads some back; tag keeps the unique columns of each call apart.
func seedEveryTable(t *testing.T, db *store.DB, tag string) roster.User {
	t.Helper()
	ctx := context.Background()
	u := newUser(tag + "@example.com")
	o := newOrg("org-" + tag)
	ws := newWorkspace(o.ID, "main")
	tok, _ := roster.NewToken(u.ID, roster.TokenPersonal, "cli", nil, t0)
	seed(t, db, u, o, ws, tok, newOrgMembership(o.ID, u.ID, roster.OrgOwner), newWorkspaceMembership(ws, u.ID, roster.RoleOwner),
		newSeat(o.ID, u.ID, "owner", nil), newInvitation(ws, "guest@example.com", roster.RoleMember), newAccessRequest(ws, u.ID))
	write(t, db, func(tx roster.Tx) error {
		return tx.InsertAudit(ctx, roster.AuditEvent{ID: roster.NewID(roster.PrefixAudit), At: t0, Via: roster.ViaSystem,
			Action: roster.ActionUserCreated, TargetType: roster.TargetUser, TargetID: u.ID, After: []byte(`{}`)})
	})
	if ok, err := db.ClaimIdempotency(ctx, roster.IdempotencyRecord{Scope: u.ID, Key: "k", Fingerprint: "f", CreatedAt: t0}, t0.Add(-time.Hour), t0.Add(-time.Hour)); err != nil || !ok {
		t.Fatalf("idempotency claim: %v %v", ok, err)
	}
	if got, err := db.GetUser(ctx, u.ID); err != nil || got.Email == nil || *got.Email != *u.Email {
		t.Fatalf("reading the user back: %+v %v", got, err)
	}
	if n, err := db.CountSeats(ctx, o.ID, t0); err != nil || n["owner"] != 1 {
		t.Fatalf("seat counts: %v %v", n, err)
	}
	if got, err := db.GetOpenInvitation(ctx, ws.ID, "guest@example.com"); err != nil || got.OrgID != o.ID {
		t.Fatalf("reading the invitation back: %+v %v", got, err)
	}
	return u
}

// TestMigrationsDownAndUpAgain rolls back the newest migration and applies
// it again, then the two newest, and so on until every migration has been
// rolled back and applied again, with data in every table each time. Every
// Down section must undo its Up exactly: its Up must apply again, the
// schema must come back as a fresh migration makes it, and the same store
// (its prepared statements too) must work on it.
func TestMigrationsDownAndUpAgain(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		fresh := readSchema(t, db)
		first := seedEveryTable(t, db, "first")

		states, err := db.MigrationStatus(ctx)
		if err != nil || len(states) == 0 {
			t.Fatalf("migration status: %v %v", states, err)
		}
		for k := 1; k <= len(states); k++ {
			keep := len(states) - k // migrations left applied
			target := int64(0)
			if keep > 0 {
				target = states[keep-1].Version
			}
			if n, err := db.MigrateDownTo(ctx, target); err != nil || n != k {
				t.Fatalf("rolling back the %d newest: %d rolled back, %v", k, n, err)
			}
			now, err := db.MigrationStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for j, s := range now {
				if s.Applied != (j < keep) {
					t.Errorf("after rolling back the %d newest: %s applied is %v", k, s.Name, s.Applied)
				}
			}
			if keep == 0 {
				if left := readSchema(t, db).tables(); len(left) != 0 {
					t.Errorf("tables left after rolling everything back: %v", left)
				}
				if current, err := db.MigrationsCurrent(ctx); err != nil || current {
					t.Errorf("current with nothing applied: %v %v", current, err)
				}
				if _, err := db.GetUser(ctx, first.ID); err == nil || errors.Is(err, roster.ErrNotFound) {
					t.Errorf("reading a user with no users table: %v, want an error other than not found", err)
				}
			}

			if n, err := db.Migrate(ctx); err != nil || n != k {
				t.Fatalf("applying the %d newest again: %d applied, %v", k, n, err)
			}
			if current, err := db.MigrationsCurrent(ctx); err != nil || !current {
				t.Errorf("current after applying the %d newest again: %v %v", k, current, err)
			}
			for _, d := range diffSchemas("a fresh migration", fresh, fmt.Sprintf("the %d newest rolled back and applied again", k), readSchema(t, db)) {
				t.Error(d)
			}
			// The users table is the oldest migration's: only rolling
			// everything back loses the first user.
			_, err = db.GetUser(ctx, first.ID)
			if keep > 0 && err != nil {
				t.Errorf("the first user after rolling back the %d newest: %v", k, err)
			}
			if keep == 0 && !errors.Is(err, roster.ErrNotFound) {
				t.Errorf("the first user after rolling everything back: %v, want not found", err)
			}
			seedEveryTable(t, db, fmt.Sprintf("cycle-%d", k))
		}
	})
}

// TestMigrationStatusListsRiver: River's migrations are Roster's goose
// migrations 5 to 12, named after River's, and a fresh store has applied
// them with Roster's.
func TestMigrationStatusListsRiver(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		states, err := rostertest.OpenStore(t, b).MigrationStatus(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]string{
			1:  "00001_users_tokens_audit.sql",
			4:  "00004_invitations_access_requests.sql",
			5:  "river 001 create river migration",
			6:  "river 002 initial schema",
			12: "river 008 job id autoincrement",
		}
		for i, s := range states {
			if s.Version != int64(i+1) || !s.Applied {
				t.Errorf("migration %d: %+v, want version %d applied", i, s, i+1)
			}
			if name, ok := want[s.Version]; ok && s.Name != name {
				t.Errorf("migration %d is named %q, want %q", s.Version, s.Name, name)
			}
		}
		if len(states) < 12 {
			t.Errorf("%d migrations, want at least 12: %+v", len(states), states)
		}
	})
}
