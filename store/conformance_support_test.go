package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
	"github.com/roster-dev/roster/store"
)

// newSupportSession is an open support session started at t0 that expires
// after the default duration, with fresh ids for what it grants.
func newSupportSession(w roster.Workspace, userID string) roster.SupportSession {
	return roster.SupportSession{ID: roster.NewID(roster.PrefixSupportSession), WorkspaceID: w.ID, OrgID: w.OrgID, UserID: userID,
		Role: roster.RoleAdmin, Reason: "ticket 42", MembershipID: roster.NewID(roster.PrefixMembership),
		TokenID: roster.NewID(roster.PrefixToken), EndTaskID: roster.TaskID(1), StartedAt: t0,
		ExpiresAt: t0.Add(roster.DefaultSupportDuration), UpdatedAt: t0}
}

// ended is s ended at at for reason.
func ended(s roster.SupportSession, at time.Time, reason roster.SupportEndReason) roster.SupportSession {
	s.EndedAt, s.EndReason, s.UpdatedAt = &at, reason, at
	return s
}

// sameSession compares every field, times with Equal.
func sameSession(got, want roster.SupportSession) bool {
	endedSame := got.EndedAt == nil && want.EndedAt == nil ||
		got.EndedAt != nil && want.EndedAt != nil && got.EndedAt.Equal(*want.EndedAt)
	return endedSame && got.ID == want.ID && got.WorkspaceID == want.WorkspaceID && got.OrgID == want.OrgID &&
		got.UserID == want.UserID && got.Role == want.Role && got.Reason == want.Reason && got.MembershipID == want.MembershipID &&
		got.TokenID == want.TokenID && got.EndTaskID == want.EndTaskID && got.StartedAt.Equal(want.StartedAt) &&
		got.ExpiresAt.Equal(want.ExpiresAt) && got.EndReason == want.EndReason && got.UpdatedAt.Equal(want.UpdatedAt)
}

// createSupportSession creates s and returns what the store reported.
func createSupportSession(t *testing.T, db *store.DB, s roster.SupportSession) bool {
	t.Helper()
	var created bool
	write(t, db, func(tx roster.Tx) error {
		var err error
		created, err = tx.CreateSupportSession(context.Background(), s)
		return err
	})
	return created
}

func updateSupportSession(t *testing.T, db *store.DB, s roster.SupportSession) {
	t.Helper()
	write(t, db, func(tx roster.Tx) error { return tx.UpdateSupportSession(context.Background(), s) })
}

func idOfSupportSession(s roster.SupportSession) string { return s.ID }

// TestSupportSessionOpenOnce: a session reads back as written; a staff
// member has at most one open session per workspace, and may open a new
// one once it has ended.
func TestSupportSessionOpenOnce(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		staff, other := newUser("staff@example.com"), newUser("other@example.com")
		o := newOrg("acme")
		ws, side := newWorkspace(o.ID, "main"), newWorkspace(o.ID, "side")
		seed(t, db, staff, other, o, ws, side)

		s := newSupportSession(ws, staff.ID)
		if !createSupportSession(t, db, s) {
			t.Fatal("the first session was not created")
		}
		got, err := db.GetSupportSession(ctx, s.ID)
		if err != nil || !sameSession(got, s) || got.EndedAt != nil || got.EndReason != "" {
			t.Fatalf("round trip:\n got %+v (%v)\nwant %+v", got, err, s)
		}
		if got, err := db.GetOpenSupportSession(ctx, ws.ID, staff.ID); err != nil || !sameSession(got, s) {
			t.Errorf("open session:\n got %+v (%v)\nwant %+v", got, err, s)
		}
		for name, err := range map[string]error{
			"unknown id": func() error {
				_, err := db.GetSupportSession(ctx, roster.NewID(roster.PrefixSupportSession))
				return err
			}(),
			"open, another user": func() error {
				_, err := db.GetOpenSupportSession(ctx, ws.ID, other.ID)
				return err
			}(),
			"open, another workspace": func() error {
				_, err := db.GetOpenSupportSession(ctx, side.ID, staff.ID)
				return err
			}(),
		} {
			if !errors.Is(err, roster.ErrNotFound) {
				t.Errorf("%s: %v, want not found", name, err)
			}
		}

		// A concurrent join lost: nothing written.
		dup := newSupportSession(ws, staff.ID)
		dup.Reason = "the other join"
		if createSupportSession(t, db, dup) {
			t.Error("a second open session in the same workspace was created")
		}
		if _, err := db.GetSupportSession(ctx, dup.ID); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("the session that lost: %v, want not found", err)
		}
		if got, err := db.GetOpenSupportSession(ctx, ws.ID, staff.ID); err != nil || !sameSession(got, s) {
			t.Errorf("open session after the lost join: %+v %v", got, err)
		}
		if all, err := db.ListSupportSessions(ctx, roster.SupportFilter{}, roster.Page{Limit: 10}); err != nil ||
			!slices.Equal(idsOf(all, idOfSupportSession), []string{s.ID}) {
			t.Errorf("sessions after the lost join: %v %v", idsOf(all, idOfSupportSession), err)
		}
		// The pair is what is unique: the same staff member elsewhere, and
		// another staff member here, may open sessions.
		if !createSupportSession(t, db, newSupportSession(side, staff.ID)) {
			t.Error("the same staff member could not open a session in another workspace")
		}
		if !createSupportSession(t, db, newSupportSession(ws, other.ID)) {
			t.Error("another staff member could not open a session in the workspace")
		}

		// Once ended, it is no longer open, and a new one may start.
		left := ended(s, t0.Add(time.Hour), roster.SupportLeft)
		updateSupportSession(t, db, left)
		if got, err := db.GetSupportSession(ctx, s.ID); err != nil || !sameSession(got, left) || got.EndedAt == nil {
			t.Errorf("ended:\n got %+v (%v)\nwant %+v", got, err, left)
		}
		if _, err := db.GetOpenSupportSession(ctx, ws.ID, staff.ID); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("open session after it ended: %v, want not found", err)
		}
		again := newSupportSession(ws, staff.ID)
		again.StartedAt, again.ExpiresAt, again.UpdatedAt = t0.Add(2*time.Hour), t0.Add(3*time.Hour), t0.Add(2*time.Hour)
		if !createSupportSession(t, db, again) {
			t.Fatal("a new session after the first ended was not created")
		}
		if got, err := db.GetOpenSupportSession(ctx, ws.ID, staff.ID); err != nil || !sameSession(got, again) {
			t.Errorf("the new open session:\n got %+v (%v)\nwant %+v", got, err, again)
		}
		if got, err := db.GetSupportSession(ctx, s.ID); err != nil || !sameSession(got, left) {
			t.Errorf("the ended session stays: %+v %v", got, err)
		}
	})
}

