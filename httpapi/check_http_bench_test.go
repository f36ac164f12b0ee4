package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/roster-dev/roster/httpapi"
	"github.com/roster-dev/roster/internal/rostertest"
)

// checkBodies are the JSON bodies of the benchmark tenant's checks, as a
// host application sends them.
func checkBodies(b *testing.B, backend rostertest.Backend) (*rostertest.Env, [][]byte, []byte) {
	env, _, reqs := benchTenant(b, backend, 100, rostertest.WithAPI(func(o *httpapi.Options) { o.QuietRequests = true }))
	var bodies [][]byte
	batch := make([]map[string]string, 1000)
	for i, r := range reqs {
		c := map[string]string{"user_id": r.UserID, "action": r.Action, "workspace_id": r.WorkspaceID}
		body, _ := json.Marshal(c)
		bodies = append(bodies, body)
		for j := i; j < len(batch); j += len(reqs) {
			batch[j] = c
		}
	}
	batchBody, _ := json.Marshal(map[string]any{"checks": batch})
	return env, bodies, batchBody
}

// BenchmarkCheckHandler is POST /v1/check and a batch of 1,000 served in
// process, without a network: what Roster itself spends on a request
// (middleware, decoding, the decision, encoding), apart from HTTP's.
func BenchmarkCheckHandler(b *testing.B) {
	for _, backend := range rostertest.Backends {
		b.Run(string(backend), func(b *testing.B) {
			env, bodies, batchBody := checkBodies(b, backend)
			serve := func(path string, body []byte) {
				req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+env.AdminToken)
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				env.API.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
				}
			}
			for _, body := range bodies { // warm the index
				serve("/v1/check", body)
			}
			b.Run("check", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					serve("/v1/check", bodies[i%len(bodies)])
					i++
				}
			})
			b.Run("batch1000", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					serve("/v1/check/batch", batchBody)
				}
				b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "decisions/s")
			})
		})
	}
}

// BenchmarkCheckBatchHTTP is POST /v1/check/batch with 1,000 checks over
// loopback HTTP with a keep-alive client, serially.
func BenchmarkCheckBatchHTTP(b *testing.B) {
	for _, backend := range rostertest.Backends {
		b.Run(string(backend), func(b *testing.B) {
			env, _, batchBody := checkBodies(b, backend)
			client := &http.Client{Transport: &http.Transport{}}
			post := func() {
				req, _ := http.NewRequest(http.MethodPost, env.HTTP.URL+"/v1/check/batch", bytes.NewReader(batchBody))
				req.Header.Set("Authorization", "Bearer "+env.AdminToken)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("status %d", res.StatusCode)
				}
			}
			post() // warm the index
			b.ReportAllocs()
			for b.Loop() {
				post()
			}
			b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "decisions/s")
		})
	}
}
