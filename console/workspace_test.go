package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

var shownSecret = regexp.MustCompile(`<input class="copy" readonly value="([^"]+)"`)

// listOf reads a list from the API as the admin.
func listOf(env *rostertest.Env, path string) []map[string]any {
	env.T.Helper()
	var out struct {
		Data []map[string]any `json:"data"`
	}
	env.Expect(http.StatusOK, rostertest.Req{Method: "GET", Path: path, Token: env.AdminToken}).JSON(env.T, &out)
	return out.Data
}

func TestInvitationsInTheConsole(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		_, ownerToken := env.NewUserWithToken("owner@example.com")
		_, ws := env.CreateOrg(ownerToken, "acme")
		invitee, inviteeToken := env.NewUserWithToken("invitee@example.com")
		owner := newBrowser(t, env)
		owner.signIn(ownerToken)
		wsPath := "/console/workspaces/" + ws.ID
		csrf := owner.get(wsPath).want(t, http.StatusOK).csrf(t)

		sent := owner.post(wsPath+"/invitations", url.Values{"csrf": {csrf}, "email": {"invitee@example.com"}, "role": {"member"}, "days": {"3"}}).want(t, http.StatusOK)
		m := shownSecret.FindStringSubmatch(sent.Body)
		if m == nil || !sent.has("The invitation has been sent.") {
			t.Fatalf("the new invitation's secret is not shown:\n%s", sent.Body)
		}
		if !strings.Contains(sent.Body, "back="+url.QueryEscape(wsPath)+"&amp;set=nl") {
			t.Errorf("the language switch on the invitation's answer does not come back to the workspace:\n%s", sent.Body)
		}
		if owner.get(wsPath).has(m[1]) {
			t.Error("the invitation's secret is shown again")
		}
		// Resending shows a fresh secret, once.
		invID := listOf(env, "/v1/workspaces/"+ws.ID+"/invitations")[0]["id"].(string)
		resent := owner.post(wsPath+"/invitations/"+invID+"/resend", url.Values{"csrf": {csrf}}).want(t, http.StatusOK)
		if again := shownSecret.FindStringSubmatch(resent.Body); again == nil || again[1] == m[1] {
			t.Errorf("resending does not show a new secret:\n%s", resent.Body)
		}
		if pending := listOf(env, "/v1/workspaces/"+ws.ID+"/invitations"); len(pending) != 1 || pending[0]["email"] != "invitee@example.com" {
			t.Fatalf("after inviting, the API lists %v", pending)
		}

		// The invitee, in a browser of their own, accepts from their start page.
		other := newBrowser(t, env)
		home := other.signIn(inviteeToken)
		if !home.has("Invitations for you") {
			t.Fatalf("the invitee's start page lists no invitation:\n%s", home.Body)
		}
		accept := regexp.MustCompile(`action="(/console/invitations/[^/"]+/accept)"`).FindStringSubmatch(home.Body)
		joined := other.follow(other.post(accept[1], url.Values{"csrf": {home.csrf(t)}}))
		if !joined.has("you have joined the workspace") {
			t.Errorf("accepting does not land on the workspace:\n%s", joined.Body)
		}
		if d := env.Check(invitee.ID, "workspace.read", ws.ID); !d.Allowed {
			t.Errorf("after accepting in the console, the invitee may not read: %+v", d)
		}

		// Revoking asks first.
		owner.post(wsPath+"/invitations", url.Values{"csrf": {csrf}, "email": {"late@example.com"}, "role": {"viewer"}}).want(t, http.StatusOK)
		pending := listOf(env, "/v1/workspaces/"+ws.ID+"/invitations")
		if len(pending) != 1 {
			t.Fatalf("pending invitations: %v", pending)
		}
		revoke := wsPath + "/invitations/" + pending[0]["id"].(string) + "/revoke"
		confirm := owner.get(revoke).want(t, http.StatusOK)
		if !confirm.has("late@example.com") {
			t.Errorf("the confirmation does not name the invitation:\n%s", confirm.Body)
		}
		if p := owner.get(wsPath + "/invitations/inv_06h4h8ooj5sdj37v52cor03ml0/revoke"); p.Status != http.StatusNotFound || p.code() != roster.CodeInvitationNotFound {
			t.Errorf("confirming the revocation of an unknown invitation: %d %q", p.Status, p.code())
		}
		owner.post(revoke, url.Values{"csrf": {csrf}}).want(t, http.StatusSeeOther)
		if pending := listOf(env, "/v1/workspaces/"+ws.ID+"/invitations"); len(pending) != 0 {
			t.Errorf("after revoking, pending invitations: %v", pending)
		}

		for _, c := range []struct {
			form   url.Values
			status int
			code   string
		}{
			{url.Values{"email": {"not an email"}, "role": {"member"}}, http.StatusBadRequest, roster.CodeInvalidEmail},
			{url.Values{"email": {"x@example.com"}, "role": {"overlord"}}, http.StatusBadRequest, roster.CodeInvalidRole},
			{url.Values{"email": {"x@example.com"}, "role": {"member"}, "days": {"soon"}}, http.StatusBadRequest, roster.CodeInvalidExpiry},
			{url.Values{"email": {"invitee@example.com"}, "role": {"member"}}, http.StatusConflict, roster.CodeAlreadyMember},
		} {
			c.form.Set("csrf", csrf)
			if p := owner.post(wsPath+"/invitations", c.form); p.Status != c.status || p.code() != c.code {
				t.Errorf("inviting %v: %d %q, want %d %s", c.form, p.Status, p.code(), c.status, c.code)
			}
		}

		// A plain member sees no admin sections and may not invite, as in the API.
		if p := other.get(wsPath); p.has("Invite someone") || p.has("Access requests") {
			t.Errorf("a member sees the admin sections:\n%s", p.Body)
		}
		p := other.post(wsPath+"/invitations", url.Values{"csrf": {home.csrf(t)}, "email": {"y@example.com"}, "role": {"member"}})
		api := env.Do(rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + ws.ID + "/invitations", Token: inviteeToken, Body: map[string]any{"email": "y@example.com", "role": "member"}})
		if p.Status != api.Status || p.code() != api.Code(t) {
			t.Errorf("a member inviting: console %d %q, API %d %q", p.Status, p.code(), api.Status, api.Code(t))
		}
	})
}

