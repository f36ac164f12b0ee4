package store_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// TestListOrgsFiltersAndPaging: live organisations only, by id; a member's
// organisations are those of their live memberships; slug and free text
// (name or slug, any case) filter.
func TestListOrgsFiltersAndPaging(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		u := newUser("member@example.com")
		acme, beta, gamma := newOrg("acme"), newOrg("beta"), newOrg("gamma")
		acme.Name, gamma.Name = "Acme Corp", "Gamma (formerly ACME)"
		gone := newOrg("gone")
		gone.DeletedAt = ptr(t0)
		left := newOrgMembership(beta.ID, u.ID, roster.OrgMember)
		left.DeletedAt = ptr(t0)
		seed(t, db, u, acme, beta, gamma, gone, left,
			newOrgMembership(acme.ID, u.ID, roster.OrgMember), newOrgMembership(gamma.ID, u.ID, roster.OrgAdmin),
			newOrgMembership(gone.ID, u.ID, roster.OrgOwner))

		list := func(f roster.OrgFilter, p roster.Page) []string {
			t.Helper()
			os, err := db.ListOrgs(ctx, f, p)
			if err != nil {
				t.Fatal(err)
			}
			return idsOf(os, idOfOrg)
		}
		all := sorted(acme.ID, beta.ID, gamma.ID)
		for name, c := range map[string]struct {
			f    roster.OrgFilter
			p    roster.Page
			want []string
		}{
			"every live org":                  {roster.OrgFilter{}, roster.Page{Limit: 10}, all},
			"first page, Limit+1 rows":        {roster.OrgFilter{}, roster.Page{Limit: 1}, all[:2]},
			"after the first":                 {roster.OrgFilter{}, roster.Page{Limit: 10, After: all[0]}, all[1:]},
			"live memberships of live orgs":   {roster.OrgFilter{MemberID: u.ID}, roster.Page{Limit: 10}, sorted(acme.ID, gamma.ID)},
			"slug":                            {roster.OrgFilter{Slug: "beta"}, roster.Page{Limit: 10}, []string{beta.ID}},
			"slug of a deleted org":           {roster.OrgFilter{Slug: "gone"}, roster.Page{Limit: 10}, nil},
			"query in name or slug, any case": {roster.OrgFilter{Query: "aCmE"}, roster.Page{Limit: 10}, sorted(acme.ID, gamma.ID)},
			"query in the name only":          {roster.OrgFilter{Query: "corp"}, roster.Page{Limit: 10}, []string{acme.ID}},
			"query and member":                {roster.OrgFilter{Query: "gamma", MemberID: u.ID}, roster.Page{Limit: 10}, []string{gamma.ID}},
		} {
			if got := list(c.f, c.p); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", name, got, c.want)
			}
		}
	})
}

