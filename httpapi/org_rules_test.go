package httpapi_test

import (
	"slices"
	"testing"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// TestOrgMembershipRules: rules 2, 3 and 13 for organisation memberships,
// rule 4 naming every blocker, and rule 8 for deactivated users.
func TestOrgMembershipRules(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		carol, carolToken := env.NewUserWithToken("carol@example.com")
		env.PutOrgMember(tn.aliceToken, tn.org.ID, carol.ID, "admin").Want(t, 201)

		// Rule 2: an organisation admin neither grants nor takes away owner.
		bob := env.CreateUser(map[string]any{"email": "bob@example.com"}).ID
		env.PutOrgMember(carolToken, tn.org.ID, bob, "owner").Want(t, 403)
		env.PutOrgMember(tn.aliceToken, tn.org.ID, bob, "owner").Want(t, 201)
		env.PutOrgMember(carolToken, tn.org.ID, bob, "member").Want(t, 403)
		env.Expect(403, rostertest.Req{Method: "DELETE", Path: "/v1/orgs/" + tn.org.ID + "/members/" + bob, Token: carolToken})

		// Rule 3: a role change keeps joined_at and invited_by.
		dan := env.CreateUser(map[string]any{"email": "dan@example.com"}).ID
		first := env.PutOrgMember(carolToken, tn.org.ID, dan, "member").Want(t, 201).Map(t)
		changed := env.PutOrgMember(tn.aliceToken, tn.org.ID, dan, "admin").Want(t, 200).Map(t)
		if changed["joined_at"] != first["joined_at"] || changed["invited_by"] != carol.ID || changed["role"] != "admin" {
			t.Errorf("after a role change: %v (first %v)", changed, first)
		}

		// Rule 13: identical concurrent adds make one organisation membership.
		eve := env.CreateUser(map[string]any{"email": "eve@example.com"}).ID
		statuses := make([]int, 10)
		concurrently(10, func(i int) { statuses[i] = env.PutOrgMember(tn.aliceToken, tn.org.ID, eve, "member").Status })
		if slices.Index(statuses, 201) < 0 || slices.IndexFunc(statuses, func(s int) bool { return s != 200 && s != 201 }) >= 0 {
			t.Errorf("concurrent identical adds: %v", statuses)
		}
		if created := len(slices.DeleteFunc(slices.Clone(statuses), func(s int) bool { return s != 201 })); created != 1 {
			t.Errorf("%d adds reported creating the membership", created)
		}

		// Rule 4: deleting a sole owner names every organisation and
		// workspace that would be left without one.
		sole, soleToken := env.NewUserWithToken("sole@example.com")
		org1, ws1 := env.CreateOrg(soleToken, "sole-one")
		org2, ws2 := env.CreateOrg(soleToken, "sole-two")
		res := env.Do(rostertest.Req{Method: "DELETE", Path: "/v1/users/" + sole.ID, Token: env.AdminToken})
		p := res.Map(t)
		orgs, _ := p["org_ids"].([]any)
		wss, _ := p["workspace_ids"].([]any)
		if res.Status != 409 || p["code"] != roster.CodeSoleOwner ||
			!slices.Contains(orgs, any(org1.ID)) || !slices.Contains(orgs, any(org2.ID)) ||
			!slices.Contains(wss, any(ws1.ID)) || !slices.Contains(wss, any(ws2.ID)) {
			t.Errorf("deleting a sole owner of two of each: %d %s", res.Status, res.Body)
		}

		// Rule 8: a deactivated user is denied.
		env.PutMember(tn.aliceToken, tn.ws.ID, dan, map[string]any{"role": "member"}).Want(t, 201)
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + dan, Token: env.AdminToken, Body: map[string]any{"status": "deactivated"}})
		if d := env.Check(dan, "workspace.read", tn.ws.ID); d.Allowed || d.Reason != "user_inactive" {
			t.Errorf("a deactivated user's check: %+v", d)
		}
	})
}
