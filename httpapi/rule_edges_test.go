package httpapi_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// TestDerivedRoleWinsATie: a direct role equal to the organisation's derived
// role does not make access look temporary; the organisation answers.
func TestDerivedRoleWinsATie(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		bob := env.CreateUser(map[string]any{"email": "bob@example.com"}).ID
		env.PutOrgMember(tn.aliceToken, tn.org.ID, bob, "admin").Want(t, 201)
		until := env.Clock.Now().Add(time.Hour).Format(time.RFC3339)
		env.PutMember(tn.aliceToken, tn.ws.ID, bob, map[string]any{"role": "admin", "expires_at": until}).Want(t, 201)
		if d := env.Check(bob, "members.manage", tn.ws.ID); !d.Allowed || deref(d.Via) != "org_admin" || d.ExpiresAt != nil {
			t.Errorf("direct admin until %s and org admin: %+v", until, d)
		}
		// The member list answers as the check does, from the same rule:
		// bob's lasting role is the organisation's; alice's permanent
		// direct ownership is her own row.
		members := tn.members(t, tn.aliceToken)
		if m := members[bob]; m.Role != "admin" || !m.Derived || m.ExpiresAt != nil {
			t.Errorf("bob in the member list: %+v", m)
		}
		if d := env.Check(tn.alice.ID, "workspace.delete", tn.ws.ID); !d.Allowed || deref(d.Via) != "direct" {
			t.Errorf("alice, direct and organisation owner: %+v", d)
		}
		if m := members[tn.alice.ID]; m.Role != "owner" || m.Derived {
			t.Errorf("alice in the member list: %+v", m)
		}
	})
}

// TestLastOwnerWithExpiry: an owner whose membership expires does not keep
// a workspace owned (rule 1).
func TestLastOwnerWithExpiry(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		until := env.Clock.Now().Add(time.Hour).Format(time.RFC3339)
		if r := env.PutMember(tn.aliceToken, tn.ws.ID, tn.alice.ID, map[string]any{"role": "owner", "expires_at": until}); r.Status != 409 || r.Code(t) != roster.CodeLastOwner {
			t.Errorf("the last owner given an expiry: %d %s", r.Status, r.Body)
		}
		bob := env.CreateUser(map[string]any{"email": "bob@example.com"}).ID
		env.PutMember(tn.aliceToken, tn.ws.ID, bob, map[string]any{"role": "owner", "expires_at": until}).Want(t, 201)
		if r := env.PutMember(tn.aliceToken, tn.ws.ID, tn.alice.ID, map[string]any{"role": "member"}); r.Status != 409 || r.Code(t) != roster.CodeLastOwner {
			t.Errorf("the permanent owner stepping down beside a temporary one: %d %s", r.Status, r.Body)
		}
		env.PutMember(tn.aliceToken, tn.ws.ID, bob, map[string]any{"role": "owner"}).Want(t, 200) // made permanent
		env.PutMember(tn.aliceToken, tn.ws.ID, tn.alice.ID, map[string]any{"role": "owner", "expires_at": until}).Want(t, 200)
	})
}

// TestOrgRemovalOfWorkspaceOwner: removing someone from the organisation
// takes away their workspace roles, so an organisation admin may not do it
// to a workspace owner (rule 2); an organisation owner may.
func TestOrgRemovalOfWorkspaceOwner(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		carol, carolToken := env.NewUserWithToken("carol@example.com")
		env.PutOrgMember(tn.aliceToken, tn.org.ID, carol.ID, "admin").Want(t, 201)
		bob := env.CreateUser(map[string]any{"email": "bob@example.com"}).ID
		env.PutMember(tn.aliceToken, tn.ws.ID, bob, map[string]any{"role": "owner"}).Want(t, 201)
		env.Expect(403, rostertest.Req{Method: "DELETE", Path: "/v1/orgs/" + tn.org.ID + "/members/" + bob, Token: carolToken})
		if m := tn.members(t, tn.aliceToken)[bob]; m.Role != "owner" {
			t.Errorf("bob after a refused removal: %+v", m)
		}
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/orgs/" + tn.org.ID + "/members/" + bob, Token: tn.aliceToken})
	})
}

// TestMemberPagesSkipExpired: expired memberships do not use up a page.
func TestMemberPagesSkipExpired(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		until := env.Clock.Now().Add(time.Minute).Format(time.RFC3339)
		for i := range 3 {
			u := env.CreateUser(map[string]any{"email": fmt.Sprintf("tmp%d@example.com", i)})
			env.PutMember(tn.aliceToken, tn.ws.ID, u.ID, map[string]any{"role": "member", "expires_at": until}).Want(t, 201)
		}
		env.Clock.Advance(time.Hour)
		live := env.CreateUser(map[string]any{"email": "live@example.com"}).ID
		env.PutMember(tn.aliceToken, tn.ws.ID, live, map[string]any{"role": "member"}).Want(t, 201)
		seen := map[string]bool{}
		cursor := ""
		for range 10 {
			var page struct {
				Data       []rostertest.Member
				NextCursor *string `json:"next_cursor"`
			}
			env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + tn.ws.ID + "/members?limit=1&cursor=" + cursor, Token: tn.aliceToken}).JSON(t, &page)
			for _, m := range page.Data {
				seen[m.UserID] = true
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		if len(seen) != 2 || !seen[live] || !seen[tn.alice.ID] {
			t.Errorf("pages of one saw %v; want alice and %s", seen, live)
		}
	})
}

