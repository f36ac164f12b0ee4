package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// orgMembers is an organisation's members and their roles, by the API.
func orgMembers(env *rostertest.Env, orgID string) map[string]string {
	env.T.Helper()
	var out struct {
		Data []struct {
			UserID string `json:"user_id"`
			Role   string `json:"role"`
		} `json:"data"`
	}
	env.Expect(http.StatusOK, rostertest.Req{Method: "GET", Path: "/v1/orgs/" + orgID + "/members?limit=200", Token: env.AdminToken}).JSON(env.T, &out)
	m := map[string]string{}
	for _, d := range out.Data {
		m[d.UserID] = d.Role
	}
	return m
}

func TestOrgMembersThroughTheConsole(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		alice, aliceToken := env.NewUserWithToken("alice@example.com")
		bob, bobToken := env.NewUserWithToken("bob@example.com")
		org, _ := env.CreateOrg(aliceToken, "acme")
		br := newBrowser(t, env)
		br.signIn(aliceToken)
		orgPath := "/console/orgs/" + org.ID

		p := br.get(orgPath).want(t, http.StatusOK)
		if !p.has(alice.ID) || !p.has("acme") {
			t.Fatalf("the organisation page does not list its owner:\n%s", p.Body)
		}
		csrf := p.csrf(t)

		added := br.post(orgPath+"/members", url.Values{"csrf": {csrf}, "user_id": {bob.ID}, "role": {string(roster.OrgMember)}})
		if !br.follow(added).has("The member has been added.") {
			t.Error("adding a member shows no notice")
		}
		if got := orgMembers(env, org.ID)[bob.ID]; got != string(roster.OrgMember) {
			t.Fatalf("after adding bob, the API says his role is %q", got)
		}
		// The audit log (newest first) names alice, through her console session.
		events := listOf(env, "/v1/audit?org_id="+org.ID+"&action="+roster.ActionOrgMemberCreated)
		if len(events) == 0 || events[0]["actor_user_id"] != alice.ID || !strings.HasPrefix(events[0]["actor_token_id"].(string), roster.PrefixConsoleSession) {
			t.Errorf("the audit event of a change in the console: %v", events)
		}

		br.post(orgPath+"/members/"+bob.ID, url.Values{"csrf": {csrf}, "role": {string(roster.OrgAdmin)}}).want(t, http.StatusSeeOther)
		if got := orgMembers(env, org.ID)[bob.ID]; got != string(roster.OrgAdmin) {
			t.Fatalf("after the role change, the API says bob is %q", got)
		}

		// A bad role and the last owner are refused on the page they came
		// from, with the API's status and code, and change nothing.
		for _, c := range []struct {
			name, path, role string
			status           int
			code             string
		}{
			{"an unknown role", orgPath + "/members/" + bob.ID, "overlord", http.StatusBadRequest, roster.CodeInvalidRole},
			{"demoting the last owner", orgPath + "/members/" + alice.ID, string(roster.OrgMember), http.StatusConflict, roster.CodeLastOwner},
			{"removing the last owner", orgPath + "/members/" + alice.ID + "/remove", "", http.StatusConflict, roster.CodeLastOwner},
		} {
			p := br.post(c.path, url.Values{"csrf": {csrf}, "role": {c.role}})
			if p.Status != c.status || p.code() != c.code {
				t.Errorf("%s: %d %q, want %d %s", c.name, p.Status, p.code(), c.status, c.code)
			}
			if !p.has("Members") || !p.has(bob.ID) {
				t.Errorf("%s: the error is not shown on the organisation page:\n%s", c.name, p.Body)
			}
		}
		if m := orgMembers(env, org.ID); m[alice.ID] != string(roster.OrgOwner) || m[bob.ID] != string(roster.OrgAdmin) {
			t.Errorf("refused actions changed the members: %v", m)
		}

		// Removing asks first; only the confirmation's POST removes.
		confirm := br.get(orgPath+"/members/"+bob.ID+"/remove").want(t, http.StatusOK)
		if !confirm.has("Remove " + bob.ID) {
			t.Errorf("the confirmation does not say whom it removes:\n%s", confirm.Body)
		}
		if _, ok := orgMembers(env, org.ID)[bob.ID]; !ok {
			t.Fatal("asking for confirmation removed the member")
		}
		br.post(orgPath+"/members/"+bob.ID+"/remove", url.Values{"csrf": {confirm.csrf(t)}}).want(t, http.StatusSeeOther)
		if _, ok := orgMembers(env, org.ID)[bob.ID]; ok {
			t.Error("confirming did not remove the member")
		}

		// Forms without the session's CSRF token change nothing.
		other := newBrowser(t, env)
		otherCSRF := other.signIn(bobToken).csrf(t)
		for _, forged := range []string{"", "forged", otherCSRF} {
			p := br.post(orgPath+"/members", url.Values{"csrf": {forged}, "user_id": {bob.ID}, "role": {string(roster.OrgMember)}})
			if p.Status != http.StatusForbidden || p.code() != roster.CodeCSRFInvalid {
				t.Errorf("CSRF token %q: %d %q, want 403 %s", forged, p.Status, p.code(), roster.CodeCSRFInvalid)
			}
		}
		if _, ok := orgMembers(env, org.ID)[bob.ID]; ok {
			t.Error("a form with a forged CSRF token added a member")
		}
	})
}

