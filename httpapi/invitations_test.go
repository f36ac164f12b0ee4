package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
	"github.com/roster-dev/roster/service"
)

type invitation struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	Status    string `json:"status"`
	ExpiresAt string `json:"expires_at"`
	Token     string `json:"token"`
	AcceptURL string `json:"accept_url"`
}

func (tn tenant) invite(t *testing.T, wsID, email, role string, extra map[string]any) *rostertest.Response {
	t.Helper()
	body := map[string]any{"email": email, "role": role}
	for k, v := range extra {
		body[k] = v
	}
	return tn.env.Do(rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + wsID + "/invitations", Token: tn.aliceToken, Body: body})
}

func accept(env *rostertest.Env, token string, body map[string]any) *rostertest.Response {
	return env.Do(rostertest.Req{Method: "POST", Path: "/v1/invitations/accept", Token: token, Body: body})
}

func TestInvitations(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b, rostertest.WithService(func(o *service.Options) { o.InviteURL = "https://app.example/join?t={token}" }))
		tn := newTenant(t, env, "acme")
		ws := tn.ws.ID

		var inv invitation
		tn.invite(t, ws, "Bob@Example.com", "member", nil).Want(t, 201).JSON(t, &inv)
		if !strings.HasPrefix(inv.Token, roster.InviteTokenPrefix) || inv.Status != "pending" || inv.AcceptURL != "https://app.example/join?t="+inv.Token ||
			inv.ExpiresAt != env.Clock.Now().Add(7*24*time.Hour).Format(time.RFC3339) {
			t.Fatalf("invitation: %+v", inv)
		}
		var again invitation
		tn.invite(t, ws, "bob@example.com", "member", nil).Want(t, 200).JSON(t, &again)
		if again.ID != inv.ID || again.Token != "" {
			t.Errorf("a second invitation to the same email: %+v", again)
		}
		if r := tn.invite(t, ws, "x@example.com", "member", map[string]any{"expires_in": 31 * 24 * 3600}); r.Status != 400 || r.Code(t) != roster.CodeInvalidExpiry {
			t.Errorf("31 days: %d %s", r.Status, r.Body)
		}
		if r := tn.invite(t, ws, "not-an-email", "member", nil); r.Status != 400 {
			t.Errorf("bad email: %d", r.Status)
		}

		bob, bobToken := env.NewUserWithToken("bob@example.com")
		var mine struct{ Data []invitation }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/me/invitations", Token: bobToken}).JSON(t, &mine)
		if len(mine.Data) != 1 || mine.Data[0].ID != inv.ID || mine.Data[0].Token != "" {
			t.Errorf("bob's invitations: %+v", mine.Data)
		}
		_, carolToken := env.NewUserWithToken("carol@example.com")
		if r := accept(env, carolToken, map[string]any{"token": inv.Token}); r.Status != 403 || r.Code(t) != roster.CodeInvitationEmail {
			t.Errorf("someone else accepting: %d %s", r.Status, r.Body)
		}
		if r := accept(env, carolToken, map[string]any{"invitation_id": inv.ID}); r.Status != 404 {
			t.Errorf("someone else accepting by id: %d", r.Status)
		}
		var acc struct {
			Membership rostertest.Member `json:"membership"`
		}
		accept(env, bobToken, map[string]any{"token": inv.Token}).Want(t, 200).JSON(t, &acc)
		if acc.Membership.Role != "member" || deref(acc.Membership.Source) != "invite" || deref(acc.Membership.InvitedBy) != tn.alice.ID {
			t.Errorf("membership: %+v", acc.Membership)
		}
		if tn.orgRole(t, bob.ID) != "member" {
			t.Error("invited as member, bob did not join the organisation")
		}
		var retry struct {
			Membership rostertest.Member `json:"membership"`
		}
		accept(env, bobToken, map[string]any{"token": inv.Token}).Want(t, 200).JSON(t, &retry)
		accept(env, bobToken, map[string]any{"invitation_id": inv.ID}).Want(t, 200)
		if retry.Membership.JoinedAt != acc.Membership.JoinedAt {
			t.Error("a retried accept made another membership")
		}
		if r := tn.invite(t, ws, "bob@example.com", "admin", nil); r.Status != 409 || r.Code(t) != roster.CodeAlreadyMember {
			t.Errorf("inviting a member: %d %s", r.Status, r.Body)
		}
		var accepted struct{ Data []invitation }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + ws + "/invitations?status=accepted", Token: tn.aliceToken}).JSON(t, &accepted)
		if len(accepted.Data) != 1 || accepted.Data[0].Status != "accepted" {
			t.Errorf("accepted list: %+v", accepted.Data)
		}
		env.Expect(403, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + ws + "/invitations", Token: bobToken})

		// Resend: a new secret, the old one dead at once.
		var dave, resent invitation
		tn.invite(t, ws, "dave@example.com", "viewer", nil).Want(t, 201).JSON(t, &dave)
		env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + ws + "/invitations/" + dave.ID + "/resend", Token: tn.aliceToken}).JSON(t, &resent)
		_, daveToken := env.NewUserWithToken("dave@example.com")
		if r := accept(env, daveToken, map[string]any{"token": dave.Token}); r.Status != 404 || r.Code(t) != roster.CodeInvitationNotFound {
			t.Errorf("the old secret after resend: %d %s", r.Status, r.Body)
		}
		accept(env, daveToken, map[string]any{"token": resent.Token}).Want(t, 200)

		// Revoked and expired secrets have codes of their own.
		var erin, frank invitation
		tn.invite(t, ws, "erin@example.com", "member", nil).Want(t, 201).JSON(t, &erin)
		tn.invite(t, ws, "frank@example.com", "member", map[string]any{"expires_in": 3600}).Want(t, 201).JSON(t, &frank)
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + ws + "/invitations/" + erin.ID, Token: tn.aliceToken})
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + ws + "/invitations/" + erin.ID, Token: tn.aliceToken})
		_, erinToken := env.NewUserWithToken("erin@example.com")
		if r := accept(env, erinToken, map[string]any{"token": erin.Token}); r.Status != 410 || r.Code(t) != roster.CodeInvitationRevoked {
			t.Errorf("revoked: %d %s", r.Status, r.Body)
		}
		env.Clock.Advance(time.Hour)
		_, frankToken := env.NewUserWithToken("frank@example.com")
		if r := accept(env, frankToken, map[string]any{"token": frank.Token}); r.Status != 410 || r.Code(t) != roster.CodeInvitationExpired {
			t.Errorf("expired: %d %s", r.Status, r.Body)
		}
		if r := accept(env, frankToken, map[string]any{"token": "rst_inv_nope"}); r.Status != 404 {
			t.Errorf("unknown secret: %d", r.Status)
		}
		tn.invite(t, ws, "frank@example.com", "member", nil).Want(t, 201) // the expired one is replaced
	})
}

