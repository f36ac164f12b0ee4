package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// staffUser makes a user of the vendor's staff with this platform role.
func staffUser(env *rostertest.Env, email string, role roster.PlatformRole) (rostertest.User, string) {
	env.T.Helper()
	u, token := env.NewUserWithToken(email)
	env.Expect(http.StatusOK, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + u.ID, Token: env.AdminToken, Body: map[string]any{"platform_role": string(role)}})
	return u, token
}

func userStatus(env *rostertest.Env, id string) string {
	env.T.Helper()
	var u struct {
		Status string `json:"status"`
	}
	env.Expect(http.StatusOK, rostertest.Req{Method: "GET", Path: "/v1/users/" + id, Token: env.AdminToken}).JSON(env.T, &u)
	return u.Status
}

func TestStaffManageUsers(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		ann, annToken := env.NewUserWithToken("ann@example.com")
		env.NewUserWithToken("zed@example.com")
		admin := newBrowser(t, env)
		home := admin.signIn(env.AdminToken)
		if !home.has(`href="/console/staff/users"`) {
			t.Error("a platform admin's menu has no staff pages")
		}
		p := admin.get("/console/staff/users?q=ann").want(t, http.StatusOK)
		if !p.has(ann.ID) || p.has("zed@example.com") {
			t.Errorf("searching for ann:\n%s", p.Body)
		}

		annBrowser := newBrowser(t, env)
		annHome := annBrowser.signIn(annToken)
		if annHome.has(`href="/console/staff/users"`) {
			t.Error("a customer's menu shows the staff pages")
		}
		got := annBrowser.get("/console/staff/users")
		want := env.Do(rostertest.Req{Method: "GET", Path: "/v1/users", Token: annToken})
		if got.Status != want.Status || got.code() != want.Code(t) {
			t.Errorf("a customer on the users page: console %d %q, API %d %q", got.Status, got.code(), want.Status, want.Code(t))
		}

		confirm := admin.get("/console/staff/users/"+ann.ID+"/suspend").want(t, http.StatusOK)
		if userStatus(env, ann.ID) != string(roster.UserActive) {
			t.Fatal("asking for confirmation suspended the user")
		}
		admin.post("/console/staff/users/"+ann.ID+"/suspend", url.Values{"csrf": {confirm.csrf(t)}}).want(t, http.StatusSeeOther)
		if s := userStatus(env, ann.ID); s != string(roster.UserSuspended) {
			t.Fatalf("after suspending, ann is %s", s)
		}
		if p := annBrowser.get("/console/"); p.Status != http.StatusSeeOther {
			t.Errorf("ann's console session outlived her suspension: %d", p.Status)
		}
		admin.post("/console/staff/users/"+ann.ID+"/reactivate", url.Values{"csrf": {confirm.csrf(t)}}).want(t, http.StatusSeeOther)
		if s := userStatus(env, ann.ID); s != string(roster.UserActive) {
			t.Errorf("after reactivating, ann is %s", s)
		}
		// The last platform admin cannot suspend themself, as in the API.
		if p := admin.post("/console/staff/users/"+env.AdminID+"/suspend", url.Values{"csrf": {confirm.csrf(t)}}); p.Status != http.StatusConflict || p.code() != roster.CodeLastAdmin {
			t.Errorf("suspending the last admin: %d %q", p.Status, p.code())
		}
	})
}

