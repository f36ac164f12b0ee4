package httpapi_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// tenant is an organisation with a workspace, owned by alice.
type tenant struct {
	env        *rostertest.Env
	org        rostertest.Org
	ws         rostertest.Workspace
	alice      rostertest.User
	aliceToken string
}

func newTenant(t testing.TB, env *rostertest.Env, slug string) tenant {
	alice, token := env.NewUserWithToken("alice@" + slug + ".example")
	org, ws := env.CreateOrg(token, slug)
	return tenant{env: env, org: org, ws: ws, alice: alice, aliceToken: token}
}

func (tn tenant) members(t *testing.T, token string) map[string]rostertest.Member {
	t.Helper()
	var page struct{ Data []rostertest.Member }
	tn.env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + tn.ws.ID + "/members?limit=500", Token: token}).JSON(t, &page)
	out := map[string]rostertest.Member{}
	for _, m := range page.Data {
		out[m.UserID] = m
	}
	return out
}

func (tn tenant) orgRole(t *testing.T, userID string) string {
	t.Helper()
	var page struct {
		Data []struct {
			UserID string `json:"user_id"`
			Role   string `json:"role"`
		}
	}
	tn.env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/orgs/" + tn.org.ID + "/members?limit=500", Token: tn.env.AdminToken}).JSON(t, &page)
	for _, m := range page.Data {
		if m.UserID == userID {
			return m.Role
		}
	}
	return ""
}

func TestOrgsAndWorkspaces(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		_, bobToken := env.NewUserWithToken("bob@example.com")

		// The creator owns the organisation and, directly, its first workspace.
		if tn.orgRole(t, tn.alice.ID) != "owner" {
			t.Errorf("creator's org role %q", tn.orgRole(t, tn.alice.ID))
		}
		if m := tn.members(t, tn.aliceToken)[tn.alice.ID]; m.Role != "owner" || m.Derived {
			t.Errorf("creator in workspace: %+v", m)
		}
		for _, c := range []struct {
			body   map[string]any
			status int
			code   string
		}{
			{map[string]any{"name": "X", "slug": "acme"}, 409, roster.CodeSlugTaken},
			{map[string]any{"name": "X", "slug": "Bad Slug"}, 400, roster.CodeInvalidSlug},
			{map[string]any{"name": "X", "slug": "ab"}, 400, roster.CodeInvalidSlug},
			{map[string]any{"name": "X", "slug": "-abc"}, 400, roster.CodeInvalidSlug},
			{map[string]any{"name": "", "slug": "fine-slug"}, 400, roster.CodeInvalidRequest},
			{map[string]any{"name": "X", "slug": "other", "owner_id": tn.alice.ID}, 403, roster.CodeForbidden},
		} {
			if res := env.Do(rostertest.Req{Method: "POST", Path: "/v1/orgs", Token: bobToken, Body: c.body}); res.Status != c.status || res.Code(t) != c.code {
				t.Errorf("create org %v: %d %s", c.body, res.Status, res.Body)
			}
		}
		// Workspace slugs are unique per organisation, not globally.
		env.Expect(409, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: tn.aliceToken, Body: map[string]any{"org_id": tn.org.ID, "name": "x", "slug": "acme"}})
		other := newTenant(t, env, "globex")
		env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: other.aliceToken, Body: map[string]any{"org_id": other.org.ID, "name": "x", "slug": "acme"}})

		// Service tokens create organisations for a named user.
		bot := env.CreateUser(map[string]any{})
		svc := env.IssueToken(bot.ID, map[string]any{"kind": "service"}).Token
		bob := env.Me(bobToken)
		env.Expect(400, rostertest.Req{Method: "POST", Path: "/v1/orgs", Token: svc, Body: map[string]any{"name": "B", "slug": "bobs"}})
		var bobs rostertest.Org
		env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/orgs", Token: svc, Body: map[string]any{"name": "B", "slug": "bobs", "owner_id": bob.ID}}).JSON(t, &bobs)
		var mine struct{ Data []rostertest.Org }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/orgs", Token: bobToken}).JSON(t, &mine)
		if len(mine.Data) != 1 || mine.Data[0].ID != bobs.ID {
			t.Errorf("bob's organisations: %+v", mine.Data)
		}
		var all struct{ Data []rostertest.Org }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/orgs", Token: svc}).JSON(t, &all)
		if len(all.Data) != 3 {
			t.Errorf("the service sees %d organisations, want 3", len(all.Data))
		}

		// Members of an organisation may create workspaces unless it forbids it.
		carol, carolToken := env.NewUserWithToken("carol@example.com")
		env.Expect(201, tnPutOrg(tn, carol.ID, "member"))
		env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: carolToken, Body: map[string]any{"org_id": tn.org.ID, "name": "c", "slug": "carols"}})
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/orgs/" + tn.org.ID, Token: tn.aliceToken, Body: map[string]any{"members_can_create_workspaces": false}})
		env.Expect(403, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: carolToken, Body: map[string]any{"org_id": tn.org.ID, "name": "c", "slug": "carols-2"}})
		env.Expect(403, rostertest.Req{Method: "PATCH", Path: "/v1/orgs/" + tn.org.ID, Token: carolToken, Body: map[string]any{"name": "mine now"}})
		env.Expect(403, rostertest.Req{Method: "DELETE", Path: "/v1/orgs/" + tn.org.ID, Token: carolToken})

		// Deleting the organisation takes its workspaces and memberships along.
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/orgs/" + tn.org.ID, Token: tn.aliceToken})
		env.Expect(404, rostertest.Req{Method: "GET", Path: "/v1/orgs/" + tn.org.ID, Token: tn.aliceToken})
		env.Expect(404, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + tn.ws.ID, Token: tn.aliceToken})
		if res := env.Do(rostertest.Req{Method: "POST", Path: "/v1/check", Token: env.AdminToken,
			Body: map[string]any{"user_id": tn.alice.ID, "action": "workspace.read", "workspace_id": tn.ws.ID}}); res.Status != 404 {
			t.Errorf("check on a deleted workspace: %d %s", res.Status, res.Body)
		}
	})
}

