package httpapi_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// benchTenant is a workspace with members, and a context acting as the
// platform admin for calling the service directly.
func benchTenant(b *testing.B, backend rostertest.Backend, members int) (*rostertest.Env, context.Context, []roster.CheckRequest) {
	env := rostertest.NewEnv(b, backend)
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
	ctx := roster.WithActor(context.Background(), admin)
	for _, r := range reqs { // warm the index
		if d, err := env.Service.Check(ctx, r); err != nil || !d.Allowed {
			b.Fatalf("warm-up check: %+v %v", d, err)
		}
	}
	return env, ctx, reqs
}

// BenchmarkDecision is one check decided from the warm in-memory index.
func BenchmarkDecision(b *testing.B) {
	env, ctx, reqs := benchTenant(b, rostertest.SQLite, 100)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := env.Service.Check(ctx, reqs[i%len(reqs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
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
