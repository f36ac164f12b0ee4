package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/rostertest"
)

// BenchmarkImport imports a customer base over HTTP into an empty
// database, the size of roster loadtest's: 10,000 users in 1,000
// organisations of 10 workspaces each, every user a member of their
// organisation and of 9 of its workspaces (111,000 records). The audit
// sealer runs beside it, as in serve. It reports records/s.
func BenchmarkImport(b *testing.B) {
	for _, backend := range []rostertest.Backend{rostertest.SQLite, rostertest.Postgres} {
		b.Run(string(backend), func(b *testing.B) {
			body, records := benchImportBody(10000, 1000, 10)
			for b.Loop() {
				b.StopTimer()
				env := rostertest.NewEnv(b, backend)
				b.StartTimer()
				res := importBody(env, env.AdminToken, "", body).Want(b, 200)
				b.StopTimer()
				var out importResult
				res.JSON(b, &out)
				if out.Created != records {
					b.Fatalf("%s", out.counts())
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(records*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

func benchImportBody(users, orgs, workspacesPerOrg int) (string, int) {
	var b strings.Builder
	n := 0
	line := func(s string, args ...any) {
		fmt.Fprintf(&b, s+"\n", args...)
		n++
	}
	for i := range users {
		line(`{"type":"user","external_id":"u%d","email":"user%d@bench.example"}`, i, i)
	}
	for o := range orgs {
		line(`{"type":"org","slug":"org-%d","name":"Org %d","owner":"u%d"}`, o, o, o)
		for w := range workspacesPerOrg {
			line(`{"type":"workspace","org":"org-%d","slug":"ws-%d","name":"Workspace %d","owner":"u%d"}`, o, w, w, o)
		}
	}
	for i := orgs; i < users; i++ {
		line(`{"type":"org_membership","org":"org-%d","user":"u%d","role":"member"}`, i%orgs, i)
		for w := range workspacesPerOrg - 1 {
			line(`{"type":"membership","org":"org-%d","workspace":"ws-%d","user":"u%d","role":"member"}`, i%orgs, w, i)
		}
	}
	return b.String(), n
}