func tnPutOrg(tn tenant, userID, role string) rostertest.Req {
	return rostertest.Req{Method: "PUT", Path: "/v1/orgs/" + tn.org.ID + "/members/" + userID, Token: tn.aliceToken, Body: map[string]any{"role": role}}
}

func TestTenantIsolation(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		acme := newTenant(t, env, "acme")
		globex := newTenant(t, env, "globex")
		bob := env.CreateUser(map[string]any{"email": "bob@example.com"})
		// Globex's owner may see nothing of Acme: every scoped endpoint is 404.
		for _, r := range []rostertest.Req{
			{Method: "GET", Path: "/v1/orgs/" + acme.org.ID},
			{Method: "PATCH", Path: "/v1/orgs/" + acme.org.ID, Body: map[string]any{"name": "mine"}},
			{Method: "DELETE", Path: "/v1/orgs/" + acme.org.ID},
			{Method: "GET", Path: "/v1/orgs/" + acme.org.ID + "/members"},
			{Method: "PUT", Path: "/v1/orgs/" + acme.org.ID + "/members/" + bob.ID, Body: map[string]any{"role": "member"}},
			{Method: "DELETE", Path: "/v1/orgs/" + acme.org.ID + "/members/" + acme.alice.ID},
			{Method: "POST", Path: "/v1/workspaces", Body: map[string]any{"org_id": acme.org.ID, "name": "x", "slug": "intruder"}},
			{Method: "GET", Path: "/v1/workspaces/" + acme.ws.ID},
			{Method: "PATCH", Path: "/v1/workspaces/" + acme.ws.ID, Body: map[string]any{"name": "x"}},
			{Method: "DELETE", Path: "/v1/workspaces/" + acme.ws.ID},
			{Method: "POST", Path: "/v1/workspaces/" + acme.ws.ID + "/archive"},
			{Method: "GET", Path: "/v1/workspaces/" + acme.ws.ID + "/members"},
			{Method: "PUT", Path: "/v1/workspaces/" + acme.ws.ID + "/members/" + bob.ID, Body: map[string]any{"role": "viewer"}},
			{Method: "DELETE", Path: "/v1/workspaces/" + acme.ws.ID + "/members/" + acme.alice.ID},
			{Method: "GET", Path: "/v1/workspaces/" + acme.ws.ID + "/settings"},
			{Method: "PATCH", Path: "/v1/workspaces/" + acme.ws.ID + "/settings", Body: map[string]any{"allow_support_access": true}},
			{Method: "PUT", Path: "/v1/me/default-workspace", Body: map[string]any{"workspace_id": acme.ws.ID}},
			{Method: "GET", Path: "/v1/users/" + acme.alice.ID + "/workspaces"},
		} {
			r.Token = globex.aliceToken
			if res := env.Do(r); res.Status != 404 {
				t.Errorf("%s %s by another tenant: %d, want 404: %s", r.Method, r.Path, res.Status, res.Body)
			}
		}
		// And may not ask about Acme's people.
		if res := env.Do(rostertest.Req{Method: "POST", Path: "/v1/check", Token: globex.aliceToken,
			Body: map[string]any{"user_id": acme.alice.ID, "action": "workspace.read", "workspace_id": acme.ws.ID}}); res.Status != 403 {
			t.Errorf("checking another user: %d, want 403", res.Status)
		}
	})
}

