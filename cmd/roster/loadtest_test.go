package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/rostertest"
)

// TestLoadtestRuns keeps the load tool working on a small dataset; the
// figures it prints are not checked here (benchmarks and the tool are where
// timing lives).
func TestLoadtestRuns(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		var out bytes.Buffer
		cfg := loadConfig{dsn: rostertest.NewDSN(t, b), users: 200, orgs: 20, workspaces: 100, expiringPct: 12,
			duration: 200 * time.Millisecond, warmup: 50 * time.Millisecond, concurrency: []int{1, 4}, writers: 8, seed: 7, resources: 300, seal: true,
			ceiling: true, cold: 50, replica: true, replicaMem: "300MiB"}
		if err := loadtest(context.Background(), &out, cfg); err != nil {
			t.Fatalf("loadtest: %v\n%s", err, out.String())
		}
		for _, c := range []string{"1", "4"} {
			line := regexp.MustCompile(`concurrency ` + c + `: \d+ checks in \S+: \d+ checks/s, p50 \S+, p99 \S+, (\d+) allowed, 0 errors`)
			m := line.FindStringSubmatch(out.String())
			if m == nil || m[1] == "0" {
				t.Errorf("concurrency %s: no clean result with some allowed checks in:\n%s", c, out.String())
			}
		}
		resources := regexp.MustCompile(`concurrency 4: \d+ resource checks in \S+: \d+ checks/s, p50 \S+, p99 \S+, (\d+) allowed, 0 errors`)
		if m := resources.FindStringSubmatch(out.String()); m == nil || m[1] == "0" {
			t.Errorf("no clean resource check result with some allowed in:\n%s", out.String())
		}
		for _, want := range []string{
			`cold checks \(each user's first\), concurrency 1: 50 in \S+, p50 \S+, p99 \S+, 0 errors`,
			`cold checks \(each user's first\), concurrency 8: 50 in \S+, p50 \S+, p99 \S+, 0 errors`,
			`of 2000 checks asked of both, 0 answered differently`,
			`ceiling, concurrency 4: \d+ checks/s, p50 \S+, p99 \S+; Roster reached \d+% of it`,
			`a replica of its own \(roster serve, GOMEMLIMIT 300MiB\) with every user and workspace cached \(in \S+\): resident \d+ kB, at most \d+ kB; Go heap in use \d+ MB`,
		} {
			if !regexp.MustCompile(want).MatchString(out.String()) {
				t.Errorf("no line matching %s in:\n%s", want, out.String())
			}
		}
		writes := regexp.MustCompile(`writers 8: \d+ membership writes in \S+: \d+ writes/s, p50 \S+, p99 \S+, (\d+) 2xx, \d+ 4xx, 0 5xx, 0 errors`)
		if m := writes.FindStringSubmatch(out.String()); m == nil || m[1] == "0" {
			t.Errorf("no clean write result with some writes done in:\n%s", out.String())
		}
	})
}