// TestUpdateOrg: the plan and every mutable field round-trip; a slug is
// unique among live organisations only; updating nothing is not found.
func TestUpdateOrg(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		o, other := newOrg("acme"), newOrg("other")
		o.Plan = roster.Plan{FreeRoles: []roster.WorkspaceRole{}} // no free role at all
		seed(t, db, o, other)
		if got, err := db.GetOrg(ctx, o.ID); err != nil || got.Plan.SeatCap != nil || len(got.Plan.FreeRoles) != 0 || got.Plan.OwnerSeatFree {
			t.Errorf("empty plan round trip: %+v %v", got.Plan, err)
		}

		changed := o
		changed.Name, changed.Slug, changed.MembersCanCreateWorkspaces = "Acme Renamed", "acme-two", false
		changed.Plan = roster.Plan{SeatCap: ptr(5), FreeRoles: []roster.WorkspaceRole{roster.RoleViewer, roster.RoleExternal}, OwnerSeatFree: true}
		changed.CreatedAt, changed.UpdatedAt = t0.Add(time.Hour), t0.Add(2*time.Hour)
		write(t, db, func(tx roster.Tx) error { return tx.UpdateOrg(ctx, changed) })
		got, err := db.GetOrg(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := changed
		want.CreatedAt = t0 // not mutable
		if !reflect.DeepEqual(got, want) {
			t.Errorf("updated org:\n got %+v\nwant %+v", got, want)
		}
		// And back: the cap and the flags can be cleared too.
		changed.Plan, changed.MembersCanCreateWorkspaces = roster.DefaultPlan(), true
		write(t, db, func(tx roster.Tx) error { return tx.UpdateOrg(ctx, changed) })
		if got, err := db.GetOrg(ctx, o.ID); err != nil || got.Plan.SeatCap != nil || got.Plan.OwnerSeatFree || !got.MembersCanCreateWorkspaces ||
			!slices.Equal(got.Plan.FreeRoles, []roster.WorkspaceRole{roster.RoleViewer}) {
			t.Errorf("plan cleared: %+v %v", got, err)
		}
		if os, err := db.ListOrgs(ctx, roster.OrgFilter{Query: "renamed"}, roster.Page{Limit: 10}); err != nil || len(os) != 1 || os[0].ID != o.ID {
			t.Errorf("search by the new name: %d %v", len(os), err)
		}

		seed(t, db, newOrg("acme")) // the old slug is free again
		clash := changed
		clash.Slug = other.Slug
		if err := db.Update(ctx, func(tx roster.Tx) error { return tx.UpdateOrg(ctx, clash) }); !errors.Is(err, roster.ErrUniqueViolation) {
			t.Errorf("taking another org's slug: %v, want a unique violation", err)
		}
		if err := db.Update(ctx, func(tx roster.Tx) error { return tx.UpdateOrg(ctx, newOrg("nowhere")) }); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("updating no org: %v, want not found", err)
		}

		// Soft-deleted through an update: gone from reads, its slug free.
		changed.DeletedAt = ptr(t0.Add(3 * time.Hour))
		write(t, db, func(tx roster.Tx) error { return tx.UpdateOrg(ctx, changed) })
		if _, err := db.GetOrg(ctx, o.ID); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("deleted org: %v", err)
		}
		seed(t, db, newOrg("acme-two"))
	})
}

// TestWorkspacesListAndUpdate: the workspace filters (organisation, slug,
// member, archived) and an update of every mutable field.
func TestWorkspacesListAndUpdate(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		u := newUser("member@example.com")
		a, other := newOrg("a"), newOrg("b")
		main, old, gone := newWorkspace(a.ID, "main"), newWorkspace(a.ID, "old"), newWorkspace(a.ID, "gone")
		old.ArchivedAt, gone.DeletedAt = ptr(t0), ptr(t0)
		theirs := newWorkspace(other.ID, "main")
		seed(t, db, u, a, other, main, old, gone, theirs,
			newWorkspaceMembership(theirs, u.ID, roster.RoleViewer)) // a direct member of one workspace of b only

		list := func(f roster.WorkspaceFilter, p roster.Page) []string {
			t.Helper()
			ws, err := db.ListWorkspaces(ctx, f, p)
			if err != nil {
				t.Fatal(err)
			}
			return idsOf(ws, idOfWorkspace)
		}
		for name, c := range map[string]struct {
			f    roster.WorkspaceFilter
			p    roster.Page
			want []string
		}{
			"unarchived":               {roster.WorkspaceFilter{}, roster.Page{Limit: 10}, sorted(main.ID, theirs.ID)},
			"with archived":            {roster.WorkspaceFilter{IncludeArchived: true}, roster.Page{Limit: 10}, sorted(main.ID, old.ID, theirs.ID)},
			"organisation":             {roster.WorkspaceFilter{OrgID: a.ID, IncludeArchived: true}, roster.Page{Limit: 10}, sorted(main.ID, old.ID)},
			"slug in every org":        {roster.WorkspaceFilter{Slug: "main"}, roster.Page{Limit: 10}, sorted(main.ID, theirs.ID)},
			"slug in one org":          {roster.WorkspaceFilter{OrgID: other.ID, Slug: "main"}, roster.Page{Limit: 10}, []string{theirs.ID}},
			"direct membership":        {roster.WorkspaceFilter{MemberID: u.ID, IncludeArchived: true}, roster.Page{Limit: 10}, []string{theirs.ID}},
			"first page, Limit+1 rows": {roster.WorkspaceFilter{IncludeArchived: true}, roster.Page{Limit: 1}, sorted(main.ID, old.ID, theirs.ID)[:2]},
			"after the first of a":     {roster.WorkspaceFilter{OrgID: a.ID, IncludeArchived: true}, roster.Page{Limit: 10, After: sorted(main.ID, old.ID)[0]}, sorted(main.ID, old.ID)[1:]},
		} {
			if got := list(c.f, c.p); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", name, got, c.want)
			}
		}
		// An organisation membership shows every workspace of the organisation.
		seed(t, db, newOrgMembership(a.ID, u.ID, roster.OrgMember))
		if got := list(roster.WorkspaceFilter{MemberID: u.ID}, roster.Page{Limit: 10}); !slices.Equal(got, sorted(main.ID, theirs.ID)) {
			t.Errorf("member of the organisation too: %v", got)
		}
		if _, err := db.GetWorkspace(ctx, gone.ID); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("deleted workspace: %v", err)
		}

		changed := main
		changed.Name, changed.Slug, changed.AllowSupportAccess = "Renamed", "renamed", true
		changed.Values, changed.ArchivedAt = map[string]string{"tier": "gold", "region": "eu"}, ptr(t0.Add(time.Hour))
		changed.CreatedAt, changed.UpdatedAt = t0.Add(time.Hour), t0.Add(2*time.Hour)
		write(t, db, func(tx roster.Tx) error { return tx.UpdateWorkspace(ctx, changed) })
		got, err := db.GetWorkspace(ctx, main.ID)
		want := changed
		want.CreatedAt = t0 // not mutable
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("updated workspace:\n got %+v (%v)\nwant %+v", got, err, want)
		}
		changed.Values = nil // stored as no values
		write(t, db, func(tx roster.Tx) error { return tx.UpdateWorkspace(ctx, changed) })
		if got, err := db.GetWorkspace(ctx, main.ID); err != nil || got.Values == nil || len(got.Values) != 0 {
			t.Errorf("values cleared: %#v %v", got.Values, err)
		}

		clash := changed
		clash.Slug = "old"
		if err := db.Update(ctx, func(tx roster.Tx) error { return tx.UpdateWorkspace(ctx, clash) }); !errors.Is(err, roster.ErrUniqueViolation) {
			t.Errorf("taking a slug of the same organisation: %v, want a unique violation", err)
		}
		clash.Slug = "gone" // held by a deleted workspace only
		write(t, db, func(tx roster.Tx) error { return tx.UpdateWorkspace(ctx, clash) })
		if err := db.Update(ctx, func(tx roster.Tx) error { return tx.UpdateWorkspace(ctx, newWorkspace(a.ID, "nowhere")) }); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("updating no workspace: %v, want not found", err)
		}
	})
}