// TestUpdateSupportSession changes every mutable field, ends a session,
// and reports a missing one as not found.
func TestUpdateSupportSession(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		staff := newUser("staff@example.com")
		o := newOrg("acme")
		ws := newWorkspace(o.ID, "main")
		seed(t, db, staff, o, ws)
		s := newSupportSession(ws, staff.ID)
		if !createSupportSession(t, db, s) {
			t.Fatal("not created")
		}

		// Extended: a new expiry, token and end task, and a new reason.
		extended := s
		extended.ExpiresAt, extended.TokenID, extended.EndTaskID = t0.Add(48*time.Hour), roster.NewID(roster.PrefixToken), roster.TaskID(2)
		extended.Reason, extended.Role, extended.MembershipID = "still on ticket 42", roster.RoleViewer, roster.NewID(roster.PrefixMembership)
		extended.UpdatedAt = t0.Add(time.Minute)
		updateSupportSession(t, db, extended)
		if got, err := db.GetSupportSession(ctx, s.ID); err != nil || !sameSession(got, extended) || got.EndedAt != nil {
			t.Errorf("extended:\n got %+v (%v)\nwant %+v", got, err, extended)
		}
		if got, err := db.GetOpenSupportSession(ctx, ws.ID, staff.ID); err != nil || !sameSession(got, extended) {
			t.Errorf("open after the extension: %+v %v", got, err)
		}

		// Ended by its end task.
		expired := ended(extended, extended.ExpiresAt, roster.SupportExpired)
		updateSupportSession(t, db, expired)
		got, err := db.GetSupportSession(ctx, s.ID)
		if err != nil || !sameSession(got, expired) || got.EndedAt == nil || !got.EndedAt.Equal(t0.Add(48*time.Hour)) ||
			got.EndReason != roster.SupportExpired {
			t.Errorf("expired:\n got %+v (%v)\nwant %+v", got, err, expired)
		}

		unknown := newSupportSession(ws, staff.ID)
		if err := db.Update(ctx, func(tx roster.Tx) error { return tx.UpdateSupportSession(ctx, unknown) }); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("updating no session: %v, want not found", err)
		}
		if _, err := db.GetSupportSession(ctx, unknown.ID); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("updating no session created one: %v", err)
		}
	})
}

