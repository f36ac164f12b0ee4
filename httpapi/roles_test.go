package httpapi_test

import (
	"testing"

	"github.com/roster-dev/roster/internal/rostertest"
)

// domainTable is DOMAIN §2's permission table, written out independently of
// the code's role table so that a change to either shows here.
var domainTable = map[string][]string{
	"workspace.read":            {"owner", "admin", "member", "external", "viewer"},
	"members.read":              {"owner", "admin", "member", "external"},
	"resources.write":           {"owner", "admin", "member", "external"},
	"resources.delete":          {"owner", "admin", "member"},
	"resources.share":           {"owner", "admin", "member"},
	"members.manage":            {"owner", "admin"},
	"workspace.settings.manage": {"owner", "admin"},
	"workspace.update":          {"owner", "admin"},
	"workspace.archive":         {"owner", "admin"},
	"members.manage_owners":     {"owner"},
	"workspace.delete":          {"owner"},
	"resources.transfer":        {"owner"},
}

// TestRoleActionTable checks every permission for every way of holding a
// role: the five direct roles, the two derived ones, and organisation roles
// that give no workspace access.
func TestRoleActionTable(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b, withActions(map[string]string{"chat": "member"}))
		_, aliceToken := env.NewUserWithToken("alice@example.com")
		org, ws := env.CreateOrg(aliceToken, "acme")

		type holder struct {
			name, effective, via string
		}
		holders := map[string]holder{}
		user := func(name string) string { return env.CreateUser(map[string]any{"email": name + "@example.com"}).ID }
		for _, role := range []string{"owner", "admin", "member", "external", "viewer"} {
			id := user("direct-" + role)
			env.Expect(201, rostertest.Req{Method: "PUT", Path: "/v1/workspaces/" + ws.ID + "/members/" + id, Token: aliceToken, Body: map[string]any{"role": role}})
			holders[id] = holder{"direct " + role, role, "direct"}
		}
		for _, c := range []struct{ orgRole, effective, via string }{{"owner", "owner", "org_owner"}, {"admin", "admin", "org_admin"}, {"member", "", ""}, {"billing", "", ""}} {
			id := user("org-" + c.orgRole)
			env.Expect(201, rostertest.Req{Method: "PUT", Path: "/v1/orgs/" + org.ID + "/members/" + id, Token: aliceToken, Body: map[string]any{"role": c.orgRole}})
			holders[id] = holder{"org " + c.orgRole, c.effective, c.via}
		}
		holders[user("stranger")] = holder{"stranger", "", ""}

		for id, h := range holders {
			for perm, roles := range domainTable {
				want := inList(roles, h.effective)
				d := env.Check(id, perm, ws.ID)
				if d.Allowed != want {
					t.Errorf("%s, %s: allowed=%v, want %v", h.name, perm, d.Allowed, want)
				}
				if got := deref(d.Role); got != h.effective {
					t.Errorf("%s: role %q, want %q", h.name, got, h.effective)
				}
				if got := deref(d.Via); got != h.via {
					t.Errorf("%s: via %q, want %q", h.name, got, h.via)
				}
			}
			// The host application's own action maps to member.
			want := inList([]string{"owner", "admin", "member"}, h.effective)
			if d := env.Check(id, "chat", ws.ID); d.Allowed != want {
				t.Errorf("%s, chat: allowed=%v, want %v", h.name, d.Allowed, want)
			}
		}
	})
}

func inList(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
