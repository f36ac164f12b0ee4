package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

func TestOrgsWorkspacesMemberships(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		u := newUser("m@example.com")
		org := roster.Org{ID: roster.NewID(roster.PrefixOrg), Name: "Acme", Slug: "acme", MembersCanCreateWorkspaces: true, CreatedAt: t0, UpdatedAt: t0}
		other := roster.Org{ID: roster.NewID(roster.PrefixOrg), Name: "Other", Slug: "other", CreatedAt: t0, UpdatedAt: t0}
		ws := roster.Workspace{ID: roster.NewID(roster.PrefixWorkspace), OrgID: org.ID, Name: "Main", Slug: "main",
			Values: map[string]string{"k": "v"}, CreatedAt: t0, UpdatedAt: t0}
		write(t, db, func(tx roster.Tx) error {
			return errors.Join(tx.CreateUser(ctx, u), tx.CreateOrg(ctx, org), tx.CreateOrg(ctx, other), tx.CreateWorkspace(ctx, ws))
		})
		clash := org
		clash.ID = roster.NewID(roster.PrefixOrg)
		if err := db.Update(ctx, func(tx roster.Tx) error { return tx.CreateOrg(ctx, clash) }); !errors.Is(err, roster.ErrUniqueViolation) {
			t.Errorf("duplicate org slug: %v", err)
		}
		sameSlug := ws
		sameSlug.ID, sameSlug.OrgID = roster.NewID(roster.PrefixWorkspace), other.ID
		write(t, db, func(tx roster.Tx) error { return tx.CreateWorkspace(ctx, sameSlug) }) // per organisation
		sameSlug.ID, sameSlug.OrgID = roster.NewID(roster.PrefixWorkspace), org.ID
		if err := db.Update(ctx, func(tx roster.Tx) error { return tx.CreateWorkspace(ctx, sameSlug) }); !errors.Is(err, roster.ErrUniqueViolation) {
			t.Errorf("duplicate workspace slug in one org: %v", err)
		}
		got, err := db.GetWorkspace(ctx, ws.ID)
		if err != nil || got.Values["k"] != "v" || got.OrgID != org.ID {
			t.Errorf("workspace round trip: %+v %v", got, err)
		}

		om := roster.OrgMembership{ID: roster.NewID(roster.PrefixMembership), OrgID: org.ID, UserID: u.ID, Role: roster.OrgMember, JoinedAt: t0, UpdatedAt: t0}
		wm := roster.WorkspaceMembership{ID: roster.NewID(roster.PrefixMembership), WorkspaceID: ws.ID, OrgID: org.ID, UserID: u.ID,
			Role: roster.RoleMember, Source: roster.SourceDirect, JoinedAt: t0, ExpiresAt: ptr(t0.Add(time.Hour)), UpdatedAt: t0}
		var inserted [4]bool
		write(t, db, func(tx roster.Tx) error {
			var e1, e2, e3, e4 error
			inserted[0], e1 = tx.CreateOrgMembership(ctx, om)
			inserted[1], e2 = tx.CreateWorkspaceMembership(ctx, wm)
			dup, dupW := om, wm
			dup.ID, dupW.ID = roster.NewID(roster.PrefixMembership), roster.NewID(roster.PrefixMembership)
			inserted[2], e3 = tx.CreateOrgMembership(ctx, dup)
			inserted[3], e4 = tx.CreateWorkspaceMembership(ctx, dupW)
			return errors.Join(e1, e2, e3, e4)
		})
		if inserted != [4]bool{true, true, false, false} {
			t.Errorf("inserted %v: one live membership per user and org or workspace", inserted)
		}
		if got, err := db.GetWorkspaceMembership(ctx, ws.ID, u.ID); err != nil || !got.ExpiresAt.Equal(*wm.ExpiresAt) || got.Source != roster.SourceDirect {
			t.Errorf("workspace membership: %+v %v", got, err)
		}
		if wss, err := db.ListWorkspaces(ctx, roster.WorkspaceFilter{MemberID: u.ID}, roster.Page{Limit: 10}); err != nil || len(wss) != 1 || wss[0].ID != ws.ID {
			t.Errorf("workspaces of the member's organisation: %d %v", len(wss), err)
		}

		// Leaving the organisation ends the workspace memberships with it; a
		// new membership is a new row.
		var ended []roster.WorkspaceMembership
		write(t, db, func(tx roster.Tx) error {
			var err error
			ended, err = tx.DeleteUserOrgWorkspaceMemberships(ctx, org.ID, u.ID, t0.Add(time.Minute))
			return err
		})
		if len(ended) != 1 || ended[0].ID != wm.ID {
			t.Errorf("ended %+v", ended)
		}
		if _, err := db.GetWorkspaceMembership(ctx, ws.ID, u.ID); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("ended membership still live: %v", err)
		}
		again := wm
		again.ID = roster.NewID(roster.PrefixMembership)
		write(t, db, func(tx roster.Tx) error {
			ok, err := tx.CreateWorkspaceMembership(ctx, again)
			if !ok && err == nil {
				t.Error("could not re-create an ended membership")
			}
			return err
		})

		// Deleting the organisation takes everything in it.
		write(t, db, func(tx roster.Tx) error {
			_, err := tx.LockOrg(ctx, org.ID)
			return errors.Join(err, tx.DeleteOrg(ctx, org.ID, t0.Add(time.Hour)))
		})
		for name, err := range map[string]error{
			"org":                  func() error { _, err := db.GetOrg(ctx, org.ID); return err }(),
			"workspace":            func() error { _, err := db.GetWorkspace(ctx, ws.ID); return err }(),
			"org membership":       func() error { _, err := db.GetOrgMembership(ctx, org.ID, u.ID); return err }(),
			"workspace membership": func() error { _, err := db.GetWorkspaceMembership(ctx, ws.ID, u.ID); return err }(),
		} {
			if !errors.Is(err, roster.ErrNotFound) {
				t.Errorf("%s after deleting the org: %v", name, err)
			}
		}
		if _, err := db.GetOrg(ctx, other.ID); err != nil {
			t.Errorf("the other org: %v", err)
		}
	})
}
