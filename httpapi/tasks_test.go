package httpapi_test

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/rostertest"
)

type apiTask struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	Status      string          `json:"status"`
	RunAt       time.Time       `json:"run_at"`
	Attempts    int             `json:"attempts"`
	MaxAttempts int             `json:"max_attempts"`
	LastError   *string         `json:"last_error"`
	FinishedAt  *time.Time      `json:"finished_at"`
	Payload     json.RawMessage `json:"payload"`
}

// tasks lists tasks as a platform admin, with query filters.
func tasks(t *testing.T, env *rostertest.Env, query string) []apiTask {
	t.Helper()
	var page struct{ Data []apiTask }
	env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/admin/tasks?limit=500&" + query, Token: env.AdminToken}).JSON(t, &page)
	return page.Data
}

// auditCount counts the audit events with action.
func auditCount(t *testing.T, env *rostertest.Env, action string) int {
	t.Helper()
	var page struct{ Data []map[string]any }
	env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit?limit=500&action=" + url.QueryEscape(action), Token: env.AdminToken}).JSON(t, &page)
	return len(page.Data)
}

func expiringIn(env *rostertest.Env, d time.Duration) map[string]any {
	return map[string]any{"role": "member", "expires_at": env.Clock.Now().Add(d).Format(time.RFC3339)}
}

// TestExpiringMembershipEndsByItsTask: a membership with an expiry has a
// task at that time; past it, checks deny at once (rule 9), and the task
// ends the membership, records membership.expired and recounts the seat.
func TestExpiringMembershipEndsByItsTask(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b, rostertest.WithTasks())
		tn := newTenant(t, env, "acme")
		// An outsider with the external role: the workspace membership is
		// their only seat.
		bob := env.CreateUser(map[string]any{"email": "bob@example.com"})
		grant := expiringIn(env, time.Hour)
		grant["role"] = "external"
		env.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, grant).Want(t, 201)
		tn.wantUsed(t, "with bob", 2)

		scheduled := tasks(t, env, "type=membership_expiry&status=scheduled")
		if len(scheduled) != 1 || !scheduled[0].RunAt.Equal(env.Clock.Now().Add(time.Hour)) {
			t.Fatalf("scheduled tasks: %+v", scheduled)
		}
		var payload map[string]any
		json.Unmarshal(scheduled[0].Payload, &payload)
		if payload["membership_id"] == nil || payload["workspace_id"] != tn.ws.ID || payload["user_id"] != bob.ID {
			t.Errorf("the task does not name what it ends: %s", scheduled[0].Payload)
		}
		env.RunDueTasks()
		if !env.Check(bob.ID, "workspace.read", tn.ws.ID).Allowed || len(tasks(t, env, "status=completed")) != 0 {
			t.Fatal("the task ran before its time")
		}

		env.Clock.Advance(time.Hour)
		if env.Check(bob.ID, "workspace.read", tn.ws.ID).Allowed {
			t.Fatal("an expired membership still allows, before its task has run")
		}
		tn.wantUsed(t, "past the expiry, before its task", 1) // exact at any time
		env.RunDueTasks()
		done := tasks(t, env, "type=membership_expiry")
		if len(done) != 1 || done[0].Status != "completed" || done[0].Attempts != 1 || done[0].FinishedAt == nil {
			t.Fatalf("after its time: %+v", done)
		}
		if n := auditCount(t, env, "membership.expired"); n != 1 {
			t.Errorf("%d membership.expired events, want 1", n)
		}
		if n, err := env.Service.RecheckSeats(rostertest.System()); err != nil || n != 0 {
			t.Errorf("the task left %d seats to recount (%v)", n, err)
		}
		if _, ok := tn.members(t, tn.aliceToken)[bob.ID]; ok {
			t.Error("the expired member is still listed")
		}
		tn.wantUsed(t, "after the expiry", 1)
	})
}