// TestConsoleRefusesWhatTheAPIRefuses puts each role of an organisation,
// an outsider and a platform admin through the same operations in the
// console and in the API: the console refuses exactly what the API does,
// with the same status and code.
func TestConsoleRefusesWhatTheAPIRefuses(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		_, ownerToken := env.NewUserWithToken("owner@example.com")
		org, ws := env.CreateOrg(ownerToken, "acme")
		tess, _ := env.NewUserWithToken("tess@example.com")
		nobody, _ := env.NewUserWithToken("nobody@example.com")
		env.PutOrgMember(ownerToken, org.ID, tess.ID, string(roster.OrgMember))
		actors := map[string]string{"owner": ownerToken, "platform admin": env.AdminToken}
		for _, role := range []roster.OrgRole{roster.OrgAdmin, roster.OrgMember, roster.OrgBilling} {
			u, token := env.NewUserWithToken("org-" + string(role) + "@example.com")
			env.PutOrgMember(ownerToken, org.ID, u.ID, string(role)).Want(t, http.StatusCreated)
			actors[string(role)] = token
		}
		_, actors["outsider"] = env.NewUserWithToken("outsider@example.com")

		type op struct {
			name    string
			console func(br *browser, csrf string) *page
			api     rostertest.Req
		}
		ops := []op{
			{"view the organisation", func(br *browser, _ string) *page { return br.get("/console/orgs/" + org.ID) },
				rostertest.Req{Method: "GET", Path: "/v1/orgs/" + org.ID}},
			{"view the workspace", func(br *browser, _ string) *page { return br.get("/console/workspaces/" + ws.ID) },
				rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + ws.ID}},
			{"set a member's role", func(br *browser, csrf string) *page {
				return br.post("/console/orgs/"+org.ID+"/members/"+tess.ID, url.Values{"csrf": {csrf}, "role": {string(roster.OrgMember)}})
			}, rostertest.Req{Method: "PUT", Path: "/v1/orgs/" + org.ID + "/members/" + tess.ID, Body: map[string]any{"role": string(roster.OrgMember)}}},
			{"remove a non-member", func(br *browser, csrf string) *page {
				return br.post("/console/orgs/"+org.ID+"/members/"+nobody.ID+"/remove", url.Values{"csrf": {csrf}})
			}, rostertest.Req{Method: "DELETE", Path: "/v1/orgs/" + org.ID + "/members/" + nobody.ID}},
		}
		for name, token := range actors {
			br := newBrowser(t, env)
			csrf := br.signIn(token).csrf(t)
			for _, o := range ops {
				got := o.console(br, csrf)
				req := o.api
				req.Token = token
				want := env.Do(req)
				switch {
				case want.Status < 300 && (got.Status == http.StatusOK || got.Status == http.StatusSeeOther):
				case got.Status != want.Status || got.code() != want.Code(t):
					t.Errorf("%s may %s? console %d %q, API %d %q", name, o.name, got.Status, got.code(), want.Status, want.Code(t))
				}
			}
		}
		if m := orgMembers(env, org.ID); m[tess.ID] != string(roster.OrgMember) {
			t.Errorf("tess is %q after setting her role to what it was", m[tess.ID])
		}
	})
}