func TestExternalInvariant(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		second := env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: tn.aliceToken,
			Body: map[string]any{"org_id": tn.org.ID, "name": "two", "slug": "two"}}).Map(t)["id"].(string)
		outsider := env.CreateUser(map[string]any{"email": "ext@partner.example"})
		member := env.CreateUser(map[string]any{"email": "member@acme.example"})
		env.Expect(201, tnPutOrg(tn, member.ID, "member"))

		// An organisation member is never external.
		if res := env.PutMember(tn.aliceToken, tn.ws.ID, member.ID, map[string]any{"role": "external"}); res.Status != 409 || res.Code(t) != roster.CodeExternalInvariant {
			t.Errorf("org member as external: %d %s", res.Status, res.Body)
		}
		// An outsider may be external or viewer and stays outside the organisation.
		env.PutMember(tn.aliceToken, tn.ws.ID, outsider.ID, map[string]any{"role": "external"}).Want(t, 201)
		if role := tn.orgRole(t, outsider.ID); role != "" {
			t.Errorf("external joined the organisation as %q", role)
		}
		env.PutMember(tn.aliceToken, second, outsider.ID, map[string]any{"role": "viewer"}).Want(t, 201)
		// Externals see nothing of the organisation.
		extToken := env.IssueToken(outsider.ID, nil).Token
		env.Expect(404, rostertest.Req{Method: "GET", Path: "/v1/orgs/" + tn.org.ID, Token: extToken})
		env.Expect(404, rostertest.Req{Method: "GET", Path: "/v1/orgs/" + tn.org.ID + "/members", Token: extToken})
		env.Expect(404, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: extToken, Body: map[string]any{"org_id": tn.org.ID, "name": "x", "slug": "ext-ws"}})

		// Granting an outsider member makes them an organisation member, in the
		// same change, and the audit says so.
		stranger := env.CreateUser(map[string]any{"email": "new@partner.example"})
		env.PutMember(tn.aliceToken, tn.ws.ID, stranger.ID, map[string]any{"role": "member"}).Want(t, 201)
		if role := tn.orgRole(t, stranger.ID); role != "member" {
			t.Errorf("outsider granted member has org role %q, want member", role)
		}
		var audit struct{ Data []map[string]any }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit?action=org_membership.created&org_id=" + tn.org.ID + "&limit=500", Token: env.AdminToken}).JSON(t, &audit)
		found := false
		for _, e := range audit.Data {
			if after, _ := e["after"].(map[string]any); after["user_id"] == stranger.ID {
				found = true
			}
		}
		if !found {
			t.Error("the implied organisation membership is not audited")
		}

		// Adding the external to the organisation promotes their external
		// memberships to member (the viewer one stays viewer).
		env.Expect(201, tnPutOrg(tn, outsider.ID, "member"))
		if m := tn.members(t, tn.aliceToken)[outsider.ID]; m.Role != "member" {
			t.Errorf("external after joining the org: %+v", m)
		}
		var secondMembers struct{ Data []rostertest.Member }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + second + "/members", Token: tn.aliceToken}).JSON(t, &secondMembers)
		for _, m := range secondMembers.Data {
			if m.UserID == outsider.ID && m.Role != "viewer" {
				t.Errorf("viewer changed to %s", m.Role)
			}
		}
	})
}

