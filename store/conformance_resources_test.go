package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// TestResourcesAndShares: a resource reads back by id and by the host's
// (type, external_id), which is unique among live resources; lists filter;
// shares are put, changed, listed and deleted; deleting a resource takes
// its shares, and deleting a workspace takes its resources.
func TestResourcesAndShares(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		ann, guest := newUser("ann@example.com"), newUser("guest@example.com")
		o := newOrg("acme")
		ws, other := newWorkspace(o.ID, "main"), newWorkspace(o.ID, "other")
		seed(t, db, ann, guest, o, ws, other)

		r := roster.Resource{ID: roster.NewID(roster.PrefixResource), WorkspaceID: ws.ID, OrgID: o.ID, Type: "document",
			ExternalID: "d-1", Name: "Doc", CreatedBy: &ann.ID, CreatedAt: t0, UpdatedAt: t0}
		create := func(r roster.Resource) (created bool) {
			write(t, db, func(tx roster.Tx) (err error) { created, err = tx.CreateResource(ctx, r); return err })
			return created
		}
		if !create(r) {
			t.Fatal("not created")
		}
		dup := r
		dup.ID = roster.NewID(roster.PrefixResource)
		if create(dup) {
			t.Fatal("a second live resource of the same type and external id")
		}
		got, err := db.GetResource(ctx, r.ID)
		if err != nil || got.ExternalID != "d-1" || got.Name != "Doc" || got.CreatedBy == nil || *got.CreatedBy != ann.ID || !got.CreatedAt.Equal(t0) {
			t.Fatalf("round trip: %+v %v", got, err)
		}
		if got, err := db.GetResourceByExternalID(ctx, "document", "d-1"); err != nil || got.ID != r.ID {
			t.Errorf("by external id: %+v %v", got, err)
		}
		if _, err := db.GetResourceByExternalID(ctx, "site", "d-1"); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("another type: %v", err)
		}
		second := roster.Resource{ID: roster.NewID(roster.PrefixResource), WorkspaceID: other.ID, OrgID: o.ID, Type: "site",
			ExternalID: "s-1", Name: "Site", CreatedAt: t0, UpdatedAt: t0}
		create(second)
		for name, c := range map[string]struct {
			f    roster.ResourceFilter
			want []string
		}{
			"all":       {roster.ResourceFilter{}, sorted(r.ID, second.ID)},
			"workspace": {roster.ResourceFilter{WorkspaceID: other.ID}, []string{second.ID}},
			"type":      {roster.ResourceFilter{Type: "document"}, []string{r.ID}},
			"external":  {roster.ResourceFilter{Type: "site", ExternalID: "s-1"}, []string{second.ID}},
		} {
			list, err := db.ListResources(ctx, c.f, roster.Page{Limit: 10})
			if err != nil || !equalIDs(list, c.want) {
				t.Errorf("%s: %v %v, want %v", name, idsOfResources(list), err, c.want)
			}
		}

		share := roster.ResourceShare{ResourceID: r.ID, GranteeKind: roster.GranteeUser, GranteeID: guest.ID, Role: roster.ShareViewer,
			CreatedBy: &ann.ID, CreatedAt: t0, UpdatedAt: t0}
		put := func(s roster.ResourceShare) (created bool) {
			write(t, db, func(tx roster.Tx) (err error) { created, err = tx.PutShare(ctx, s); return err })
			return created
		}
		if !put(share) {
			t.Error("a new share was not created")
		}
		share.Role = roster.ShareEditor
		if put(share) {
			t.Error("changing a share created another")
		}
		put(roster.ResourceShare{ResourceID: r.ID, GranteeKind: roster.GranteeWorkspace, GranteeID: other.ID, Role: roster.ShareViewer, CreatedAt: t0, UpdatedAt: t0})
		shares, err := db.ListShares(ctx, r.ID)
		if err != nil || len(shares) != 2 {
			t.Fatalf("shares: %+v %v", shares, err)
		}
		for _, s := range shares {
			if s.GranteeID == guest.ID && (s.Role != roster.ShareEditor || s.GranteeKind != roster.GranteeUser) {
				t.Errorf("the changed share: %+v", s)
			}
		}
		var deleted bool
		write(t, db, func(tx roster.Tx) (err error) { deleted, err = tx.DeleteShare(ctx, r.ID, guest.ID); return err })
		if !deleted {
			t.Error("the share was not deleted")
		}
		write(t, db, func(tx roster.Tx) (err error) { deleted, err = tx.DeleteShare(ctx, r.ID, guest.ID); return err })
		if deleted {
			t.Error("a missing share was deleted")
		}

		r.Name, r.UpdatedAt = "Renamed", t0.Add(1)
		write(t, db, func(tx roster.Tx) error { return tx.UpdateResource(ctx, r) })
		if got, _ := db.GetResource(ctx, r.ID); got.Name != "Renamed" {
			t.Errorf("renamed: %+v", got)
		}
		gone := r
		gone.DeletedAt = &t0
		write(t, db, func(tx roster.Tx) error { return tx.UpdateResource(ctx, gone) })
		if _, err := db.GetResource(ctx, r.ID); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("a deleted resource: %v", err)
		}
		if shares, _ := db.ListShares(ctx, r.ID); len(shares) != 0 {
			t.Errorf("a deleted resource kept its shares: %+v", shares)
		}
		if !create(dup) {
			t.Error("the external id is not free after the delete")
		}
		missing := r
		missing.ID = roster.NewID(roster.PrefixResource)
		if err := db.Update(ctx, func(tx roster.Tx) error { return tx.UpdateResource(ctx, missing) }); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("updating a missing resource: %v", err)
		}

		write(t, db, func(tx roster.Tx) error { return tx.DeleteWorkspace(ctx, other.ID, t0) })
		if _, err := db.GetResource(ctx, second.ID); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("a deleted workspace kept its resource: %v", err)
		}
	})
}

