package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/rostertest"
)

type apiResource struct {
	ID          string  `json:"id"`
	Type        string  `json:"type"`
	ExternalID  string  `json:"external_id"`
	Name        string  `json:"name"`
	WorkspaceID string  `json:"workspace_id"`
	OrgID       string  `json:"org_id"`
	Role        *string `json:"role"`
	Via         *string `json:"via"`
}

func createResource(t *testing.T, env *rostertest.Env, token string, body map[string]any, want int) *rostertest.Response {
	t.Helper()
	return env.Expect(want, rostertest.Req{Method: "POST", Path: "/v1/resources", Token: token, Body: body})
}

func newResource(t *testing.T, env *rostertest.Env, token, wsID, externalID string) apiResource {
	t.Helper()
	var r apiResource
	createResource(t, env, token, map[string]any{"type": "document", "external_id": externalID, "name": "Doc " + externalID, "workspace_id": wsID}, 201).JSON(t, &r)
	return r
}

// resourceCheck asks whether userID may take action on the resource.
func resourceCheck(t *testing.T, env *rostertest.Env, userID, action string, target map[string]any) rostertest.Decision {
	t.Helper()
	body := map[string]any{"user_id": userID, "action": action}
	for k, v := range target {
		body[k] = v
	}
	var d rostertest.Decision
	env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/check", Token: env.AdminToken, Body: body}).JSON(t, &d)
	return d
}

func via(d rostertest.Decision) string {
	if d.Via == nil {
		return ""
	}
	return *d.Via
}