func TestInvitationRules(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		ws := tn.ws.ID
		member := env.CreateUser(map[string]any{"email": "member@acme.example"})
		env.PutOrgMember(tn.aliceToken, tn.org.ID, member.ID, "member").Want(t, 201)
		if r := tn.invite(t, ws, "member@acme.example", "external", nil); r.Status != 409 || r.Code(t) != roster.CodeExternalInvariant {
			t.Errorf("an org member invited as external: %d %s", r.Status, r.Body)
		}
		// An outsider invited as external stays outside the organisation.
		var ext invitation
		tn.invite(t, ws, "ext@partner.example", "external", nil).Want(t, 201).JSON(t, &ext)
		extUser, extToken := env.NewUserWithToken("ext@partner.example")
		accept(env, extToken, map[string]any{"token": ext.Token}).Want(t, 200)
		if role := tn.orgRole(t, extUser.ID); role != "" {
			t.Errorf("the external joined the organisation as %q", role)
		}
		// A service token accepts for the invited user.
		var svcInv invitation
		tn.invite(t, ws, "viaapp@example.com", "viewer", nil).Want(t, 201).JSON(t, &svcInv)
		viaApp := env.CreateUser(map[string]any{"email": "viaapp@example.com"})
		bot := env.CreateUser(map[string]any{})
		svc := env.IssueToken(bot.ID, map[string]any{"kind": "service"}).Token
		env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/invitations/accept", Token: svc, Headers: map[string]string{"Roster-On-Behalf-Of": viaApp.ID},
			Body: map[string]any{"token": svcInv.Token}})

		// Admins invite, but not owners; the inviter's authority is re-read at accept.
		gus, gusToken := env.NewUserWithToken("gus@example.com")
		env.PutMember(tn.aliceToken, ws, gus.ID, map[string]any{"role": "admin"}).Want(t, 201)
		env.Expect(403, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + ws + "/invitations", Token: gusToken, Body: map[string]any{"email": "o@example.com", "role": "owner"}})
		var byGus invitation
		env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + ws + "/invitations", Token: gusToken,
			Body: map[string]any{"email": "henry@example.com", "role": "member"}}).JSON(t, &byGus)
		env.PutMember(tn.aliceToken, ws, gus.ID, map[string]any{"role": "member"}).Want(t, 200)
		_, henryToken := env.NewUserWithToken("henry@example.com")
		if r := accept(env, henryToken, map[string]any{"token": byGus.Token}); r.Status != 403 || r.Code(t) != roster.CodeInviterNoAuthority {
			t.Errorf("accepting after the inviter lost authority: %d %s", r.Status, r.Body)
		}
	})
}