// TestDeleteWorkspace soft-deletes a workspace with its memberships, closes
// its open invitations and access requests, and touches nothing else.
func TestDeleteWorkspace(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		u, asker := newUser("member@example.com"), newUser("asker@example.com")
		o := newOrg("acme")
		doomed, kept := newWorkspace(o.ID, "doomed"), newWorkspace(o.ID, "kept")
		inv, keptInv := newInvitation(doomed, "guest@example.com", roster.RoleMember), newInvitation(kept, "guest@example.com", roster.RoleMember)
		req, keptReq := newAccessRequest(doomed, asker.ID), newAccessRequest(kept, asker.ID)
		seed(t, db, u, asker, o, doomed, kept, newOrgMembership(o.ID, u.ID, roster.OrgMember),
			newWorkspaceMembership(doomed, u.ID, roster.RoleAdmin), newWorkspaceMembership(kept, u.ID, roster.RoleMember),
			inv, keptInv, req, keptReq)

		at := t0.Add(time.Hour)
		write(t, db, func(tx roster.Tx) error { return tx.DeleteWorkspace(ctx, doomed.ID, at) })
		for name, err := range map[string]error{
			"workspace":    func() error { _, err := db.GetWorkspace(ctx, doomed.ID); return err }(),
			"membership":   func() error { _, err := db.GetWorkspaceMembership(ctx, doomed.ID, u.ID); return err }(),
			"open invite":  func() error { _, err := db.GetOpenInvitation(ctx, doomed.ID, "guest@example.com"); return err }(),
			"open request": func() error { _, err := db.GetOpenAccessRequest(ctx, doomed.ID, asker.ID); return err }(),
			"lock its org": db.Update(ctx, func(tx roster.Tx) error { _, err := tx.LockWorkspaceOrg(ctx, doomed.ID); return err }),
		} {
			if !errors.Is(err, roster.ErrNotFound) {
				t.Errorf("%s after deleting the workspace: %v, want not found", name, err)
			}
		}
		if got, err := db.GetInvitation(ctx, inv.ID); err != nil || got.Open || got.RevokedAt == nil || !got.RevokedAt.Equal(at) || !got.UpdatedAt.Equal(at) {
			t.Errorf("the workspace's invitation is revoked at the deletion: %+v %v", got, err)
		}
		for name, err := range map[string]error{
			"org":                   func() error { _, err := db.GetOrg(ctx, o.ID); return err }(),
			"other workspace":       func() error { _, err := db.GetWorkspace(ctx, kept.ID); return err }(),
			"other membership":      func() error { _, err := db.GetWorkspaceMembership(ctx, kept.ID, u.ID); return err }(),
			"org membership":        func() error { _, err := db.GetOrgMembership(ctx, o.ID, u.ID); return err }(),
			"other open invitation": func() error { _, err := db.GetOpenInvitation(ctx, kept.ID, "guest@example.com"); return err }(),
			"other open request":    func() error { _, err := db.GetOpenAccessRequest(ctx, kept.ID, asker.ID); return err }(),
		} {
			if err != nil {
				t.Errorf("%s after deleting another workspace: %v", name, err)
			}
		}
		seed(t, db, newWorkspace(o.ID, "doomed")) // the slug is free again
	})
}

