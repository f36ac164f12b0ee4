package httpapi_test

import (
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/rostertest"
)

// waitForStatus polls until the replica answers GET /v1/me with want, and
// returns how long that took. The bound is generous for a loaded machine;
// the contract (one second) is measured, and logged, not asserted here.
func waitForStatus(t *testing.T, env *rostertest.Env, token string, want int) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 10*time.Second {
		if env.Do(rostertest.Req{Method: "GET", Path: "/v1/me", Token: token}).Status == want {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("replica still does not answer %d after 10 s", want)
	return 0
}

// TestInvalidationReachesOtherReplicas runs two replicas on one PostgreSQL
// database: a revocation or suspension on one is honoured by the other,
// whose cache held the token, well within the cache's own lifetime.
func TestInvalidationReachesOtherReplicas(t *testing.T) {
	t.Parallel()
	a := rostertest.NewEnv(t, rostertest.Postgres)
	b := rostertest.NewReplica(t, rostertest.Postgres, a.DSN, a.Clock)
	ann, annToken := a.NewUserWithToken("ann@example.com")
	tok := a.IssueToken(ann.ID, nil)

	b.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/me", Token: tok.Token}) // cached on b
	a.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/me/tokens/" + tok.ID, Token: annToken})
	t.Logf("revocation reached the other replica after %v", waitForStatus(t, b, tok.Token, 401))

	b.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/me", Token: annToken}) // cached on b
	a.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + ann.ID, Token: a.AdminToken, Body: map[string]any{"status": "suspended"}})
	t.Logf("suspension reached the other replica after %v", waitForStatus(t, b, annToken, 401))

	a.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + ann.ID, Token: a.AdminToken, Body: map[string]any{"status": "active"}})
	t.Logf("reactivation reached the other replica after %v", waitForStatus(t, b, annToken, 200))
}

// TestMembershipChangesReachOtherReplicas: a removal on one replica is seen
// by the other's warm check index.
func TestMembershipChangesReachOtherReplicas(t *testing.T) {
	t.Parallel()
	a := rostertest.NewEnv(t, rostertest.Postgres)
	b := rostertest.NewReplica(t, rostertest.Postgres, a.DSN, a.Clock)
	b.AdminToken = a.AdminToken
	tn := newTenant(t, a, "acme")
	bob := a.CreateUser(map[string]any{"email": "bob@example.com"})
	a.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, map[string]any{"role": "member"}).Want(t, 201)
	if !b.Check(bob.ID, "resources.write", tn.ws.ID).Allowed { // warm on b
		t.Fatal("bob cannot write on replica b")
	}
	bobMay := func() bool { return b.Check(bob.ID, "resources.write", tn.ws.ID).Allowed }
	a.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + tn.ws.ID + "/members/" + bob.ID, Token: tn.aliceToken})
	t.Logf("membership removal reached the other replica after %v", waitUntil(t, "replica b denies the removed member", func() bool { return !bobMay() }))

	// Archiving is seen too.
	a.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, map[string]any{"role": "member"}).Want(t, 201)
	waitUntil(t, "replica b allows the re-added member", bobMay)
	a.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + tn.ws.ID + "/archive", Token: tn.aliceToken})
	t.Logf("archiving reached the other replica after %v", waitUntil(t, "replica b denies in an archived workspace", func() bool { return !bobMay() }))

	// So is deleting a workspace, and deleting a user ends their tokens there.
	var second rostertest.Workspace
	a.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: tn.aliceToken,
		Body: map[string]any{"org_id": tn.org.ID, "name": "Second", "slug": "second"}}).JSON(t, &second)
	a.PutMember(tn.aliceToken, second.ID, bob.ID, map[string]any{"role": "member"}).Want(t, 201)
	waitUntil(t, "replica b allows bob in the second workspace", func() bool { // and warms its cache
		return b.Check(bob.ID, "resources.write", second.ID).Allowed
	})
	a.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + second.ID, Token: tn.aliceToken})
	t.Logf("workspace deletion reached the other replica after %v", waitUntil(t, "replica b answers 404 for a deleted workspace", func() bool {
		return b.Do(rostertest.Req{Method: "POST", Path: "/v1/check", Token: b.AdminToken,
			Body: map[string]any{"user_id": bob.ID, "action": "resources.write", "workspace_id": second.ID}}).Status == 404
	}))
	bobToken := a.IssueToken(bob.ID, nil).Token
	b.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/me", Token: bobToken}) // cached on b
	a.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/users/" + bob.ID, Token: a.AdminToken})
	t.Logf("user deletion reached the other replica after %v", waitForStatus(t, b, bobToken, 401))
}