func TestAccessRequestsAndSettingsInTheConsole(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		_, ownerToken := env.NewUserWithToken("owner@example.com")
		org, ws := env.CreateOrg(ownerToken, "acme")
		mia, miaToken := env.NewUserWithToken("mia@example.com")
		dan, danToken := env.NewUserWithToken("dan@example.com")
		for _, u := range []string{mia.ID, dan.ID} {
			env.PutOrgMember(ownerToken, org.ID, u, string(roster.OrgMember)).Want(t, http.StatusCreated)
		}
		for _, token := range []string{miaToken, danToken} {
			env.Expect(http.StatusCreated, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + ws.ID + "/access-requests", Token: token, Body: map[string]any{"message": "<b>let me in</b>"}})
		}
		owner := newBrowser(t, env)
		owner.signIn(ownerToken)
		wsPath := "/console/workspaces/" + ws.ID
		p := owner.get(wsPath).want(t, http.StatusOK)
		if !p.has(mia.ID) || !p.has("<b>let me in</b>") {
			t.Fatalf("the access requests are not listed (escaped):\n%s", p.Body)
		}
		reqs := listOf(env, "/v1/workspaces/"+ws.ID+"/access-requests")
		ids := map[string]string{}
		for _, r := range reqs {
			ids[r["user_id"].(string)] = r["id"].(string)
		}
		csrf := p.csrf(t)
		owner.post(wsPath+"/requests/"+ids[mia.ID], url.Values{"csrf": {csrf}, "decision": {"approve"}, "role": {"viewer"}}).want(t, http.StatusSeeOther)
		// Denying asks first; the confirmation posts the form again.
		deny := url.Values{"csrf": {csrf}, "decision": {"deny"}}
		confirm := owner.post(wsPath+"/requests/"+ids[dan.ID], deny).want(t, http.StatusOK)
		if !confirm.has("Deny this access request?") || !strings.Contains(confirm.Body, `name="decision" value="deny"`) {
			t.Fatalf("denying does not ask first:\n%s", confirm.Body)
		}
		if reqs := listOf(env, "/v1/workspaces/"+ws.ID+"/access-requests"); len(reqs) != 1 {
			t.Fatalf("asking to confirm decided a request: %d pending, want 1", len(reqs))
		}
		deny.Set("confirmed", "yes")
		owner.post(wsPath+"/requests/"+ids[dan.ID], deny).want(t, http.StatusSeeOther)
		if d := env.Check(mia.ID, "workspace.read", ws.ID); !d.Allowed || d.Role == nil || *d.Role != "viewer" {
			t.Errorf("approved as viewer, mia: %+v", d)
		}
		if d := env.Check(dan.ID, "workspace.read", ws.ID); d.Allowed {
			t.Errorf("denied, dan may read: %+v", d)
		}
		if p := owner.post(wsPath+"/requests/"+ids[dan.ID], url.Values{"csrf": {csrf}, "decision": {"approve"}, "role": {"member"}}); p.Status != http.StatusConflict || p.code() != roster.CodeRequestNotPending {
			t.Errorf("deciding a decided request: %d %q", p.Status, p.code())
		}

		settings := func() bool {
			var s struct {
				Allow bool `json:"allow_support_access"`
			}
			env.Expect(http.StatusOK, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + ws.ID + "/settings", Token: ownerToken}).JSON(t, &s)
			return s.Allow
		}
		// Turning support access on takes one click; turning it off ends
		// every support session there, so it asks first.
		on := url.Values{"csrf": {csrf}, "allow_support_access": {"on"}}
		if !owner.follow(owner.post(wsPath+"/settings", on)).has("The settings have been saved.") || !settings() {
			t.Fatal("turning support access on")
		}
		off := url.Values{"csrf": {csrf}}
		if p := owner.post(wsPath+"/settings", off).want(t, http.StatusOK); !p.has("Turn support access off?") || !settings() {
			t.Fatalf("turning support access off does not ask first:\n%s", p.Body)
		}
		off.Set("confirmed", "yes")
		owner.post(wsPath+"/settings", off).want(t, http.StatusSeeOther)
		if settings() {
			t.Error("confirmed, support access is still on")
		}
	})
}