func idsOfResources(rs []roster.Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func equalIDs(rs []roster.Resource, want []string) bool {
	got := idsOfResources(rs)
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// TestReachableResources: a user's resources are those their workspaces
// own and those shared with one of the grantees (their workspaces, them).
func TestReachableResources(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		guest := newUser("guest@example.com")
		o := newOrg("acme")
		mine, other, third := newWorkspace(o.ID, "mine"), newWorkspace(o.ID, "other"), newWorkspace(o.ID, "third")
		seed(t, db, guest, o, mine, other, third)
		res := func(w roster.Workspace, ext string) roster.Resource {
			r := roster.Resource{ID: roster.NewID(roster.PrefixResource), WorkspaceID: w.ID, OrgID: o.ID, Type: "document", ExternalID: ext, Name: ext, CreatedAt: t0, UpdatedAt: t0}
			write(t, db, func(tx roster.Tx) error { _, err := tx.CreateResource(ctx, r); return err })
			return r
		}
		owned, sharedToWS, sharedToMe, unrelated := res(mine, "a"), res(other, "b"), res(third, "c"), res(third, "d")
		write(t, db, func(tx roster.Tx) error {
			if _, err := tx.PutShare(ctx, roster.ResourceShare{ResourceID: sharedToWS.ID, GranteeKind: roster.GranteeWorkspace, GranteeID: mine.ID, Role: roster.ShareViewer, CreatedAt: t0, UpdatedAt: t0}); err != nil {
				return err
			}
			_, err := tx.PutShare(ctx, roster.ResourceShare{ResourceID: sharedToMe.ID, GranteeKind: roster.GranteeUser, GranteeID: guest.ID, Role: roster.ShareEditor, CreatedAt: t0, UpdatedAt: t0})
			return err
		})
		got, err := db.ListReachableResources(ctx, []string{mine.ID}, []string{mine.ID, guest.ID}, roster.ResourceFilter{}, roster.Page{Limit: 10})
		if err != nil || !equalIDs(got, sorted(owned.ID, sharedToWS.ID, sharedToMe.ID)) {
			t.Errorf("reachable: %v %v (not %s)", idsOfResources(got), err, unrelated.ID)
		}
		got, _ = db.ListReachableResources(ctx, []string{mine.ID}, []string{mine.ID, guest.ID}, roster.ResourceFilter{WorkspaceID: third.ID}, roster.Page{Limit: 10})
		if !equalIDs(got, []string{sharedToMe.ID}) {
			t.Errorf("in one workspace: %v", idsOfResources(got))
		}
		if got, _ := db.ListReachableResources(ctx, nil, nil, roster.ResourceFilter{}, roster.Page{Limit: 10}); len(got) != 0 {
			t.Errorf("reaching nothing: %v", idsOfResources(got))
		}
	})
}

