package store_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// TestListSeatsDue lists the seats whose recheck time has come (at now
// included), earliest first across organisations, up to the limit.
func TestListSeatsDue(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		u1, u2, u3, u4 := newUser("1@example.com"), newUser("2@example.com"), newUser("3@example.com"), newUser("4@example.com")
		a, z := newOrg("a"), newOrg("z")
		first := newSeat(z.ID, u1.ID, "member", ptr(t0.Add(time.Hour)))
		second := newSeat(a.ID, u2.ID, "admin", ptr(t0.Add(3*time.Hour)))
		second.Recheck = ptr(t0.Add(2 * time.Hour)) // the first of its memberships expires before the last
		later := newSeat(a.ID, u3.ID, "member", ptr(t0.Add(5*time.Hour)))
		seed(t, db, u1, u2, u3, u4, a, z, later, second, first, newSeat(a.ID, u4.ID, "owner", nil))

		due := func(now time.Time, limit int) []roster.Seat {
			t.Helper()
			ss, err := db.ListSeatsDue(ctx, now, limit)
			if err != nil {
				t.Fatal(err)
			}
			return ss
		}
		if got := due(t0.Add(2*time.Hour), 10); !reflect.DeepEqual(got, []roster.Seat{first, second}) {
			t.Errorf("due at the second recheck:\n got %+v\nwant %+v", got, []roster.Seat{first, second})
		}
		if got := due(t0.Add(24*time.Hour), 1); len(got) != 1 || got[0].UserID != u1.ID {
			t.Errorf("limited to one: %+v", got)
		}
		if got := due(t0, 10); len(got) != 0 {
			t.Errorf("nothing due yet: %+v", got)
		}
	})
}

// TestListOrgUserIDs lists, once each, the users with a live membership of
// the organisation or of one of its workspaces, or a seat there.
func TestListOrgUserIDs(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		both, wsOnly, seatOnly, left, outsider := newUser("b@example.com"), newUser("w@example.com"), newUser("s@example.com"),
			newUser("l@example.com"), newUser("o@example.com")
		o, other := newOrg("acme"), newOrg("other")
		ws, otherWS := newWorkspace(o.ID, "main"), newWorkspace(other.ID, "main")
		leftM := newOrgMembership(o.ID, left.ID, roster.OrgMember)
		leftM.DeletedAt = ptr(t0)
		leftW := newWorkspaceMembership(ws, left.ID, roster.RoleMember)
		leftW.DeletedAt = ptr(t0)
		seed(t, db, both, wsOnly, seatOnly, left, outsider, o, other, ws, otherWS,
			newOrgMembership(o.ID, both.ID, roster.OrgAdmin), newWorkspaceMembership(ws, both.ID, roster.RoleAdmin), newSeat(o.ID, both.ID, "admin", nil),
			newWorkspaceMembership(ws, wsOnly.ID, roster.RoleViewer), newSeat(o.ID, seatOnly.ID, "member", ptr(t0)), leftM, leftW,
			newOrgMembership(other.ID, outsider.ID, roster.OrgOwner), newWorkspaceMembership(otherWS, outsider.ID, roster.RoleOwner))

		ids, err := db.ListOrgUserIDs(ctx, o.ID)
		slices.Sort(ids)
		if want := sorted(both.ID, wsOnly.ID, seatOnly.ID); err != nil || !slices.Equal(ids, want) {
			t.Errorf("users of the organisation: %v %v, want %v", ids, err, want)
		}
	})
}