// TestResourcesBelongToOneWorkspace: create, find, rename and delete a
// resource through the owning workspace's roles; (type, external_id) is
// unique; bad input is a 400 with its code; another tenant sees nothing.
func TestResourcesBelongToOneWorkspace(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		acme, beta := newTenant(t, env, "acme"), newTenant(t, env, "beta")
		viewer, viewerToken := env.NewUserWithToken("viewer@acme.example")
		env.PutMember(acme.aliceToken, acme.ws.ID, viewer.ID, map[string]any{"role": "viewer"}).Want(t, 201)

		r := newResource(t, env, acme.aliceToken, acme.ws.ID, "d-1")
		if !strings.HasPrefix(r.ID, "res_") || r.WorkspaceID != acme.ws.ID || r.OrgID != acme.org.ID || r.Type != "document" {
			t.Fatalf("created: %+v", r)
		}
		dup := createResource(t, env, acme.aliceToken, map[string]any{"type": "document", "external_id": "d-1", "name": "again", "workspace_id": acme.ws.ID}, 409)
		if dup.Code(t) != "resource_exists" || dup.Field("resource_id") != r.ID {
			t.Errorf("a duplicate: %s", dup.Body)
		}
		for _, bad := range []struct {
			body map[string]any
			code string
		}{
			{map[string]any{"type": "Document!", "external_id": "x", "name": "x", "workspace_id": acme.ws.ID}, "invalid_resource_type"},
			{map[string]any{"type": "", "external_id": "x", "name": "x", "workspace_id": acme.ws.ID}, "invalid_resource_type"},
			{map[string]any{"type": "document", "external_id": strings.Repeat("e", 256), "name": "x", "workspace_id": acme.ws.ID}, ""},
			{map[string]any{"type": "document", "external_id": "x", "name": strings.Repeat("n", 201), "workspace_id": acme.ws.ID}, ""},
			{map[string]any{"type": "document", "external_id": "x", "name": "", "workspace_id": acme.ws.ID}, ""},
		} {
			res := createResource(t, env, acme.aliceToken, bad.body, 400)
			if bad.code != "" && res.Code(t) != bad.code {
				t.Errorf("%v: %s", bad.body, res.Code(t))
			}
		}
		createResource(t, env, viewerToken, map[string]any{"type": "document", "external_id": "v", "name": "v", "workspace_id": acme.ws.ID}, 403)
		createResource(t, env, beta.aliceToken, map[string]any{"type": "document", "external_id": "b", "name": "b", "workspace_id": acme.ws.ID}, 404)

		var got apiResource
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/resources/" + r.ID, Token: viewerToken}).JSON(t, &got)
		if got.Role == nil || *got.Role != "viewer" || got.Via == nil || *got.Via != "direct" {
			t.Errorf("the viewer's view: %+v", got)
		}
		var found struct{ Data []apiResource }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/resources?type=document&external_id=d-1", Token: acme.aliceToken}).JSON(t, &found)
		if len(found.Data) != 1 || found.Data[0].ID != r.ID {
			t.Errorf("lookup: %+v", found.Data)
		}
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/resources?type=document&external_id=d-1", Token: beta.aliceToken}).JSON(t, &found)
		if len(found.Data) != 0 {
			t.Errorf("another tenant finds %+v", found.Data)
		}
		env.Expect(400, rostertest.Req{Method: "GET", Path: "/v1/resources?type=document", Token: acme.aliceToken})

		// Another tenant: every resource endpoint is 404.
		for _, req := range []rostertest.Req{
			{Method: "GET", Path: "/v1/resources/" + r.ID},
			{Method: "PATCH", Path: "/v1/resources/" + r.ID, Body: map[string]any{"name": "mine"}},
			{Method: "DELETE", Path: "/v1/resources/" + r.ID},
			{Method: "GET", Path: "/v1/resources/" + r.ID + "/shares"},
			{Method: "PUT", Path: "/v1/resources/" + r.ID + "/shares/" + beta.ws.ID, Body: map[string]any{"role": "editor"}},
			{Method: "DELETE", Path: "/v1/resources/" + r.ID + "/shares/" + beta.ws.ID},
			{Method: "GET", Path: "/v1/resources?workspace_id=" + acme.ws.ID},
		} {
			req.Token = beta.aliceToken
			env.Expect(404, req)
		}

		env.Expect(403, rostertest.Req{Method: "PATCH", Path: "/v1/resources/" + r.ID, Token: viewerToken, Body: map[string]any{"name": "mine"}})
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/resources/" + r.ID, Token: acme.aliceToken, Body: map[string]any{"name": "Renamed"}}).JSON(t, &got)
		if got.Name != "Renamed" {
			t.Errorf("renamed: %+v", got)
		}
		env.Expect(403, rostertest.Req{Method: "DELETE", Path: "/v1/resources/" + r.ID, Token: viewerToken})
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/resources/" + r.ID, Token: acme.aliceToken})
		env.Expect(404, rostertest.Req{Method: "GET", Path: "/v1/resources/" + r.ID, Token: acme.aliceToken})
		again := newResource(t, env, acme.aliceToken, acme.ws.ID, "d-1") // the id is free again
		if again.ID == r.ID {
			t.Error("a deleted resource came back")
		}

		env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + acme.ws.ID + "/archive", Token: acme.aliceToken})
		env.Expect(410, rostertest.Req{Method: "GET", Path: "/v1/resources/" + again.ID, Token: acme.aliceToken})
		if d := resourceCheck(t, env, acme.alice.ID, "resources.read", map[string]any{"resource_id": again.ID}); d.Allowed || d.Reason != "workspace_archived" {
			t.Errorf("a check in an archived workspace: %+v", d)
		}
		env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + acme.ws.ID + "/unarchive", Token: acme.aliceToken})
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + acme.ws.ID, Token: acme.aliceToken})
		env.Expect(404, rostertest.Req{Method: "GET", Path: "/v1/resources/" + again.ID, Token: env.AdminToken})
	})
}

// TestResourceWithoutWorkspace: with no workspace named, the caller's one
// workspace where they are member or more owns it; several are a 400
// naming them; none makes a personal organisation and workspace.
func TestResourceWithoutWorkspace(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		acme := newTenant(t, env, "acme")
		body := func(ext string) map[string]any {
			return map[string]any{"type": "site", "external_id": ext, "name": ext}
		}

		var r apiResource
		createResource(t, env, acme.aliceToken, body("one"), 201).JSON(t, &r)
		if r.WorkspaceID != acme.ws.ID {
			t.Errorf("the only workspace: %+v", r)
		}
		var second struct{ ID string }
		env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: acme.aliceToken,
			Body: map[string]any{"org_id": acme.org.ID, "name": "Two", "slug": "two"}}).JSON(t, &second)
		res := createResource(t, env, acme.aliceToken, body("two"), 400)
		if res.Code(t) != "workspace_required" || !strings.Contains(string(res.Body), second.ID) || !strings.Contains(string(res.Body), acme.ws.ID) {
			t.Errorf("several workspaces: %s", res.Body)
		}

		loner, lonerToken := env.NewUserWithToken("loner@example.com")
		createResource(t, env, lonerToken, body("mine"), 201).JSON(t, &r)
		var ws struct {
			OrgID string `json:"org_id"`
		}
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + r.WorkspaceID, Token: lonerToken}).JSON(t, &ws)
		if d := env.Check(loner.ID, "workspace.delete", r.WorkspaceID); !d.Allowed {
			t.Errorf("the personal workspace is not the user's own: %+v", d)
		}
		if ws.OrgID == acme.org.ID || auditCount(t, env, "org.created") != 2 {
			t.Errorf("no personal organisation: %+v", ws)
		}
		svc := env.IssueToken(env.AdminID, map[string]any{"kind": "service"})
		if code := createResource(t, env, svc.Token, body("svc"), 400).Code(t); code != "workspace_required" {
			t.Errorf("a service token naming no workspace: %s", code)
		}
	})
}

