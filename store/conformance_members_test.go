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

// In the membership lists "live" means not deleted: expiry is for the
// caller to judge at its own now (see roster.WorkspaceMembership.Live), so
// expired memberships are listed unless a filter says otherwise.

// TestOrgMembershipLists: members page by user id and filter by role; a
// user's memberships and an organisation's owners leave out deleted ones.
func TestOrgMembershipLists(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		owner, admin, member, billing, gone := newUser("o@example.com"), newUser("a@example.com"), newUser("m@example.com"),
			newUser("b@example.com"), newUser("g@example.com")
		o, other := newOrg("acme"), newOrg("other")
		left := newOrgMembership(o.ID, gone.ID, roster.OrgOwner)
		left.DeletedAt = ptr(t0)
		invited := newOrgMembership(o.ID, member.ID, roster.OrgMember)
		invited.InvitedBy = ptr(admin.ID)
		seed(t, db, owner, admin, member, billing, gone, o, other,
			newOrgMembership(o.ID, owner.ID, roster.OrgOwner), newOrgMembership(o.ID, admin.ID, roster.OrgAdmin), invited,
			newOrgMembership(o.ID, billing.ID, roster.OrgBilling), left,
			newOrgMembership(other.ID, owner.ID, roster.OrgMember), newOrgMembership(other.ID, gone.ID, roster.OrgOwner))

		members := func(roles []roster.OrgRole, p roster.Page) []string {
			t.Helper()
			ms, err := db.ListOrgMembers(ctx, o.ID, roles, p)
			if err != nil {
				t.Fatal(err)
			}
			return idsOf(ms, userIDOfOrgMembership)
		}
		everyone := sorted(owner.ID, admin.ID, member.ID, billing.ID)
		for name, c := range map[string]struct {
			roles []roster.OrgRole
			p     roster.Page
			want  []string
		}{
			"every live member":        {nil, roster.Page{Limit: 10}, everyone},
			"first page, Limit+1 rows": {nil, roster.Page{Limit: 2}, everyone[:3]},
			"after a user id":          {nil, roster.Page{Limit: 10, After: everyone[1]}, everyone[2:]},
			"owners and admins":        {[]roster.OrgRole{roster.OrgOwner, roster.OrgAdmin}, roster.Page{Limit: 10}, sorted(owner.ID, admin.ID)},
			"billing":                  {[]roster.OrgRole{roster.OrgBilling}, roster.Page{Limit: 10}, []string{billing.ID}},
		} {
			if got := members(c.roles, c.p); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", name, got, c.want)
			}
		}
		if got, err := db.GetOrgMembership(ctx, o.ID, member.ID); err != nil || !reflect.DeepEqual(got, invited) {
			t.Errorf("round trip:\n got %+v (%v)\nwant %+v", got, err, invited)
		}

		owners, err := db.ListOrgOwners(ctx, o.ID)
		if ids := idsOf(owners, userIDOfOrgMembership); err != nil || !slices.Equal(ids, []string{owner.ID}) {
			t.Errorf("owners: %v %v, want only the live owner", ids, err)
		}
		mine, err := db.ListUserOrgMemberships(ctx, owner.ID)
		if orgs := idsOf(mine, func(m roster.OrgMembership) string { return m.OrgID }); err != nil || !slices.Equal(orgs, sorted(o.ID, other.ID)) {
			t.Errorf("the owner's organisations: %v %v", orgs, err)
		}
		theirs, err := db.ListUserOrgMemberships(ctx, gone.ID)
		if err != nil || len(theirs) != 1 || theirs[0].OrgID != other.ID || theirs[0].Role != roster.OrgOwner {
			t.Errorf("a user who left one organisation: %+v %v", theirs, err)
		}
	})
}