// TestWorkspaceCreatedForSomeone: staff and service tokens may name a new
// workspace's owner; users may not. Without one, a service token's
// workspace is governed by the organisation's owners.
func TestWorkspaceCreatedForSomeone(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		bot := env.CreateUser(map[string]any{})
		svc := env.IssueToken(bot.ID, map[string]any{"kind": "service"}).Token
		create := func(token string, body map[string]any) *rostertest.Response {
			body["org_id"] = tn.org.ID
			return env.Do(rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: token, Body: body})
		}
		unowned := create(svc, map[string]any{"name": "w", "slug": "www"}).Want(t, 201).Map(t)["id"].(string)
		var members struct{ Data []rostertest.Member }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + unowned + "/members", Token: env.AdminToken}).JSON(t, &members)
		if len(members.Data) != 1 || members.Data[0].UserID != tn.alice.ID || !members.Data[0].Derived {
			t.Errorf("members of a workspace the host application made: %+v", members.Data)
		}
		bob := env.CreateUser(map[string]any{"email": "bob@example.com"}).ID
		id := create(svc, map[string]any{"name": "x", "slug": "xxx", "owner_id": bob}).Want(t, 201).Map(t)["id"].(string)
		var page struct{ Data []rostertest.Member }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + id + "/members", Token: env.AdminToken}).JSON(t, &page)
		owned := false
		for _, m := range page.Data {
			owned = owned || (m.UserID == bob && m.Role == "owner" && !m.Derived)
		}
		if !owned {
			t.Errorf("members of a workspace made for bob: %+v", page.Data)
		}
		if r := create(tn.aliceToken, map[string]any{"name": "y", "slug": "yyy", "owner_id": bob}); r.Status != 403 {
			t.Errorf("a user creating a workspace for someone else: %d %s", r.Status, r.Body)
		}
		if r := create(svc, map[string]any{"name": "z", "slug": "zzz", "owner_id": "usr_nope"}); r.Status != 404 {
			t.Errorf("an unknown owner: %d %s", r.Status, r.Body)
		}
		dormant := env.CreateUser(map[string]any{"email": "dormant@example.com", "status": "suspended"}).ID
		if r := create(svc, map[string]any{"name": "z", "slug": "zzz", "owner_id": dormant}); r.Status != 400 {
			t.Errorf("a suspended owner: %d %s", r.Status, r.Body)
		}
		// An outsider named owner joins the organisation: a new seat, so
		// within the cap.
		tn.setPlan(t, map[string]any{"seat_cap": tn.seats(t).Used})
		outsider := env.CreateUser(map[string]any{"email": "outsider@example.com"}).ID
		if r := create(svc, map[string]any{"name": "z", "slug": "zzz", "owner_id": outsider}); r.Status != 402 {
			t.Errorf("a new owner over the seat cap: %d %s", r.Status, r.Body)
		}
	})
}

// TestOtherTenantsStayHidden: a user checking their own access to another
// tenant's workspace or organisation learns nothing (404), and an inactive
// user reaches no workspace.
func TestOtherTenantsStayHidden(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		acme, globex := newTenant(t, env, "acme"), newTenant(t, env, "globex")
		bob, bobToken := env.NewUserWithToken("bob@example.com")
		env.PutMember(acme.aliceToken, acme.ws.ID, bob.ID, map[string]any{"role": "member"}).Want(t, 201)
		env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + globex.ws.ID + "/archive", Token: globex.aliceToken})
		check := func(body map[string]any) *rostertest.Response {
			body["user_id"] = bob.ID
			return env.Do(rostertest.Req{Method: "POST", Path: "/v1/check", Token: bobToken, Body: body})
		}
		if r := check(map[string]any{"action": "workspace.read", "workspace_id": globex.ws.ID}); r.Status != 404 || r.Code(t) != roster.CodeWorkspaceNotFound {
			t.Errorf("self-check on another tenant's workspace: %d %s", r.Status, r.Body)
		}
		if r := check(map[string]any{"action": "org.read", "org_id": globex.org.ID}); r.Status != 404 || r.Code(t) != roster.CodeOrgNotFound {
			t.Errorf("self-check on another tenant's organisation: %d %s", r.Status, r.Body)
		}
		check(map[string]any{"action": "org.read", "org_id": acme.org.ID}).Want(t, 200) // a workspace there: related

		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + bob.ID, Token: env.AdminToken, Body: map[string]any{"status": "suspended"}})
		var reach struct{ Data []rostertest.Workspace }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/users/" + bob.ID + "/workspaces", Token: env.AdminToken}).JSON(t, &reach)
		if len(reach.Data) != 0 {
			t.Errorf("a suspended user reaches %+v", reach.Data)
		}
	})
}

