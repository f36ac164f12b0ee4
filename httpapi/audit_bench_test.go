package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// benchAuditEvents is how many events BenchmarkAudit seeds:
// ROSTER_BENCH_AUDIT_EVENTS, default 1,000,000.
func benchAuditEvents(b *testing.B) int {
	if v := os.Getenv("ROSTER_BENCH_AUDIT_EVENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	return 1_000_000
}

// seedAudit writes n events straight through the store (a fixture): 1,000
// organisations of 10 workspaces, 1,000 actors, a second apart; the sealer
// then chains them.
func seedAudit(b *testing.B, env *rostertest.Env, n int) (org, ws, actor string, at time.Time) {
	ctx := context.Background()
	orgs, actors := make([]string, 1000), make([]string, 1000)
	wss := make([]string, 10_000)
	for i := range orgs {
		orgs[i], actors[i] = roster.NewID(roster.PrefixOrg), roster.NewID(roster.PrefixUser)
	}
	for i := range wss {
		wss[i] = roster.NewID(roster.PrefixWorkspace)
	}
	actions := []string{roster.ActionMemberCreated, roster.ActionMemberUpdated, roster.ActionMemberDeleted, roster.ActionSeatsChanged, roster.ActionInvitationCreated}
	start := env.Clock.Now().Add(-time.Duration(n) * time.Second)
	after := []byte(`{"id":"mbr_x","role":"member","source":"direct","user_id":"usr_x","expires_at":null}`)
	const batch = 500
	for i := 0; i < n; i += batch {
		events := make([]roster.AuditEvent, 0, batch)
		for j := i; j < min(n, i+batch); j++ {
			w := j % len(wss)
			o := orgs[w/10]
			a := actors[j%len(actors)]
			events = append(events, roster.AuditEvent{ID: roster.NewID(roster.PrefixAudit), At: start.Add(time.Duration(j) * time.Second),
				ActorUserID: &a, Via: roster.ViaUser, Action: actions[j%len(actions)], TargetType: roster.TargetMembership,
				TargetID: "mbr_x", OrgID: &o, WorkspaceID: &wss[w], After: after, RequestID: "req", IP: "127.0.0.1"})
		}
		if err := env.DB.Update(ctx, func(tx roster.Tx) error { return tx.InsertAudit(ctx, events...) }); err != nil {
			b.Fatal(err)
		}
	}
	sealStart := time.Now()
	if err := env.Service.SealNow(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d events seeded; sealed at %.0f events/s", n, float64(n)/time.Since(sealStart).Seconds())
	return orgs[1], wss[17], actors[3], start.Add(time.Duration(n/2) * time.Second)
}

// BenchmarkAudit measures, at ROSTER_BENCH_AUDIT_EVENTS events (default
// 1,000,000), the first page of GET /v1/audit under each filter, the
// export of the whole log (its rate and how much the heap grows while it
// streams) and the verification of the chain.
//
//	ROSTER_TEST_POSTGRES_URL=… go test ./httpapi -run '^$' -bench BenchmarkAudit -benchtime 20x -timeout 60m
func BenchmarkAudit(b *testing.B) {
	for _, backend := range rostertest.Backends {
		b.Run(string(backend), func(b *testing.B) {
			env := rostertest.NewEnv(b, backend)
			n := benchAuditEvents(b)
			org, ws, actor, at := seedAudit(b, env, n)
			get := func(path string) *http.Response {
				req, _ := http.NewRequest(http.MethodGet, env.HTTP.URL+path, nil)
				req.Header.Set("Authorization", "Bearer "+env.AdminToken)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				if res.StatusCode != http.StatusOK {
					b.Fatalf("GET %s: %d", path, res.StatusCode)
				}
				return res
			}
			since, until := at.Format(time.RFC3339), at.Add(time.Hour).Format(time.RFC3339)
			for _, q := range []struct{ name, query string }{
				{"first-page/none", ""},
				{"first-page/org", "org_id=" + org},
				{"first-page/workspace", "workspace_id=" + ws},
				{"first-page/actor", "actor_id=" + actor},
				{"first-page/action", "action=" + roster.ActionMemberDeleted},
				{"first-page/org-and-action", "org_id=" + org + "&action=" + roster.ActionMemberCreated},
				{"first-page/since-until", "since=" + since + "&until=" + until},
			} {
				b.Run(q.name, func(b *testing.B) {
					for b.Loop() {
						res := get("/v1/audit?limit=50&" + q.query)
						res.Body.Close()
					}
				})
			}
			b.Run("export", func(b *testing.B) {
				for b.Loop() {
					runtime.GC()
					var base runtime.MemStats
					runtime.ReadMemStats(&base)
					var peak atomic.Uint64
					stop := make(chan struct{})
					go func() { // sample the heap while the export streams
						var m runtime.MemStats
						for {
							select {
							case <-stop:
								return
							case <-time.After(20 * time.Millisecond):
								runtime.ReadMemStats(&m)
								if m.HeapInuse > peak.Load() {
									peak.Store(m.HeapInuse)
								}
							}
						}
					}()
					start := time.Now()
					res := get("/v1/audit/export")
					sc := bufio.NewScanner(res.Body)
					sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
					lines := 0
					for sc.Scan() {
						lines++
					}
					res.Body.Close()
					elapsed := time.Since(start)
					close(stop)
					if lines < n {
						b.Fatalf("exported %d lines of %d", lines, n)
					}
					growth := int64(peak.Load()) - int64(base.HeapInuse)
					b.ReportMetric(float64(lines)/elapsed.Seconds(), "events/s")
					b.ReportMetric(float64(growth)/(1<<20), "MB-heap-growth")
				}
			})
			b.Run("verify", func(b *testing.B) {
				for b.Loop() {
					start := time.Now()
					res := get("/v1/audit/verify")
					var v verifyAnswer
					if err := jsonDecode(res, &v); err != nil || !v.OK || v.Events < int64(n) {
						b.Fatalf("verify: %+v %v", v, err)
					}
					b.ReportMetric(float64(v.Events)/time.Since(start).Seconds(), "events/s")
				}
			})
		})
	}
}

func jsonDecode(res *http.Response, v any) error {
	defer res.Body.Close()
	return json.NewDecoder(res.Body).Decode(v)
}