func TestInvitationSeats(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		second := env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: tn.aliceToken,
			Body: map[string]any{"org_id": tn.org.ID, "name": "two", "slug": "two"}}).Map(t)["id"].(string)
		tn.setPlan(t, map[string]any{"seat_cap": 3})
		var bInv, cInv invitation
		tn.invite(t, tn.ws.ID, "b@example.com", "member", nil).Want(t, 201).JSON(t, &bInv)
		tn.invite(t, second, "b@example.com", "admin", nil).Want(t, 201)    // the same email elsewhere: one pending seat
		tn.invite(t, tn.ws.ID, "v@example.com", "viewer", nil).Want(t, 201) // free
		if s := tn.seats(t); s.Used != 1 || s.Pending != 1 || *s.Available != 1 {
			t.Errorf("after inviting b: %+v", s)
		}
		tn.invite(t, tn.ws.ID, "c@example.com", "member", nil).Want(t, 201).JSON(t, &cInv)
		r := tn.invite(t, tn.ws.ID, "d@example.com", "member", nil)
		p := r.Map(t)
		if r.Status != 402 || p["used"] != float64(1) || p["pending"] != float64(2) || p["cap"] != float64(3) {
			t.Errorf("inviting over the cap: %d %s", r.Status, r.Body)
		}
		// Expired invitations are not pending.
		var eInv invitation
		tn.setPlan(t, map[string]any{"seat_cap": 4})
		tn.invite(t, tn.ws.ID, "e@example.com", "member", map[string]any{"expires_in": 60}).Want(t, 201).JSON(t, &eInv)
		if s := tn.seats(t); s.Pending != 3 {
			t.Errorf("pending with e: %+v", s)
		}
		env.Clock.Advance(time.Minute)
		if s := tn.seats(t); s.Pending != 2 {
			t.Errorf("pending after e expired: %+v", s)
		}

		// Preview: a seated email, a pending one, and a new one.
		var prev struct {
			NetNewSeats    int      `json:"net_new_seats"`
			AlreadySeated  []string `json:"already_seated"`
			AlreadyPending []string `json:"already_pending"`
		}
		emails := []string{"alice@acme.example", "B@example.com", "new@example.com", "new@example.com"}
		env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/orgs/" + tn.org.ID + "/seats/preview", Token: tn.aliceToken,
			Body: map[string]any{"emails": emails, "role": "member"}}).JSON(t, &prev)
		if prev.NetNewSeats != 1 || len(prev.AlreadySeated) != 1 || len(prev.AlreadyPending) != 1 {
			t.Errorf("preview: %+v", prev)
		}
		env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/orgs/" + tn.org.ID + "/seats/preview", Token: tn.aliceToken,
			Body: map[string]any{"emails": []string{"new@example.com"}, "role": "viewer"}}).JSON(t, &prev)
		if prev.NetNewSeats != 0 {
			t.Errorf("preview of a free role: %+v", prev)
		}

		// Accepting takes the seat from pending to used; a retry never 402s.
		_, bToken := env.NewUserWithToken("b@example.com")
		accept(env, bToken, map[string]any{"token": bInv.Token}).Want(t, 200)
		if s := tn.seats(t); s.Used != 2 || s.Pending != 1 {
			t.Errorf("after b accepted: %+v", s)
		}
		tn.setPlan(t, map[string]any{"seat_cap": 2})
		accept(env, bToken, map[string]any{"token": bInv.Token}).Want(t, 200)
		_, cToken := env.NewUserWithToken("c@example.com")
		if r := accept(env, cToken, map[string]any{"token": cInv.Token}); r.Status != 402 || r.Code(t) != roster.CodeSeatCapReached {
			t.Errorf("accepting over the cap: %d %s", r.Status, r.Body)
		}
	})
}