func TestStaffJoinAndLeaveSupport(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		_, ownerToken := env.NewUserWithToken("owner@example.com")
		_, ws := env.CreateOrg(ownerToken, "acme")
		_, closed := env.CreateOrg(ownerToken, "closed")
		env.Expect(http.StatusOK, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + ws.ID + "/settings", Token: ownerToken, Body: map[string]any{"allow_support_access": true}})
		env.Expect(http.StatusOK, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + closed.ID + "/settings", Token: ownerToken, Body: map[string]any{"allow_support_access": false}})
		sam, samToken := staffUser(env, "sam@example.com", roster.PlatformSupport)
		br := newBrowser(t, env)
		csrf := br.signIn(samToken).csrf(t)
		join := func(wsID, reason, minutes string) *page {
			return br.post("/console/staff/support", url.Values{"csrf": {csrf}, "workspace_id": {wsID}, "reason": {reason}, "minutes": {minutes}})
		}
		p := join(ws.ID, "ticket #42", "30").want(t, http.StatusOK)
		if m := shownSecret.FindStringSubmatch(p.Body); m == nil || !strings.HasPrefix(m[1], "rst_sup_") || !p.has("You have joined the workspace as support.") {
			t.Fatalf("joining does not show the support token once:\n%s", p.Body)
		}
		if !p.has("ticket #42") || !p.has("30 minutes left") {
			t.Errorf("the session is not listed with its time left:\n%s", p.Body)
		}
		owner := newBrowser(t, env)
		owner.signIn(ownerToken)
		if wp := owner.get("/console/workspaces/" + ws.ID); !wp.has(sam.ID) || !wp.has("ticket #42") {
			t.Errorf("the workspace's admins do not see who is in, and why:\n%s", wp.Body)
		}

		env.Clock.Advance(10 * time.Minute)
		if p := join(ws.ID, "ticket #42", "60"); !p.has("Your support session has been extended.") || !p.has("60 minutes left") && !p.has("1 hour left") {
			t.Errorf("extending:\n%s", p.Body)
		}
		for _, c := range []struct {
			ws, reason, minutes string
			status              int
			code                string
		}{
			{closed.ID, "ticket #43", "30", http.StatusForbidden, roster.CodeSupportDisabled},
			{ws.ID, " ", "30", http.StatusBadRequest, roster.CodeInvalidReason},
			{ws.ID, "ticket", "soon", http.StatusBadRequest, roster.CodeInvalidDuration},
		} {
			if p := join(c.ws, c.reason, c.minutes); p.Status != c.status || p.code() != c.code {
				t.Errorf("joining %s with %q for %q minutes: %d %q, want %d %s", c.ws, c.reason, c.minutes, p.Status, p.code(), c.status, c.code)
			}
		}

		confirm := br.get("/console/staff/support/"+ws.ID+"/leave").want(t, http.StatusOK)
		br.post("/console/staff/support/"+ws.ID+"/leave", url.Values{"csrf": {confirm.csrf(t)}}).want(t, http.StatusSeeOther)
		if p := br.get("/console/staff/support"); p.has("ticket #42") {
			t.Errorf("after leaving the session is still listed:\n%s", p.Body)
		}

		// A customer may not join, as in the API.
		cust := newBrowser(t, env)
		custCSRF := cust.signIn(ownerToken).csrf(t)
		got := cust.post("/console/staff/support", url.Values{"csrf": {custCSRF}, "workspace_id": {ws.ID}, "reason": {"x"}})
		want := env.Do(rostertest.Req{Method: "POST", Path: "/v1/admin/workspaces/" + ws.ID + "/support-session", Token: ownerToken, Body: map[string]any{"reason": "x"}})
		if got.Status != want.Status || got.code() != want.Code(t) {
			t.Errorf("a customer joining: console %d %q, API %d %q", got.Status, got.code(), want.Status, want.Code(t))
		}
	})
}