func TestOwnersAndRoleChanges(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		bob, bobToken := env.NewUserWithToken("bob@example.com")
		carol, carolToken := env.NewUserWithToken("carol@example.com")
		ws := tn.ws.ID

		// The only direct owner may not step down, in any way.
		for _, r := range []*rostertest.Response{
			env.PutMember(tn.aliceToken, ws, tn.alice.ID, map[string]any{"role": "admin"}),
			env.Do(rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + ws + "/members/" + tn.alice.ID, Token: tn.aliceToken}),
			env.PutOrgMember(tn.aliceToken, tn.org.ID, tn.alice.ID, "admin"),
			env.Do(rostertest.Req{Method: "DELETE", Path: "/v1/orgs/" + tn.org.ID + "/members/" + tn.alice.ID, Token: tn.aliceToken}),
			env.Do(rostertest.Req{Method: "PATCH", Path: "/v1/users/" + tn.alice.ID, Token: env.AdminToken, Body: map[string]any{"status": "deactivated"}}),
		} {
			if r.Status != 409 || r.Code(t) != roster.CodeLastOwner {
				t.Errorf("last owner stepping down: %d %s", r.Status, r.Body)
			}
		}
		res := env.Do(rostertest.Req{Method: "DELETE", Path: "/v1/users/" + tn.alice.ID, Token: env.AdminToken})
		p := res.Map(t)
		if res.Status != 409 || p["code"] != roster.CodeSoleOwner || fmt.Sprint(p["org_ids"]) != "["+tn.org.ID+"]" || fmt.Sprint(p["workspace_ids"]) != "["+ws+"]" {
			t.Errorf("deleting the sole owner: %d %s", res.Status, res.Body)
		}

		// Admins manage members but not owners, themselves included.
		env.PutMember(tn.aliceToken, ws, bob.ID, map[string]any{"role": "admin"}).Want(t, 201)
		env.PutMember(bobToken, ws, carol.ID, map[string]any{"role": "member"}).Want(t, 201)
		for _, r := range []*rostertest.Response{
			env.PutMember(bobToken, ws, carol.ID, map[string]any{"role": "owner"}),
			env.PutMember(bobToken, ws, bob.ID, map[string]any{"role": "owner"}),
			env.PutMember(bobToken, ws, tn.alice.ID, map[string]any{"role": "member"}),
			env.Do(rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + ws + "/members/" + tn.alice.ID, Token: bobToken}),
		} {
			if r.Status != 403 {
				t.Errorf("admin touching owners: %d %s", r.Status, r.Body)
			}
		}
		// Members manage nothing; anyone may leave.
		env.PutMember(carolToken, ws, bob.ID, map[string]any{"role": "viewer"}).Want(t, 403)

		// A role change keeps joined_at and invited_by (rule 3).
		before := tn.members(t, tn.aliceToken)[carol.ID]
		env.Clock.Advance(time.Hour)
		env.PutMember(tn.aliceToken, ws, carol.ID, map[string]any{"role": "viewer"}).Want(t, 200)
		after := tn.members(t, tn.aliceToken)[carol.ID]
		if after.Role != "viewer" || after.JoinedAt != before.JoinedAt || deref(after.InvitedBy) != bob.ID {
			t.Errorf("role change: before %+v, after %+v", before, after)
		}
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + ws + "/members/" + carol.ID, Token: carolToken})

		// With a second owner, the first may go; then the second is the last.
		env.PutMember(tn.aliceToken, ws, bob.ID, map[string]any{"role": "owner"}).Want(t, 200)
		env.PutMember(bobToken, ws, tn.alice.ID, map[string]any{"role": "member"}).Want(t, 200)
		if r := env.PutMember(bobToken, ws, bob.ID, map[string]any{"role": "admin"}); r.Status != 409 {
			t.Errorf("new last owner stepping down: %d", r.Status)
		}
		// Bob is the workspace's last owner: removing him from the organisation
		// (which would end that membership) is refused too.
		if r := env.Do(rostertest.Req{Method: "DELETE", Path: "/v1/orgs/" + tn.org.ID + "/members/" + bob.ID, Token: tn.aliceToken}); r.Status != 409 || r.Code(t) != roster.CodeLastOwner {
			t.Errorf("removing the workspace's last owner from the org: %d %s", r.Status, r.Body)
		}
	})
}