// TestStaleExpiryTasksDoNothing (rule 10): a task ends only the membership
// it was made for, with the expiry it was made for: one that was extended,
// re-created or made permanent since is left alone.
func TestStaleExpiryTasksDoNothing(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b, rostertest.WithTasks())
		tn := newTenant(t, env, "acme")
		user := func(name string) string { return env.CreateUser(map[string]any{"email": name + "@example.com"}).ID }
		extended, recreated, permanent := user("extended"), user("recreated"), user("permanent")
		for _, id := range []string{extended, recreated, permanent} {
			env.PutMember(tn.aliceToken, tn.ws.ID, id, expiringIn(env, time.Hour)).Want(t, 201)
		}
		env.PutMember(tn.aliceToken, tn.ws.ID, extended, expiringIn(env, 3*time.Hour)).Want(t, 200)
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + tn.ws.ID + "/members/" + recreated, Token: tn.aliceToken})
		env.PutMember(tn.aliceToken, tn.ws.ID, recreated, expiringIn(env, 2*time.Hour)).Want(t, 201)
		env.PutMember(tn.aliceToken, tn.ws.ID, permanent, map[string]any{"role": "member"}).Want(t, 200)

		allowed := func(id string) bool { return env.Check(id, "resources.write", tn.ws.ID).Allowed }
		env.Clock.Advance(time.Hour)
		env.RunDueTasks()
		if len(tasks(t, env, "status=completed")) != 3 {
			t.Fatalf("the three first tasks did not run: %+v", tasks(t, env, ""))
		}
		if !allowed(extended) || !allowed(recreated) || !allowed(permanent) || auditCount(t, env, "membership.expired") != 0 {
			t.Fatal("a stale task ended a membership")
		}

		env.Clock.Advance(time.Hour)
		env.RunDueTasks()
		if allowed(recreated) || !allowed(extended) || auditCount(t, env, "membership.expired") != 1 {
			t.Fatal("the re-created membership's own task did not end it alone")
		}
		env.Clock.Advance(time.Hour)
		env.RunDueTasks()
		if allowed(extended) || !allowed(permanent) || auditCount(t, env, "membership.expired") != 2 {
			t.Fatal("the extended membership did not end at its new expiry")
		}
	})
}

// TestInvitationExpiresByItsTask: a pending invitation is expired by its
// task; one resent since keeps its new expiry.
func TestInvitationExpiresByItsTask(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b, rostertest.WithTasks())
		tn := newTenant(t, env, "acme")
		invite := func(email string) string {
			return env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + tn.ws.ID + "/invitations", Token: tn.aliceToken,
				Body: map[string]any{"email": email, "role": "member", "expires_in": 3600}}).Map(t)["id"].(string)
		}
		lapsed, resent := invite("lapsed@example.com"), invite("resent@example.com")
		env.Clock.Advance(30 * time.Minute)
		env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + tn.ws.ID + "/invitations/" + resent + "/resend", Token: tn.aliceToken})
		expired := func() []string {
			var page struct{ Data []struct{ ID string } }
			env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + tn.ws.ID + "/invitations?status=expired", Token: tn.aliceToken}).JSON(t, &page)
			var ids []string
			for _, inv := range page.Data {
				ids = append(ids, inv.ID)
			}
			return ids
		}
		env.Clock.Advance(30 * time.Minute)
		env.RunDueTasks()
		if got := expired(); len(got) != 1 || got[0] != lapsed || auditCount(t, env, "invitation.expired") != 1 {
			t.Fatalf("at the first expiry: expired %v, %d events", got, auditCount(t, env, "invitation.expired"))
		}
		env.Clock.Advance(30 * time.Minute)
		env.RunDueTasks()
		if got := expired(); len(got) != 2 || auditCount(t, env, "invitation.expired") != 2 {
			t.Fatalf("at the resent one's expiry: expired %v", got)
		}
	})
}