func TestStaffTasksAndWebhooks(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		_, ownerToken := env.NewUserWithToken("owner@example.com")
		_, ws := env.CreateOrg(ownerToken, "acme")
		tmp, _ := env.NewUserWithToken("tmp@example.com")
		env.PutMember(ownerToken, ws.ID, tmp.ID, map[string]any{"role": "member", "expires_at": env.Clock.Now().Add(time.Hour).Format(time.RFC3339)}).Want(t, http.StatusCreated)
		admin := newBrowser(t, env)
		csrf := admin.signIn(env.AdminToken).csrf(t)

		tasks := listOf(env, "/v1/admin/tasks?status=scheduled")
		if len(tasks) == 0 {
			t.Fatal("no scheduled task to work with")
		}
		id := tasks[0]["id"].(string)
		if p := admin.get("/console/staff/tasks?status=scheduled").want(t, http.StatusOK); !p.has(id) {
			t.Fatalf("the scheduled task is not listed:\n%s", p.Body)
		}
		if p := admin.get("/console/staff/tasks?status=bogus"); p.Status != http.StatusBadRequest || p.code() != roster.CodeInvalidStatus {
			t.Errorf("an unknown status filter: %d %q", p.Status, p.code())
		}
		admin.get("/console/staff/tasks/"+id+"/cancel").want(t, http.StatusOK)
		admin.post("/console/staff/tasks/"+id+"/cancel", url.Values{"csrf": {csrf}}).want(t, http.StatusSeeOther)
		taskStatus := func() string {
			var task struct {
				Status string `json:"status"`
			}
			env.Expect(http.StatusOK, rostertest.Req{Method: "GET", Path: "/v1/admin/tasks/" + id, Token: env.AdminToken}).JSON(t, &task)
			return task.Status
		}
		if s := taskStatus(); s != string(roster.TaskCancelled) {
			t.Fatalf("after cancelling, the task is %s", s)
		}
		if p := admin.post("/console/staff/tasks/"+id+"/cancel", url.Values{"csrf": {csrf}}); p.Status != http.StatusConflict || p.code() != roster.CodeTaskNotCancellable {
			t.Errorf("cancelling a cancelled task: %d %q", p.Status, p.code())
		}
		admin.post("/console/staff/tasks/"+id+"/retry", url.Values{"csrf": {csrf}}).want(t, http.StatusSeeOther)
		if s := taskStatus(); s != string(roster.TaskScheduled) {
			t.Errorf("after retrying, the task is %s", s)
		}

		p := admin.post("/console/staff/webhooks", url.Values{"csrf": {csrf}, "url": {"http://127.0.0.1:9/hook"}, "event_types": {"membership.created, membership.deleted"}}).want(t, http.StatusOK)
		first := shownSecret.FindStringSubmatch(p.Body)
		hooks := listOf(env, "/v1/webhooks")
		if first == nil || len(hooks) != 1 {
			t.Fatalf("creating an endpoint: %d endpoints, secret shown %v:\n%s", len(hooks), first != nil, p.Body)
		}
		if types := hooks[0]["event_types"].([]any); len(types) != 2 {
			t.Errorf("the endpoint's event types: %v", types)
		}
		hook := hooks[0]["id"].(string)
		if admin.get("/console/staff/webhooks").has(first[1]) {
			t.Error("the signing secret is shown again")
		}
		admin.get("/console/staff/webhooks/"+hook).want(t, http.StatusOK)
		admin.get("/console/staff/webhooks/"+hook+"/rotate").want(t, http.StatusOK)
		rotated := shownSecret.FindStringSubmatch(admin.post("/console/staff/webhooks/"+hook+"/rotate", url.Values{"csrf": {csrf}}).want(t, http.StatusOK).Body)
		if rotated == nil || rotated[1] == first[1] {
			t.Error("rotating does not show a new secret")
		}
		if p := admin.post("/console/staff/webhooks", url.Values{"csrf": {csrf}, "url": {"ftp://example.com"}}); p.Status != http.StatusBadRequest || p.code() != roster.CodeInvalidWebhookURL {
			t.Errorf("a bad endpoint URL: %d %q", p.Status, p.code())
		}
		if p := admin.get("/console/staff/webhooks/whk_06h4h8ooj5sdj37v52cor03ml0"); p.Status != http.StatusNotFound || p.code() != roster.CodeWebhookNotFound {
			t.Errorf("an unknown endpoint: %d %q", p.Status, p.code())
		}
	})
}

func TestAuditInTheConsole(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		_, ownerToken := env.NewUserWithToken("owner@example.com")
		org, _ := env.CreateOrg(ownerToken, "acme")
		_, otherToken := env.NewUserWithToken("other@example.com")
		other, _ := env.CreateOrg(otherToken, "other")
		if err := env.Service.SealNow(context.Background()); err != nil {
			t.Fatal(err)
		}
		owner := newBrowser(t, env)
		owner.signIn(ownerToken)
		p := owner.get("/console/audit?org_id="+org.ID).want(t, http.StatusOK)
		if !p.has(string(roster.ActionOrgCreated)) {
			t.Errorf("the organisation's audit log does not show its creation:\n%s", p.Body)
		}
		for _, query := range []string{"", "?org_id=" + other.ID, "?org_id=" + org.ID + "&since=yesterday"} {
			got := owner.get("/console/audit" + query)
			want := env.Do(rostertest.Req{Method: "GET", Path: "/v1/audit" + query, Token: ownerToken})
			if got.Status != want.Status || got.Status == http.StatusOK {
				t.Errorf("audit%s: console %d %q, API %d %q", query, got.Status, got.code(), want.Status, want.Code(t))
			}
		}

		// The export is the API's, byte for byte.
		got := owner.get("/console/audit/export?org_id="+org.ID).want(t, http.StatusOK)
		want := env.Expect(http.StatusOK, rostertest.Req{Method: "GET", Path: "/v1/audit/export?org_id=" + org.ID, Token: ownerToken})
		if got.Body != string(want.Body) || got.Body == "" {
			t.Errorf("the console's export differs from the API's:\n%s\n---\n%s", got.Body, want.Body)
		}

		admin := newBrowser(t, env)
		csrf := admin.signIn(env.AdminToken).csrf(t)
		if p := admin.post("/console/audit/verify", url.Values{"csrf": {csrf}}).want(t, http.StatusOK); !p.has("The chain is intact") {
			t.Errorf("verifying the chain:\n%s", p.Body)
		}
	})
}
