package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/rostertest"
	"github.com/roster-dev/roster/service"
	"github.com/roster-dev/roster/webhook"
)

// BenchmarkStreamFanout: 1,000 stream clients on one replica; each
// iteration commits one change and measures how long until the last
// client has received it.
func BenchmarkStreamFanout(b *testing.B) {
	for _, backend := range rostertest.Backends {
		b.Run(string(backend), func(b *testing.B) {
			env := rostertest.NewEnv(b, backend)
			tn := newTenant(b, env, "acme")
			const clients = 1000
			streams := make([]*sseClient, clients)
			for i := range streams {
				streams[i] = openStream(b, env, env.AdminToken, "types=workspace.updated", "")
			}
			var last []time.Duration
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + tn.ws.ID, Token: tn.aliceToken,
					Body: map[string]any{"name": fmt.Sprint("name ", i)}})
				for _, s := range streams {
					select {
					case <-s.events:
					case <-time.After(10 * time.Second):
						b.Fatal("a client did not receive the event within 10 s")
					}
				}
				last = append(last, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(last)
			b.ReportMetric(float64(last[len(last)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(last[len(last)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkWebhookDeliveries: b.N changes, each delivered to a local
// endpoint that answers 200; deliveries per second from the first commit
// to the last delivery.
func BenchmarkWebhookDeliveries(b *testing.B) {
	for _, backend := range rostertest.Backends {
		b.Run(string(backend), func(b *testing.B) {
			env := rostertest.NewEnv(b, backend, rostertest.WithTasks(), rostertest.WithService(func(o *service.Options) {
				o.WebhookClient = &webhook.Client{HTTP: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200}}}
			}))
			tn := newTenant(b, env, "acme")
			var got atomic.Int64
			r := newCountingReceiver(b, &got)
			// Ten endpoints take every change: deliveries outnumber changes,
			// so that what is measured is delivery, not the API's writes.
			const endpoints = 10
			for range endpoints {
				env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/webhooks", Token: env.AdminToken,
					Body: map[string]any{"url": r, "event_types": []string{"workspace.updated"}}})
			}
			changes := max(1, b.N/endpoints)
			b.ResetTimer()
			start := time.Now()
			for i := range changes {
				env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + tn.ws.ID, Token: tn.aliceToken,
					Body: map[string]any{"name": fmt.Sprint("name ", i)}})
			}
			deadline := time.Now().Add(5 * time.Minute)
			want := int64(changes * endpoints)
			for got.Load() < want {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d deliveries after 5 minutes", got.Load(), want)
				}
				time.Sleep(time.Millisecond)
			}
			b.ReportMetric(float64(want)/time.Since(start).Seconds(), "deliveries/s")
		})
	}
}

func newCountingReceiver(b *testing.B, n *atomic.Int64) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(204)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}