// TestResourceChecksEveryVia: the effective role on a resource is the
// highest of the owning workspace's (direct, org_owner, org_admin,
// support), a share to a workspace the user reaches (share) and a guest
// grant (guest); expiry beneath a share holds at decision time.
func TestResourceChecksEveryVia(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		w := newSupportWorld(t, env, "acme")
		beta := newTenant(t, env, "beta")
		r := newResource(t, env, w.aliceToken, w.ws.ID, "doc")
		target := map[string]any{"resource_id": r.ID}
		byRef := map[string]any{"resource": map[string]any{"type": "document", "external_id": "doc"}}

		admin := env.CreateUser(map[string]any{"email": "admin@acme.example"})
		env.PutOrgMember(w.aliceToken, w.org.ID, admin.ID, "admin").Want(t, 201)
		owner := env.CreateUser(map[string]any{"email": "owner@acme.example"})
		env.PutOrgMember(w.aliceToken, w.org.ID, owner.ID, "owner").Want(t, 201)
		member := env.CreateUser(map[string]any{"email": "member@acme.example"})
		env.PutMember(w.aliceToken, w.ws.ID, member.ID, map[string]any{"role": "member"}).Want(t, 201)
		w.joined(t, time.Hour, 201)
		for _, c := range []struct {
			user, via string
		}{{owner.ID, "org_owner"}, {admin.ID, "org_admin"}, {member.ID, "direct"}, {w.staff.ID, "support"}} {
			if d := resourceCheck(t, env, c.user, "resources.write", target); !d.Allowed || via(d) != c.via {
				t.Errorf("%s: %+v", c.via, d)
			}
		}
		if d := resourceCheck(t, env, member.ID, "resources.read", byRef); !d.Allowed || via(d) != "direct" {
			t.Errorf("by the host's id: %+v", d)
		}

		// A share to beta: beta's members get the share's role, on this resource only.
		bob := env.CreateUser(map[string]any{"email": "bob@beta.example"})
		until := env.Clock.Now().Add(time.Hour).Format(time.RFC3339)
		env.PutMember(beta.aliceToken, beta.ws.ID, bob.ID, map[string]any{"role": "member", "expires_at": until}).Want(t, 201)
		// Sharing needs the target workspace to be visible to the sharer.
		env.Expect(404, rostertest.Req{Method: "PUT", Path: "/v1/resources/" + r.ID + "/shares/" + beta.ws.ID, Token: w.aliceToken, Body: map[string]any{"role": "viewer"}})
		env.PutOrgMember(beta.aliceToken, beta.org.ID, w.alice.ID, "member").Want(t, 201)
		env.Expect(201, rostertest.Req{Method: "PUT", Path: "/v1/resources/" + r.ID + "/shares/" + beta.ws.ID, Token: w.aliceToken, Body: map[string]any{"role": "viewer"}})
		if d := resourceCheck(t, env, bob.ID, "resources.read", target); !d.Allowed || via(d) != "share" {
			t.Errorf("a viewer share: %+v", d)
		}
		if d := resourceCheck(t, env, bob.ID, "resources.write", target); d.Allowed || d.Reason != "insufficient_role" {
			t.Errorf("a viewer share writing: %+v", d)
		}
		env.Expect(200, rostertest.Req{Method: "PUT", Path: "/v1/resources/" + r.ID + "/shares/" + beta.ws.ID, Token: w.aliceToken, Body: map[string]any{"role": "editor"}})
		if d := resourceCheck(t, env, bob.ID, "resources.write", target); !d.Allowed || via(d) != "share" {
			t.Errorf("an editor share: %+v", d)
		}
		if d := env.Check(bob.ID, "workspace.read", w.ws.ID); d.Allowed {
			t.Errorf("a share gave the workspace: %+v", d)
		}

		// A guest: one user, this resource only.
		gus, gusToken := env.NewUserWithToken("gus@example.com")
		env.Expect(201, rostertest.Req{Method: "PUT", Path: "/v1/resources/" + r.ID + "/shares/" + gus.ID, Token: w.aliceToken, Body: map[string]any{"role": "viewer"}})
		if d := resourceCheck(t, env, gus.ID, "resources.read", target); !d.Allowed || via(d) != "guest" {
			t.Errorf("a guest: %+v", d)
		}
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/resources/" + r.ID, Token: gusToken})
		env.Expect(404, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + w.ws.ID, Token: gusToken})
		if code := env.Expect(400, rostertest.Req{Method: "PUT", Path: "/v1/resources/" + r.ID + "/shares/" + gus.ID, Token: w.aliceToken, Body: map[string]any{"role": "owner"}}).Code(t); code != "invalid_role" {
			t.Errorf("a share role outside editor and viewer: %s", code)
		}
		var shares struct{ Data []map[string]any }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/resources/" + r.ID + "/shares", Token: w.aliceToken}).JSON(t, &shares)
		if len(shares.Data) != 2 {
			t.Errorf("shares: %+v", shares.Data)
		}

		// Expiry beneath a share holds at decision time, before any task.
		env.Clock.Advance(time.Hour)
		if d := resourceCheck(t, env, bob.ID, "resources.read", target); d.Allowed {
			t.Errorf("an expired membership still reaches through the share: %+v", d)
		}
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/resources/" + r.ID + "/shares/" + gus.ID, Token: w.aliceToken})
		env.Expect(404, rostertest.Req{Method: "DELETE", Path: "/v1/resources/" + r.ID + "/shares/" + gus.ID, Token: w.aliceToken})
		env.Expect(404, rostertest.Req{Method: "GET", Path: "/v1/resources/" + r.ID, Token: gusToken})

		both := map[string]any{"resource_id": r.ID, "workspace_id": w.ws.ID}
		env.Expect(400, rostertest.Req{Method: "POST", Path: "/v1/check", Token: env.AdminToken, Body: map[string]any{"user_id": member.ID, "action": "resources.read", "resource_id": r.ID, "workspace_id": both["workspace_id"]}})
		env.Expect(404, rostertest.Req{Method: "POST", Path: "/v1/check", Token: env.AdminToken, Body: map[string]any{"user_id": member.ID, "action": "resources.read", "resource_id": "res_00000000000000000000000000"}})
	})
}

