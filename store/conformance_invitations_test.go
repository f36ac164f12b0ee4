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

// TestInvitations: an invitation round-trips and is found by id, token hash
// and (while open) by workspace and email key; one open invitation per
// email and workspace; closing it frees the place for a new one.
func TestInvitations(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		inviter, guest := newUser("inviter@example.com"), newUser("guest@example.com")
		o := newOrg("acme")
		ws, side := newWorkspace(o.ID, "main"), newWorkspace(o.ID, "side")
		inv := newInvitation(ws, "Guest@Example.com", roster.RoleAdmin)
		inv.InvitedBy, inv.ByService = ptr(inviter.ID), true
		seed(t, db, inviter, guest, o, ws, side, inv)

		for name, get := range map[string]func() (roster.Invitation, error){
			"by id":         func() (roster.Invitation, error) { return db.GetInvitation(ctx, inv.ID) },
			"by token hash": func() (roster.Invitation, error) { return db.GetInvitationByTokenHash(ctx, inv.TokenHash) },
			"open, by key":  func() (roster.Invitation, error) { return db.GetOpenInvitation(ctx, ws.ID, "guest@example.com") },
		} {
			if got, err := get(); err != nil || !reflect.DeepEqual(got, inv) {
				t.Errorf("%s:\n got %+v (%v)\nwant %+v", name, got, err, inv)
			}
		}
		for name, err := range map[string]error{
			"unknown id":         func() error { _, err := db.GetInvitation(ctx, roster.NewID(roster.PrefixInvitation)); return err }(),
			"unknown hash":       func() error { _, err := db.GetInvitationByTokenHash(ctx, roster.HashToken("nothing")); return err }(),
			"other workspace":    func() error { _, err := db.GetOpenInvitation(ctx, side.ID, "guest@example.com"); return err }(),
			"email, not its key": func() error { _, err := db.GetOpenInvitation(ctx, ws.ID, "Guest@Example.com"); return err }(),
		} {
			if !errors.Is(err, roster.ErrNotFound) {
				t.Errorf("%s: %v, want not found", name, err)
			}
		}

		again := newInvitation(ws, "GUEST@example.com", roster.RoleMember)
		write(t, db, func(tx roster.Tx) error {
			ok, err := tx.CreateInvitation(ctx, again)
			if err == nil && ok {
				t.Error("a second open invitation of the same email key to the same workspace was inserted")
			}
			return err
		})
		seed(t, db, newInvitation(side, "guest@example.com", roster.RoleMember)) // another workspace: fine

		accepted := inv
		accepted.TokenHash, accepted.AcceptedAt, accepted.AcceptedBy = roster.HashToken(roster.NewInviteSecret()), ptr(t0.Add(time.Hour)), ptr(guest.ID)
		accepted.Open, accepted.ExpiresAt, accepted.UpdatedAt = false, t0.Add(time.Hour), t0.Add(time.Hour)
		write(t, db, func(tx roster.Tx) error { return tx.UpdateInvitation(ctx, accepted) })
		if got, err := db.GetInvitation(ctx, inv.ID); err != nil || !reflect.DeepEqual(got, accepted) || got.Status(t0) != roster.InvitationAccepted {
			t.Errorf("accepted:\n got %+v (%v)\nwant %+v", got, err, accepted)
		}
		if _, err := db.GetInvitationByTokenHash(ctx, inv.TokenHash); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("the replaced token hash: %v, want not found", err)
		}
		if _, err := db.GetOpenInvitation(ctx, ws.ID, "guest@example.com"); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("open invitation after acceptance: %v, want not found", err)
		}
		seed(t, db, again) // the place is free again
		if err := db.Update(ctx, func(tx roster.Tx) error {
			return tx.UpdateInvitation(ctx, newInvitation(ws, "x@example.com", roster.RoleMember))
		}); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("updating no invitation: %v, want not found", err)
		}
	})
}

// TestListInvitations filters by workspace, email key and openness, and
// pages by id.
func TestListInvitations(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		o := newOrg("acme")
		ws, side := newWorkspace(o.ID, "main"), newWorkspace(o.ID, "side")
		annMain, bobMain, annSide := newInvitation(ws, "Ann@example.com", roster.RoleMember), newInvitation(ws, "bob@example.com", roster.RoleMember),
			newInvitation(side, "ann@example.com", roster.RoleViewer)
		revoked := newInvitation(ws, "carl@example.com", roster.RoleMember)
		revoked.Open, revoked.RevokedAt = false, ptr(t0)
		seed(t, db, o, ws, side, annMain, bobMain, annSide, revoked)

		list := func(f roster.InvitationFilter, p roster.Page) []string {
			t.Helper()
			is, err := db.ListInvitations(ctx, f, p)
			if err != nil {
				t.Fatal(err)
			}
			return idsOf(is, idOfInvitation)
		}
		inMain := sorted(annMain.ID, bobMain.ID, revoked.ID)
		for name, c := range map[string]struct {
			f    roster.InvitationFilter
			p    roster.Page
			want []string
		}{
			"all":                      {roster.InvitationFilter{}, roster.Page{Limit: 10}, sorted(annMain.ID, bobMain.ID, annSide.ID, revoked.ID)},
			"workspace":                {roster.InvitationFilter{WorkspaceID: ws.ID}, roster.Page{Limit: 10}, inMain},
			"open in the workspace":    {roster.InvitationFilter{WorkspaceID: ws.ID, OpenOnly: true}, roster.Page{Limit: 10}, sorted(annMain.ID, bobMain.ID)},
			"email key, any workspace": {roster.InvitationFilter{EmailKey: "ann@example.com"}, roster.Page{Limit: 10}, sorted(annMain.ID, annSide.ID)},
			"first page, Limit+1 rows": {roster.InvitationFilter{WorkspaceID: ws.ID}, roster.Page{Limit: 1}, inMain[:2]},
			"after the first":          {roster.InvitationFilter{WorkspaceID: ws.ID}, roster.Page{Limit: 10, After: inMain[0]}, inMain[1:]},
		} {
			if got := list(c.f, c.p); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", name, got, c.want)
			}
		}
	})
}