// waitUntil polls cond until it holds and returns how long that took; the
// ten-second bound is generous for a loaded machine (the contract, one
// second, is measured and logged, not asserted here).
func waitUntil(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("after 10 s, still not: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// TestOrgDeletionReachesOtherReplicas: deleting an organisation on one
// replica ends, on the other, the access its members had through it.
func TestOrgDeletionReachesOtherReplicas(t *testing.T) {
	t.Parallel()
	a := rostertest.NewEnv(t, rostertest.Postgres)
	b := rostertest.NewReplica(t, rostertest.Postgres, a.DSN, a.Clock)
	b.AdminToken = a.AdminToken
	tn := newTenant(t, a, "acme")
	other := newTenant(t, a, "other")
	bob := a.CreateUser(map[string]any{"email": "bob@example.com"})
	a.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, map[string]any{"role": "member"}).Want(t, 201)
	if !b.Check(bob.ID, "resources.write", tn.ws.ID).Allowed || !b.Check(other.alice.ID, "resources.write", other.ws.ID).Allowed { // warm on b
		t.Fatal("not allowed on replica b before the deletion")
	}
	a.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/orgs/" + tn.org.ID, Token: tn.aliceToken})
	took := waitUntil(t, "replica b answers 404 for a deleted organisation's workspace", func() bool {
		return b.Do(rostertest.Req{Method: "POST", Path: "/v1/check", Token: b.AdminToken,
			Body: map[string]any{"user_id": bob.ID, "action": "resources.write", "workspace_id": tn.ws.ID}}).Status == 404
	})
	t.Logf("the deletion reached the other replica after %v", took)
	if !b.Check(other.alice.ID, "resources.write", other.ws.ID).Allowed {
		t.Error("another organisation's owner lost access")
	}
}

// TestResourceChangesReachOtherReplicas: shares, guests, transfers and
// deletions of resources (and of the workspaces that own them) made on one
// replica are seen by checks on another, which keeps resources and their
// shares in memory.
func TestResourceChangesReachOtherReplicas(t *testing.T) {
	t.Parallel()
	a := rostertest.NewEnv(t, rostertest.Postgres)
	b := rostertest.NewReplica(t, rostertest.Postgres, a.DSN, a.Clock)
	b.AdminToken = a.AdminToken
	acme := newTenant(t, a, "acme")
	doc := newResource(t, a, acme.aliceToken, acme.ws.ID, "doc")
	byID := map[string]any{"resource_id": doc.ID}
	mayOnB := func(userID, action string, target map[string]any) func() bool {
		return func() bool { return resourceCheck(t, b, userID, action, target).Allowed }
	}
	not := func(f func() bool) func() bool { return func() bool { return !f() } }
	share := func(grantee, role string) {
		res := a.Do(rostertest.Req{Method: "PUT", Path: "/v1/resources/" + doc.ID + "/shares/" + grantee, Token: acme.aliceToken, Body: map[string]any{"role": role}})
		if res.Status != 200 && res.Status != 201 {
			t.Fatalf("sharing with %s: %d %s", grantee, res.Status, res.Body)
		}
	}
	unshare := func(grantee string) {
		a.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/resources/" + doc.ID + "/shares/" + grantee, Token: acme.aliceToken})
	}

	// A share to another workspace, and its removal.
	second := rostertest.Workspace{}
	a.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: acme.aliceToken,
		Body: map[string]any{"org_id": acme.org.ID, "name": "Second", "slug": "second"}}).JSON(t, &second)
	bob := a.CreateUser(map[string]any{"email": "bob@example.com"})
	a.PutMember(acme.aliceToken, second.ID, bob.ID, map[string]any{"role": "member"}).Want(t, 201)
	bobReads, bobWrites := mayOnB(bob.ID, "resources.read", byID), mayOnB(bob.ID, "resources.write", byID)
	if bobReads() { // warms b: the resource, with no shares
		t.Fatal("bob reads before any share")
	}
	share(second.ID, "viewer")
	t.Logf("a share reached the other replica after %v", waitUntil(t, "bob reads the shared resource on b", bobReads))
	unshare(second.ID)
	waitUntil(t, "bob no longer reads on b", not(bobReads))

	// A guest, whose role then changes.
	guest := a.CreateUser(map[string]any{"email": "guest@example.com"})
	guestWrites := mayOnB(guest.ID, "resources.write", byID)
	share(guest.ID, "editor")
	waitUntil(t, "the guest writes on b", guestWrites)
	share(guest.ID, "viewer")
	waitUntil(t, "the guest viewer no longer writes on b", not(guestWrites))

	// A transfer to the workspace bob is in.
	a.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/resources/" + doc.ID + "/transfer", Token: acme.aliceToken, Body: map[string]any{"to_workspace_id": second.ID}})
	waitUntil(t, "bob writes the transferred resource on b", bobWrites)

	// A deleted resource, and its external id taken again elsewhere: the
	// lookup by (type, external_id) follows.
	byExternal := map[string]any{"resource": map[string]any{"type": "document", "external_id": "doc"}}
	bobWritesByExternal := mayOnB(bob.ID, "resources.write", byExternal)
	if !bobWritesByExternal() {
		t.Fatal("bob does not write by external id")
	}
	a.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/resources/" + doc.ID, Token: acme.aliceToken})
	deleted := func() bool {
		return b.Do(rostertest.Req{Method: "POST", Path: "/v1/check", Token: b.AdminToken,
			Body: map[string]any{"user_id": bob.ID, "action": "resources.read", "resource_id": doc.ID}}).Status == 404
	}
	waitUntil(t, "b answers 404 for the deleted resource", deleted)
	newResource(t, a, acme.aliceToken, acme.ws.ID, "doc") // bob is not in acme.ws
	waitUntil(t, "b finds the new resource by external id", not(bobWritesByExternal))

	// A deleted workspace takes its resources, on b too.
	third := rostertest.Workspace{}
	a.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: acme.aliceToken,
		Body: map[string]any{"org_id": acme.org.ID, "name": "Third", "slug": "third"}}).JSON(t, &third)
	a.PutMember(acme.aliceToken, third.ID, bob.ID, map[string]any{"role": "member"}).Want(t, 201)
	newResource(t, a, acme.aliceToken, third.ID, "plan")
	planByExternal := map[string]any{"resource": map[string]any{"type": "document", "external_id": "plan"}}
	waitUntil(t, "bob writes the third workspace's resource on b", mayOnB(bob.ID, "resources.write", planByExternal))
	a.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + third.ID, Token: acme.aliceToken})
	newResource(t, a, acme.aliceToken, second.ID, "plan")
	waitUntil(t, "b finds the resource that took the deleted one's external id", mayOnB(bob.ID, "resources.write", planByExternal))
}
