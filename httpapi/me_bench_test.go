package httpapi_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/roster-dev/roster/internal/rostertest"
)

// BenchmarkGetMe is a full GET /v1/me round trip over loopback HTTP with a
// keep-alive client: routing, authentication, the handler and encoding.
func BenchmarkGetMe(b *testing.B) {
	for _, backend := range rostertest.Backends {
		b.Run(string(backend), func(b *testing.B) {
			env := rostertest.NewEnv(b, backend)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
			get := func() {
				req, _ := http.NewRequest(http.MethodGet, env.HTTP.URL+"/v1/me", nil)
				req.Header.Set("Authorization", "Bearer "+env.AdminToken)
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
			b.Run("serial", func(b *testing.B) {
				for b.Loop() {
					get()
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						get()
					}
				})
			})
		})
	}
}
