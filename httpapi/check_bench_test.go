package httpapi_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/client"
	"github.com/roster-dev/roster/httpapi"
	"github.com/roster-dev/roster/internal/rostertest"
)

// benchTenant is a workspace with members, and a context acting as the
// platform admin for calling the service directly.
func benchTenant(b *testing.B, backend rostertest.Backend, members int, opts ...rostertest.Option) (*rostertest.Env, context.Context, []roster.CheckRequest) {
	env := rostertest.NewEnv(b, backend, opts...)
	tn := newTenant(b, env, "bench")
	var reqs []roster.CheckRequest
	for i := range members {
		u := env.CreateUser(map[string]any{"email": fmt.Sprintf("m%d@bench.example", i)})
		env.PutMember(tn.aliceToken, tn.ws.ID, u.ID, map[string]any{"role": "member"}).Want(b, 201)
		reqs = append(reqs, roster.CheckRequest{UserID: u.ID, Action: "resources.write", WorkspaceID: tn.ws.ID})
	}
	admin, err := env.Service.Authenticate(context.Background(), env.AdminToken, "")
	if err != nil {
		b.Fatal(err)
	}
	return env, roster.WithActor(context.Background(), admin), reqs
}

// BenchmarkDecision is one check decided from the warm in-memory index: on
// a workspace, and on a resource (by id and by the host application's id)
// that is shared with another workspace and with a guest.
//
// It runs on both backends: a replica answers from memory on either, so the
// figures should match.
func BenchmarkDecision(b *testing.B) {
	for _, backend := range rostertest.Backends {
		b.Run(string(backend), func(b *testing.B) {
			env, ctx, reqs := benchTenant(b, backend, 100)
			b.Run("workspace", func(b *testing.B) { benchChecks(b, env, ctx, reqs) })
			byID, byExternalID := benchResources(b, env, ctx, reqs)
			b.Run("resource", func(b *testing.B) { benchChecks(b, env, ctx, byID) })
			b.Run("resource_by_external_id", func(b *testing.B) { benchChecks(b, env, ctx, byExternalID) })
		})
	}
}

func benchChecks(b *testing.B, env *rostertest.Env, ctx context.Context, reqs []roster.CheckRequest) {
	for _, r := range reqs { // warm the index
		if d, err := env.Service.Check(ctx, r); err != nil || !d.Allowed {
			b.Fatalf("warm-up check: %+v %v", d, err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := env.Service.Check(ctx, reqs[i%len(reqs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// benchResources gives every member of the benchmark's workspace a
// resource there, shared with another workspace and a guest, and returns
// checks on them by id and by (type, external_id).
func benchResources(b *testing.B, env *rostertest.Env, ctx context.Context, reqs []roster.CheckRequest) (byID, byExternalID []roster.CheckRequest) {
	wsID := reqs[0].WorkspaceID
	other := newTenant(b, env, "other")
	guest := env.CreateUser(map[string]any{"email": "guest@bench.example"})
	for i, req := range reqs {
		res, err := env.Service.CreateResource(ctx, roster.NewResource{Type: "document", ExternalID: fmt.Sprint("doc-", i), Name: "Doc", WorkspaceID: wsID})
		if err != nil {
			b.Fatal(err)
		}
		for _, grantee := range []string{other.ws.ID, guest.ID} {
			if _, _, err := env.Service.PutShare(ctx, res.ID, grantee, string(roster.ShareViewer)); err != nil {
				b.Fatal(err)
			}
		}
		byID = append(byID, roster.CheckRequest{UserID: req.UserID, Action: req.Action, ResourceID: res.ID})
		byExternalID = append(byExternalID, roster.CheckRequest{UserID: req.UserID, Action: req.Action,
			Resource: &roster.ResourceRef{Type: res.Type, ExternalID: res.ExternalID}})
	}
	return byID, byExternalID
}

// BenchmarkCheckBatch1000 is a batch of 1,000 checks decided in the service.
func BenchmarkCheckBatch1000(b *testing.B) {
	env, ctx, reqs := benchTenant(b, rostertest.SQLite, 100)
	batch := make([]roster.CheckRequest, 1000)
	for i := range batch {
		batch[i] = reqs[i%len(reqs)]
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := env.Service.CheckBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClientCheck is a check's round trip through the Go client over
// loopback HTTP: serially, and from 8 goroutines.
func BenchmarkClientCheck(b *testing.B) {
	env, _, reqs := benchTenant(b, rostertest.SQLite, 100, rostertest.WithAPI(func(o *httpapi.Options) { o.QuietRequests = true }))
	rc, err := client.New(env.HTTP.URL, env.AdminToken)
	if err != nil {
		b.Fatal(err)
	}
	checks := make([]client.CheckRequest, len(reqs))
	for i, r := range reqs {
		checks[i] = client.CheckRequest{UserID: r.UserID, Action: r.Action, WorkspaceID: r.WorkspaceID}
	}
	check := func(i int) {
		if d, err := rc.Check(context.Background(), checks[i%len(checks)]); err != nil || !d.Allowed {
			b.Fatalf("%+v %v", d, err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		i := 0
		for b.Loop() {
			check(i)
			i++
		}
	})
	b.Run("parallel8", func(b *testing.B) {
		b.SetParallelism(4) // 4 × GOMAXPROCS (2 here) goroutines
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				check(i)
			}
		})
	})
}

// TestWarmDecisionsAllocateNothing: a check answered from the warm caches
// allocates nothing, on a workspace and on a resource. (The race detector
// adds allocations of its own: the test runs without it.)
func TestWarmDecisionsAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	env := rostertest.NewEnv(t, rostertest.SQLite)
	tn := newTenant(t, env, "acme")
	u := env.CreateUser(map[string]any{"email": "m@example.com"})
	env.PutMember(tn.aliceToken, tn.ws.ID, u.ID, map[string]any{"role": "member"}).Want(t, 201)
	admin, err := env.Service.Authenticate(context.Background(), env.AdminToken, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := roster.WithActor(context.Background(), admin)
	res, err := env.Service.CreateResource(ctx, roster.NewResource{Type: "document", ExternalID: "doc", Name: "Doc", WorkspaceID: tn.ws.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []roster.CheckRequest{
		{UserID: u.ID, Action: "resources.write", WorkspaceID: tn.ws.ID},
		{UserID: u.ID, Action: "resources.write", ResourceID: res.ID},
		{UserID: tn.alice.ID, Action: "resources.write", WorkspaceID: tn.ws.ID}, // the owner: a role derived from the organisation
	} {
		if d, err := env.Service.Check(ctx, req); err != nil || !d.Allowed {
			t.Fatalf("warm-up %+v: %+v %v", req, d, err)
		}
		if n := testing.AllocsPerRun(100, func() { env.Service.Check(ctx, req) }); n != 0 {
			t.Errorf("a warm check %+v allocates %.0f times, want 0", req, n)
		}
	}
}