func TestOrgRemovalCascades(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		bob, bobToken := env.NewUserWithToken("bob@example.com")
		env.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, map[string]any{"role": "member"}).Want(t, 201)
		if !env.Check(bob.ID, "resources.write", tn.ws.ID).Allowed {
			t.Fatal("bob cannot write before removal")
		}
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/orgs/" + tn.org.ID + "/members/" + bob.ID, Token: tn.aliceToken})
		if _, ok := tn.members(t, tn.aliceToken)[bob.ID]; ok {
			t.Error("bob is still a workspace member after leaving the organisation")
		}
		if d := env.Check(bob.ID, "workspace.read", tn.ws.ID); d.Allowed {
			t.Errorf("bob still reads the workspace: %+v", d)
		}
		env.Expect(404, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + tn.ws.ID, Token: bobToken})
		env.Expect(404, rostertest.Req{Method: "DELETE", Path: "/v1/orgs/" + tn.org.ID + "/members/" + bob.ID, Token: tn.aliceToken})
		// Re-adding creates a new membership, not the old one revived.
		env.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, map[string]any{"role": "viewer"}).Want(t, 201)
	})
}

func TestDerivedRolesAndMemberList(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		admin := env.CreateUser(map[string]any{"email": "orgadmin@acme.example"})
		billing := env.CreateUser(map[string]any{"email": "billing@acme.example"})
		viewer := env.CreateUser(map[string]any{"email": "viewer@acme.example"})
		env.Expect(201, tnPutOrg(tn, admin.ID, "admin"))
		env.Expect(201, tnPutOrg(tn, billing.ID, "billing"))
		env.PutMember(tn.aliceToken, tn.ws.ID, viewer.ID, map[string]any{"role": "viewer"}).Want(t, 201)
		// The org admin also holds a lower direct role: the derived one wins.
		env.PutMember(tn.aliceToken, tn.ws.ID, admin.ID, map[string]any{"role": "viewer"}).Want(t, 201)

		ms := tn.members(t, tn.aliceToken)
		if m := ms[admin.ID]; m.Role != "admin" || !m.Derived || m.Source != nil {
			t.Errorf("org admin in the member list: %+v", m)
		}
		if _, ok := ms[billing.ID]; ok {
			t.Error("billing has no workspace access but is listed")
		}
		if m := ms[viewer.ID]; m.Role != "viewer" || m.Derived || deref(m.Source) != "direct" {
			t.Errorf("viewer: %+v", m)
		}
		if d := env.Check(admin.ID, "members.manage", tn.ws.ID); !d.Allowed || deref(d.Via) != "org_admin" {
			t.Errorf("org admin check: %+v", d)
		}
		if d := env.Check(billing.ID, "workspace.read", tn.ws.ID); d.Allowed {
			t.Errorf("billing reads the workspace: %+v", d)
		}
		// Paging one member at a time visits each exactly once.
		seen := map[string]int{}
		cursor := ""
		for i := 0; i < 10; i++ {
			var page struct {
				Data       []rostertest.Member
				NextCursor *string `json:"next_cursor"`
			}
			env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + tn.ws.ID + "/members?limit=1&cursor=" + cursor, Token: tn.aliceToken}).JSON(t, &page)
			for _, m := range page.Data {
				seen[m.UserID]++
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		if len(seen) != 3 {
			t.Errorf("paged members: %v, want alice, the org admin and the viewer once each", seen)
		}
	})
}