// TestConcurrentResourceCreates: the same (type, external_id) created at
// once ends in one resource; the others are told its id.
func TestConcurrentResourceCreates(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		acme := newTenant(t, env, "acme")
		for round := range 20 {
			statuses, ids := make([]int, 8), make([]string, 8)
			ext := fmt.Sprintf("race-%d", round)
			concurrently(8, func(i int) {
				res := env.Do(rostertest.Req{Method: "POST", Path: "/v1/resources", Token: acme.aliceToken,
					Body: map[string]any{"type": "document", "external_id": ext, "name": ext, "workspace_id": acme.ws.ID}})
				statuses[i] = res.Status
				if res.Status == 201 {
					ids[i], _ = res.Field("id").(string)
				} else {
					ids[i], _ = res.Field("resource_id").(string)
				}
			})
			created := 0
			for i, s := range statuses {
				if s == 201 {
					created++
				} else if s != 409 {
					t.Fatalf("round %d: status %d", round, s)
				}
				if ids[i] != ids[0] || ids[i] == "" {
					t.Fatalf("round %d: ids %v", round, ids)
				}
			}
			if created != 1 {
				t.Fatalf("round %d: %d created", round, created)
			}
		}
	})
}

// TestResourceTransfer: owner on the source and admin or more on the
// target move a resource; the source's owners who do not reach the target
// become guest editors; a transfer to the same workspace is a 400.
func TestResourceTransfer(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		acme, beta := newTenant(t, env, "acme"), newTenant(t, env, "beta")
		r := newResource(t, env, acme.aliceToken, acme.ws.ID, "doc")
		transfer := func(token, to string, want int) *rostertest.Response {
			return env.Expect(want, rostertest.Req{Method: "POST", Path: "/v1/resources/" + r.ID + "/transfer", Token: token, Body: map[string]any{"to_workspace_id": to}})
		}
		transfer(acme.aliceToken, acme.ws.ID, 400)
		transfer(acme.aliceToken, beta.ws.ID, 404) // alice cannot see beta
		member := env.CreateUser(map[string]any{"email": "m@acme.example"})
		env.PutMember(acme.aliceToken, acme.ws.ID, member.ID, map[string]any{"role": "admin"}).Want(t, 201)
		coOwner := env.CreateUser(map[string]any{"email": "co@acme.example"})
		env.PutMember(acme.aliceToken, acme.ws.ID, coOwner.ID, map[string]any{"role": "owner"}).Want(t, 201)
		env.PutMember(beta.aliceToken, beta.ws.ID, acme.alice.ID, map[string]any{"role": "member"}).Want(t, 201)
		transfer(acme.aliceToken, beta.ws.ID, 403) // only a member of the target
		env.PutMember(beta.aliceToken, beta.ws.ID, acme.alice.ID, map[string]any{"role": "admin"}).Want(t, 200)

		var moved apiResource
		transfer(acme.aliceToken, beta.ws.ID, 200).JSON(t, &moved)
		if moved.WorkspaceID != beta.ws.ID || moved.OrgID != beta.org.ID {
			t.Fatalf("moved: %+v", moved)
		}
		// alice reaches beta already; acme's other owner does not: a guest editor now.
		if d := resourceCheck(t, env, acme.alice.ID, "resources.write", map[string]any{"resource_id": r.ID}); !d.Allowed || via(d) != "direct" {
			t.Errorf("alice after the transfer: %+v", d)
		}
		if d := resourceCheck(t, env, beta.alice.ID, "resources.transfer", map[string]any{"resource_id": r.ID}); !d.Allowed {
			t.Errorf("beta's owner after the transfer: %+v", d)
		}
		if d := resourceCheck(t, env, coOwner.ID, "resources.write", map[string]any{"resource_id": r.ID}); !d.Allowed || via(d) != "guest" {
			t.Errorf("the source's other owner is not a guest editor: %+v", d)
		}
		if d := resourceCheck(t, env, member.ID, "resources.read", map[string]any{"resource_id": r.ID}); d.Allowed {
			t.Errorf("acme's admin kept the resource: %+v", d)
		}
		if auditCount(t, env, "resource.transferred") != 1 {
			t.Error("no resource.transferred event")
		}
	})
}

