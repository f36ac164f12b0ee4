package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/rostertest"
)

// BenchmarkBigOrgPages renders the pages of an organisation with 10,000
// members (each also a member of its workspace): the organisation page,
// a page of its member list deep in the list, and the workspace page.
// It reports the p50 and p99 of one page, over HTTP with a session.
func BenchmarkBigOrgPages(b *testing.B) {
	for _, backend := range rostertest.Backends {
		b.Run(string(backend), func(b *testing.B) {
			env := rostertest.NewEnv(b, backend)
			const members = 10000
			var body strings.Builder
			for i := range members {
				fmt.Fprintf(&body, `{"type":"user","external_id":"u%d","email":"u%d@bench.example"}`+"\n", i, i)
			}
			body.WriteString(`{"type":"org","slug":"big","name":"Big","owner":"u0"}` + "\n")
			body.WriteString(`{"type":"workspace","org":"big","slug":"main","name":"Main","owner":"u0"}` + "\n")
			for i := 1; i < members; i++ {
				fmt.Fprintf(&body, `{"type":"org_membership","org":"big","user":"u%d","role":"member"}`+"\n", i)
				fmt.Fprintf(&body, `{"type":"membership","org":"big","workspace":"main","user":"u%d","role":"member"}`+"\n", i)
			}
			env.Expect(http.StatusOK, rostertest.Req{Method: "POST", Path: "/v1/import", Token: env.AdminToken, Body: body.String(),
				Headers: map[string]string{"Content-Type": "application/x-ndjson"}})
			orgs := listOf(env, "/v1/orgs?slug=big")
			org := orgs[0]["id"].(string)
			ws := listOf(env, "/v1/workspaces?org_id="+org)[0]["id"].(string)

			br := newBrowser(b, env)
			form := br.get("/console/sign-in")
			csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(form.Body)[1]
			if p := br.post("/console/sign-in", url.Values{"csrf": {csrf}, "token": {env.AdminToken}}); p.Status != http.StatusSeeOther {
				b.Fatalf("signing in: %d", p.Status)
			}
			// A cursor deep in the list: walk 100 pages of the API.
			var deep string
			path := "/v1/orgs/" + org + "/members?limit=100"
			for range 50 {
				var out struct {
					Next *string `json:"next_cursor"`
				}
				env.Expect(http.StatusOK, rostertest.Req{Method: "GET", Path: path, Token: env.AdminToken}).JSON(b, &out)
				if out.Next == nil {
					b.Fatal("the member list ended early")
				}
				deep = *out.Next
				path = "/v1/orgs/" + org + "/members?limit=100&cursor=" + deep
			}
			for _, page := range []struct{ name, path string }{
				{"org", "/console/orgs/" + org},
				{"org-members-deep", "/console/orgs/" + org + "?after=" + deep},
				{"workspace", "/console/workspaces/" + ws},
			} {
				b.Run(page.name, func(b *testing.B) {
					var took []time.Duration
					for b.Loop() {
						start := time.Now()
						p := br.get(page.path)
						took = append(took, time.Since(start))
						if p.Status != http.StatusOK || !strings.Contains(p.Body, "<code>usr_") {
							b.Fatalf("%s: %d", page.path, p.Status)
						}
					}
					slices.Sort(took)
					b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
				})
			}
		})
	}
}