// TestWritesRacingDeletion: a membership write racing the deletion of its
// workspace never leaves a live membership in a deleted workspace, and a
// workspace created while its organisation is deleted is not left behind.
func TestWritesRacingDeletion(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		db := rawDatabase(t, env)
		count := func(query string) int {
			t.Helper()
			var n int
			if err := db.QueryRow(query).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		tn := newTenant(t, env, "acme")
		for round := range 15 {
			id := env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: tn.aliceToken,
				Body: map[string]any{"org_id": tn.org.ID, "name": "r", "slug": fmt.Sprintf("r-%d", round)}}).Map(t)["id"].(string)
			u := env.CreateUser(map[string]any{"email": fmt.Sprintf("u%d@example.com", round)}).ID
			concurrently(2, func(i int) {
				if i == 0 {
					env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + id, Token: tn.aliceToken})
				} else {
					env.PutMember(tn.aliceToken, id, u, map[string]any{"role": "member"})
				}
			})
		}
		if n := count(`SELECT COUNT(*) FROM workspace_memberships m JOIN workspaces w ON w.id = m.workspace_id
			WHERE m.deleted_at IS NULL AND w.deleted_at IS NOT NULL`); n != 0 {
			t.Errorf("%d live memberships in deleted workspaces", n)
		}

		bot := env.CreateUser(map[string]any{})
		svc := env.IssueToken(bot.ID, map[string]any{"kind": "service"}).Token
		for round := range 10 {
			other := newTenant(t, env, fmt.Sprintf("gone-%d", round))
			concurrently(2, func(i int) {
				if i == 0 {
					env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/orgs/" + other.org.ID, Token: other.aliceToken})
				} else {
					env.Do(rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: svc,
						Body: map[string]any{"org_id": other.org.ID, "name": "late", "slug": "late", "owner_id": bot.ID}})
				}
			})
		}
		if n := count(`SELECT COUNT(*) FROM workspaces w JOIN orgs o ON o.id = w.org_id WHERE w.deleted_at IS NULL AND o.deleted_at IS NOT NULL`); n != 0 {
			t.Errorf("%d live workspaces in deleted organisations", n)
		}
	})
}

// TestVisibilityIsOneRule: a user learns that a workspace or organisation
// exists through the check exactly when the API shows it to them: an
// outsider whose membership expired sees neither, a workspace's external
// sees nothing of its organisation.
func TestVisibilityIsOneRule(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		bob, bobToken := env.NewUserWithToken("bob@outside.example")
		until := env.Clock.Now().Add(time.Hour).Format(time.RFC3339)
		env.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, map[string]any{"role": "external", "expires_at": until}).Want(t, 201)
		check := func(target map[string]any) *rostertest.Response {
			body := map[string]any{"user_id": bob.ID, "action": "workspace.read"}
			if _, org := target["org_id"]; org {
				body["action"] = "org.members.read"
			}
			for k, v := range target {
				body[k] = v
			}
			return env.Do(rostertest.Req{Method: "POST", Path: "/v1/check", Token: bobToken, Body: body})
		}
		check(map[string]any{"workspace_id": tn.ws.ID}).Want(t, 200)
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + tn.ws.ID, Token: bobToken})
		check(map[string]any{"org_id": tn.org.ID}).Want(t, 404)
		env.Expect(404, rostertest.Req{Method: "GET", Path: "/v1/orgs/" + tn.org.ID, Token: bobToken})

		env.Clock.Advance(2 * time.Hour)
		if res := check(map[string]any{"workspace_id": tn.ws.ID}); res.Status != 404 || res.Code(t) != "workspace_not_found" {
			t.Errorf("a self-check after the membership expired: %d %s", res.Status, res.Body)
		}
		env.Expect(404, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + tn.ws.ID, Token: bobToken})
		// Those who may check for anyone still get the decision.
		if d := env.Check(bob.ID, "workspace.read", tn.ws.ID); d.Allowed || d.Reason != "no_access" {
			t.Errorf("the admin's check for bob: %+v", d)
		}
	})
}

// TestRemovalAsksPermissionFirst: someone who may not manage members learns
// nothing from removing: member or not, the target is a 403.
func TestRemovalAsksPermissionFirst(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		viewer, viewerToken := env.NewUserWithToken("viewer@acme.example")
		env.PutMember(tn.aliceToken, tn.ws.ID, viewer.ID, map[string]any{"role": "viewer"}).Want(t, 201)
		stranger := env.CreateUser(map[string]any{"email": "stranger@example.com"})
		for _, target := range []string{tn.alice.ID, stranger.ID, "usr_not-an-id"} {
			res := env.Do(rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + tn.ws.ID + "/members/" + target, Token: viewerToken})
			if res.Status != 403 {
				t.Errorf("a viewer removing %s: %d %s, want 403", target, res.Status, res.Body)
			}
		}
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + tn.ws.ID + "/members/" + viewer.ID, Token: viewerToken}) // leaving
	})
}