func TestArchivedWorkspace(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		ws := "/v1/workspaces/" + tn.ws.ID
		env.Expect(200, rostertest.Req{Method: "POST", Path: ws + "/archive", Token: tn.aliceToken})
		env.Expect(200, rostertest.Req{Method: "POST", Path: ws + "/archive", Token: tn.aliceToken}) // idempotent
		for _, r := range []rostertest.Req{
			{Method: "GET", Path: ws},
			{Method: "PATCH", Path: ws, Body: map[string]any{"name": "x"}},
			{Method: "GET", Path: ws + "/members"},
			{Method: "PUT", Path: ws + "/members/" + env.AdminID, Body: map[string]any{"role": "viewer"}},
			{Method: "GET", Path: ws + "/settings"},
			{Method: "PUT", Path: "/v1/me/default-workspace", Body: map[string]any{"workspace_id": tn.ws.ID}},
		} {
			r.Token = tn.aliceToken
			if res := env.Do(r); res.Status != 410 || res.Code(t) != roster.CodeWorkspaceArchived {
				t.Errorf("%s %s on an archived workspace: %d %s", r.Method, r.Path, res.Status, res.Body)
			}
		}
		if d := env.Check(tn.alice.ID, "workspace.read", tn.ws.ID); d.Allowed || d.Reason != "workspace_archived" {
			t.Errorf("check on an archived workspace: %+v", d)
		}
		list := func(query string) int {
			var page struct{ Data []rostertest.Workspace }
			env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces" + query, Token: tn.aliceToken}).JSON(t, &page)
			return len(page.Data)
		}
		if list("") != 0 || list("?include_archived=true") != 1 {
			t.Errorf("lists: %d without, %d with include_archived", list(""), list("?include_archived=true"))
		}
		env.Expect(200, rostertest.Req{Method: "POST", Path: ws + "/unarchive", Token: tn.aliceToken})
		env.Expect(200, rostertest.Req{Method: "GET", Path: ws, Token: tn.aliceToken})
		if !env.Check(tn.alice.ID, "workspace.read", tn.ws.ID).Allowed {
			t.Error("unarchived workspace still denies")
		}
	})
}

func TestExpiryAtDecisionTime(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		temp, tempToken := env.NewUserWithToken("temp@example.com")
		until := env.Clock.Now().Add(time.Hour).Format(time.RFC3339)
		env.PutMember(tn.aliceToken, tn.ws.ID, temp.ID, map[string]any{"role": "member", "expires_at": until}).Want(t, 201)
		d := env.Check(temp.ID, "resources.write", tn.ws.ID)
		if !d.Allowed || deref(d.ExpiresAt) != until {
			t.Fatalf("before expiry: %+v", d)
		}
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + tn.ws.ID, Token: tempToken})
		env.Clock.Advance(time.Hour)
		if d := env.Check(temp.ID, "workspace.read", tn.ws.ID); d.Allowed {
			t.Errorf("at expiry: %+v", d)
		}
		// Granted member, they joined the organisation: they may know the
		// workspace exists, but not read it.
		env.Expect(403, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + tn.ws.ID, Token: tempToken})
		if _, ok := tn.members(t, tn.aliceToken)[temp.ID]; ok {
			t.Error("an expired member is listed")
		}
		past := env.Clock.Now().Add(-time.Minute).Format(time.RFC3339)
		if r := env.PutMember(tn.aliceToken, tn.ws.ID, temp.ID, map[string]any{"role": "member", "expires_at": past}); r.Status != 400 || r.Code(t) != roster.CodeInvalidExpiry {
			t.Errorf("expiry in the past: %d %s", r.Status, r.Body)
		}
		// Re-adding after expiry starts a new membership.
		if r := env.PutMember(tn.aliceToken, tn.ws.ID, temp.ID, map[string]any{"role": "member"}); r.Status != 201 {
			t.Errorf("re-adding an expired member: %d %s", r.Status, r.Body)
		}
	})
}

func TestSuspendedUserIsDenied(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		bob := env.CreateUser(map[string]any{"email": "bob@example.com"})
		env.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, map[string]any{"role": "admin"}).Want(t, 201)
		env.Check(bob.ID, "workspace.read", tn.ws.ID) // warm
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + bob.ID, Token: env.AdminToken, Body: map[string]any{"status": "suspended"}})
		if d := env.Check(bob.ID, "workspace.read", tn.ws.ID); d.Allowed || d.Reason != "user_inactive" {
			t.Errorf("suspended user: %+v", d)
		}
		// Nothing of theirs was deleted.
		if m := tn.members(t, tn.aliceToken)[bob.ID]; m.Role != "admin" {
			t.Errorf("suspended user's membership: %+v", m)
		}
	})
}
