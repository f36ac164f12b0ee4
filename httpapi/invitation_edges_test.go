package httpapi_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

func (tn tenant) invitations(t *testing.T, query string) []invitation {
	t.Helper()
	var page struct{ Data []invitation }
	tn.env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + tn.ws.ID + "/invitations" + query, Token: tn.aliceToken}).JSON(t, &page)
	return page.Data
}

func (tn tenant) resend(t *testing.T, id string) *rostertest.Response {
	t.Helper()
	return tn.env.Do(rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + tn.ws.ID + "/invitations/" + id + "/resend", Token: tn.aliceToken})
}

// TestInvitationLifetime: expires_in is bounded however large the number,
// a resend restarts the invitation's own lifetime (never more than 30
// days), and listing shows pending invitations unless asked otherwise.
func TestInvitationLifetime(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		for _, secs := range []int64{0, -1, 30*24*3600 + 1, 9_300_000_000, 18_446_744_074} {
			if r := tn.invite(t, tn.ws.ID, "x@example.com", "member", map[string]any{"expires_in": secs}); r.Status != 400 || r.Code(t) != roster.CodeInvalidExpiry {
				t.Errorf("expires_in %d: %d %s", secs, r.Status, r.Body)
			}
		}
		var month invitation
		tn.invite(t, tn.ws.ID, "month@example.com", "member", map[string]any{"expires_in": 30 * 24 * 3600}).Want(t, 201).JSON(t, &month)
		for range 3 {
			env.Clock.Advance(29 * 24 * time.Hour)
			var resent invitation
			tn.resend(t, month.ID).Want(t, 200).JSON(t, &resent)
			if want := env.Clock.Now().Add(30 * 24 * time.Hour).Format(time.RFC3339); resent.ExpiresAt != want {
				t.Fatalf("resent: expires %s, want %s", resent.ExpiresAt, want)
			}
		}

		var revoked invitation
		tn.invite(t, tn.ws.ID, "gone@example.com", "member", nil).Want(t, 201).JSON(t, &revoked)
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + tn.ws.ID + "/invitations/" + revoked.ID, Token: tn.aliceToken})
		tn.invite(t, tn.ws.ID, "short@example.com", "member", map[string]any{"expires_in": 60}).Want(t, 201)
		env.Clock.Advance(time.Minute)
		if got := tn.invitations(t, ""); len(got) != 1 || got[0].ID != month.ID {
			t.Errorf("default list: %+v", got)
		}
		if got := tn.invitations(t, "?status=revoked"); len(got) != 1 || got[0].ID != revoked.ID {
			t.Errorf("revoked list: %+v", got)
		}
		if got := tn.invitations(t, "?status=expired"); len(got) != 1 || got[0].Email != "short@example.com" {
			t.Errorf("expired list: %+v", got)
		}
	})
}

// TestResendExpiredInvitation: an expired invitation brought back by a
// resend is pending again, so it must fit the seat cap and its invitee must
// not have joined meanwhile.
func TestResendExpiredInvitation(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		tn.setPlan(t, map[string]any{"seat_cap": 2})
		var bInv, cInv invitation
		tn.invite(t, tn.ws.ID, "b@example.com", "member", map[string]any{"expires_in": 3600}).Want(t, 201).JSON(t, &bInv)
		env.Clock.Advance(time.Hour)
		tn.invite(t, tn.ws.ID, "c@example.com", "member", nil).Want(t, 201).JSON(t, &cInv)
		r := tn.resend(t, bInv.ID)
		if p := r.Map(t); r.Status != 402 || p["code"] != roster.CodeSeatCapReached || p["used"] != float64(1) || p["pending"] != float64(1) {
			t.Fatalf("resending an expired invitation at the cap: %d %s", r.Status, r.Body)
		}
		if s := tn.seats(t); s.Used != 1 || s.Pending != 1 {
			t.Errorf("after the refused resend: %+v", s)
		}
		tn.setPlan(t, map[string]any{"seat_cap": nil})
		bUser := env.CreateUser(map[string]any{"email": "b@example.com"})
		env.PutMember(tn.aliceToken, tn.ws.ID, bUser.ID, map[string]any{"role": "viewer"}).Want(t, 201)
		if r := tn.resend(t, bInv.ID); r.Status != 409 || r.Code(t) != roster.CodeAlreadyMember {
			t.Errorf("resending to someone who joined meanwhile: %d %s", r.Status, r.Body)
		}
		tn.resend(t, cInv.ID).Want(t, 200) // pending: no checks to repeat
	})
}