func TestAccessRequests(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		path := "/v1/workspaces/" + tn.ws.ID + "/access-requests"
		bob, bobToken := env.NewUserWithToken("bob@example.com")
		type request struct {
			ID     string  `json:"id"`
			Status string  `json:"status"`
			Role   *string `json:"role"`
			UserID string  `json:"user_id"`
		}
		var r1, r2 request
		first := env.Expect(201, rostertest.Req{Method: "POST", Path: path, Token: bobToken, Body: map[string]any{"message": "let me in"}})
		first.JSON(t, &r1)
		env.Expect(200, rostertest.Req{Method: "POST", Path: path, Token: bobToken, Body: map[string]any{"message": "please"}}).JSON(t, &r2)
		if r1.ID != r2.ID || r1.Status != "pending" || r1.UserID != bob.ID {
			t.Errorf("requests: %+v %+v", r1, r2)
		}
		// bob is outside the organisation: his answers do not name it, as
		// GET /v1/orgs/{org} does not show it to him.
		if strings.Contains(string(first.Body), tn.org.ID) {
			t.Errorf("an outsider's access request names the organisation: %s", first.Body)
		}
		env.Expect(404, rostertest.Req{Method: "GET", Path: "/v1/orgs/" + tn.org.ID, Token: bobToken})
		var list struct {
			Data []struct {
				request
				OrgID string `json:"org_id"`
			}
		}
		env.Expect(200, rostertest.Req{Method: "GET", Path: path, Token: tn.aliceToken}).JSON(t, &list)
		if len(list.Data) != 1 || list.Data[0].OrgID != tn.org.ID {
			t.Errorf("pending requests, as the workspace's admins see them: %+v", list.Data)
		}
		env.Expect(404, rostertest.Req{Method: "GET", Path: path, Token: bobToken})

		tn.setPlan(t, map[string]any{"seat_cap": 1})
		if r := env.Do(rostertest.Req{Method: "POST", Path: path + "/" + r1.ID + "/approve", Token: tn.aliceToken, Body: map[string]any{"role": "member"}}); r.Status != 402 {
			t.Errorf("approving over the cap: %d %s", r.Status, r.Body)
		}
		tn.setPlan(t, map[string]any{"seat_cap": nil})
		var approved request
		env.Expect(200, rostertest.Req{Method: "POST", Path: path + "/" + r1.ID + "/approve", Token: tn.aliceToken, Body: map[string]any{"role": "member"}}).JSON(t, &approved)
		if approved.Status != "approved" || deref(approved.Role) != "member" {
			t.Errorf("approved: %+v", approved)
		}
		if m := tn.members(t, tn.aliceToken)[bob.ID]; m.Role != "member" || deref(m.Source) != "access_request" {
			t.Errorf("bob's membership: %+v", m)
		}
		if r := env.Do(rostertest.Req{Method: "POST", Path: path + "/" + r1.ID + "/deny", Token: tn.aliceToken}); r.Status != 409 || r.Code(t) != roster.CodeRequestNotPending {
			t.Errorf("deciding twice: %d %s", r.Status, r.Body)
		}
		if r := env.Do(rostertest.Req{Method: "POST", Path: path, Token: bobToken, Body: map[string]any{}}); r.Status != 409 || r.Code(t) != roster.CodeAlreadyMember {
			t.Errorf("a member asking: %d %s", r.Status, r.Body)
		}

		carol, carolToken := env.NewUserWithToken("carol@example.com")
		var rc request
		env.Expect(201, rostertest.Req{Method: "POST", Path: path, Token: carolToken, Body: map[string]any{}}).JSON(t, &rc)
		// Bob is a member, not an admin: he may not decide (authority at decision time).
		env.Expect(403, rostertest.Req{Method: "POST", Path: path + "/" + rc.ID + "/approve", Token: bobToken, Body: map[string]any{"role": "member"}})
		env.Expect(200, rostertest.Req{Method: "POST", Path: path + "/" + rc.ID + "/deny", Token: tn.aliceToken})
		if _, ok := tn.members(t, tn.aliceToken)[carol.ID]; ok {
			t.Error("a denied requester became a member")
		}
		env.Expect(404, rostertest.Req{Method: "POST", Path: path + "/req_nope/deny", Token: tn.aliceToken})
	})
}