// TestPendingSeats: an organisation's pending seats are the distinct emails
// of its open, unexpired invitations to paid roles, less the emails of live
// users who hold a seat there now. CountPendingSeats, PendingEmails and
// CountSeatsAndPending must agree on them.
func TestPendingSeats(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		o, other := newOrg("acme"), newOrg("other")
		ws, ws2, otherWS := newWorkspace(o.ID, "main"), newWorkspace(o.ID, "side"), newWorkspace(other.ID, "main")
		seated, lapsed, deleted := newUser("seated@example.com"), newUser("lapsed@example.com"), newUser("deleted@example.com")
		deleted.DeletedAt = ptr(t0)
		now := t0.Add(time.Hour)
		expired, expiringNow, closed := newInvitation(ws, "expired@example.com", roster.RoleMember), newInvitation(ws, "now@example.com", roster.RoleMember),
			newInvitation(ws, "closed@example.com", roster.RoleMember)
		expired.ExpiresAt, expiringNow.ExpiresAt = now.Add(-time.Minute), now
		closed.Open, closed.AcceptedAt = false, ptr(t0)
		seed(t, db, o, other, ws, ws2, otherWS, seated, lapsed, deleted,
			newSeat(o.ID, seated.ID, "member", nil),                          // holds a seat: not pending
			newSeat(o.ID, lapsed.ID, "member", ptr(now)),                     // the seat ends at now: pending again
			newSeat(o.ID, deleted.ID, "member", nil),                         // a deleted user's seat does not count
			newSeat(other.ID, seated.ID, "member", nil),                      // a seat elsewhere does not count
			newInvitation(ws, "New@Example.com", roster.RoleMember),          // pending...
			newInvitation(ws2, "new@example.com", roster.RoleAdmin),          // ...once, whatever the case or workspace
			newInvitation(ws, "viewer@example.com", roster.RoleViewer),       // a free role
			newInvitation(ws, "seated@example.com", roster.RoleMember),       // already seated
			newInvitation(ws, "lapsed@example.com", roster.RoleMember),       // pending
			newInvitation(ws, "deleted@example.com", roster.RoleMember),      // pending
			newInvitation(otherWS, "outside@example.com", roster.RoleMember), // another organisation
			expired, expiringNow, closed)
		paid := []roster.WorkspaceRole{roster.RoleOwner, roster.RoleAdmin, roster.RoleMember, roster.RoleExternal}
		want := []string{"deleted@example.com", "lapsed@example.com", "new@example.com"}

		if n, err := db.CountPendingSeats(ctx, o.ID, paid, now); err != nil || n != len(want) {
			t.Errorf("CountPendingSeats: %d %v, want %d", n, err, len(want))
		}
		if n, err := db.CountPendingSeats(ctx, o.ID, nil, now); err != nil || n != 0 {
			t.Errorf("CountPendingSeats with no paid role: %d %v, want 0", n, err)
		}
		if n, err := db.CountPendingSeats(ctx, o.ID, []roster.WorkspaceRole{roster.RoleAdmin}, now); err != nil || n != 1 {
			t.Errorf("CountPendingSeats of admins: %d %v, want 1", n, err)
		}
		asked := []string{"new@example.com", "viewer@example.com", "seated@example.com", "lapsed@example.com", "expired@example.com",
			"now@example.com", "closed@example.com", "outside@example.com", "nobody@example.com", "deleted@example.com"}
		emails, err := db.PendingEmails(ctx, o.ID, paid, asked, now)
		slices.Sort(emails)
		if err != nil || !slices.Equal(emails, want) {
			t.Errorf("PendingEmails: %v %v, want %v", emails, err, want)
		}
		if emails, err := db.PendingEmails(ctx, o.ID, paid, nil, now); err != nil || len(emails) != 0 {
			t.Errorf("PendingEmails of no email: %v %v", emails, err)
		}

		counts, pending, err := db.CountSeatsAndPending(ctx, o.ID, paid, now)
		if err != nil || pending != len(want) {
			t.Errorf("CountSeatsAndPending: pending %d %v, want %d", pending, err, len(want))
		}
		alone, err2 := db.CountSeats(ctx, o.ID, now)
		if err2 != nil || !reflect.DeepEqual(counts, alone) {
			t.Errorf("CountSeatsAndPending's counts %v, CountSeats %v (%v)", counts, alone, err2)
		}
		// Seats held at now: seated's and the deleted user's (seats are the
		// service's to end; the store counts what it holds); lapsed's ended.
		if counts["member"] != 2 || counts.Used(roster.DefaultPlan()) != 2 {
			t.Errorf("seat counts %v, want 2 members", counts)
		}
	})
}