// TestUserResources: a user's resources are listed with their role and
// via, their guest grants included, whatever workspace is current.
func TestUserResources(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		acme, beta := newTenant(t, env, "acme"), newTenant(t, env, "beta")
		mine := newResource(t, env, acme.aliceToken, acme.ws.ID, "mine")
		theirs := newResource(t, env, beta.aliceToken, beta.ws.ID, "theirs")
		newResource(t, env, beta.aliceToken, beta.ws.ID, "private")
		env.Expect(201, rostertest.Req{Method: "PUT", Path: "/v1/resources/" + theirs.ID + "/shares/" + acme.alice.ID, Token: beta.aliceToken, Body: map[string]any{"role": "viewer"}})
		list := func(token, query string) map[string]apiResource {
			var page struct{ Data []apiResource }
			env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/users/" + acme.alice.ID + "/resources?" + query, Token: token}).JSON(t, &page)
			out := map[string]apiResource{}
			for _, r := range page.Data {
				out[r.ID] = r
			}
			return out
		}
		got := list(acme.aliceToken, "")
		if len(got) != 2 || got[mine.ID].Via == nil || *got[mine.ID].Via != "direct" || got[theirs.ID].Via == nil || *got[theirs.ID].Via != "guest" {
			t.Fatalf("alice's resources: %+v", got)
		}
		if got := list(env.AdminToken, "workspace_id="+beta.ws.ID); len(got) != 1 {
			t.Errorf("filtered by workspace: %+v", got)
		}
		if got := list(acme.aliceToken, "type=site"); len(got) != 0 {
			t.Errorf("filtered by type: %+v", got)
		}
		env.Expect(404, rostertest.Req{Method: "GET", Path: "/v1/users/" + acme.alice.ID + "/resources", Token: beta.aliceToken})
	})
}