func TestHostileNamesAreEscaped(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		const script, img = `<script>alert("org")</script>`, `<img src=x onerror=alert(1)>`
		u := env.CreateUser(map[string]any{"email": "eve@example.com", "display_name": img})
		token := env.IssueToken(u.ID, map[string]any{"name": "t"}).Token
		org, ws := env.CreateOrg(token, "acme")
		env.Expect(http.StatusOK, rostertest.Req{Method: "PATCH", Path: "/v1/orgs/" + org.ID, Token: token, Body: map[string]any{"name": script}})
		env.Expect(http.StatusOK, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + ws.ID, Token: token, Body: map[string]any{"name": `"><b>ws</b>`}})
		br := newBrowser(t, env)
		pages := []*page{br.signIn(token), br.get("/console/orgs/" + org.ID), br.get("/console/workspaces/" + ws.ID)}
		for _, p := range pages {
			p.want(t, http.StatusOK)
			for _, raw := range []string{"<script", "<img", "<b>ws"} {
				if strings.Contains(p.Body, raw) {
					t.Errorf("%s holds %s unescaped:\n%s", p.URL, raw, p.Body)
				}
			}
		}
		if !pages[1].has(script) || !pages[0].has(img) {
			t.Error("the hostile names are not shown at all")
		}
	})
}

func TestAnotherTenantsObjectsAreNotFound(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		alice, aliceToken := env.NewUserWithToken("alice@example.com")
		org, ws := env.CreateOrg(aliceToken, "acme")
		_, ottoToken := env.NewUserWithToken("otto@example.com")
		env.CreateOrg(ottoToken, "otto-inc")
		br := newBrowser(t, env)
		csrf := br.signIn(ottoToken).csrf(t)
		for _, c := range []struct {
			p    *page
			code string
		}{
			{br.get("/console/orgs/" + org.ID), roster.CodeOrgNotFound},
			{br.get("/console/workspaces/" + ws.ID), roster.CodeWorkspaceNotFound},
			{br.get("/console/orgs/" + org.ID + "/members/" + alice.ID + "/remove"), roster.CodeOrgNotFound},
			{br.post("/console/orgs/"+org.ID+"/members/"+alice.ID+"/remove", url.Values{"csrf": {csrf}}), roster.CodeOrgNotFound},
			{br.post("/console/orgs/"+org.ID+"/members", url.Values{"csrf": {csrf}, "user_id": {alice.ID}, "role": {"member"}}), roster.CodeOrgNotFound},
			{br.get("/console/orgs/org_nothing"), roster.CodeOrgNotFound},
			{br.get("/console/no-such-page"), roster.CodeRouteNotFound},
		} {
			if c.p.Status != http.StatusNotFound || c.p.code() != c.code {
				t.Errorf("%s: %d %q, want 404 %s", c.p.URL, c.p.Status, c.p.code(), c.code)
			}
		}
		if orgMembers(env, org.ID)[alice.ID] != string(roster.OrgOwner) {
			t.Error("another tenant's form changed the organisation")
		}
	})
}