// TestDeleteOrgEndsEverythingInIt: deleting an organisation also drops its
// seats and seat counters, revokes its open invitations and closes its
// open access requests; another organisation keeps all of its own.
func TestDeleteOrgEndsEverythingInIt(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		u := newUser("member@example.com")
		doomed, kept := newOrg("doomed"), newOrg("kept")
		ws, keptWS := newWorkspace(doomed.ID, "main"), newWorkspace(kept.ID, "main")
		inv := newInvitation(ws, "guest@example.com", roster.RoleMember)
		seed(t, db, u, doomed, kept, ws, keptWS,
			newOrgMembership(doomed.ID, u.ID, roster.OrgAdmin), newOrgMembership(kept.ID, u.ID, roster.OrgAdmin),
			newSeat(doomed.ID, u.ID, "admin", nil), newSeat(kept.ID, u.ID, "admin", nil),
			inv, newInvitation(keptWS, "guest@example.com", roster.RoleMember),
			newAccessRequest(ws, u.ID), newAccessRequest(keptWS, u.ID))

		at := t0.Add(time.Hour)
		write(t, db, func(tx roster.Tx) error { return tx.DeleteOrg(ctx, doomed.ID, at) })
		if counts, err := db.CountSeats(ctx, doomed.ID, at); err != nil || counts["admin"] != 0 {
			t.Errorf("seat counts of the deleted org: %v %v", counts, err)
		}
		if _, err := db.GetSeat(ctx, doomed.ID, u.ID); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("seat in the deleted org: %v, want not found", err)
		}
		if ids, err := db.ListOrgUserIDs(ctx, doomed.ID); err != nil || len(ids) != 0 {
			t.Errorf("users of the deleted org: %v %v", ids, err)
		}
		if got, err := db.GetInvitation(ctx, inv.ID); err != nil || got.Open || got.RevokedAt == nil || !got.RevokedAt.Equal(at) {
			t.Errorf("the deleted org's invitation: %+v %v", got, err)
		}
		if _, err := db.GetOpenAccessRequest(ctx, ws.ID, u.ID); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("open access request in the deleted org: %v, want not found", err)
		}
		if ms, err := db.ListUserOrgMemberships(ctx, u.ID); err != nil || len(ms) != 1 || ms[0].OrgID != kept.ID {
			t.Errorf("the member's organisations: %+v %v", ms, err)
		}

		if counts, err := db.CountSeats(ctx, kept.ID, at); err != nil || counts["admin"] != 1 {
			t.Errorf("seat counts of the other org: %v %v", counts, err)
		}
		if ids, err := db.ListOrgUserIDs(ctx, kept.ID); err != nil || !slices.Equal(ids, []string{u.ID}) {
			t.Errorf("users of the other org: %v %v", ids, err)
		}
		if _, err := db.GetOpenInvitation(ctx, keptWS.ID, "guest@example.com"); err != nil {
			t.Errorf("the other org's invitation: %v", err)
		}
		if _, err := db.GetOpenAccessRequest(ctx, keptWS.ID, u.ID); err != nil {
			t.Errorf("the other org's access request: %v", err)
		}
		seed(t, db, newOrg("doomed")) // the slug is free again
	})
}