// TestTaskAdministration: operators cancel a scheduled task and retry a
// cancelled one; anything else is a 409; a task retried before its time
// schedules itself again for its time; nobody else learns a task exists.
func TestTaskAdministration(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b, rostertest.WithTasks())
		tn := newTenant(t, env, "acme")
		bob := env.CreateUser(map[string]any{"email": "bob@example.com"})
		env.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, expiringIn(env, time.Hour)).Want(t, 201)
		id := tasks(t, env, "type=membership_expiry")[0].ID
		path := "/v1/admin/tasks/" + id
		admin := func(status int, method, p string) map[string]any {
			t.Helper()
			return env.Expect(status, rostertest.Req{Method: method, Path: p, Token: env.AdminToken}).Map(t)
		}

		env.Expect(403, rostertest.Req{Method: "GET", Path: "/v1/admin/tasks", Token: tn.aliceToken})
		for _, p := range []string{path, path + "/cancel", path + "/retry"} {
			method := "POST"
			if p == path {
				method = "GET"
			}
			if got := env.Expect(404, rostertest.Req{Method: method, Path: p, Token: tn.aliceToken}).Map(t)["code"]; got != "task_not_found" {
				t.Errorf("%s %s as an org owner: %v", method, p, got)
			}
		}

		if got := admin(409, "POST", path+"/retry")["code"]; got != "task_not_retryable" {
			t.Errorf("retrying a scheduled task: %v", got)
		}
		if got := admin(200, "POST", path+"/cancel"); got["status"] != "cancelled" || got["finished_at"] == nil {
			t.Errorf("cancel: %v", got)
		}
		if got := admin(409, "POST", path+"/cancel")["code"]; got != "task_not_cancellable" {
			t.Errorf("cancelling twice: %v", got)
		}
		if got := admin(200, "POST", path+"/retry"); got["status"] != "scheduled" {
			t.Errorf("retry: %v", got)
		}
		env.RunDueTasks()
		if got := admin(200, "GET", path); got["status"] != "completed" {
			t.Errorf("the retried task: %v", got)
		}
		if !env.Check(bob.ID, "resources.write", tn.ws.ID).Allowed {
			t.Fatal("a task retried before its time ended the membership early")
		}
		again := tasks(t, env, "type=membership_expiry&status=scheduled")
		if len(again) != 1 || !again[0].RunAt.Equal(env.Clock.Now().Add(time.Hour)) {
			t.Fatalf("the early task did not schedule itself for its time: %+v", again)
		}
		for _, action := range []string{"task.cancelled", "task.retried"} {
			if n := auditCount(t, env, action); n != 1 {
				t.Errorf("%d %s events", n, action)
			}
		}
		if got := admin(409, "POST", path+"/cancel")["code"]; got != "task_not_cancellable" {
			t.Errorf("cancelling a completed task: %v", got)
		}
		if got := admin(409, "POST", path+"/retry")["code"]; got != "task_not_retryable" {
			t.Errorf("retrying a completed task: %v", got)
		}

		for query, code := range map[string]string{"status=bogus": "invalid_status", "type=bogus": "invalid_task_type", "cursor=bogus": "invalid_cursor"} {
			if got := admin(400, "GET", "/v1/admin/tasks?"+query)["code"]; got != code {
				t.Errorf("%s: %v, want %s", query, got, code)
			}
		}
		for _, bad := range []string{"task_zz", "task_0000000000000fff", "usr_1"} {
			if got := admin(404, "GET", "/v1/admin/tasks/"+bad)["code"]; got != "task_not_found" {
				t.Errorf("%s: %v", bad, got)
			}
		}
	})
}

// TestTasksSurviveARestart: a task scheduled by a replica that stops is run
// by the one that starts after it.
func TestTasksSurviveARestart(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		before := rostertest.NewEnv(t, b) // works no tasks
		tn := newTenant(t, before, "acme")
		bob := before.CreateUser(map[string]any{"email": "bob@example.com"})
		before.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, expiringIn(before, time.Hour)).Want(t, 201)

		after := rostertest.NewReplica(t, b, before.DSN, before.Clock, rostertest.WithTasks())
		after.AdminToken = before.AdminToken
		after.Clock.Advance(time.Hour)
		after.RunDueTasks()
		if n := auditCount(t, after, "membership.expired"); n != 1 {
			t.Fatalf("%d membership.expired events after the restart, want 1", n)
		}
	})
}
