package httpapi_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// apiSession is a support session as the API shows it.
type apiSession struct {
	ID          string     `json:"id"`
	WorkspaceID string     `json:"workspace_id"`
	OrgID       string     `json:"org_id"`
	UserID      string     `json:"user_id"`
	Role        string     `json:"role"`
	Reason      string     `json:"reason"`
	StartedAt   time.Time  `json:"started_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	Active      bool       `json:"active"`
	EndedAt     *time.Time `json:"ended_at"`
	EndReason   *string    `json:"end_reason"`
	Token       string     `json:"token"`
}

type joinAnswer struct {
	Status  string      `json:"status"`
	Session *apiSession `json:"session"`
}

// supportWorld is a customer (alice's organisation and workspace, support
// access allowed) and one of the vendor's staff.
type supportWorld struct {
	tenant
	staff      rostertest.User
	staffToken string
}

// newStaff makes a user with a platform role and a personal token.
func newStaff(t *testing.T, env *rostertest.Env, email, platformRole string) (rostertest.User, string) {
	t.Helper()
	u, token := env.NewUserWithToken(email)
	env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + u.ID, Token: env.AdminToken, Body: map[string]any{"platform_role": platformRole}})
	return u, token
}

func newSupportWorld(t *testing.T, env *rostertest.Env, slug string) supportWorld {
	t.Helper()
	w := supportWorld{tenant: newTenant(t, env, slug)}
	w.staff, w.staffToken = newStaff(t, env, "sam@"+slug+".vendor.example", "support")
	w.allowSupport(t, true)
	return w
}

func (w supportWorld) allowSupport(t *testing.T, on bool) {
	t.Helper()
	w.env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + w.ws.ID + "/settings", Token: w.aliceToken,
		Body: map[string]any{"allow_support_access": on}})
}

func supportPath(wsID string) string { return "/v1/admin/workspaces/" + wsID + "/support-session" }

func (w supportWorld) join(token string, body any) *rostertest.Response {
	return w.env.Do(rostertest.Req{Method: "POST", Path: supportPath(w.ws.ID), Token: token, Body: body})
}

// joined has the staff member join for d and returns the answer.
func (w supportWorld) joined(t *testing.T, d time.Duration, want int) joinAnswer {
	t.Helper()
	var out joinAnswer
	w.join(w.staffToken, map[string]any{"reason": "ticket 4711: export fails", "duration": int(d / time.Second)}).Want(t, want).JSON(t, &out)
	return out
}

func (w supportWorld) leave(t *testing.T, token string) bool {
	t.Helper()
	var out struct{ Ended bool }
	w.env.Expect(200, rostertest.Req{Method: "DELETE", Path: supportPath(w.ws.ID), Token: token}).JSON(t, &out)
	return out.Ended
}

// customerView is the workspace's own list of support sessions.
func (w supportWorld) customerView(t *testing.T) []apiSession {
	t.Helper()
	var page struct{ Data []apiSession }
	w.env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + w.ws.ID + "/support-sessions?limit=500", Token: w.aliceToken}).JSON(t, &page)
	return page.Data
}

// endReasons lists the end_reason of every support_session.ended event of
// the workspace, oldest first.
func (w supportWorld) endReasons(t *testing.T) []string {
	t.Helper()
	var page struct {
		Data []struct {
			After map[string]any `json:"after"`
		}
	}
	w.env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit?limit=500&action=support_session.ended&workspace_id=" + w.ws.ID,
		Token: w.env.AdminToken}).JSON(t, &page)
	var out []string
	for _, e := range page.Data {
		r, _ := e.After["end_reason"].(string)
		out = append(out, r)
	}
	slices.Reverse(out)
	return out
}

func (w supportWorld) staffAllowed() bool {
	return w.env.Check(w.staff.ID, "members.manage", w.ws.ID).Allowed
}

// TestSupportJoinIsDoubleGated: joining takes the staff role and the
// workspace's consent; bad input is a 400 with its code; the session
// grants the configured role with the asked expiry and a confined token.
func TestSupportJoinIsDoubleGated(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		w := newSupportWorld(t, env, "acme")
		good := map[string]any{"reason": "ticket 1"}

		_, bobToken := env.NewUserWithToken("bob@example.com")
		if code := w.join(bobToken, good).Want(t, 403).Code(t); code != "not_staff" {
			t.Errorf("a customer joining: %s", code)
		}
		if code := w.join(w.aliceToken, good).Want(t, 403).Code(t); code != "not_staff" {
			t.Errorf("the workspace's owner joining: %s", code)
		}
		svc := env.IssueToken(env.AdminID, map[string]any{"kind": "service"})
		env.Expect(403, rostertest.Req{Method: "POST", Path: supportPath(w.ws.ID), Token: svc.Token, Body: good,
			Headers: map[string]string{"Roster-On-Behalf-Of": w.staff.ID}})
		if code := env.Expect(404, rostertest.Req{Method: "POST", Path: supportPath("ws_00000000000000000000000000"), Token: w.staffToken, Body: good}).Code(t); code != "workspace_not_found" {
			t.Errorf("an unknown workspace: %s", code)
		}

		for _, bad := range []struct {
			body any
			code string
		}{
			{map[string]any{}, "invalid_reason"},
			{map[string]any{"reason": ""}, "invalid_reason"},
			{map[string]any{"reason": "   "}, "invalid_reason"},
			{map[string]any{"reason": strings.Repeat("r", 501)}, "invalid_reason"},
			{map[string]any{"reason": "x", "duration": 0}, "invalid_duration"},
			{map[string]any{"reason": "x", "duration": -5}, "invalid_duration"},
			{map[string]any{"reason": "x", "duration": 604801}, "invalid_duration"},
			{map[string]any{"reason": "x", "duration": 1.5}, "invalid_duration"},
			{map[string]any{"reason": "x", "duration": "3600"}, "invalid_duration"},
			{`{"reason": "x", "duration": 1e400}`, ""},
		} {
			res := w.join(w.staffToken, bad.body).Want(t, 400)
			if bad.code != "" && res.Code(t) != bad.code {
				t.Errorf("%v: code %s, want %s", bad.body, res.Code(t), bad.code)
			}
		}

		w.allowSupport(t, false)
		if code := w.join(w.staffToken, good).Want(t, 403).Code(t); code != "support_access_disabled" {
			t.Errorf("a workspace that has not opted in: %s", code)
		}
		if n := len(w.customerView(t)); n != 0 {
			t.Fatalf("refused joins left %d sessions", n)
		}
		w.allowSupport(t, true)

		var got joinAnswer
		w.join(w.staffToken, map[string]any{"reason": "ticket 1"}).Want(t, 201).JSON(t, &got)
		s := got.Session
		if got.Status != "granted" || s == nil || !strings.HasPrefix(s.ID, "ses_") || !strings.HasPrefix(s.Token, "rst_sup_") ||
			s.Role != "admin" || s.UserID != w.staff.ID || s.WorkspaceID != w.ws.ID || s.OrgID != w.org.ID || s.Reason != "ticket 1" || !s.Active {
			t.Fatalf("granted: %+v", got)
		}
		if !s.ExpiresAt.Equal(env.Clock.Now().Add(24*time.Hour)) || !s.StartedAt.Equal(env.Clock.Now()) {
			t.Errorf("default duration: started %s, expires %s, now %s", s.StartedAt, s.ExpiresAt, env.Clock.Now())
		}
		d := env.Check(w.staff.ID, "members.manage", w.ws.ID)
		if !d.Allowed || d.Via == nil || *d.Via != "support" || d.ExpiresAt == nil || !mustTime(t, *d.ExpiresAt).Equal(s.ExpiresAt) {
			t.Errorf("the check: %+v", d)
		}
		var tok struct {
			Kind        string  `json:"kind"`
			WorkspaceID *string `json:"workspace_id"`
			ExpiresAt   *string `json:"expires_at"`
		}
		env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/tokens/introspect", Token: svc.Token, Body: map[string]any{"token": s.Token}}).JSON(t, &tok)
		if tok.Kind != "support" || tok.WorkspaceID == nil || *tok.WorkspaceID != w.ws.ID || tok.ExpiresAt == nil || !mustTime(t, *tok.ExpiresAt).Equal(s.ExpiresAt) {
			t.Errorf("the support token: %+v", tok)
		}
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + w.ws.ID + "/members", Token: s.Token})
	})
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSupportSessionIsNoMember: a session takes no seat, is not in member
// lists or counts (only with include=support, for admins and staff), and
// shows in the customer's own list of support sessions.
func TestSupportSessionIsNoMember(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		w := newSupportWorld(t, env, "acme")
		bob, bobToken := env.NewUserWithToken("bob@example.com")
		env.PutMember(w.aliceToken, w.ws.ID, bob.ID, map[string]any{"role": "member"}).Want(t, 201)
		seatsBefore := w.seats(t)
		w.setPlan(t, map[string]any{"seat_cap": seatsBefore.Used})

		s := w.joined(t, 2*time.Hour, 201).Session
		if after := w.seats(t); after.Used != seatsBefore.Used || after.Pending != seatsBefore.Pending {
			t.Errorf("seats moved: %+v, then %+v", seatsBefore, after)
		}
		if _, ok := w.members(t, w.aliceToken)[w.staff.ID]; ok {
			t.Error("the staff member is in the member list")
		}
		var page struct{ Data []rostertest.Member }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + w.ws.ID + "/members?include=support", Token: w.aliceToken}).JSON(t, &page)
		found := false
		for _, m := range page.Data {
			if m.UserID == w.staff.ID {
				found = true
				if m.Source == nil || *m.Source != "staff_support" || m.ExpiresAt == nil || !mustTime(t, *m.ExpiresAt).Equal(s.ExpiresAt) {
					t.Errorf("with include=support: %+v", m)
				}
			}
		}
		if !found {
			t.Error("include=support does not show the session")
		}
		env.Expect(403, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + w.ws.ID + "/members?include=support", Token: bobToken})

		view := w.customerView(t)
		if len(view) != 1 || view[0].ID != s.ID || view[0].Reason != "ticket 4711: export fails" || !view[0].Active || view[0].Token != "" {
			t.Fatalf("the customer's view: %+v", view)
		}
		env.Expect(403, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + w.ws.ID + "/support-sessions", Token: bobToken})
		other := newTenant(t, env, "beta")
		env.Expect(404, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + w.ws.ID + "/support-sessions", Token: other.aliceToken})
	})
}

// TestSupportJoinAgainExtends: a second join extends the session with a
// fresh token (the older one stops at once) and a new end task.
func TestSupportJoinAgainExtends(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		w := newSupportWorld(t, env, "acme")
		first := w.joined(t, time.Hour, 201).Session
		env.Clock.Advance(10 * time.Minute)
		second := w.joined(t, 3*time.Hour, 200)
		s := second.Session
		if second.Status != "extended" || s.ID != first.ID || !s.ExpiresAt.Equal(env.Clock.Now().Add(3*time.Hour)) || s.Token == "" || s.Token == first.Token {
			t.Fatalf("extended: %+v", second)
		}
		if code := env.Expect(401, rostertest.Req{Method: "GET", Path: "/v1/me", Token: first.Token}).Code(t); code != "token_revoked" {
			t.Errorf("the older token: %s", code)
		}
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/me", Token: s.Token})
		scheduled := tasks(t, env, "type=support_session_end&status=scheduled")
		if len(scheduled) != 1 || !scheduled[0].RunAt.Equal(s.ExpiresAt) {
			t.Errorf("end tasks scheduled: %+v", scheduled)
		}
		if got := tasks(t, env, "type=support_session_end&status=cancelled"); len(got) != 1 {
			t.Errorf("the first end task is not cancelled: %+v", got)
		}
		if n := auditCount(t, env, "support_session.extended"); n != 1 {
			t.Errorf("%d support_session.extended events", n)
		}
		if view := w.customerView(t); len(view) != 1 {
			t.Errorf("an extension made another session: %+v", view)
		}
	})
}

// TestSupportLeaveIsIdempotent: leaving ends the session, its membership
// and its token; leaving again reports nothing to end.
func TestSupportLeaveIsIdempotent(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		w := newSupportWorld(t, env, "acme")
		s := w.joined(t, time.Hour, 201).Session
		var state struct {
			Active  bool        `json:"active"`
			Session *apiSession `json:"session"`
		}
		env.Expect(200, rostertest.Req{Method: "GET", Path: supportPath(w.ws.ID), Token: w.staffToken}).JSON(t, &state)
		if !state.Active || state.Session == nil || state.Session.ID != s.ID || state.Session.Token != "" {
			t.Fatalf("status: %+v", state)
		}
		if !w.leave(t, s.Token) { // the session's own token may end it
			t.Fatal("leave ended nothing")
		}
		if w.leave(t, w.staffToken) {
			t.Error("a second leave ended something")
		}
		env.Expect(401, rostertest.Req{Method: "GET", Path: "/v1/me", Token: s.Token})
		if w.staffAllowed() {
			t.Error("the check still allows after leaving")
		}
		state.Active, state.Session = true, nil
		env.Expect(200, rostertest.Req{Method: "GET", Path: supportPath(w.ws.ID), Token: w.staffToken}).JSON(t, &state)
		if state.Active || state.Session != nil {
			t.Errorf("status after leaving: %+v", state)
		}
		if got := w.endReasons(t); !slices.Equal(got, []string{"left"}) {
			t.Errorf("end events: %v", got)
		}
		if got := tasks(t, env, "type=support_session_end&status=cancelled"); len(got) != 1 {
			t.Errorf("the end task is not cancelled: %+v", tasks(t, env, "type=support_session_end"))
		}
		view := w.customerView(t)
		if len(view) != 1 || view[0].Active || view[0].EndReason == nil || *view[0].EndReason != "left" {
			t.Errorf("the customer's view keeps the ended session: %+v", view)
		}
		if ended := w.join(w.staffToken, map[string]any{"reason": "again"}).Want(t, 201); ended.Map(t)["status"] != "granted" {
			t.Error("joining after leaving is not a new grant")
		}
	})
}

// TestSupportExpiryHoldsBeforeAnyTask (rule 9): at expires_at the check
// and the token stop, whether or not the end task has run; the task then
// ends the session as expired.
func TestSupportExpiryHoldsBeforeAnyTask(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b, rostertest.WithTasks())
		w := newSupportWorld(t, env, "acme")
		s := w.joined(t, time.Hour, 201).Session
		env.Clock.Advance(time.Hour - time.Second)
		if !w.staffAllowed() {
			t.Fatal("the session ended early")
		}
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/me", Token: s.Token})
		env.Clock.Advance(time.Second)
		if w.staffAllowed() {
			t.Error("the check allows at expires_at")
		}
		if code := env.Expect(401, rostertest.Req{Method: "GET", Path: "/v1/me", Token: s.Token}).Code(t); code != "token_expired" {
			t.Errorf("the token at expires_at: %s", code)
		}
		if got := w.endReasons(t); len(got) != 0 {
			t.Fatalf("ended before the task ran: %v", got)
		}
		env.RunDueTasks()
		if got := w.endReasons(t); !slices.Equal(got, []string{"expired"}) {
			t.Errorf("end events after the task: %v", got)
		}
		if view := w.customerView(t); len(view) != 1 || view[0].EndReason == nil || *view[0].EndReason != "expired" {
			t.Errorf("the customer's view: %+v", view)
		}
	})
}

// TestStaleSupportEndTasksDoNothing (rule 10): an end task run after its
// session was extended, ended and re-created, or replaced by a real
// membership touches nothing.
func TestStaleSupportEndTasksDoNothing(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b, rostertest.WithTasks())
		retryAll := func() {
			for _, task := range tasks(t, env, "type=support_session_end&status=cancelled") {
				env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/admin/tasks/" + task.ID + "/retry", Token: env.AdminToken})
			}
			env.RunDueTasks()
		}

		extended := newSupportWorld(t, env, "extended")
		extended.joined(t, time.Hour, 201)
		extended.joined(t, 5*time.Hour, 200)

		recreated := newSupportWorld(t, env, "recreated")
		recreated.joined(t, time.Hour, 201)
		recreated.leave(t, recreated.staffToken)
		again := recreated.joined(t, 5*time.Hour, 201).Session

		real := newSupportWorld(t, env, "real")
		real.joined(t, time.Hour, 201)
		env.PutMember(real.aliceToken, real.ws.ID, real.staff.ID, map[string]any{"role": "viewer"}).Want(t, 201)

		env.Clock.Advance(2 * time.Hour) // past every first expiry
		retryAll()
		if !extended.staffAllowed() {
			t.Error("a stale task ended an extended session")
		}
		if !recreated.staffAllowed() {
			t.Error("a stale task ended a re-created session")
		}
		if d := env.Check(real.staff.ID, "workspace.read", real.ws.ID); !d.Allowed || d.Via == nil || *d.Via != "direct" {
			t.Errorf("a stale task touched a real membership: %+v", d)
		}
		if got := extended.endReasons(t); len(got) != 0 {
			t.Errorf("extended: %v", got)
		}
		if got := recreated.endReasons(t); !slices.Equal(got, []string{"left"}) {
			t.Errorf("re-created: %v", got)
		}
		if got := real.endReasons(t); !slices.Equal(got, []string{"removed"}) {
			t.Errorf("replaced by a real membership: %v", got)
		}
		view := recreated.customerView(t)
		if len(view) != 2 || view[0].ID != again.ID || !view[0].Active {
			t.Errorf("re-created, newest first: %+v", view)
		}
	})
}

// TestSupportSweepEndsWhatTasksMissed: a session whose end task never ran
// is ended by the sweep, as swept.
func TestSupportSweepEndsWhatTasksMissed(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		w := newSupportWorld(t, env, "acme")
		w.joined(t, time.Hour, 201)
		for _, task := range tasks(t, env, "type=support_session_end&status=scheduled") {
			env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/admin/tasks/" + task.ID + "/cancel", Token: env.AdminToken})
		}
		env.Clock.Advance(time.Hour)
		if w.staffAllowed() {
			t.Fatal("the check allows past the expiry")
		}
		// The sweep is a periodic task one replica runs every 15 minutes
		// (by the wall clock, not the test's): run it as that task would.
		if err := env.Service.HandleTask(context.Background(), roster.Task{ID: "task_0000000000000001", Type: roster.TaskSupportSweep}); err != nil {
			t.Fatal(err)
		}
		if got := w.endReasons(t); !slices.Equal(got, []string{"swept"}) {
			t.Errorf("end events after the sweep: %v", got)
		}
		if err := env.Service.HandleTask(context.Background(), roster.Task{ID: "task_0000000000000002", Type: roster.TaskSupportSweep}); err != nil {
			t.Fatal(err)
		}
		if got := w.endReasons(t); len(got) != 1 {
			t.Errorf("a second sweep ended it again: %v", got)
		}
	})
}

// TestSupportEndsWithConsentAndStaffStatus: turning the switch off,
// suspending or demoting the staff member, removing the session from the
// members and deleting the workspace end sessions at once.
func TestSupportEndsWithConsentAndStaffStatus(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		patchStaff := func(w supportWorld, body map[string]any) {
			env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + w.staff.ID, Token: env.AdminToken, Body: body})
		}

		off := newSupportWorld(t, env, "off")
		s := off.joined(t, time.Hour, 201).Session
		off.allowSupport(t, false)
		if off.staffAllowed() || env.Do(rostertest.Req{Method: "GET", Path: "/v1/me", Token: s.Token}).Status != 401 {
			t.Error("a session outlived the customer's consent")
		}
		if got := off.endReasons(t); !slices.Equal(got, []string{"support_disabled"}) {
			t.Errorf("switched off: %v", got)
		}

		suspended := newSupportWorld(t, env, "suspended")
		second := newTenant(t, env, "suspended-two")
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + second.ws.ID + "/settings", Token: second.aliceToken,
			Body: map[string]any{"allow_support_access": true}})
		suspended.joined(t, time.Hour, 201)
		env.Expect(201, rostertest.Req{Method: "POST", Path: supportPath(second.ws.ID), Token: suspended.staffToken, Body: map[string]any{"reason": "too"}})
		patchStaff(suspended, map[string]any{"status": "suspended"})
		if got := suspended.endReasons(t); !slices.Equal(got, []string{"staff_suspended"}) {
			t.Errorf("suspended: %v", got)
		}
		patchStaff(suspended, map[string]any{"status": "active"})
		if suspended.staffAllowed() || env.Check(suspended.staff.ID, "workspace.read", second.ws.ID).Allowed {
			t.Error("reactivating the staff member brought a session back")
		}

		demoted := newSupportWorld(t, env, "demoted")
		demoted.joined(t, time.Hour, 201)
		patchStaff(demoted, map[string]any{"platform_role": "none"})
		if demoted.staffAllowed() {
			t.Error("a demoted staff member keeps their session")
		}
		if got := demoted.endReasons(t); !slices.Equal(got, []string{"staff_demoted"}) {
			t.Errorf("demoted: %v", got)
		}
		removed := newSupportWorld(t, env, "removed")
		removed.joined(t, time.Hour, 201)
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + removed.ws.ID + "/members/" + removed.staff.ID, Token: removed.aliceToken})
		if got := removed.endReasons(t); !slices.Equal(got, []string{"removed"}) || removed.staffAllowed() {
			t.Errorf("removed by the customer: %v", got)
		}

		deleted := newSupportWorld(t, env, "deleted")
		s = deleted.joined(t, time.Hour, 201).Session
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + deleted.ws.ID, Token: deleted.aliceToken})
		if got := deleted.endReasons(t); !slices.Equal(got, []string{"workspace_deleted"}) {
			t.Errorf("workspace deleted: %v", got)
		}
		env.Expect(401, rostertest.Req{Method: "GET", Path: "/v1/me", Token: s.Token})

		archived := newSupportWorld(t, env, "archived")
		env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + archived.ws.ID + "/archive", Token: archived.aliceToken})
		if code := archived.join(archived.staffToken, map[string]any{"reason": "x"}).Want(t, 410).Code(t); code != "workspace_archived" {
			t.Errorf("joining an archived workspace: %s", code)
		}

		var list struct{ Data []apiSession }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/admin/support-sessions", Token: env.AdminToken}).JSON(t, &list)
		if len(list.Data) != 0 {
			t.Errorf("active sessions left: %+v", list.Data)
		}
	})
}

// TestStaffAlreadyMember: staff who are real members get already_member
// and nothing about their membership changes.
func TestStaffAlreadyMember(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		w := newSupportWorld(t, env, "acme")
		env.PutMember(w.aliceToken, w.ws.ID, w.staff.ID, map[string]any{"role": "member"}).Want(t, 201)
		before := w.members(t, w.aliceToken)[w.staff.ID]
		var got joinAnswer
		w.join(w.staffToken, map[string]any{"reason": "x", "duration": 60}).Want(t, 200).JSON(t, &got)
		if got.Status != "already_member" || got.Session != nil {
			t.Fatalf("a real member joining: %+v", got)
		}
		after := w.members(t, w.aliceToken)[w.staff.ID]
		if after.ExpiresAt != nil || after.Role != before.Role || *after.Source != *before.Source {
			t.Errorf("the membership changed: %+v, then %+v", before, after)
		}
		if n := len(w.customerView(t)); n != 0 {
			t.Errorf("%d sessions", n)
		}

		// An organisation owner reaches the workspace already, too.
		org := newSupportWorld(t, env, "owned")
		env.PutOrgMember(org.aliceToken, org.org.ID, org.staff.ID, "owner").Want(t, 201)
		if s := org.join(org.staffToken, map[string]any{"reason": "x"}).Want(t, 200).Map(t)["status"]; s != "already_member" {
			t.Errorf("an organisation owner: %v", s)
		}
	})
}

// TestStaffSessionListsAndStaffOrgs: platform admins list every active
// session, support staff their own; support staff may create an
// organisation for a customer, recorded as such.
func TestStaffSessionListsAndStaffOrgs(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		one, two := newSupportWorld(t, env, "one"), newSupportWorld(t, env, "two")
		one.joined(t, time.Hour, 201)
		two.joined(t, time.Hour, 201)
		list := func(token, query string) []apiSession {
			var page struct{ Data []apiSession }
			env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/admin/support-sessions?" + query, Token: token}).JSON(t, &page)
			return page.Data
		}
		if got := list(env.AdminToken, ""); len(got) != 2 {
			t.Errorf("an admin sees %d sessions", len(got))
		}
		if got := list(env.AdminToken, "workspace_id="+one.ws.ID); len(got) != 1 || got[0].WorkspaceID != one.ws.ID {
			t.Errorf("filtered by workspace: %+v", got)
		}
		if got := list(one.staffToken, ""); len(got) != 1 || got[0].UserID != one.staff.ID {
			t.Errorf("support staff see: %+v", got)
		}
		env.Expect(403, rostertest.Req{Method: "GET", Path: "/v1/admin/support-sessions?user_id=" + two.staff.ID, Token: one.staffToken})
		env.Expect(403, rostertest.Req{Method: "GET", Path: "/v1/admin/support-sessions", Token: one.aliceToken})
		env.Expect(400, rostertest.Req{Method: "GET", Path: "/v1/admin/support-sessions?workspace_id=nope", Token: env.AdminToken})

		var org struct{ ID string }
		env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/orgs", Token: one.staffToken,
			Body: map[string]any{"name": "New Customer", "slug": "new-customer"}}).JSON(t, &org)
		var page struct {
			Data []struct {
				ActorUserID *string        `json:"actor_user_id"`
				After       map[string]any `json:"after"`
			}
		}
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit?action=org.created&org_id=" + org.ID, Token: env.AdminToken}).JSON(t, &page)
		staff, _ := page.Data[0].After["created_by_staff"].(map[string]any)
		if len(page.Data) != 1 || staff["user_id"] != one.staff.ID || staff["platform_role"] != "support" || staff["owner"] != true {
			t.Errorf("org.created by support staff: %+v", page.Data)
		}
	})
}

// TestSupportTokenIsConfined: a support token reaches its workspace and
// nothing else: other workspaces and organisations are 404, it issues no
// tokens, and its stream carries only its workspace's events.
func TestSupportTokenIsConfined(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		w := newSupportWorld(t, env, "acme")
		// The staff member is a real member elsewhere: the token must not
		// carry that either.
		home := newTenant(t, env, "vendor")
		env.PutMember(home.aliceToken, home.ws.ID, w.staff.ID, map[string]any{"role": "admin"}).Want(t, 201)
		tok := w.joined(t, time.Hour, 201).Session.Token
		req := func(method, path string, body any) *rostertest.Response {
			return env.Do(rostertest.Req{Method: method, Path: path, Token: tok, Body: body})
		}

		req("GET", "/v1/workspaces/"+w.ws.ID, nil).Want(t, 200)
		for _, path := range []string{"/v1/workspaces/" + home.ws.ID, "/v1/workspaces/" + home.ws.ID + "/members", "/v1/orgs/" + home.org.ID,
			"/v1/orgs/" + w.org.ID, "/v1/orgs/" + w.org.ID + "/seats"} {
			req("GET", path, nil).Want(t, 404)
		}
		if code := req("POST", "/v1/check", map[string]any{"user_id": w.staff.ID, "action": "workspace.read", "workspace_id": home.ws.ID}).Want(t, 404).Code(t); code != "workspace_not_found" {
			t.Errorf("a check elsewhere: %s", code)
		}
		req("POST", "/v1/check", map[string]any{"user_id": w.staff.ID, "action": "workspace.read", "workspace_id": w.ws.ID}).Want(t, 200)
		req("POST", "/v1/me/tokens", map[string]any{"name": "mine"}).Want(t, 403)
		req("GET", "/v1/me/tokens", nil).Want(t, 403)
		req("POST", "/v1/orgs", map[string]any{"name": "x", "slug": "x-org"}).Want(t, 403)
		req("POST", supportPath(home.ws.ID), map[string]any{"reason": "x"}).Want(t, 404)
		var wss struct{ Data []struct{ ID string } }
		req("GET", "/v1/workspaces", nil).Want(t, 200).JSON(t, &wss)
		if len(wss.Data) != 1 || wss.Data[0].ID != w.ws.ID {
			t.Errorf("the token lists workspaces %+v", wss.Data)
		}
		var orgs struct{ Data []any }
		if req("GET", "/v1/orgs", nil).Want(t, 200).JSON(t, &orgs); len(orgs.Data) != 0 {
			t.Errorf("the token lists organisations %+v", orgs.Data)
		}

		start := lastEventID(t, env)
		stream := openStream(t, env, tok, "", start)
		env.PutMember(home.aliceToken, home.ws.ID, env.CreateUser(map[string]any{"email": "elsewhere@example.com"}).ID, map[string]any{"role": "member"}).Want(t, 201)
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + w.staff.ID, Token: env.AdminToken, Body: map[string]any{"display_name": "Sam"}})
		env.PutMember(w.aliceToken, w.ws.ID, env.CreateUser(map[string]any{"email": "here@example.com"}).ID, map[string]any{"role": "member"}).Want(t, 201)
		deadline := time.After(10 * time.Second)
		for {
			select {
			case e := <-stream.events:
				if ws := e.Data.WorkspaceID; ws == nil || *ws != w.ws.ID {
					t.Fatalf("the support token's stream carried %s from elsewhere: %+v", e.Type, e.Data)
				}
				if e.Type == "membership.created" {
					return // its workspace's change arrived, and nothing else before it
				}
			case <-deadline:
				t.Fatal("the workspace's own event did not arrive")
			}
		}
	})
}

// TestSupportEventsNameOwnersNeverStaff: a session's start and end tell
// the workspace's owners (data.notify), never the staff member.
func TestSupportEventsNameOwnersNeverStaff(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		w := newSupportWorld(t, env, "acme")
		start := lastEventID(t, env)
		stream := openStream(t, env, env.AdminToken, "types=support_session.started,support_session.ended", start)
		s := w.joined(t, time.Hour, 201).Session
		// Staff in a session invite someone: the acceptance tells the
		// owners, not the staff member who invited.
		var inv struct {
			Token string `json:"token"`
		}
		env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + w.ws.ID + "/invitations", Token: s.Token,
			Body: map[string]any{"email": "newbie@acme.example", "role": "member"}}).JSON(t, &inv)
		_, newbieToken := env.NewUserWithToken("newbie@acme.example")
		accepted := openStream(t, env, env.AdminToken, "types=invitation.accepted", lastEventID(t, env))
		env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/invitations/accept", Token: newbieToken, Body: map[string]any{"token": inv.Token}})
		select {
		case e := <-accepted.events:
			if notify, _ := e.Data.Data["notify"].([]any); len(notify) != 1 || notify[0] != w.alice.ID {
				t.Errorf("an invitation by support staff, accepted, tells %v", e.Data.Data["notify"])
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no invitation.accepted on the stream")
		}
		w.leave(t, w.staffToken)
		for _, want := range []string{"support_session.started", "support_session.ended"} {
			select {
			case e := <-stream.events:
				data := e.Data.Data
				notify, _ := data["notify"].([]any)
				if e.Type != want || data["user_id"] != w.staff.ID || len(notify) != 1 || notify[0] != w.alice.ID ||
					data["reason"] != s.Reason || data["expires_at"] == nil {
					t.Errorf("%s: %+v", want, e.Data)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no %s on the stream", want)
			}
		}
	})
}

// TestConcurrentSupportJoins (rule 13): the same staff member joining the
// same workspace at the same moment, through two replicas on PostgreSQL,
// ends in one session and one membership every time: one join grants, the
// other extends what it granted.
func TestConcurrentSupportJoins(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		a := rostertest.NewEnv(t, b)
		other := a
		if b == rostertest.Postgres {
			other = rostertest.NewReplica(t, b, a.DSN, a.Clock)
		}
		w := newSupportWorld(t, a, "acme")
		body := map[string]any{"reason": "ticket", "duration": 3600}
		for round := range 200 {
			var answers [2]joinAnswer
			var statuses [2]int
			concurrently(2, func(i int) {
				env := []*rostertest.Env{a, other}[i]
				res := env.Do(rostertest.Req{Method: "POST", Path: supportPath(w.ws.ID), Token: w.staffToken, Body: body})
				statuses[i] = res.Status
				if res.Status < 300 {
					res.JSON(t, &answers[i])
				}
			})
			if !(statuses == [2]int{201, 200} || statuses == [2]int{200, 201}) ||
				answers[0].Session == nil || answers[1].Session == nil || answers[0].Session.ID != answers[1].Session.ID {
				t.Fatalf("round %d: statuses %v, answers %+v", round, statuses, answers)
			}
			var active struct{ Data []apiSession }
			a.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/admin/support-sessions?workspace_id=" + w.ws.ID, Token: a.AdminToken}).JSON(t, &active)
			var members struct{ Data []rostertest.Member }
			a.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + w.ws.ID + "/members?include=support", Token: w.aliceToken}).JSON(t, &members)
			staffRows := 0
			for _, m := range members.Data {
				if m.UserID == w.staff.ID {
					staffRows++
				}
			}
			if len(active.Data) != 1 || staffRows != 1 {
				t.Fatalf("round %d: %d active sessions, %d memberships", round, len(active.Data), staffRows)
			}
			if !w.leave(t, w.staffToken) {
				t.Fatalf("round %d: nothing to leave", round)
			}
		}
		if n := len(w.customerView(t)); n != 200 {
			t.Errorf("%d sessions in the customer's view, want 200", n)
		}
	})
}
