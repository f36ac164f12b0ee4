package httpapi_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

type seatCounts struct {
	Used      int            `json:"used"`
	Pending   int            `json:"pending"`
	Cap       *int           `json:"cap"`
	Available *int           `json:"available"`
	FreeRoles []string       `json:"free_roles"`
	Breakdown map[string]int `json:"breakdown"`
}

func (tn tenant) seats(t *testing.T) seatCounts {
	t.Helper()
	var s seatCounts
	tn.env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/orgs/" + tn.org.ID + "/seats", Token: tn.aliceToken}).JSON(t, &s)
	return s
}

func (tn tenant) wantUsed(t *testing.T, step string, used int) {
	t.Helper()
	if s := tn.seats(t); s.Used != used {
		t.Errorf("%s: %d seats used (%v), want %d", step, s.Used, s.Breakdown, used)
	}
}

func (tn tenant) setPlan(t *testing.T, plan map[string]any) {
	t.Helper()
	tn.env.Expect(200, rostertest.Req{Method: "PUT", Path: "/v1/orgs/" + tn.org.ID + "/plan", Token: tn.env.AdminToken, Body: plan})
}

func TestSeatCounting(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		second := env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: tn.aliceToken,
			Body: map[string]any{"org_id": tn.org.ID, "name": "two", "slug": "two"}}).Map(t)["id"].(string)
		user := func(name string) string { return env.CreateUser(map[string]any{"email": name + "@example.com"}).ID }
		s := tn.seats(t)
		if s.Used != 1 || s.Breakdown["owner"] != 1 || s.Cap != nil || s.Available != nil || fmt.Sprint(s.FreeRoles) != "[viewer]" {
			t.Fatalf("a new organisation: %+v", s)
		}

		bob := user("bob")
		env.PutMember(tn.aliceToken, tn.ws.ID, bob, map[string]any{"role": "member"}).Want(t, 201)
		tn.wantUsed(t, "a member", 2)
		env.PutMember(tn.aliceToken, second, bob, map[string]any{"role": "admin"}).Want(t, 201)
		tn.wantUsed(t, "the same member in a second workspace", 2)

		carol := user("carol")
		env.PutMember(tn.aliceToken, tn.ws.ID, carol, map[string]any{"role": "viewer"}).Want(t, 201)
		tn.wantUsed(t, "an outside viewer is free", 2)

		dave := user("dave")
		env.PutMember(tn.aliceToken, second, dave, map[string]any{"role": "external"}).Want(t, 201)
		tn.wantUsed(t, "an external is paid", 3)

		erin := user("erin")
		env.PutOrgMember(tn.aliceToken, tn.org.ID, erin, "member").Want(t, 201)
		env.PutMember(tn.aliceToken, tn.ws.ID, erin, map[string]any{"role": "viewer"}).Want(t, 201)
		tn.wantUsed(t, "an org member who is a viewer counts once", 4)

		frank := user("frank")
		env.PutOrgMember(tn.aliceToken, tn.org.ID, frank, "billing").Want(t, 201)
		if s := tn.seats(t); s.Used != 5 || s.Breakdown["billing"] != 1 || s.Breakdown["admin"] != 1 || s.Breakdown["member"] != 1 || s.Breakdown["external"] != 1 {
			t.Errorf("breakdown: %+v", s)
		}

		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + bob, Token: env.AdminToken, Body: map[string]any{"status": "suspended"}})
		tn.wantUsed(t, "a suspended user holds no seat", 4)
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + bob, Token: env.AdminToken, Body: map[string]any{"status": "active"}})
		tn.wantUsed(t, "reactivated", 5)

		env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + second + "/archive", Token: tn.aliceToken})
		tn.wantUsed(t, "the external's only workspace archived", 4)
		env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + second + "/unarchive", Token: tn.aliceToken})
		tn.wantUsed(t, "unarchived", 5)

		tn.setPlan(t, map[string]any{"seat_cap": nil, "owner_seat_free": true})
		tn.wantUsed(t, "one owner free", 4)
		env.PutOrgMember(tn.aliceToken, tn.org.ID, erin, "owner").Want(t, 200)
		tn.wantUsed(t, "two owners, one free", 4)
		tn.setPlan(t, map[string]any{"seat_cap": nil, "free_roles": []string{"viewer", "external"}})
		tn.wantUsed(t, "externals made free, no owner free", 4)
		tn.setPlan(t, map[string]any{"seat_cap": nil})
		tn.wantUsed(t, "default plan", 5)

		// An expiring seat stops counting when it expires, with no write.
		gus := user("gus")
		until := env.Clock.Now().Add(time.Hour).Format(time.RFC3339)
		env.PutMember(tn.aliceToken, tn.ws.ID, gus, map[string]any{"role": "external", "expires_at": until}).Want(t, 201)
		tn.wantUsed(t, "an expiring external", 6)
		env.Clock.Advance(time.Hour)
		tn.wantUsed(t, "after the expiry", 5)

		// Leaving the organisation frees the seat.
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/orgs/" + tn.org.ID + "/members/" + bob, Token: tn.aliceToken})
		tn.wantUsed(t, "bob left", 4)

		var audit struct{ Data []map[string]any }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit?action=seats.changed&org_id=" + tn.org.ID + "&limit=1", Token: env.AdminToken}).JSON(t, &audit)
		if len(audit.Data) != 1 || audit.Data[0]["before"].(map[string]any)["used"] != float64(5) || audit.Data[0]["after"].(map[string]any)["used"] != float64(4) {
			t.Errorf("seat change audit: %v", audit.Data)
		}

		// Who may read seats: owners, admins, billing; not members.
		_, memberToken := env.NewUserWithToken("member@example.com")
		env.Expect(201, rostertest.Req{Method: "PUT", Path: "/v1/orgs/" + tn.org.ID + "/members/" + env.Me(memberToken).ID, Token: tn.aliceToken, Body: map[string]any{"role": "member"}})
		env.Expect(403, rostertest.Req{Method: "GET", Path: "/v1/orgs/" + tn.org.ID + "/seats", Token: memberToken})
		env.Expect(403, rostertest.Req{Method: "PUT", Path: "/v1/orgs/" + tn.org.ID + "/plan", Token: tn.aliceToken, Body: map[string]any{"seat_cap": 100}})
		env.Expect(400, rostertest.Req{Method: "PUT", Path: "/v1/orgs/" + tn.org.ID + "/plan", Token: env.AdminToken, Body: map[string]any{"seat_cap": -1}})
		env.Expect(400, rostertest.Req{Method: "PUT", Path: "/v1/orgs/" + tn.org.ID + "/plan", Token: env.AdminToken, Body: map[string]any{"seat_cap": 1, "free_roles": []string{"guru"}}})
	})
}

