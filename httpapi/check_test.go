package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

func TestCheckAPI(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b, withActions(map[string]string{"export": "admin"}))
		tn := newTenant(t, env, "acme")
		bob, bobToken := env.NewUserWithToken("bob@example.com")
		env.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, map[string]any{"role": "viewer"}).Want(t, 201)
		check := func(token string, body map[string]any) *rostertest.Response {
			return env.Do(rostertest.Req{Method: "POST", Path: "/v1/check", Token: token, Body: body})
		}

		// Users check for themselves.
		var d rostertest.Decision
		check(bobToken, map[string]any{"user_id": bob.ID, "action": "workspace.read", "workspace_id": tn.ws.ID}).Want(t, 200).JSON(t, &d)
		if !d.Allowed || deref(d.Role) != "viewer" || deref(d.Via) != "direct" || d.ExpiresAt != nil {
			t.Errorf("bob reads: %+v", d)
		}
		check(bobToken, map[string]any{"user_id": bob.ID, "action": "export", "workspace_id": tn.ws.ID}).Want(t, 200).JSON(t, &d)
		if d.Allowed || d.Reason != "insufficient_role" {
			t.Errorf("bob exports: %+v", d)
		}
		check(bobToken, map[string]any{"user_id": tn.alice.ID, "action": "workspace.read", "workspace_id": tn.ws.ID}).Want(t, 403)

		// Organisation targets use organisation permissions.
		check(tn.aliceToken, map[string]any{"user_id": tn.alice.ID, "action": "org.billing", "org_id": tn.org.ID}).Want(t, 200).JSON(t, &d)
		if !d.Allowed || deref(d.Role) != "owner" {
			t.Errorf("alice billing: %+v", d)
		}
		// A workspace's viewer outside the organisation sees nothing of it:
		// checks name it as GET /v1/orgs/{org} does, not at all.
		check(bobToken, map[string]any{"user_id": bob.ID, "action": "org.members.read", "org_id": tn.org.ID}).Want(t, 404)

		for _, c := range []struct {
			body   map[string]any
			status int
			code   string
		}{
			{map[string]any{"user_id": bob.ID, "action": "fly", "workspace_id": tn.ws.ID}, 400, roster.CodeUnknownAction},
			{map[string]any{"user_id": bob.ID, "action": "workspace.read", "org_id": tn.org.ID}, 400, roster.CodeUnknownAction},
			{map[string]any{"user_id": bob.ID, "action": "org.billing", "workspace_id": tn.ws.ID}, 400, roster.CodeUnknownAction},
			{map[string]any{"user_id": bob.ID, "action": "workspace.read"}, 400, roster.CodeInvalidRequest},
			{map[string]any{"user_id": bob.ID, "action": "workspace.read", "workspace_id": tn.ws.ID, "org_id": tn.org.ID}, 400, roster.CodeInvalidRequest},
			{map[string]any{"user_id": bob.ID, "action": "workspace.read", "workspace_id": "ws_nope"}, 404, roster.CodeWorkspaceNotFound},
			{map[string]any{"user_id": "usr_nope", "action": "workspace.read", "workspace_id": tn.ws.ID}, 404, roster.CodeUserNotFound},
		} {
			if res := check(env.AdminToken, c.body); res.Status != c.status || res.Code(t) != c.code {
				t.Errorf("%v: %d %s, want %d %s", c.body, res.Status, res.Body, c.status, c.code)
			}
		}

		// A batch answers in order.
		actions := []string{"workspace.read", "resources.write", "members.manage", "workspace.read"}
		users := []string{bob.ID, bob.ID, tn.alice.ID, tn.alice.ID}
		var checks []map[string]any
		for i := range actions {
			checks = append(checks, map[string]any{"user_id": users[i], "action": actions[i], "workspace_id": tn.ws.ID})
		}
		var batch struct{ Results []rostertest.Decision }
		env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/check/batch", Token: env.AdminToken, Body: map[string]any{"checks": checks}}).JSON(t, &batch)
		want := []bool{true, false, true, true}
		if len(batch.Results) != len(want) {
			t.Fatalf("%d results", len(batch.Results))
		}
		for i, w := range want {
			if batch.Results[i].Allowed != w {
				t.Errorf("batch result %d: %+v, want allowed=%v", i, batch.Results[i], w)
			}
		}
		big := make([]map[string]any, 1001)
		for i := range big {
			big[i] = checks[0]
		}
		env.Expect(400, rostertest.Req{Method: "POST", Path: "/v1/check/batch", Token: env.AdminToken, Body: map[string]any{"checks": big}})
		bad := append(append([]map[string]any{}, checks...), map[string]any{"user_id": bob.ID, "action": "fly", "workspace_id": tn.ws.ID})
		res := env.Do(rostertest.Req{Method: "POST", Path: "/v1/check/batch", Token: env.AdminToken, Body: map[string]any{"checks": bad}})
		if res.Status != 400 || res.Map(t)["index"] != float64(4) {
			t.Errorf("batch with a bad check: %d %s", res.Status, res.Body)
		}
		// Users may batch only for themselves.
		env.Expect(403, rostertest.Req{Method: "POST", Path: "/v1/check/batch", Token: bobToken, Body: map[string]any{"checks": checks}})
	})
}

