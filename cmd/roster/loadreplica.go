package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var listeningOn = regexp.MustCompile(`Roster is listening on (http://\S+)`)

// measureReplica starts `roster serve` on the seeded database as a process
// of its own, loads every user and workspace into its caches as the load
// test's own replica was, and prints its resident memory: a replica's
// memory without the load driver's copy of the dataset beside it.
//
// memLimit, when set, is the replica's GOMEMLIMIT: the Go runtime then
// collects garbage as often as it must to stay under it.
func measureReplica(ctx context.Context, out io.Writer, dsn, token, memLimit string, data dataset) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "serve", "--database", dsn, "--listen", "127.0.0.1:0", "--quiet")
	cmd.Env = append(os.Environ(), runAsRoster+"=1") // a test binary acts as roster too
	if memLimit != "" {
		cmd.Env = append(cmd.Env, "GOMEMLIMIT="+memLimit)
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Wait()
	defer cmd.Process.Signal(syscall.SIGTERM)
	base, err := readListening(stdout)
	if err != nil {
		return fmt.Errorf("the replica did not start: %w", err)
	}
	go io.Copy(io.Discard, stdout)
	if err := awaitReady(ctx, base); err != nil {
		return err
	}
	start := time.Now()
	if err := warmUsers(ctx, base, token, data); err != nil {
		return err
	}
	took := time.Since(start)
	rss, hwm := procMemory(cmd.Process.Pid)
	limit := "no GOMEMLIMIT"
	if memLimit != "" {
		limit = "GOMEMLIMIT " + memLimit
	}
	fmt.Fprintf(out, "a replica of its own (roster serve, %s) with every user and workspace cached (in %v): resident %s, at most %s; Go heap in use %s\n",
		limit, took.Round(time.Millisecond), rss, hwm, heapInUse(ctx, base))
	return nil
}

// runAsRoster makes a test binary act as the roster command in a child
// process (see TestMain); roster itself ignores it.
const runAsRoster = "ROSTER_TEST_RUN_AS_ROSTER"

func readListening(r io.Reader) (string, error) {
	lines := bufio.NewScanner(r)
	for lines.Scan() {
		if m := listeningOn.FindStringSubmatch(lines.Text()); m != nil {
			return m[1], nil
		}
	}
	if err := lines.Err(); err != nil {
		return "", err
	}
	return "", io.ErrUnexpectedEOF
}

func awaitReady(ctx context.Context, base string) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		if err != nil {
			return err
		}
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the replica never became ready: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// heapInUse reads the replica's Go heap in use from its metrics.
func heapInUse(ctx context.Context, base string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return "unknown"
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "unknown"
	}
	defer res.Body.Close()
	lines := bufio.NewScanner(res.Body)
	for lines.Scan() {
		if v, ok := strings.CutPrefix(lines.Text(), "go_memstats_heap_inuse_bytes "); ok {
			if n, err := strconv.ParseFloat(v, 64); err == nil {
				return fmt.Sprintf("%d MB", int64(n)>>20)
			}
		}
	}
	return "unknown"
}

// procMemory reads a process's resident memory now and at its peak.
func procMemory(pid int) (rss, hwm string) {
	rss, hwm = "unknown", "unknown"
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return rss, hwm
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rss = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			hwm = strings.TrimSpace(v)
		}
	}
	return rss, hwm
}