// TestSupportSessionLists: newest first, paged by id, and each filter
// keeps what it should and leaves out the rest, at its boundaries.
func TestSupportSessionLists(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		staff, helper := newUser("staff@example.com"), newUser("helper@example.com")
		o, other := newOrg("acme"), newOrg("other")
		ws, side, far := newWorkspace(o.ID, "main"), newWorkspace(o.ID, "side"), newWorkspace(other.ID, "far")
		seed(t, db, staff, helper, o, other, ws, side, far)

		at := t0.Add(2 * time.Hour) // the time the filters ask about
		// Created in this order, so their ids ascend.
		openMain := newSupportSession(ws, staff.ID) // open, active at at
		expiredMain := newSupportSession(ws, helper.ID)
		expiredMain.ExpiresAt = t0.Add(time.Hour) // open, but expired before at
		endedEarly := ended(newSupportSession(side, staff.ID), t0.Add(30*time.Minute), roster.SupportLeft)
		endedAtAt := newSupportSession(side, helper.ID)
		endedAtAt.ExpiresAt = t0.Add(time.Hour)
		endedAtAt = ended(endedAtAt, at, roster.SupportSwept) // expired, then ended exactly at at
		farOpen := newSupportSession(far, staff.ID)
		farOpen.ExpiresAt = at // open, expiring exactly at at
		for _, s := range []roster.SupportSession{openMain, expiredMain, endedEarly, endedAtAt, farOpen} {
			if !createSupportSession(t, db, s) {
				t.Fatalf("%s not created", s.ID)
			}
		}
		newestFirst := []string{farOpen.ID, endedAtAt.ID, endedEarly.ID, expiredMain.ID, openMain.ID}
		if sorted(newestFirst...)[4] != farOpen.ID {
			t.Fatalf("ids do not ascend in creation order: %v", newestFirst)
		}

		list := func(f roster.SupportFilter, p roster.Page) []string {
			t.Helper()
			ss, err := db.ListSupportSessions(ctx, f, p)
			if err != nil {
				t.Fatal(err)
			}
			return idsOf(ss, idOfSupportSession)
		}
		p := roster.Page{Limit: 10}
		us := time.Microsecond
		for name, c := range map[string]struct {
			f    roster.SupportFilter
			p    roster.Page
			want []string
		}{
			"all, newest first":           {roster.SupportFilter{}, p, newestFirst},
			"first page, Limit+1 rows":    {roster.SupportFilter{}, roster.Page{Limit: 2}, newestFirst[:3]},
			"after the second":            {roster.SupportFilter{}, roster.Page{Limit: 10, After: newestFirst[1]}, newestFirst[2:]},
			"after the second, Limit+1":   {roster.SupportFilter{}, roster.Page{Limit: 1, After: newestFirst[1]}, newestFirst[2:4]},
			"after the oldest":            {roster.SupportFilter{}, roster.Page{Limit: 10, After: openMain.ID}, nil},
			"filtered page, Limit+1 rows": {roster.SupportFilter{UserID: staff.ID}, roster.Page{Limit: 1}, []string{farOpen.ID, endedEarly.ID}},
			"workspace":                   {roster.SupportFilter{WorkspaceID: ws.ID}, p, []string{expiredMain.ID, openMain.ID}},
			"another workspace":           {roster.SupportFilter{WorkspaceID: far.ID}, p, []string{farOpen.ID}},
			"org":                         {roster.SupportFilter{OrgID: o.ID}, p, newestFirst[1:]},
			"another org":                 {roster.SupportFilter{OrgID: other.ID}, p, []string{farOpen.ID}},
			"user":                        {roster.SupportFilter{UserID: staff.ID}, p, []string{farOpen.ID, endedEarly.ID, openMain.ID}},
			"another user":                {roster.SupportFilter{UserID: helper.ID}, p, []string{endedAtAt.ID, expiredMain.ID}},
			"open, expired or not":        {roster.SupportFilter{Open: true}, p, []string{farOpen.ID, expiredMain.ID, openMain.ID}},
			"active at":                   {roster.SupportFilter{ActiveAt: at}, p, []string{openMain.ID}},
			"active just before":          {roster.SupportFilter{ActiveAt: at.Add(-us)}, p, []string{farOpen.ID, openMain.ID}},
			"not ended before":            {roster.SupportFilter{NotEndedBefore: at}, p, []string{farOpen.ID, endedAtAt.ID, expiredMain.ID, openMain.ID}},
			"not ended before, just after": {roster.SupportFilter{NotEndedBefore: at.Add(us)}, p,
				[]string{farOpen.ID, expiredMain.ID, openMain.ID}},
			"expired at":          {roster.SupportFilter{ExpiredAt: at}, p, []string{farOpen.ID, expiredMain.ID}},
			"expired just before": {roster.SupportFilter{ExpiredAt: at.Add(-us)}, p, []string{expiredMain.ID}},
			"expired long after":  {roster.SupportFilter{ExpiredAt: t0.Add(1000 * time.Hour)}, p, []string{farOpen.ID, expiredMain.ID, openMain.ID}},
			"open in an org, by user": {roster.SupportFilter{OrgID: o.ID, UserID: staff.ID, Open: true}, p,
				[]string{openMain.ID}},
			"active in a workspace": {roster.SupportFilter{WorkspaceID: ws.ID, ActiveAt: at}, p, []string{openMain.ID}},
			"expired in an org":     {roster.SupportFilter{OrgID: o.ID, ExpiredAt: at}, p, []string{expiredMain.ID}},
			"customer's view":       {roster.SupportFilter{WorkspaceID: side.ID, NotEndedBefore: t0.Add(time.Hour)}, p, []string{endedAtAt.ID}},
		} {
			if got := list(c.f, c.p); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", name, got, c.want)
			}
		}

		all, err := db.ListSupportSessions(ctx, roster.SupportFilter{}, p)
		if err != nil || len(all) != 5 {
			t.Fatalf("all: %d %v", len(all), err)
		}
		for i, want := range []roster.SupportSession{farOpen, endedAtAt, endedEarly, expiredMain, openMain} {
			if !sameSession(all[i], want) {
				t.Errorf("listed row %d:\n got %+v\nwant %+v", i, all[i], want)
			}
		}
	})
}
