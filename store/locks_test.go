package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// TestLocksSeatsAndAuditBatches covers the write helpers a change leans on:
// locks that read what they lock, seat replacement with its counters, a
// user's memberships in one organisation, and several audit events at once.
func TestLocksSeatsAndAuditBatches(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		u := newUser("m@example.com")
		org := roster.Org{ID: roster.NewID(roster.PrefixOrg), Name: "Acme", Slug: "acme", Plan: roster.DefaultPlan(), CreatedAt: t0, UpdatedAt: t0}
		ws := roster.Workspace{ID: roster.NewID(roster.PrefixWorkspace), OrgID: org.ID, Name: "Main", Slug: "main", CreatedAt: t0, UpdatedAt: t0}
		archived := roster.Workspace{ID: roster.NewID(roster.PrefixWorkspace), OrgID: org.ID, Name: "Old", Slug: "old", ArchivedAt: ptr(t0), CreatedAt: t0, UpdatedAt: t0}
		write(t, db, func(tx roster.Tx) error {
			return errors.Join(tx.CreateUser(ctx, u), tx.CreateOrg(ctx, org), tx.CreateWorkspace(ctx, ws), tx.CreateWorkspace(ctx, archived))
		})
		for _, w := range []roster.Workspace{ws, archived} {
			write(t, db, func(tx roster.Tx) error {
				_, err := tx.CreateWorkspaceMembership(ctx, roster.WorkspaceMembership{ID: roster.NewID(roster.PrefixMembership), WorkspaceID: w.ID,
					OrgID: org.ID, UserID: u.ID, Role: roster.RoleMember, Source: roster.SourceDirect, JoinedAt: t0, UpdatedAt: t0})
				return err
			})
		}

		write(t, db, func(tx roster.Tx) error {
			got, err := tx.LockOrg(ctx, org.ID)
			if err != nil || got.Slug != "acme" {
				t.Errorf("LockOrg: %+v %v", got, err)
			}
			if orgID, err := tx.LockWorkspaceOrg(ctx, archived.ID); err != nil || orgID != org.ID {
				t.Errorf("LockWorkspaceOrg of an archived workspace: %q %v", orgID, err)
			}
			if _, err := tx.LockWorkspaceOrg(ctx, roster.NewID(roster.PrefixWorkspace)); !errors.Is(err, roster.ErrNotFound) {
				t.Errorf("LockWorkspaceOrg of no workspace: %v", err)
			}
			live, err := tx.ListUserOrgWorkspaceMemberships(ctx, org.ID, u.ID, false)
			all, err2 := tx.ListUserOrgWorkspaceMemberships(ctx, org.ID, u.ID, true)
			if err != nil || err2 != nil || len(live) != 1 || live[0].WorkspaceID != ws.ID || len(all) != 2 {
				t.Errorf("memberships in the organisation: %d live, %d in all (%v, %v)", len(live), len(all), err, err2)
			}
			return nil
		})

		// Seats: counters follow every replacement; an expired seat is not counted.
		seat := func(role roster.SeatRole, until *time.Time) roster.Seat {
			return roster.Seat{OrgID: org.ID, UserID: u.ID, Role: role, Until: until}
		}
		none := seat("", nil)
		steps := []struct {
			old, new roster.Seat
			want     roster.SeatCounts
		}{
			{none, seat(roster.SeatRole(roster.RoleMember), nil), roster.SeatCounts{"member": 1}},
			{seat(roster.SeatRole(roster.RoleMember), nil), seat(roster.SeatRole(roster.RoleAdmin), nil), roster.SeatCounts{"admin": 1}},
			{seat(roster.SeatRole(roster.RoleAdmin), nil), seat(roster.SeatRole(roster.RoleAdmin), ptr(t0.Add(-time.Minute))), roster.SeatCounts{}},
			{seat(roster.SeatRole(roster.RoleAdmin), ptr(t0.Add(-time.Minute))), seat(roster.SeatRole(roster.RoleMember), ptr(t0.Add(time.Hour))), roster.SeatCounts{"member": 1}},
			{seat(roster.SeatRole(roster.RoleMember), ptr(t0.Add(time.Hour))), none, roster.SeatCounts{}},
		}
		for i, s := range steps {
			write(t, db, func(tx roster.Tx) error { return tx.ReplaceSeat(ctx, s.old, s.new) })
			got, err := db.CountSeats(ctx, org.ID, t0)
			for role, n := range got {
				if n == 0 {
					delete(got, role)
				}
			}
			if err != nil || len(got) != len(s.want) || got["member"] != s.want["member"] || got["admin"] != s.want["admin"] {
				t.Errorf("step %d: counts %v, want %v (%v)", i, got, s.want, err)
			}
			if stored, err := db.GetSeat(ctx, org.ID, u.ID); (s.new.Role == "") != errors.Is(err, roster.ErrNotFound) || stored.Role != s.new.Role {
				t.Errorf("step %d: stored seat %+v %v", i, stored, err)
			}
		}

		// Several audit events in one statement, each kept whole.
		e1 := roster.AuditEvent{ID: roster.NewID(roster.PrefixAudit), At: t0, Via: roster.ViaUser, Action: "a.one", TargetType: "x", TargetID: "1"}
		e2 := roster.AuditEvent{ID: roster.NewID(roster.PrefixAudit), At: t0, Via: roster.ViaUser, Action: "a.two", TargetType: "x", TargetID: "2",
			OrgID: &org.ID, After: []byte(`{"k":1}`)}
		write(t, db, func(tx roster.Tx) error { return tx.InsertAudit(ctx, e1, e2) })
		write(t, db, func(tx roster.Tx) error { return tx.InsertAudit(ctx) })
		events, err := db.ListAudit(ctx, roster.AuditFilter{}, roster.Page{Limit: 10})
		if err != nil || len(events) != 2 || events[0].Action != "a.two" || *events[0].OrgID != org.ID || strings.ReplaceAll(string(events[0].After), " ", "") != `{"k":1}` || events[1].Action != "a.one" {
			t.Errorf("audit events: %+v %v", events, err)
		}
	})
}