// TestReachableResourcesPages: paging through a user's resources from
// several workspaces, shares and guest grants, with and without a filter,
// yields each resource once, in id order, and no deleted one.
func TestReachableResourcesPages(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		guest := newUser("guest@example.com")
		o := newOrg("acme")
		mine, mine2, other := newWorkspace(o.ID, "mine"), newWorkspace(o.ID, "mine2"), newWorkspace(o.ID, "other")
		seed(t, db, guest, o, mine, mine2, other)
		var all, sites []string
		var deleted roster.Resource
		write(t, db, func(tx roster.Tx) error {
			for i := range 60 {
				w := []roster.Workspace{mine, mine2, other}[i%3]
				typ := []string{"document", "site"}[i%2]
				r := roster.Resource{ID: roster.NewID(roster.PrefixResource), WorkspaceID: w.ID, OrgID: o.ID, Type: typ, ExternalID: fmt.Sprint(i), Name: "r", CreatedAt: t0, UpdatedAt: t0}
				if _, err := tx.CreateResource(ctx, r); err != nil {
					return err
				}
				var grantees []string
				if i%5 == 0 { // some of mine are shared with me as well: listed once
					grantees = append(grantees, guest.ID)
				}
				if w.ID == other.ID && i%4 != 1 {
					grantees = append(grantees, []string{mine.ID, mine2.ID, guest.ID}[i%3])
				}
				for _, g := range grantees {
					kind := roster.GranteeWorkspace
					if g == guest.ID {
						kind = roster.GranteeUser
					}
					if _, err := tx.PutShare(ctx, roster.ResourceShare{ResourceID: r.ID, GranteeKind: kind, GranteeID: g, Role: roster.ShareViewer, CreatedAt: t0, UpdatedAt: t0}); err != nil {
						return err
					}
				}
				if w.ID != other.ID || len(grantees) > 0 {
					if i == 30 {
						deleted = r
						continue
					}
					all = append(all, r.ID)
					if typ == "site" {
						sites = append(sites, r.ID)
					}
				}
			}
			return nil
		})
		write(t, db, func(tx roster.Tx) error {
			deleted.DeletedAt = &t0
			return tx.UpdateResource(ctx, deleted)
		})
		for _, c := range []struct {
			f    roster.ResourceFilter
			want []string
		}{{roster.ResourceFilter{}, all}, {roster.ResourceFilter{Type: "site"}, sites}} {
			var got []string
			for p := (roster.Page{Limit: 7}); ; {
				page, err := db.ListReachableResources(ctx, []string{mine.ID, mine2.ID}, []string{mine.ID, mine2.ID, guest.ID}, c.f, p)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, idsOfResources(page[:min(len(page), p.Limit)])...)
				if len(page) <= p.Limit {
					break
				}
				p.After = page[p.Limit-1].ID
			}
			if want := sorted(c.want...); !slices.Equal(got, want) {
				t.Errorf("%+v: paged\n%v, want\n%v", c.f, got, want)
			}
		}
	})
}