func TestUserWorkspacesAndMe(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		acme := newTenant(t, env, "acme")
		globex := newTenant(t, env, "globex")
		bob, bobToken := env.NewUserWithToken("bob@example.com")
		env.PutMember(acme.aliceToken, acme.ws.ID, bob.ID, map[string]any{"role": "member"}).Want(t, 201)
		env.PutMember(globex.aliceToken, globex.ws.ID, bob.ID, map[string]any{"role": "external"}).Want(t, 201)
		env.Expect(201, rostertest.Req{Method: "PUT", Path: "/v1/orgs/" + globex.org.ID + "/members/" + bob.ID, Token: globex.aliceToken, Body: map[string]any{"role": "admin"}})
		extra := env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: globex.aliceToken,
			Body: map[string]any{"org_id": globex.org.ID, "name": "extra", "slug": "extra"}}).Map(t)["id"].(string)

		var list struct{ Data []rostertest.Workspace }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/users/" + bob.ID + "/workspaces", Token: bobToken}).JSON(t, &list)
		roles := map[string]string{}
		for _, w := range list.Data {
			roles[w.ID] = deref(w.Role) + "/" + deref(w.Via)
		}
		wantRoles := map[string]string{acme.ws.ID: "member/direct", globex.ws.ID: "admin/org_admin", extra: "admin/org_admin"}
		if len(roles) != len(wantRoles) {
			t.Errorf("bob reaches %v, want %v", roles, wantRoles)
		}
		for id, want := range wantRoles {
			if roles[id] != want {
				t.Errorf("workspace %s: %q, want %q", id, roles[id], want)
			}
		}
		env.Expect(404, rostertest.Req{Method: "GET", Path: "/v1/users/" + bob.ID + "/workspaces", Token: acme.aliceToken})
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/users/" + bob.ID + "/workspaces", Token: env.AdminToken})

		// The current workspace.
		env.Expect(200, rostertest.Req{Method: "PUT", Path: "/v1/me/default-workspace", Token: bobToken, Body: map[string]any{"workspace_id": acme.ws.ID}})
		var me struct {
			DefaultWorkspaceID string `json:"default_workspace_id"`
			Memberships        []struct {
				OrgID      string                 `json:"org_id"`
				Role       *string                `json:"role"`
				Workspaces []rostertest.Workspace `json:"workspaces"`
			}
			CurrentWorkspace *rostertest.Workspace `json:"current_workspace"`
		}
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/me", Token: bobToken}).JSON(t, &me)
		if me.DefaultWorkspaceID != acme.ws.ID || me.CurrentWorkspace == nil || me.CurrentWorkspace.ID != acme.ws.ID {
			t.Errorf("current workspace: %+v", me)
		}
		summary := map[string]string{}
		for _, m := range me.Memberships {
			summary[m.OrgID] = deref(m.Role)
			if len(m.Workspaces) == 0 {
				t.Errorf("org %s lists no workspaces", m.OrgID)
			}
		}
		if summary[acme.org.ID] != "member" || summary[globex.org.ID] != "admin" {
			t.Errorf("memberships summary: %v", summary)
		}
		env.Expect(404, rostertest.Req{Method: "PUT", Path: "/v1/me/default-workspace", Token: acme.aliceToken, Body: map[string]any{"workspace_id": extra}})
		env.Expect(404, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + acme.alice.ID, Token: env.AdminToken, Body: map[string]any{"default_workspace_id": extra}})
	})
}

// TestHotEntriesRefreshInTheBackground: a cached entry still in use is
// reloaded in the background once authCacheRefresh has passed: the check
// that finds it due is answered from memory, and the reload lands without
// any invalidation. A change written behind the service's back (no
// invalidation) shows how: without the refresh the old answer would stand
// for the full minute.
func TestHotEntriesRefreshInTheBackground(t *testing.T) {
	env := rostertest.NewEnv(t, rostertest.SQLite) // the cache's ageing, not the backend, is under test
	tn := newTenant(t, env, "acme")
	bob := env.CreateUser(map[string]any{"email": "bob@acme.example"}).ID
	env.PutMember(tn.aliceToken, tn.ws.ID, bob, map[string]any{"role": "viewer"}).Want(t, 201)
	role := func() string { return deref(env.Check(bob, "workspace.read", tn.ws.ID).Role) }
	if got := role(); got != "viewer" {
		t.Fatalf("bob: %s", got)
	}
	ctx := context.Background()
	if err := env.DB.Update(ctx, func(tx roster.Tx) error {
		m, err := tx.GetWorkspaceMembership(ctx, tn.ws.ID, bob)
		if err != nil {
			return err
		}
		m.Role = roster.RoleMember
		return tx.UpdateWorkspaceMembership(ctx, m)
	}); err != nil {
		t.Fatal(err)
	}
	if got := role(); got != "viewer" {
		t.Fatalf("a change no replica was told of showed at once: %s", got)
	}
	env.Clock.Advance(50 * time.Second)
	if got := role(); got != "viewer" {
		t.Errorf("the check that found the entry due waited for the database: %s", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for role() != "member" {
		if time.Now().After(deadline) {
			t.Fatal("the entry was not reloaded in the background")
		}
		time.Sleep(5 * time.Millisecond) // the reload runs on its own goroutine
	}
}
