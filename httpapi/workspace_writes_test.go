package httpapi_test

import (
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/rostertest"
	"github.com/roster-dev/roster/service"
)

type workspaceBody struct {
	rostertest.Workspace
	Name      string `json:"name"`
	UpdatedAt string `json:"updated_at"`
}

// TestWorkspaceWritesAnswerTheCurrentState: creating, renaming, archiving
// and restoring a workspace answer with the workspace as stored (its new
// updated_at) and the caller's own role in it.
func TestWorkspaceWritesAnswerTheCurrentState(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		_, aliceToken := env.NewUserWithToken("alice@acme.example")
		org, first := env.CreateOrg(aliceToken, "acme")
		if first.Role == nil || *first.Role != "owner" {
			t.Errorf("the first workspace of a new organisation answers role %v to its owner", first.Role)
		}
		var ws workspaceBody
		env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: aliceToken,
			Body: map[string]any{"org_id": org.ID, "name": "Two", "slug": "two"}}).JSON(t, &ws)
		if ws.Role == nil || *ws.Role != "owner" {
			t.Errorf("a new workspace answers role %v to its creator", ws.Role)
		}
		bob, bobToken := env.NewUserWithToken("bob@acme.example")
		env.PutOrgMember(aliceToken, org.ID, bob.ID, "member").Want(t, 201)
		var bobs workspaceBody
		env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: bobToken,
			Body: map[string]any{"org_id": org.ID, "name": "Bob's", "slug": "bobs"}}).JSON(t, &bobs)
		if bobs.Role == nil || *bobs.Role != "owner" || bobs.Via == nil || *bobs.Via != "direct" {
			t.Errorf("a member's new workspace answers role %v via %v", bobs.Role, bobs.Via)
		}
		var staffs workspaceBody
		env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: env.AdminToken,
			Body: map[string]any{"org_id": org.ID, "name": "Staff's", "slug": "staffs", "owner_id": bob.ID}}).JSON(t, &staffs)
		if staffs.Role != nil {
			t.Errorf("staff creating a workspace for bob get role %v, want null", *staffs.Role)
		}

		stamp := func() string { return env.Clock.Now().UTC().Format(time.RFC3339Nano) }
		same := func(a, b string) bool {
			ta, _ := time.Parse(time.RFC3339Nano, a)
			tb, _ := time.Parse(time.RFC3339Nano, b)
			return ta.Equal(tb)
		}
		env.Clock.Advance(time.Hour)
		var renamed workspaceBody
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + ws.ID, Token: aliceToken,
			Body: map[string]any{"name": "Second"}}).JSON(t, &renamed)
		if renamed.Name != "Second" || !same(renamed.UpdatedAt, stamp()) || renamed.Role == nil || *renamed.Role != "owner" {
			t.Errorf("PATCH answered %+v (updated_at %s), want name Second, updated_at %s, role owner", renamed, renamed.UpdatedAt, stamp())
		}
		var got workspaceBody
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + ws.ID, Token: aliceToken}).JSON(t, &got)
		if got.Name != "Second" || got.UpdatedAt != renamed.UpdatedAt {
			t.Errorf("GET after PATCH: %+v", got)
		}
		for _, step := range []string{"archive", "unarchive"} {
			env.Clock.Advance(time.Hour)
			var res workspaceBody
			env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + ws.ID + "/" + step, Token: aliceToken}).JSON(t, &res)
			if !same(res.UpdatedAt, stamp()) || (res.ArchivedAt != nil) != (step == "archive") {
				t.Errorf("%s answered updated_at %s archived_at %v, want updated_at %s", step, res.UpdatedAt, res.ArchivedAt, stamp())
			}
		}
		var gotOrg rostertest.Org
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/orgs/" + org.ID, Token: aliceToken}).JSON(t, &gotOrg)
		if gotOrg.ID != org.ID || gotOrg.Slug != "acme" {
			t.Errorf("GET organisation: %+v", gotOrg)
		}
	})
}

// TestRestrictedOrgCreation: with organisation creation restricted, a user
// may not create one, staff and service tokens (naming the owner) may.
func TestRestrictedOrgCreation(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b, rostertest.WithService(func(o *service.Options) { o.RestrictOrgCreation = true }))
		ann, annToken := env.NewUserWithToken("ann@example.com")
		res := env.Do(rostertest.Req{Method: "POST", Path: "/v1/orgs", Token: annToken, Body: map[string]any{"name": "Ann's", "slug": "anns"}})
		if res.Status != 403 || res.Code(t) != "forbidden" {
			t.Errorf("a user creating an organisation: %d %s", res.Status, res.Body)
		}
		env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/orgs", Token: env.AdminToken,
			Body: map[string]any{"name": "For Ann", "slug": "for-ann", "owner_id": ann.ID}})
		bot := env.CreateUser(map[string]any{"display_name": "backend"})
		svc := env.IssueToken(bot.ID, map[string]any{"kind": "service"})
		env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/orgs", Token: svc.Token,
			Body: map[string]any{"name": "Ann two", "slug": "ann-two", "owner_id": ann.ID}})
		var orgs struct{ Data []rostertest.Org }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/orgs", Token: annToken}).JSON(t, &orgs)
		if len(orgs.Data) != 2 {
			t.Errorf("ann owns %d organisations, want the 2 made for her", len(orgs.Data))
		}
	})
}