// TestUpdateOrgMembership changes a role and ends a membership, after
// which a new one may start; updating nothing is not found.
func TestUpdateOrgMembership(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		u, boss := newUser("u@example.com"), newUser("boss@example.com")
		o := newOrg("acme")
		m := newOrgMembership(o.ID, u.ID, roster.OrgMember)
		seed(t, db, u, boss, o, m, newOrgMembership(o.ID, boss.ID, roster.OrgOwner))

		promoted := m
		promoted.Role, promoted.UpdatedAt = roster.OrgOwner, t0.Add(time.Hour)
		write(t, db, func(tx roster.Tx) error { return tx.UpdateOrgMembership(ctx, promoted) })
		if got, err := db.GetOrgMembership(ctx, o.ID, u.ID); err != nil || !reflect.DeepEqual(got, promoted) {
			t.Errorf("promoted:\n got %+v (%v)\nwant %+v", got, err, promoted)
		}
		if owners, err := db.ListOrgOwners(ctx, o.ID); err != nil || !slices.Equal(idsOf(owners, userIDOfOrgMembership), sorted(u.ID, boss.ID)) {
			t.Errorf("owners after the promotion: %v %v", idsOf(owners, userIDOfOrgMembership), err)
		}

		ended := promoted
		ended.DeletedAt, ended.UpdatedAt = ptr(t0.Add(2*time.Hour)), t0.Add(2*time.Hour)
		write(t, db, func(tx roster.Tx) error { return tx.UpdateOrgMembership(ctx, ended) })
		if _, err := db.GetOrgMembership(ctx, o.ID, u.ID); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("ended membership: %v, want not found", err)
		}
		if ms, err := db.ListUserOrgMemberships(ctx, u.ID); err != nil || len(ms) != 0 {
			t.Errorf("memberships after leaving: %+v %v", ms, err)
		}
		seed(t, db, newOrgMembership(o.ID, u.ID, roster.OrgMember)) // joining again is a new row

		if err := db.Update(ctx, func(tx roster.Tx) error {
			return tx.UpdateOrgMembership(ctx, newOrgMembership(o.ID, u.ID, roster.OrgAdmin))
		}); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("updating no membership: %v, want not found", err)
		}
	})
}

// TestWorkspaceMembershipLists: a workspace's members page by user id,
// without support sessions unless asked, and without the expired ones when
// LiveAt is set (expiry at LiveAt itself included, as in Live); a user's
// memberships and a workspace's owners leave out deleted ones.
func TestWorkspaceMembershipLists(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		owner, temp, staff, gone := newUser("o@example.com"), newUser("t@example.com"), newUser("s@example.com"), newUser("g@example.com")
		o := newOrg("acme")
		ws, side := newWorkspace(o.ID, "main"), newWorkspace(o.ID, "side")
		expiresAt := t0.Add(time.Hour)
		tempM := newWorkspaceMembership(ws, temp.ID, roster.RoleOwner)
		tempM.ExpiresAt, tempM.InvitedBy, tempM.Source = &expiresAt, ptr(owner.ID), roster.SourceInvite
		support := newWorkspaceMembership(ws, staff.ID, roster.RoleAdmin)
		support.Source = roster.SourceStaffSupport
		left := newWorkspaceMembership(ws, gone.ID, roster.RoleOwner)
		left.DeletedAt = ptr(t0)
		seed(t, db, owner, temp, staff, gone, o, ws, side,
			newWorkspaceMembership(ws, owner.ID, roster.RoleOwner), tempM, support, left,
			newWorkspaceMembership(side, owner.ID, roster.RoleViewer))

		members := func(f roster.MemberFilter, p roster.Page) []string {
			t.Helper()
			ms, err := db.ListWorkspaceMembers(ctx, ws.ID, f, p)
			if err != nil {
				t.Fatal(err)
			}
			return idsOf(ms, userIDOfWorkspaceMembership)
		}
		withSupport := sorted(owner.ID, temp.ID, staff.ID)
		for name, c := range map[string]struct {
			f    roster.MemberFilter
			p    roster.Page
			want []string
		}{
			"not support":              {roster.MemberFilter{}, roster.Page{Limit: 10}, sorted(owner.ID, temp.ID)},
			"with support":             {roster.MemberFilter{IncludeSupport: true}, roster.Page{Limit: 10}, withSupport},
			"first page, Limit+1 rows": {roster.MemberFilter{IncludeSupport: true}, roster.Page{Limit: 1}, withSupport[:2]},
			"after a user id":          {roster.MemberFilter{IncludeSupport: true}, roster.Page{Limit: 10, After: withSupport[0]}, withSupport[1:]},
			"live before the expiry":   {roster.MemberFilter{LiveAt: expiresAt.Add(-time.Microsecond)}, roster.Page{Limit: 10}, sorted(owner.ID, temp.ID)},
			"live at the expiry":       {roster.MemberFilter{LiveAt: expiresAt}, roster.Page{Limit: 10}, []string{owner.ID}},
		} {
			if got := members(c.f, c.p); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", name, got, c.want)
			}
		}
		if got, err := db.GetWorkspaceMembership(ctx, ws.ID, temp.ID); err != nil || !reflect.DeepEqual(got, tempM) {
			t.Errorf("round trip:\n got %+v (%v)\nwant %+v", got, err, tempM)
		}

		// Expired owners are still owners here: the caller decides at its now.
		owners, err := db.ListWorkspaceOwners(ctx, ws.ID)
		if ids := idsOf(owners, userIDOfWorkspaceMembership); err != nil || !slices.Equal(ids, sorted(owner.ID, temp.ID)) {
			t.Errorf("owners: %v %v", ids, err)
		}
		mine, err := db.ListUserWorkspaceMemberships(ctx, owner.ID)
		if wss := idsOf(mine, func(m roster.WorkspaceMembership) string { return m.WorkspaceID }); err != nil || !slices.Equal(wss, sorted(ws.ID, side.ID)) {
			t.Errorf("the owner's workspaces: %v %v", wss, err)
		}
		if theirs, err := db.ListUserWorkspaceMemberships(ctx, gone.ID); err != nil || len(theirs) != 0 {
			t.Errorf("a user who left: %+v %v", theirs, err)
		}
	})
}

