package httpapi_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/roster-dev/roster/internal/rostertest"
)

// concurrently runs fn(i) for i in [0, n) all at once and waits.
func concurrently(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

// TestConcurrentIdenticalAdds: 20 identical adds at once make one
// membership; one caller is told it was created, the others get that row.
func TestConcurrentIdenticalAdds(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		bob := env.CreateUser(map[string]any{"email": "bob@example.com"})
		statuses := make([]int, 20)
		joined := make([]string, 20)
		concurrently(20, func(i int) {
			res := env.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, map[string]any{"role": "member"})
			statuses[i] = res.Status
			joined[i], _ = res.Field("joined_at").(string)
		})
		created := 0
		for i, s := range statuses {
			switch s {
			case 201:
				created++
			case 200:
			default:
				t.Errorf("request %d: status %d", i, s)
			}
			if joined[i] != joined[0] {
				t.Errorf("request %d saw another membership (joined %s vs %s)", i, joined[i], joined[0])
			}
		}
		if created != 1 {
			t.Errorf("%d requests created the membership, want 1", created)
		}
		var audit struct{ Data []map[string]any }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit?action=membership.created&workspace_id=" + tn.ws.ID + "&limit=500", Token: env.AdminToken}).JSON(t, &audit)
		if len(audit.Data) != 2 { // alice's own, and bob's once
			t.Errorf("membership.created events: %d, want 2", len(audit.Data))
		}
		if role := tn.orgRole(t, bob.ID); role != "member" {
			t.Errorf("bob's org role %q", role)
		}
	})
}

// TestOwnersDemotingEachOther: two owners demoting each other at once never
// leave the workspace, or the organisation, without an owner.
func TestOwnersDemotingEachOther(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		for round := range 8 {
			tn := newTenant(t, env, fmt.Sprintf("round-%d", round))
			bob, bobToken := env.NewUserWithToken(fmt.Sprintf("bob%d@example.com", round))
			env.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, map[string]any{"role": "owner"}).Want(t, 201)
			env.PutOrgMember(tn.aliceToken, tn.org.ID, bob.ID, "owner").Want(t, 200)

			var wsStatus, orgStatus [2]int
			concurrently(2, func(i int) {
				token, target := tn.aliceToken, bob.ID
				if i == 1 {
					token, target = bobToken, tn.alice.ID
				}
				wsStatus[i] = env.PutMember(token, tn.ws.ID, target, map[string]any{"role": "member"}).Status
			})
			concurrently(2, func(i int) {
				token, target := tn.aliceToken, bob.ID
				if i == 1 {
					token, target = bobToken, tn.alice.ID
				}
				orgStatus[i] = env.PutOrgMember(token, tn.org.ID, target, "member").Status
			})
			owners := 0
			for _, m := range tn.members(t, env.AdminToken) {
				if m.Role == "owner" && !m.Derived {
					owners++
				}
			}
			orgOwners := 0
			for _, id := range []string{tn.alice.ID, bob.ID} {
				if tn.orgRole(t, id) == "owner" {
					orgOwners++
				}
			}
			if owners != 1 || orgOwners != 1 {
				t.Errorf("round %d: %d workspace owners, %d org owners, want 1 and 1 (statuses %v %v)", round, owners, orgOwners, wsStatus, orgStatus)
			}
			for _, pair := range [][2]int{wsStatus, orgStatus} {
				if !(pair[0] == 200 && pair[1] == 409 || pair[0] == 409 && pair[1] == 200) && !(pair[0] == 200 && pair[1] == 403 || pair[0] == 403 && pair[1] == 200) {
					t.Errorf("round %d: statuses %v, want one 200 and one refusal", round, pair)
				}
			}
		}
	})
}

// TestOrgRemovalRacingWorkspaceAdd: removing someone from the organisation
// while they are added to one of its workspaces leaves no membership behind
// without its organisation membership.
func TestOrgRemovalRacingWorkspaceAdd(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		for round := range 8 {
			bob := env.CreateUser(map[string]any{"email": fmt.Sprintf("bob%d@example.com", round)})
			env.PutOrgMember(tn.aliceToken, tn.org.ID, bob.ID, "member").Want(t, 201)
			concurrently(2, func(i int) {
				if i == 0 {
					env.Do(rostertest.Req{Method: "DELETE", Path: "/v1/orgs/" + tn.org.ID + "/members/" + bob.ID, Token: tn.aliceToken})
				} else {
					env.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, map[string]any{"role": "member"})
				}
			})
			_, inWorkspace := tn.members(t, tn.aliceToken)[bob.ID]
			inOrg := tn.orgRole(t, bob.ID) != ""
			if inWorkspace && !inOrg {
				t.Errorf("round %d: bob is a workspace member without an organisation membership", round)
			}
		}
	})
}

// TestManyConcurrentWriters: 64 membership writers at once all succeed and
// every write is there afterwards (no "database is locked" on SQLite).
func TestManyConcurrentWriters(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		users := make([]string, 64)
		for i := range users {
			users[i] = env.CreateUser(map[string]any{"email": fmt.Sprintf("w%d@example.com", i)}).ID
		}
		statuses := make([]int, len(users))
		concurrently(len(users), func(i int) {
			statuses[i] = env.PutMember(tn.aliceToken, tn.ws.ID, users[i], map[string]any{"role": "member"}).Status
		})
		for i, s := range statuses {
			if s != 201 {
				t.Errorf("writer %d: status %d", i, s)
			}
		}
		ms := tn.members(t, tn.aliceToken)
		for _, id := range users {
			if ms[id].Role != "member" {
				t.Errorf("membership of %s lost", id)
			}
		}
	})
}