func TestWorkspaceMembersShowDerivedRolesAndTimeLeft(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		_, ownerToken := env.NewUserWithToken("owner@example.com")
		_, ws := env.CreateOrg(ownerToken, "acme")
		tmp, _ := env.NewUserWithToken("temp@example.com")
		ada, _ := env.NewUserWithToken("ada@example.com")
		env.PutOrgMember(ownerToken, ws.OrgID, ada.ID, string(roster.OrgAdmin)).Want(t, http.StatusCreated)
		ends := env.Clock.Now().Add(3*24*time.Hour + time.Hour)
		env.PutMember(ownerToken, ws.ID, tmp.ID, map[string]any{"role": "member", "expires_at": ends.Format(time.RFC3339)}).Want(t, http.StatusCreated)
		br := newBrowser(t, env)
		br.signIn(ownerToken)
		p := br.get("/console/workspaces/"+ws.ID).want(t, http.StatusOK)
		if !p.has("3 days left") {
			t.Errorf("the temporary member's time left is not shown:\n%s", p.Body)
		}
		if !p.has("from the organisation") {
			t.Errorf("the organisation admin's derived role is not marked:\n%s", p.Body)
		}
		env.Clock.Advance(3*24*time.Hour + 30*time.Minute)
		br.signIn(ownerToken) // the session has been idle for days
		if p := br.get("/console/workspaces/" + ws.ID); !p.has("30 minutes left") {
			t.Errorf("half an hour before the end:\n%s", p.Body)
		}
	})
}

func TestMemberListsPaginate(t *testing.T) {
	env := rostertest.NewEnv(t, rostertest.SQLite)
	_, ownerToken := env.NewUserWithToken("owner@example.com")
	org, _ := env.CreateOrg(ownerToken, "acme")
	for i := range 55 {
		u := env.CreateUser(map[string]any{"email": fmt.Sprintf("m%02d@example.com", i), "display_name": "m"})
		env.PutOrgMember(ownerToken, org.ID, u.ID, string(roster.OrgMember)).Want(t, http.StatusCreated)
	}
	br := newBrowser(t, env)
	br.signIn(ownerToken)
	seen := map[string]bool{}
	path := "/console/orgs/" + org.ID
	for pages := 0; path != ""; pages++ {
		if pages > 3 {
			t.Fatal("the member list never ends")
		}
		p := br.get(path).want(t, http.StatusOK)
		for id := range orgMembers(env, org.ID) {
			if p.has("<code>" + id + "</code>") {
				if seen[id] {
					t.Errorf("%s is on two pages", id)
				}
				seen[id] = true
			}
		}
		path = ""
		if m := nextLink.FindStringSubmatch(p.Body); m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if len(seen) != 56 {
		t.Errorf("the pages list %d of 56 members", len(seen))
	}
	if p := br.get("/console/orgs/" + org.ID + "?after=bogus"); p.Status != http.StatusBadRequest || p.code() != roster.CodeInvalidCursor {
		t.Errorf("a made-up cursor: %d %q", p.Status, p.code())
	}
}

func TestSeatBarMovesWithMembers(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		_, ownerToken := env.NewUserWithToken("owner@example.com")
		org, ws := env.CreateOrg(ownerToken, "acme")
		env.Expect(http.StatusOK, rostertest.Req{Method: "PUT", Path: "/v1/orgs/" + org.ID + "/plan", Token: env.AdminToken, Body: map[string]any{"seat_cap": 10}})
		br := newBrowser(t, env)
		br.signIn(ownerToken)
		before := br.get("/console/orgs/"+org.ID).want(t, http.StatusOK)
		if !strings.Contains(before.Body, `max="10" value="1"`) {
			t.Fatalf("seat bar before: want 1 of 10:\n%s", before.Body)
		}
		u, _ := env.NewUserWithToken("new@example.com")
		env.PutMember(ownerToken, ws.ID, u.ID, map[string]any{"role": "member"}).Want(t, http.StatusCreated)
		after := br.get("/console/orgs/" + org.ID)
		if !strings.Contains(after.Body, `max="10" value="2"`) || !after.has("2 seats used") {
			t.Errorf("seat bar after a new member: want 2 of 10:\n%s", after.Body)
		}
	})
}

