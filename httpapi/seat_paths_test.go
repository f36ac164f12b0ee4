package httpapi_test

import (
	"fmt"
	"testing"

	"github.com/roster-dev/roster/internal/rostertest"
)

// lastSeatAudit returns the before and after of the organisation's latest
// seats.changed audit event.
func (tn tenant) lastSeatAudit(t *testing.T) (before, after map[string]any) {
	t.Helper()
	var audit struct{ Data []map[string]any }
	tn.env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit?action=seats.changed&org_id=" + tn.org.ID + "&limit=1", Token: tn.env.AdminToken}).JSON(t, &audit)
	if len(audit.Data) != 1 {
		t.Fatalf("no seats.changed audit event")
	}
	before, _ = audit.Data[0]["before"].(map[string]any)
	after, _ = audit.Data[0]["after"].(map[string]any)
	return before, after
}

// TestSeatWritePaths: every write that can give or take a seat keeps the
// count exact.
func TestSeatWritePaths(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		second := env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: tn.aliceToken,
			Body: map[string]any{"org_id": tn.org.ID, "name": "two", "slug": "two"}}).Map(t)["id"].(string)
		user := func(email string) string { return env.CreateUser(map[string]any{"email": email}).ID }
		ext := user("ext@example.com")
		env.PutMember(tn.aliceToken, tn.ws.ID, ext, map[string]any{"role": "external"}).Want(t, 201)
		tn.wantUsed(t, "an external", 2)
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + tn.ws.ID + "/members/" + ext, Token: tn.aliceToken})
		tn.wantUsed(t, "the external removed", 1)

		env.PutMember(tn.aliceToken, second, ext, map[string]any{"role": "external"}).Want(t, 201)
		tn.wantUsed(t, "an external in the second workspace", 2)
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + second, Token: tn.aliceToken})
		tn.wantUsed(t, "their only workspace deleted", 1)

		// An external who joins the organisation is accounted as a member.
		env.PutMember(tn.aliceToken, tn.ws.ID, ext, map[string]any{"role": "external"}).Want(t, 201)
		env.PutOrgMember(tn.aliceToken, tn.org.ID, ext, "member").Want(t, 201)
		if s := tn.seats(t); s.Used != 2 || s.Breakdown["external"] != 0 || s.Breakdown["member"] != 1 {
			t.Errorf("an external promoted: %+v", s)
		}

		// Deactivated or deleted users hold no seat.
		gone := user("gone@example.com")
		env.PutMember(tn.aliceToken, tn.ws.ID, gone, map[string]any{"role": "member"}).Want(t, 201)
		tn.wantUsed(t, "another member", 3)
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + gone, Token: env.AdminToken, Body: map[string]any{"status": "deactivated"}})
		tn.wantUsed(t, "deactivated", 2)
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/users/" + ext, Token: env.AdminToken})
		tn.wantUsed(t, "a member deleted", 1)

		// Bootstrapping a suspended user as admin reactivates them: their
		// seat counts again.
		boss := user("boss@example.com")
		env.PutOrgMember(tn.aliceToken, tn.org.ID, boss, "member").Want(t, 201)
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + boss, Token: env.AdminToken, Body: map[string]any{"status": "suspended"}})
		tn.wantUsed(t, "suspended", 1)
		if _, _, err := env.Service.EnsureAdmin(rostertest.System(), "boss@example.com"); err != nil {
			t.Fatal(err)
		}
		tn.wantUsed(t, "reactivated by bootstrap", 2)

		// Over the cap, a change between paid roles still goes through.
		tn.setPlan(t, map[string]any{"seat_cap": 1})
		env.PutOrgMember(tn.aliceToken, tn.org.ID, boss, "admin").Want(t, 200)
		tn.wantUsed(t, "promoted over the cap", 2)

		// A plan change that only frees the owner's seat is audited with
		// the counts under each plan.
		tn.setPlan(t, map[string]any{"seat_cap": nil, "owner_seat_free": true})
		tn.wantUsed(t, "one owner free", 1)
		if before, after := tn.lastSeatAudit(t); before["used"] != float64(2) || after["used"] != float64(1) {
			t.Errorf("plan change audit: before %v, after %v", before, after)
		}
		tn.setPlan(t, map[string]any{"seat_cap": nil})

		// Revoked invitations are not pending; an approved request takes a seat.
		var inv invitation
		tn.invite(t, tn.ws.ID, "invitee@example.com", "member", nil).Want(t, 201).JSON(t, &inv)
		if s := tn.seats(t); s.Pending != 1 {
			t.Errorf("an invitation: %+v", s)
		}
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + tn.ws.ID + "/invitations/" + inv.ID, Token: tn.aliceToken})
		if s := tn.seats(t); s.Pending != 0 {
			t.Errorf("a revoked invitation: %+v", s)
		}
		_, askerToken := env.NewUserWithToken("asker@example.com")
		path := "/v1/workspaces/" + tn.ws.ID + "/access-requests"
		id := env.Expect(201, rostertest.Req{Method: "POST", Path: path, Token: askerToken, Body: map[string]any{}}).Map(t)["id"].(string)
		env.Expect(200, rostertest.Req{Method: "POST", Path: path + "/" + id + "/approve", Token: tn.aliceToken, Body: map[string]any{"role": "external"}})
		tn.wantUsed(t, "an approved request", 3)
	})
}

// TestSeatRaceWithUserStatus: reactivating a user while they are removed
// from the organisation never leaves a seat without a membership (the seat
// is recounted under the organisation's lock).
func TestSeatRaceWithUserStatus(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		for i := range 10 {
			bob := env.CreateUser(map[string]any{"email": fmt.Sprintf("bob%d@example.com", i)}).ID
			env.PutOrgMember(tn.aliceToken, tn.org.ID, bob, "member").Want(t, 201)
			env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + bob, Token: env.AdminToken, Body: map[string]any{"status": "suspended"}})
			concurrently(2, func(i int) {
				if i == 0 {
					env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + bob, Token: env.AdminToken, Body: map[string]any{"status": "active"}})
				} else {
					env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/orgs/" + tn.org.ID + "/members/" + bob, Token: tn.aliceToken})
				}
			})
			tn.wantUsed(t, "after reactivation racing removal", 1)
		}
		// Racing the deletion of the whole organisation, the reactivation
		// still succeeds: the gone organisation's seats need no settling.
		for i := range 5 {
			other := newTenant(t, env, fmt.Sprintf("gone-%d", i))
			carl := env.CreateUser(map[string]any{"email": fmt.Sprintf("carl%d@example.com", i)}).ID
			env.PutOrgMember(other.aliceToken, other.org.ID, carl, "member").Want(t, 201)
			env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + carl, Token: env.AdminToken, Body: map[string]any{"status": "suspended"}})
			concurrently(2, func(i int) {
				if i == 0 {
					env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + carl, Token: env.AdminToken, Body: map[string]any{"status": "active"}})
				} else {
					env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/orgs/" + other.org.ID, Token: other.aliceToken})
				}
			})
		}
	})
}
