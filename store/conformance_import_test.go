package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// TestImportRowsRoundTrip: InsertRows writes every row of every table in
// bulk (more rows than one statement takes), the finders read them back by
// key, ImportState reads exactly the named users' memberships and seats in
// the named organisations, and ReplaceSeats keeps the counters in step.
func TestImportRowsRoundTrip(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		var rows roster.NewRows
		for i := range 1500 { // past one statement's thousand rows
			u := newUser(fmt.Sprintf("u%d@example.com", i))
			ext := fmt.Sprintf("ext-%d", i)
			u.ExternalID = &ext
			rows.Users = append(rows.Users, u)
		}
		acme, other := newOrg("acme"), newOrg("other")
		rows.Orgs = []roster.Org{acme, other}
		main, side, elsewhere := newWorkspace(acme.ID, "main"), newWorkspace(acme.ID, "side"), newWorkspace(other.ID, "main")
		rows.Workspaces = []roster.Workspace{main, side, elsewhere}
		for _, u := range rows.Users {
			rows.OrgMemberships = append(rows.OrgMemberships, newOrgMembership(acme.ID, u.ID, roster.OrgMember))
			rows.Memberships = append(rows.Memberships, newWorkspaceMembership(main, u.ID, roster.RoleMember))
		}
		u0, u1 := rows.Users[0], rows.Users[1]
		ended := newWorkspaceMembership(side, u0.ID, roster.RoleAdmin)
		ended.DeletedAt = ptr(t0)
		rows.Memberships = append(rows.Memberships, ended, newWorkspaceMembership(elsewhere, u0.ID, roster.RoleViewer))
		write(t, db, func(tx roster.Tx) error {
			if err := tx.RefreshStatistics(ctx); err != nil {
				return err
			}
			return tx.InsertRows(ctx, rows)
		})

		found, err := db.FindUsers(ctx, []string{"ext-3", "ext-nope"}, []string{"u4@example.com", "u3@example.com"})
		if err != nil || len(found) != 3 || found[0].ID != rows.Users[3].ID {
			t.Errorf("FindUsers: %d users %v", len(found), err)
		}
		orgs, err := db.FindOrgs(ctx, []string{"acme", "nope"})
		if err != nil || len(orgs) != 1 || !reflect.DeepEqual(orgs[0], acme) {
			t.Errorf("FindOrgs: %+v %v", orgs, err)
		}

		seat := newSeat(acme.ID, u0.ID, "member", nil)
		write(t, db, func(tx roster.Tx) error {
			return tx.ReplaceSeats(ctx, []roster.SeatChange{{New: seat}, {New: newSeat(acme.ID, u1.ID, "admin", nil)}})
		})
		st, err := db.ImportState(ctx, []string{acme.ID}, []string{u0.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Workspaces) != 2 || len(st.OrgMemberships) != 1 || len(st.Memberships) != 1 || st.Memberships[0].WorkspaceID != main.ID ||
			!reflect.DeepEqual(st.Seats, []roster.Seat{seat}) {
			t.Errorf("ImportState of u0 in acme: %d workspaces, %+v, %+v, %+v", len(st.Workspaces), st.OrgMemberships, st.Memberships, st.Seats)
		}
		counts := func() roster.SeatCounts {
			c, err := db.CountSeats(ctx, acme.ID, t0)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		if c := counts(); c["member"] != 1 || c["admin"] != 1 {
			t.Errorf("counts after two new seats: %v", c)
		}
		expiring := newSeat(other.ID, u1.ID, "member", ptr(t0.Add(time.Hour)))
		write(t, db, func(tx roster.Tx) error { return tx.ReplaceSeats(ctx, []roster.SeatChange{{New: expiring}}) })
		for at, want := range map[time.Time]int{t0: 1, t0.Add(time.Hour): 0} { // a seat whose time is up no longer counts
			all, err := db.CountSeatsOf(ctx, []string{acme.ID, other.ID}, at)
			if err != nil || all[acme.ID]["member"] != 1 || all[acme.ID]["admin"] != 1 || all[other.ID]["member"] != want {
				t.Errorf("CountSeatsOf at %v: %v %v", at, all, err)
			}
		}
		write(t, db, func(tx roster.Tx) error {
			return tx.ReplaceSeats(ctx, []roster.SeatChange{{Old: seat, New: newSeat(acme.ID, u0.ID, "owner", nil)},
				{Old: newSeat(acme.ID, u1.ID, "admin", nil), New: roster.Seat{OrgID: acme.ID, UserID: u1.ID}}})
		})
		if c := counts(); c["member"] != 0 || c["admin"] != 0 || c["owner"] != 1 {
			t.Errorf("counts after a change and an end: %v", c)
		}

		err = db.Update(ctx, func(tx roster.Tx) error {
			clash := newUser("fresh@example.com")
			clash.ExternalID = u1.ExternalID
			return tx.InsertRows(ctx, roster.NewRows{Users: []roster.User{newUser("fresh2@example.com"), clash}})
		})
		if !errors.Is(err, roster.ErrUniqueViolation) {
			t.Errorf("a clashing row: %v", err)
		}
		if again, _ := db.FindUsers(ctx, nil, []string{"fresh2@example.com"}); len(again) != 0 {
			t.Errorf("a batch with a clash was partly written: %+v", again)
		}
	})
}