// TestAccessRequests: a request round-trips; one open (pending) request per
// user and workspace; deciding it closes it; the list filters by status and
// pages by id.
func TestAccessRequests(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		asker, other, admin := newUser("asker@example.com"), newUser("other@example.com"), newUser("admin@example.com")
		o := newOrg("acme")
		ws, side := newWorkspace(o.ID, "main"), newWorkspace(o.ID, "side")
		req, otherReq, sideReq := newAccessRequest(ws, asker.ID), newAccessRequest(ws, other.ID), newAccessRequest(side, asker.ID)
		seed(t, db, asker, other, admin, o, ws, side, req, otherReq, sideReq)

		if got, err := db.GetAccessRequest(ctx, req.ID); err != nil || !reflect.DeepEqual(got, req) {
			t.Errorf("by id:\n got %+v (%v)\nwant %+v", got, err, req)
		}
		if got, err := db.GetOpenAccessRequest(ctx, ws.ID, asker.ID); err != nil || got.ID != req.ID {
			t.Errorf("open request: %+v %v", got, err)
		}
		if _, err := db.GetAccessRequest(ctx, roster.NewID(roster.PrefixAccessRequest)); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("unknown id: %v, want not found", err)
		}
		write(t, db, func(tx roster.Tx) error {
			ok, err := tx.CreateAccessRequest(ctx, newAccessRequest(ws, asker.ID))
			if err == nil && ok {
				t.Error("a second open request of the same user to the same workspace was inserted")
			}
			return err
		})

		approved := req
		approved.Status, approved.Role, approved.DecidedBy, approved.DecidedAt = roster.RequestApproved, ptr(roster.RoleMember), ptr(admin.ID), ptr(t0.Add(time.Hour))
		denied := otherReq
		denied.Status, denied.DecidedBy, denied.DecidedAt = roster.RequestDenied, ptr(admin.ID), ptr(t0.Add(time.Hour))
		write(t, db, func(tx roster.Tx) error {
			return errors.Join(tx.UpdateAccessRequest(ctx, approved), tx.UpdateAccessRequest(ctx, denied))
		})
		if got, err := db.GetAccessRequest(ctx, req.ID); err != nil || !reflect.DeepEqual(got, approved) {
			t.Errorf("approved:\n got %+v (%v)\nwant %+v", got, err, approved)
		}
		if _, err := db.GetOpenAccessRequest(ctx, ws.ID, asker.ID); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("open request after approval: %v, want not found", err)
		}
		retry := newAccessRequest(ws, asker.ID)
		seed(t, db, retry) // a decided request leaves room for a new one
		if err := db.Update(ctx, func(tx roster.Tx) error { return tx.UpdateAccessRequest(ctx, newAccessRequest(ws, admin.ID)) }); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("updating no request: %v, want not found", err)
		}

		list := func(status roster.AccessRequestStatus, p roster.Page) []string {
			t.Helper()
			rs, err := db.ListAccessRequests(ctx, ws.ID, status, p)
			if err != nil {
				t.Fatal(err)
			}
			return idsOf(rs, idOfAccessRequest)
		}
		all := sorted(req.ID, otherReq.ID, retry.ID)
		for name, c := range map[string]struct {
			status roster.AccessRequestStatus
			p      roster.Page
			want   []string
		}{
			"every status":             {"", roster.Page{Limit: 10}, all},
			"pending":                  {roster.RequestPending, roster.Page{Limit: 10}, []string{retry.ID}},
			"approved":                 {roster.RequestApproved, roster.Page{Limit: 10}, []string{req.ID}},
			"denied":                   {roster.RequestDenied, roster.Page{Limit: 10}, []string{otherReq.ID}},
			"first page, Limit+1 rows": {"", roster.Page{Limit: 1}, all[:2]},
			"after the first":          {"", roster.Page{Limit: 10, After: all[0]}, all[1:]},
		} {
			if got := list(c.status, c.p); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", name, got, c.want)
			}
		}
	})
}