// TestSeatRecheck: when a membership behind a seat expires, the used count
// is right at once, and recomputing the seat accounts it to the role its
// holder still has without counting anything twice.
func TestSeatRecheck(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		recheck := func(want int) {
			t.Helper()
			if n, err := env.Service.RecheckSeats(rostertest.System()); err != nil || n != want {
				t.Fatalf("recheck: %d seats, %v; want %d", n, err, want)
			}
		}
		soon := env.Clock.Now().Add(time.Hour).Format(time.RFC3339)
		later := env.Clock.Now().Add(2 * time.Hour).Format(time.RFC3339)
		hank := env.CreateUser(map[string]any{"email": "hank@example.com"}).ID
		env.PutOrgMember(tn.aliceToken, tn.org.ID, hank, "member").Want(t, 201)
		env.PutMember(tn.aliceToken, tn.ws.ID, hank, map[string]any{"role": "admin", "expires_at": soon}).Want(t, 201)
		ivy := env.CreateUser(map[string]any{"email": "ivy@example.com"}).ID
		env.PutMember(tn.aliceToken, tn.ws.ID, ivy, map[string]any{"role": "external", "expires_at": soon}).Want(t, 201)
		jo := env.CreateUser(map[string]any{"email": "jo@example.com"}).ID
		env.PutMember(tn.aliceToken, tn.ws.ID, jo, map[string]any{"role": "external", "expires_at": later}).Want(t, 201)
		if s := tn.seats(t); s.Used != 4 || s.Breakdown["admin"] != 1 || s.Breakdown["external"] != 2 {
			t.Fatalf("before any expiry: %+v", s)
		}
		recheck(0)

		env.Clock.Advance(time.Hour)
		tn.wantUsed(t, "ivy's seat expired, not yet recomputed", 3)
		recheck(2) // hank and ivy
		if s := tn.seats(t); s.Used != 3 || s.Breakdown["admin"] != 0 || s.Breakdown["member"] != 1 || s.Breakdown["external"] != 1 {
			t.Errorf("after recomputing: %+v", s)
		}
		recheck(0)

		env.PutMember(tn.aliceToken, tn.ws.ID, ivy, map[string]any{"role": "external", "expires_at": later}).Want(t, 201) // a new membership: the old one ended
		tn.wantUsed(t, "ivy renewed", 4)
		env.Clock.Advance(time.Hour)
		tn.wantUsed(t, "ivy and jo expired", 2)
		recheck(2)
		tn.wantUsed(t, "ivy and jo recomputed", 2)
	})
}