// TestInviters: who may invite and whose invitations stand at accept time.
func TestInviters(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		ws := tn.ws.ID

		// Someone who already reaches the workspace through an organisation
		// role is a member already.
		orgAdmin := env.CreateUser(map[string]any{"email": "orgadmin@acme.example"})
		env.PutOrgMember(tn.aliceToken, tn.org.ID, orgAdmin.ID, "admin").Want(t, 201)
		if r := tn.invite(t, ws, "orgadmin@acme.example", "member", nil); r.Status != 409 || r.Code(t) != roster.CodeAlreadyMember {
			t.Errorf("inviting an organisation admin: %d %s", r.Status, r.Body)
		}

		// A platform admin's invitation stands while they are staff, and
		// falls when they are not (rule 12).
		staff := env.CreateUser(map[string]any{"email": "staff@vendor.example", "platform_role": "admin"})
		staffToken := env.IssueToken(staff.ID, map[string]any{}).Token
		byStaff := func(email string) invitation {
			var inv invitation
			env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + ws + "/invitations", Token: staffToken,
				Body: map[string]any{"email": email, "role": "member"}}).JSON(t, &inv)
			return inv
		}
		early, late := byStaff("early@example.com"), byStaff("late@example.com")
		_, earlyToken := env.NewUserWithToken("early@example.com")
		accept(env, earlyToken, map[string]any{"token": early.Token}).Want(t, 200)
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + staff.ID, Token: env.AdminToken, Body: map[string]any{"platform_role": "none"}})
		_, lateToken := env.NewUserWithToken("late@example.com")
		if r := accept(env, lateToken, map[string]any{"token": late.Token}); r.Status != 403 || r.Code(t) != roster.CodeInviterNoAuthority {
			t.Errorf("accepting after the inviting admin was demoted: %d %s", r.Status, r.Body)
		}

		// The host application's own invitations stand; its token accepts
		// only for the invited user, not in its own name.
		bot := env.CreateUser(map[string]any{"email": "bot@vendor.example"})
		svc := env.IssueToken(bot.ID, map[string]any{"kind": "service"}).Token
		var byApp invitation
		env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + ws + "/invitations", Token: svc,
			Body: map[string]any{"email": "app@example.com", "role": "member"}}).JSON(t, &byApp)
		if r := accept(env, svc, map[string]any{"token": byApp.Token}); r.Status != 403 || r.Code(t) != roster.CodeInvitationEmail {
			t.Errorf("a service token accepting in its own name: %d %s", r.Status, r.Body)
		}
		_, appToken := env.NewUserWithToken("app@example.com")
		accept(env, appToken, map[string]any{"token": byApp.Token}).Want(t, 200)

		// Accepted by one user, the invitation is used for any other.
		var used invitation
		tn.invite(t, ws, "first@example.com", "member", nil).Want(t, 201).JSON(t, &used)
		first, firstToken := env.NewUserWithToken("first@example.com")
		accept(env, firstToken, map[string]any{"token": used.Token}).Want(t, 200)
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + first.ID, Token: env.AdminToken, Body: map[string]any{"email": "renamed@example.com"}})
		_, secondToken := env.NewUserWithToken("first@example.com")
		if r := accept(env, secondToken, map[string]any{"token": used.Token}); r.Status != 409 || r.Code(t) != roster.CodeInvitationUsed {
			t.Errorf("accepting an invitation someone else used: %d %s", r.Status, r.Body)
		}

		var audit struct{ Data []map[string]any }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit?action=invitation.accepted&org_id=" + tn.org.ID, Token: env.AdminToken}).JSON(t, &audit)
		if len(audit.Data) != 3 {
			t.Errorf("%d invitation.accepted audit events, want 3", len(audit.Data))
		}
	})
}

