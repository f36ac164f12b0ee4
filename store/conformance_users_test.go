package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// TestUserLookups: users are found by external id and by email key, only
// while they are not deleted; the status and external id filters select
// exactly their users.
func TestUserLookups(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		ann := newUser("ann@example.com")
		ann.ExternalID = ptr("ext-ann")
		suspended := newUser("sus@example.com")
		suspended.Status = roster.UserSuspended
		bot := newUser("")
		bot.ExternalID, bot.DisplayName = ptr("ext-bot"), "Build Robot"
		gone := newUser("gone@example.com")
		gone.ExternalID, gone.DeletedAt = ptr("ext-gone"), ptr(t0)
		seed(t, db, ann, suspended, bot, gone)

		if got, err := db.GetUserByExternalID(ctx, "ext-bot"); err != nil || got.ID != bot.ID || got.Email != nil || got.DisplayName != "Build Robot" {
			t.Errorf("by external id: %+v %v", got, err)
		}
		for name, err := range map[string]error{
			"unknown external id": func() error { _, err := db.GetUserByExternalID(ctx, "ext-nobody"); return err }(),
			"deleted external id": func() error { _, err := db.GetUserByExternalID(ctx, "ext-gone"); return err }(),
			"unknown email":       func() error { _, err := db.GetUserByEmail(ctx, "nobody@example.com"); return err }(),
			"deleted email":       func() error { _, err := db.GetUserByEmail(ctx, "gone@example.com"); return err }(),
			"unknown id":          func() error { _, err := db.GetUser(ctx, roster.NewID(roster.PrefixUser)); return err }(),
		} {
			if !errors.Is(err, roster.ErrNotFound) {
				t.Errorf("%s: %v, want not found", name, err)
			}
		}

		list := func(f roster.UserFilter) []string {
			t.Helper()
			us, err := db.ListUsers(ctx, f, roster.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			return idsOf(us, idOfUser)
		}
		for name, c := range map[string]struct {
			f    roster.UserFilter
			want []string
		}{
			"everyone live":          {roster.UserFilter{}, sorted(ann.ID, suspended.ID, bot.ID)},
			"suspended":              {roster.UserFilter{Status: roster.UserSuspended}, []string{suspended.ID}},
			"active":                 {roster.UserFilter{Status: roster.UserActive}, sorted(ann.ID, bot.ID)},
			"external id":            {roster.UserFilter{ExternalID: "ext-ann"}, []string{ann.ID}},
			"deleted external id":    {roster.UserFilter{ExternalID: "ext-gone"}, nil},
			"display name, any case": {roster.UserFilter{Query: "ROBOT"}, []string{bot.ID}},
			"status and query":       {roster.UserFilter{Status: roster.UserActive, Query: "sus"}, nil},
		} {
			if got := list(c.f); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", name, got, c.want)
			}
		}
		if has, err := db.HasUsers(ctx); err != nil || !has {
			t.Errorf("HasUsers with users: %v %v", has, err)
		}
	})
}

// TestUpdateUser: UpdateUser stores every mutable field and re-indexes the
// email and search text; it leaves created_at alone, reports a missing
// user as not found and a taken email as a unique violation.
func TestUpdateUser(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		u := newUser("old@example.com")
		u.ExternalID = ptr("ext-old")
		other := newUser("taken@example.com")
		seed(t, db, u, other)

		changed := u
		changed.Email, changed.DisplayName = ptr("New.Name@Example.com"), "Renamed Person"
		changed.Status, changed.PlatformRole = roster.UserSuspended, roster.PlatformSupport
		changed.ExternalID, changed.DefaultWorkspaceID = nil, ptr("ws_default")
		changed.CreatedAt, changed.UpdatedAt = t0.Add(time.Hour), t0.Add(2*time.Hour)
		write(t, db, func(tx roster.Tx) error { return tx.UpdateUser(ctx, changed) })

		got, err := db.GetUser(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Email == nil || *got.Email != "New.Name@Example.com" || got.DisplayName != "Renamed Person" ||
			got.Status != roster.UserSuspended || got.PlatformRole != roster.PlatformSupport || got.ExternalID != nil ||
			got.DefaultWorkspaceID == nil || *got.DefaultWorkspaceID != "ws_default" || !got.UpdatedAt.Equal(t0.Add(2*time.Hour)) {
			t.Errorf("updated user: %+v", got)
		}
		if !got.CreatedAt.Equal(t0) {
			t.Errorf("created_at %v, want it unchanged at %v", got.CreatedAt, t0)
		}
		if byEmail, err := db.GetUserByEmail(ctx, "new.name@example.com"); err != nil || byEmail.ID != u.ID {
			t.Errorf("by the new email: %v %v", byEmail.ID, err)
		}
		if _, err := db.GetUserByEmail(ctx, "old@example.com"); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("by the old email: %v", err)
		}
		if _, err := db.GetUserByExternalID(ctx, "ext-old"); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("by the cleared external id: %v", err)
		}
		if us, err := db.ListUsers(ctx, roster.UserFilter{Query: "renamed"}, roster.Page{Limit: 10}); err != nil || len(us) != 1 || us[0].ID != u.ID {
			t.Errorf("search by the new name: %d %v", len(us), err)
		}

		clash := changed
		clash.Email = ptr("TAKEN@example.com")
		if err := db.Update(ctx, func(tx roster.Tx) error { return tx.UpdateUser(ctx, clash) }); !errors.Is(err, roster.ErrUniqueViolation) {
			t.Errorf("taking another user's email: %v, want a unique violation", err)
		}
		missing := newUser("missing@example.com")
		if err := db.Update(ctx, func(tx roster.Tx) error { return tx.UpdateUser(ctx, missing) }); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("updating no user: %v, want not found", err)
		}
	})
}

// TestCountActiveAdmins counts live, active platform admins only, outside a
// transaction and inside one (where PostgreSQL locks their rows).
func TestCountActiveAdmins(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		admin := func(email string, status roster.UserStatus, deleted bool) roster.User {
			u := newUser(email)
			u.PlatformRole, u.Status = roster.PlatformAdmin, status
			if deleted {
				u.DeletedAt = ptr(t0)
			}
			return u
		}
		support := newUser("support@example.com")
		support.PlatformRole = roster.PlatformSupport
		seed(t, db, admin("a1@example.com", roster.UserActive, false), admin("a2@example.com", roster.UserActive, false),
			admin("a3@example.com", roster.UserSuspended, false), admin("a4@example.com", roster.UserDeactivated, false),
			admin("a5@example.com", roster.UserActive, true), support)

		if n, err := db.CountActiveAdmins(ctx); err != nil || n != 2 {
			t.Errorf("outside a transaction: %d %v, want 2", n, err)
		}
		write(t, db, func(tx roster.Tx) error {
			n, err := tx.CountActiveAdmins(ctx)
			if err == nil && n != 2 {
				t.Errorf("inside a transaction: %d, want 2", n)
			}
			return err
		})
	})
}

// TestPingAndClose: a store answers until it is closed, and not after.
func TestPingAndClose(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		if err := db.Ping(ctx); err != nil {
			t.Fatalf("ping an open store: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		if err := db.Ping(ctx); err == nil {
			t.Error("ping after close succeeded")
		}
		if _, err := db.GetUser(ctx, roster.NewID(roster.PrefixUser)); err == nil || errors.Is(err, roster.ErrNotFound) {
			t.Errorf("read after close: %v, want a failure that is not not-found", err)
		}
	})
}