func TestSeatCap(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		bob := env.CreateUser(map[string]any{"email": "bob@example.com"}).ID
		carol := env.CreateUser(map[string]any{"email": "carol@example.com"}).ID
		env.PutMember(tn.aliceToken, tn.ws.ID, bob, map[string]any{"role": "member"}).Want(t, 201)
		tn.setPlan(t, map[string]any{"seat_cap": 2})
		if s := tn.seats(t); s.Used != 2 || *s.Cap != 2 || *s.Available != 0 {
			t.Errorf("at the cap: %+v", s)
		}
		res := env.PutMember(tn.aliceToken, tn.ws.ID, carol, map[string]any{"role": "member"})
		p := res.Map(t)
		if res.Status != 402 || p["code"] != roster.CodeSeatCapReached || p["used"] != float64(2) || p["pending"] != float64(0) || p["cap"] != float64(2) {
			t.Errorf("over the cap: %d %s", res.Status, res.Body)
		}
		if _, ok := tn.members(t, tn.aliceToken)[carol]; ok {
			t.Error("the refused member was added anyway")
		}
		env.PutOrgMember(tn.aliceToken, tn.org.ID, carol, "billing").Want(t, 402)
		// Free roles, role changes between paid roles and repeats never hit the cap.
		env.PutMember(tn.aliceToken, tn.ws.ID, carol, map[string]any{"role": "viewer"}).Want(t, 201)
		env.PutMember(tn.aliceToken, tn.ws.ID, bob, map[string]any{"role": "admin"}).Want(t, 200)
		env.PutMember(tn.aliceToken, tn.ws.ID, bob, map[string]any{"role": "admin"}).Want(t, 200)
		tn.wantUsed(t, "unchanged", 2)
		// Promoting the free viewer to a paid role takes a new seat.
		env.PutMember(tn.aliceToken, tn.ws.ID, carol, map[string]any{"role": "member"}).Want(t, 402)
	})
}

// TestSeatCapRace: with one seat left, concurrent adds of different people
// end with exactly one success; the rest are 402. A count-then-insert
// implementation fails this on PostgreSQL.
func TestSeatCapRace(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		for round := range 3 {
			tn := newTenant(t, env, fmt.Sprintf("race-%d", round))
			tn.setPlan(t, map[string]any{"seat_cap": 2}) // alice holds one
			users := make([]string, 8)
			for i := range users {
				users[i] = env.CreateUser(map[string]any{"email": fmt.Sprintf("r%d-%d@example.com", round, i)}).ID
			}
			statuses := make([]int, len(users))
			roles := []string{"member", "admin", "external"} // different counters: only the organisation lock orders them
			concurrently(len(users), func(i int) {
				statuses[i] = env.PutMember(tn.aliceToken, tn.ws.ID, users[i], map[string]any{"role": roles[i%len(roles)]}).Status
			})
			won := 0
			for _, s := range statuses {
				switch s {
				case 201:
					won++
				case 402:
				default:
					t.Errorf("round %d: status %d", round, s)
				}
			}
			if won != 1 {
				t.Errorf("round %d: %d adds succeeded with one seat left (%v)", round, won, statuses)
			}
			tn.wantUsed(t, fmt.Sprintf("round %d", round), 2)
		}
	})
}

// TestSeatCapRaceOnAccept: with one seat left, 8 people accepting their
// invitations at once end with one membership and seven 402s.
func TestSeatCapRaceOnAccept(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		tokens, secrets := make([]string, 8), make([]string, 8)
		for i := range tokens {
			email := fmt.Sprintf("a%d@example.com", i)
			var inv invitation
			tn.invite(t, tn.ws.ID, email, []string{"member", "admin", "external"}[i%3], nil).Want(t, 201).JSON(t, &inv)
			_, tokens[i] = env.NewUserWithToken(email)
			secrets[i] = inv.Token
		}
		tn.setPlan(t, map[string]any{"seat_cap": 2}) // alice holds one
		statuses := make([]int, len(tokens))
		concurrently(len(tokens), func(i int) {
			statuses[i] = accept(env, tokens[i], map[string]any{"token": secrets[i]}).Status
		})
		won := 0
		for _, s := range statuses {
			switch s {
			case 200:
				won++
			case 402:
			default:
				t.Errorf("status %d", s)
			}
		}
		if won != 1 {
			t.Errorf("%d accepts succeeded with one seat left (%v)", won, statuses)
		}
		tn.wantUsed(t, "after the race", 2)
	})
}

// TestSeatChangeAuditAroundAnExpiredSeat: the counts before and after a
// change, as audited, are right when the user's seat had already expired
// but was not yet recomputed.
func TestSeatChangeAuditAroundAnExpiredSeat(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		bob := env.CreateUser(map[string]any{"email": "bob@outside.example"}).ID
		until := env.Clock.Now().Add(time.Hour).Format(time.RFC3339)
		env.PutMember(tn.aliceToken, tn.ws.ID, bob, map[string]any{"role": "external", "expires_at": until}).Want(t, 201)
		tn.wantUsed(t, "an expiring external", 2)
		env.Clock.Advance(2 * time.Hour)
		tn.wantUsed(t, "the external's seat expired", 1)

		env.PutOrgMember(tn.aliceToken, tn.org.ID, bob, "member").Want(t, 201)
		tn.wantUsed(t, "bob joined the organisation", 2)
		var audit struct{ Data []map[string]any }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit?action=seats.changed&org_id=" + tn.org.ID + "&limit=1", Token: env.AdminToken}).JSON(t, &audit)
		if len(audit.Data) != 1 {
			t.Fatalf("seat change audit: %v", audit.Data)
		}
		before, after := audit.Data[0]["before"].(map[string]any), audit.Data[0]["after"].(map[string]any)
		if before["used"] != float64(1) || after["used"] != float64(2) ||
			fmt.Sprint(before["breakdown"]) != "map[owner:1]" || fmt.Sprint(after["breakdown"]) != "map[member:1 owner:1]" {
			t.Errorf("audited seats before %v, after %v", before, after)
		}
	})
}