// TestAccessRequestDecisions: approval applies the external invariant, does
// not touch someone who joined meanwhile, and reads the approver's authority
// at decision time.
func TestAccessRequestDecisions(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		path := "/v1/workspaces/" + tn.ws.ID + "/access-requests"
		ask := func(token string) string {
			t.Helper()
			return env.Expect(201, rostertest.Req{Method: "POST", Path: path, Token: token, Body: map[string]any{"message": "hi"}}).Map(t)["id"].(string)
		}
		decide := func(token, id, verb string, body map[string]any) *rostertest.Response {
			return env.Do(rostertest.Req{Method: "POST", Path: path + "/" + id + "/" + verb, Token: token, Body: body})
		}

		orgMember, orgMemberToken := env.NewUserWithToken("m@acme.example")
		env.PutOrgMember(tn.aliceToken, tn.org.ID, orgMember.ID, "member").Want(t, 201)
		req := ask(orgMemberToken)
		if r := decide(tn.aliceToken, req, "approve", map[string]any{"role": "external"}); r.Status != 409 || r.Code(t) != roster.CodeExternalInvariant {
			t.Errorf("approving an org member as external: %d %s", r.Status, r.Body)
		}
		decide(tn.aliceToken, req, "approve", map[string]any{"role": "viewer"}).Want(t, 200)

		outsider, outsiderToken := env.NewUserWithToken("o@example.com")
		decide(tn.aliceToken, ask(outsiderToken), "approve", map[string]any{"role": "member"}).Want(t, 200)
		if tn.orgRole(t, outsider.ID) != "member" {
			t.Error("an outsider approved as member did not join the organisation")
		}

		// Joined another way since asking: approving would change their role.
		late, lateToken := env.NewUserWithToken("late@example.com")
		lateReq := ask(lateToken)
		env.PutMember(tn.aliceToken, tn.ws.ID, late.ID, map[string]any{"role": "admin"}).Want(t, 201)
		if r := decide(tn.aliceToken, lateReq, "approve", map[string]any{"role": "viewer"}); r.Status != 409 || r.Code(t) != roster.CodeAlreadyMember {
			t.Errorf("approving someone who joined meanwhile: %d %s", r.Status, r.Body)
		}
		if m := tn.members(t, tn.aliceToken)[late.ID]; m.Role != "admin" {
			t.Errorf("the member's role after a refused approval: %+v", m)
		}
		decide(tn.aliceToken, lateReq, "deny", nil).Want(t, 200)

		// An admin demoted after the request was made may not decide it.
		dana, danaToken := env.NewUserWithToken("dana@example.com")
		env.PutMember(tn.aliceToken, tn.ws.ID, dana.ID, map[string]any{"role": "admin"}).Want(t, 201)
		_, pToken := env.NewUserWithToken("p@example.com")
		pReq := ask(pToken)
		env.PutMember(tn.aliceToken, tn.ws.ID, dana.ID, map[string]any{"role": "member"}).Want(t, 200)
		if r := decide(danaToken, pReq, "approve", map[string]any{"role": "member"}); r.Status != 403 {
			t.Errorf("a demoted admin approving: %d %s", r.Status, r.Body)
		}

		var audit struct{ Data []map[string]any }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit?action=access_request.approved&org_id=" + tn.org.ID, Token: env.AdminToken}).JSON(t, &audit)
		if len(audit.Data) != 2 || audit.Data[0]["target_type"] != "access_request" {
			t.Errorf("access_request.approved audit: %v", audit.Data)
		}
	})
}

// TestInvitationRaces: identical concurrent accepts end in one membership;
// an accept racing a revoke never ends with both succeeding.
func TestInvitationRaces(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")

		var inv invitation
		tn.invite(t, tn.ws.ID, "bob@example.com", "member", nil).Want(t, 201).JSON(t, &inv)
		bob, bobToken := env.NewUserWithToken("bob@example.com")
		statuses := make([]int, 8)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Go(func() { statuses[i] = accept(env, bobToken, map[string]any{"token": inv.Token}).Status })
		}
		wg.Wait()
		for i, s := range statuses {
			if s != 200 {
				t.Errorf("concurrent accept %d: %d", i, s)
			}
		}
		if m, ok := tn.members(t, tn.aliceToken)[bob.ID]; !ok || m.Role != "member" {
			t.Errorf("bob after concurrent accepts: %+v", m)
		}

		for i := range 10 {
			email := fmt.Sprintf("u%d@example.com", i)
			var inv invitation
			tn.invite(t, tn.ws.ID, email, "member", nil).Want(t, 201).JSON(t, &inv)
			u, token := env.NewUserWithToken(email)
			var accepted, revoked int
			var wg sync.WaitGroup
			wg.Go(func() { accepted = accept(env, token, map[string]any{"token": inv.Token}).Status })
			wg.Go(func() {
				revoked = env.Do(rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + tn.ws.ID + "/invitations/" + inv.ID, Token: tn.aliceToken}).Status
			})
			wg.Wait()
			_, member := tn.members(t, tn.aliceToken)[u.ID]
			switch {
			case accepted == 200 && revoked == 409 && member:
			case accepted == 410 && revoked == 204 && !member:
			default:
				t.Errorf("accept %d, revoke %d, member %v", accepted, revoked, member)
			}
		}
	})
}