func TestPlanAndWorkspaceListInTheConsole(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		_, ownerToken := env.NewUserWithToken("owner@example.com")
		org, _ := env.CreateOrg(ownerToken, "acme")
		plan := func() map[string]any {
			var o struct {
				Plan map[string]any `json:"plan"`
			}
			env.Expect(http.StatusOK, rostertest.Req{Method: "GET", Path: "/v1/orgs/" + org.ID, Token: env.AdminToken}).JSON(t, &o)
			return o.Plan
		}
		admin := newBrowser(t, env)
		admin.signIn(env.AdminToken)
		orgPath := "/console/orgs/" + org.ID
		csrf := admin.get(orgPath).want(t, http.StatusOK).csrf(t)
		form := url.Values{"csrf": {csrf}, "seat_cap": {"7"}, "free_roles": {"viewer", "external"}, "owner_seat_free": {"on"}}
		admin.post(orgPath+"/plan", form).want(t, http.StatusSeeOther)
		got := plan()
		if got["seat_cap"] != float64(7) || len(got["free_roles"].([]any)) != 2 || got["owner_seat_free"] != true {
			t.Errorf("after saving the plan, the API says %v", got)
		}
		if p := admin.get(orgPath); !p.has("cap 7") {
			t.Errorf("the organisation page does not show the cap:\n%s", p.Body)
		}
		admin.post(orgPath+"/plan", url.Values{"csrf": {csrf}}).want(t, http.StatusSeeOther)
		if got := plan(); got["seat_cap"] != nil || len(got["free_roles"].([]any)) != 0 || got["owner_seat_free"] != false {
			t.Errorf("an empty plan form: the API says %v", got)
		}
		if p := admin.post(orgPath+"/plan", url.Values{"csrf": {csrf}, "seat_cap": {"lots"}}); p.Status != http.StatusBadRequest || p.code() != roster.CodeInvalidRequest {
			t.Errorf("a cap that is no number: %d %q", p.Status, p.code())
		}
		owner := newBrowser(t, env)
		ownerCSRF := owner.signIn(ownerToken).csrf(t)
		gotOwner := owner.post(orgPath+"/plan", url.Values{"csrf": {ownerCSRF}, "seat_cap": {"100"}})
		want := env.Do(rostertest.Req{Method: "PUT", Path: "/v1/orgs/" + org.ID + "/plan", Token: ownerToken, Body: map[string]any{"seat_cap": 100}})
		if gotOwner.Status != want.Status || gotOwner.code() != want.Code(t) {
			t.Errorf("an owner setting the plan: console %d %q, API %d %q", gotOwner.Status, gotOwner.code(), want.Status, want.Code(t))
		}

		// The organisation's workspaces page apart from its members.
		for i := range pageSize + 5 {
			env.Expect(http.StatusCreated, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: ownerToken,
				Body: map[string]any{"org_id": org.ID, "name": fmt.Sprintf("W%02d", i), "slug": fmt.Sprintf("w%02d", i)}})
		}
		first := owner.get(orgPath).want(t, http.StatusOK)
		more := regexp.MustCompile(`<a class="more" href="([^"]+)"`).FindStringSubmatch(first.Body)
		if more == nil || !strings.Contains(more[1], "ws_after=") {
			t.Fatalf("the workspace list has no link to its next page:\n%s", first.Body)
		}
		second := owner.get(strings.ReplaceAll(more[1], "&amp;", "&")).want(t, http.StatusOK)
		if !second.has(">W54<") || first.has(">W54<") {
			t.Errorf("the second page of workspaces does not hold the last ones")
		}
	})
}

const pageSize = 50
