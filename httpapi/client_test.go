package httpapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/client"
	"github.com/roster-dev/roster/internal/rostertest"
)

// newClient is a Go client of env with token; it does not retry, so that
// a fault shows as it happened.
func newClient(t testing.TB, env *rostertest.Env, token string) *client.Client {
	t.Helper()
	c, err := client.New(env.HTTP.URL, token, client.WithRetries(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// problemOf returns err's problem, failing the test when it is not one
// with the wanted status and code.
func problemOf(t *testing.T, err error, status int, code string) *client.Problem {
	t.Helper()
	var p *client.Problem
	if !errors.As(err, &p) || p.Status != status || p.Code != code {
		t.Fatalf("want a %d %s problem, got %v", status, code, err)
	}
	return p
}

// must(call())(t) is call's value, failing t when call failed.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// TestClientUsersOrgsWorkspaces drives users, tokens, organisations and
// workspaces through the Go client: a change of the API that breaks the
// client fails here.
func TestClientUsersOrgsWorkspaces(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		ctx := context.Background()
		admin := newClient(t, env, env.AdminToken)

		ann := must(admin.CreateUser(ctx, client.NewUser{Email: "ann@example.com", DisplayName: "Ann", ExternalID: "ext-ann"}))(t)
		_, err := admin.CreateUser(ctx, client.NewUser{Email: "ANN@example.com"})
		problemOf(t, err, 409, "email_taken")
		for i := range 4 {
			if _, err := admin.CreateUser(ctx, client.NewUser{Email: string(rune('a'+i)) + "@page.example"}); err != nil {
				t.Fatal(err)
			}
		}
		paged := must(client.Collect(admin.ListUsers(ctx, client.UserFilter{ListOptions: client.ListOptions{Limit: 2}, Q: "page.example"})))(t)
		if len(paged) != 4 {
			t.Errorf("listing users two a page: %d, want 4", len(paged))
		}
		if found := must(client.Collect(admin.ListUsers(ctx, client.UserFilter{ExternalID: "ext-ann"})))(t); len(found) != 1 || found[0].ID != ann.ID {
			t.Errorf("by external id: %+v", found)
		}
		name := "Ann A."
		if u := must(admin.UpdateUser(ctx, ann.ID, client.UserUpdate{DisplayName: &name}))(t); u.DisplayName != name {
			t.Errorf("renamed: %+v", u)
		}
		tok := must(admin.CreateUserToken(ctx, ann.ID, client.NewToken{Name: "laptop"}))(t)
		if tok.Token == "" || tok.UserID != ann.ID {
			t.Fatalf("issued token: %+v", tok)
		}
		annC := newClient(t, env, tok.Token)
		if me := must(annC.Me(ctx))(t); me.ID != ann.ID {
			t.Errorf("me: %+v", me)
		}

		org := must(annC.CreateOrg(ctx, client.NewOrg{Name: "Acme", Slug: "acme", Workspace: &client.NewOrgWorkspace{Name: "Main", Slug: "main"}}))(t)
		if org.Workspace == nil {
			t.Fatal("no first workspace")
		}
		_, err = annC.CreateOrg(ctx, client.NewOrg{Name: "Acme", Slug: "acme"})
		problemOf(t, err, 409, "slug_taken")
		orgName := "Acme Ltd"
		if o := must(annC.UpdateOrg(ctx, org.ID, client.OrgUpdate{Name: &orgName}))(t); o.Name != orgName {
			t.Errorf("renamed org: %+v", o)
		}
		if orgs := must(client.Collect(annC.ListOrgs(ctx, client.OrgFilter{})))(t); len(orgs) != 1 || orgs[0].ID != org.ID {
			t.Errorf("ann's organisations: %+v", orgs)
		}
		second := must(annC.CreateWorkspace(ctx, client.NewWorkspace{OrgID: org.ID, Name: "Second", Slug: "second"}))(t)
		if wss := must(client.Collect(annC.ListWorkspaces(ctx, client.WorkspaceFilter{OrgID: org.ID})))(t); len(wss) != 2 {
			t.Errorf("ann's workspaces: %+v", wss)
		}
		if w := must(annC.ArchiveWorkspace(ctx, second.ID))(t); w.ArchivedAt == nil {
			t.Errorf("archived: %+v", w)
		}
		_, err = annC.UpdateWorkspace(ctx, second.ID, client.WorkspaceUpdate{Name: &name})
		problemOf(t, err, 410, "workspace_archived")
		if _, err := annC.UnarchiveWorkspace(ctx, second.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := annC.SetDefaultWorkspace(ctx, second.ID); err != nil {
			t.Fatal(err)
		}
		if me := must(annC.Me(ctx))(t); me.CurrentWorkspace == nil || me.CurrentWorkspace.ID != second.ID {
			t.Errorf("current workspace: %+v", me.CurrentWorkspace)
		}
		if err := annC.DeleteWorkspace(ctx, second.ID); err != nil {
			t.Fatal(err)
		}
		_, err = annC.GetWorkspace(ctx, second.ID)
		problemOf(t, err, 404, "workspace_not_found")

		// Another tenant's objects are not found; a bad id is too.
		bea := must(admin.CreateUser(ctx, client.NewUser{Email: "bea@example.com"}))(t)
		beaC := newClient(t, env, must(admin.CreateUserToken(ctx, bea.ID, client.NewToken{Name: "web"}))(t).Token)
		_, err = beaC.GetOrg(ctx, org.ID)
		problemOf(t, err, 404, "org_not_found")
		_, err = beaC.GetWorkspace(ctx, "ws_../../v1/me")
		problemOf(t, err, 404, "workspace_not_found")

		// A service token acts for a user.
		bot := must(admin.CreateUser(ctx, client.NewUser{DisplayName: "Backend"}))(t)
		svc := newClient(t, env, must(admin.CreateUserToken(ctx, bot.ID, client.NewToken{Name: "backend", Kind: "service"}))(t).Token)
		if me := must(svc.OnBehalfOf(ann.ID).Me(ctx))(t); me.ID != ann.ID || !me.ActingFor {
			t.Errorf("on behalf of ann: %+v", me)
		}
		if in := must(svc.IntrospectToken(ctx, tok.Token))(t); !in.Active || in.UserID != ann.ID {
			t.Errorf("introspection: %+v", in)
		}
		if err := admin.RevokeUserToken(ctx, ann.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		_, err = annC.Me(ctx)
		problemOf(t, err, 401, "token_revoked")
	})
}

// TestClientMembersInvitationsChecks drives members, invitations, access
// requests, seats and checks through the Go client.
func TestClientMembersInvitationsChecks(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		ctx := context.Background()
		admin := newClient(t, env, env.AdminToken)
		acme := newTenant(t, env, "acme")
		ann := newClient(t, env, acme.aliceToken)
		bob := must(admin.CreateUser(ctx, client.NewUser{Email: "bob@example.com"}))(t)

		// Members: a bad role is a 400 naming the allowed ones.
		_, err := ann.PutMember(ctx, acme.ws.ID, bob.ID, client.MemberUpdate{Role: "boss"})
		if p := problemOf(t, err, 400, "invalid_role"); !strings.Contains(p.Detail, "viewer") || p.Extensions["errors"] == nil {
			t.Errorf("invalid_role without the allowed values: %+v", p)
		}
		until := env.Clock.Now().Add(time.Hour)
		m := must(ann.PutMember(ctx, acme.ws.ID, bob.ID, client.MemberUpdate{Role: "member", ExpiresAt: &until}))(t)
		if m.Role != "member" || m.ExpiresAt == nil || !m.ExpiresAt.Equal(until) {
			t.Errorf("bob's membership: %+v", m)
		}
		members := must(client.Collect(ann.ListMembers(ctx, acme.ws.ID, client.MemberFilter{})))(t)
		if len(members) != 2 {
			t.Errorf("members: %+v", members)
		}

		// Checks: allowed, denied with a reason, and the batch in order.
		d := must(admin.Check(ctx, client.CheckRequest{UserID: bob.ID, Action: "resources.write", WorkspaceID: acme.ws.ID}))(t)
		if !d.Allowed || d.Role == nil || *d.Role != "member" || d.ExpiresAt == nil {
			t.Errorf("bob writes: %+v", d)
		}
		batch := must(admin.CheckBatch(ctx, []client.CheckRequest{
			{UserID: bob.ID, Action: "members.manage", WorkspaceID: acme.ws.ID},
			{UserID: acme.alice.ID, Action: "members.manage", WorkspaceID: acme.ws.ID},
		}))(t)
		if len(batch) != 2 || batch[0].Allowed || batch[0].Reason != "insufficient_role" || !batch[1].Allowed {
			t.Errorf("batch: %+v", batch)
		}
		_, err = admin.Check(ctx, client.CheckRequest{UserID: bob.ID, Action: "fly", WorkspaceID: acme.ws.ID})
		problemOf(t, err, 400, "unknown_action")
		env.Clock.Advance(2 * time.Hour)
		if d := must(admin.Check(ctx, client.CheckRequest{UserID: bob.ID, Action: "workspace.read", WorkspaceID: acme.ws.ID}))(t); d.Allowed {
			t.Errorf("an expired membership still allowed: %+v", d)
		}
		if err := ann.RemoveMember(ctx, acme.ws.ID, bob.ID); err != nil && !isProblem(err, 404) {
			t.Fatal(err)
		}

		// Invitations: create, list, resend, accept as the invited user.
		inv := must(ann.CreateInvitation(ctx, acme.ws.ID, client.NewInvitation{Email: "carol@example.com", Role: "member"}))(t)
		if inv.Token == "" || inv.Status != "pending" {
			t.Fatalf("invitation: %+v", inv)
		}
		resent := must(ann.ResendInvitation(ctx, acme.ws.ID, inv.ID))(t)
		if pending := must(client.Collect(ann.ListInvitations(ctx, acme.ws.ID, client.StatusFilter{})))(t); len(pending) != 1 {
			t.Errorf("pending invitations: %+v", pending)
		}
		carol, carolToken := env.NewUserWithToken("carol@example.com")
		carolC := newClient(t, env, carolToken)
		if mine := must(client.Collect(carolC.MyInvitations(ctx, client.ListOptions{})))(t); len(mine) != 1 {
			t.Errorf("carol's invitations: %+v", mine)
		}
		_, err = carolC.AcceptInvitation(ctx, client.AcceptInvitation{Token: inv.Token})
		problemOf(t, err, 404, "invitation_not_found") // the resent one replaced it
		accepted := must(carolC.AcceptInvitation(ctx, client.AcceptInvitation{Token: resent.Token}))(t)
		if accepted.Membership.UserID != carol.ID || accepted.Invitation.Status != "accepted" {
			t.Errorf("accepted: %+v", accepted)
		}
		again := must(ann.CreateInvitation(ctx, acme.ws.ID, client.NewInvitation{Email: "dan@example.com", Role: "viewer"}))(t)
		if err := ann.RevokeInvitation(ctx, acme.ws.ID, again.ID); err != nil {
			t.Fatal(err)
		}

		// Seats, and an access request approved.
		seats := must(ann.Seats(ctx, acme.org.ID))(t)
		if seats.Used < 2 {
			t.Errorf("seats: %+v", seats)
		}
		dan, danToken := env.NewUserWithToken("dan@example.com")
		req := must(newClient(t, env, danToken).RequestAccess(ctx, acme.ws.ID, client.NewAccessRequest{Message: "let me in"}))(t)
		if approved := must(ann.ApproveAccessRequest(ctx, acme.ws.ID, req.ID, "viewer"))(t); approved.Status != "approved" || approved.UserID != dan.ID {
			t.Errorf("approved: %+v", approved)
		}
		if d := must(admin.Check(ctx, client.CheckRequest{UserID: dan.ID, Action: "workspace.read", WorkspaceID: acme.ws.ID}))(t); !d.Allowed {
			t.Errorf("dan after approval: %+v", d)
		}
	})
}

func isProblem(err error, status int) bool {
	var p *client.Problem
	return errors.As(err, &p) && p.Status == status
}