// TestUpdateWorkspaceMembership changes role and expiry, ends a membership,
// and reports a missing one as not found.
func TestUpdateWorkspaceMembership(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		u := newUser("u@example.com")
		o := newOrg("acme")
		ws := newWorkspace(o.ID, "main")
		m := newWorkspaceMembership(ws, u.ID, roster.RoleViewer)
		m.ExpiresAt = ptr(t0.Add(time.Hour))
		seed(t, db, u, o, ws, m)

		changed := m
		changed.Role, changed.ExpiresAt, changed.UpdatedAt = roster.RoleOwner, nil, t0.Add(time.Minute)
		write(t, db, func(tx roster.Tx) error { return tx.UpdateWorkspaceMembership(ctx, changed) })
		if got, err := db.GetWorkspaceMembership(ctx, ws.ID, u.ID); err != nil || !reflect.DeepEqual(got, changed) {
			t.Errorf("updated:\n got %+v (%v)\nwant %+v", got, err, changed)
		}
		if owners, err := db.ListWorkspaceOwners(ctx, ws.ID); err != nil || len(owners) != 1 || owners[0].ID != m.ID {
			t.Errorf("owners after the promotion: %+v %v", owners, err)
		}

		changed.DeletedAt = ptr(t0.Add(2 * time.Minute))
		write(t, db, func(tx roster.Tx) error { return tx.UpdateWorkspaceMembership(ctx, changed) })
		if _, err := db.GetWorkspaceMembership(ctx, ws.ID, u.ID); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("ended membership: %v, want not found", err)
		}
		if owners, err := db.ListWorkspaceOwners(ctx, ws.ID); err != nil || len(owners) != 0 {
			t.Errorf("owners after it ended: %+v %v", owners, err)
		}
		if err := db.Update(ctx, func(tx roster.Tx) error {
			return tx.UpdateWorkspaceMembership(ctx, newWorkspaceMembership(ws, u.ID, roster.RoleAdmin))
		}); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("updating no membership: %v, want not found", err)
		}
	})
}
