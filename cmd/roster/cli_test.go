package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// syncBuffer is a buffer that serve may write while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var patPattern = regexp.MustCompile(`rst_pat_[A-Za-z0-9_-]{43}`)

// running is a serve command in the background.
type running struct {
	addr string
	out  *syncBuffer
	stop func() error
}

func startServe(t *testing.T, dsn string) running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	listening := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, out, serveConfig{dsn: dsn, listen: "127.0.0.1:0", adminEmail: "admin@example.com", quiet: true}, listening)
	}()
	select {
	case addr := <-listening:
		r := running{addr: addr, out: out}
		stopped := false
		r.stop = func() error {
			if stopped {
				return nil
			}
			stopped = true
			cancel()
			return <-done
		}
		t.Cleanup(func() { r.stop() })
		return r
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("serve did not start listening")
	}
	return running{}
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func TestServePrintsTheFirstTokenOnce(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		dsn := rostertest.NewDSN(t, b)
		srv := startServe(t, dsn)
		tokens := patPattern.FindAllString(srv.out.String(), -1)
		if len(tokens) != 1 {
			t.Fatalf("first start printed %d tokens:\n%s", len(tokens), srv.out.String())
		}
		base := "http://" + srv.addr
		for path, want := range map[string]int{"/healthz": 200, "/metrics": 200} {
			if status, _ := get(t, base+path, ""); status != want {
				t.Errorf("%s: %d", path, status)
			}
		}
		// Ready once the database answers, migrations are current and the
		// replica listens for other replicas' changes.
		for deadline := time.Now().Add(30 * time.Second); ; {
			status, body := get(t, base+"/readyz", "")
			if status == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("/readyz: %d %s", status, body)
			}
			time.Sleep(10 * time.Millisecond)
		}
		status, body := get(t, base+"/v1/me", tokens[0])
		if status != 200 || !strings.Contains(body, `"platform_role":"admin"`) {
			t.Errorf("the printed token: %d %s", status, body)
		}
		if _, metrics := get(t, base+"/metrics", ""); !strings.Contains(metrics, "roster_http_requests_total") {
			t.Error("metrics lack roster_http_requests_total")
		}
		if err := srv.stop(); err != nil {
			t.Fatalf("serve returned %v", err)
		}
		again := startServe(t, dsn)
		if patPattern.MatchString(again.out.String()) {
			t.Errorf("a second start printed a token:\n%s", again.out.String())
		}
	})
}

// startInFlight sends all but the end of a POST /v1/users to addr and waits
// until the server is surely reading it. finish sends the rest and checks
// that the request completed.
func startInFlight(t *testing.T, addr, token string) (finish func()) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	body := `{"email":"late@example.com"}`
	fmt.Fprintf(conn, "POST /v1/users HTTP/1.1\r\nHost: roster\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		token, len(body), body[:5])
	// Give the server a moment to accept the connection and start reading:
	// a connection still in the kernel's backlog is not in flight yet.
	time.Sleep(200 * time.Millisecond)
	return func() {
		t.Helper()
		fmt.Fprint(conn, body[5:])
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("reading the in-flight response: %v", err)
		}
		if res.StatusCode != http.StatusCreated {
			t.Errorf("in-flight request: %d", res.StatusCode)
		}
	}
}

// TestServeDrainsInFlightRequests stops the server while a request is half
// sent: the request completes, and serve returns cleanly.
func TestServeDrainsInFlightRequests(t *testing.T) {
	srv := startServe(t, rostertest.NewDSN(t, rostertest.SQLite))
	finish := startInFlight(t, srv.addr, patPattern.FindString(srv.out.String()))
	stopped := make(chan error, 1)
	go func() { stopped <- srv.stop() }()
	select {
	case err := <-stopped:
		t.Fatalf("serve returned (%v) with a request in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	finish()
	if err := <-stopped; err != nil {
		t.Errorf("serve returned %v", err)
	}
}

func runCommand(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runCommandErr(args...)
	if err != nil {
		t.Fatalf("roster %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// runCommandErr runs a command that may fail.
func runCommandErr(args ...string) (string, error) {
	var out bytes.Buffer
	cmd := newRootCommand()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(io.Discard)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// migrationStates counts the STATE column of migrate status's table: a
// migration's name may hold the word "pending" too (River's 004 does).
func migrationStates(status string) map[string]int {
	n := map[string]int{}
	for _, line := range strings.Split(status, "\n")[1:] {
		if f := strings.Fields(line); len(f) >= 3 {
			n[f[1]]++
		}
	}
	return n
}

func TestBootstrapAndMigrate(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		dsn := rostertest.NewDSN(t, b)
		first := lastLine(runCommand(t, "bootstrap", "--database", dsn, "--email", "ops@example.com"))
		second := lastLine(runCommand(t, "bootstrap", "--database", dsn, "--email", " OPS@example.com "))
		if !patPattern.MatchString(first) || !patPattern.MatchString(second) || first == second {
			t.Fatalf("bootstrap last lines %q and %q", first, second)
		}
		env := rostertest.NewReplica(t, b, dsn, rostertest.NewClock())
		for _, token := range []string{first, second} {
			var me rostertest.User
			env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/me", Token: token}).JSON(t, &me)
			if me.PlatformRole != "admin" || *me.Email != "ops@example.com" {
				t.Errorf("bootstrapped user: %+v", me)
			}
		}
		// An existing, suspended, non-admin user becomes an active admin.
		u := env.Do(rostertest.Req{Method: "POST", Path: "/v1/users", Token: first, Body: map[string]any{"email": "dormant@example.com", "status": "suspended"}})
		if u.Status != 201 {
			t.Fatalf("create: %d", u.Status)
		}
		token := lastLine(runCommand(t, "bootstrap", "--database", dsn, "--email", "dormant@example.com"))
		var me rostertest.User
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/me", Token: token}).JSON(t, &me)
		if me.Status != "active" || me.PlatformRole != "admin" {
			t.Errorf("promoted user: %+v", me)
		}

		if out := runCommand(t, "migrate", "--database", dsn); !strings.Contains(out, "applied 0 migration") {
			t.Errorf("migrate on a current database: %q", out)
		}
		status := runCommand(t, "migrate", "status", "--database", dsn)
		if states := migrationStates(status); states["pending"] != 0 || states["applied"] < 2 || !strings.Contains(status, "river 001 create river migration") {
			t.Errorf("migrate status:\n%s", status)
		}
		if out := runCommand(t, "version"); out != "roster "+roster.Version+"\n" {
			t.Errorf("version: %q, want roster %s", out, roster.Version)
		}
		if v := env.API.OpenAPI().Info.Version; v != roster.Version {
			t.Errorf("the OpenAPI document says version %q, roster version %q", v, roster.Version)
		}
	})
}

func TestMigrateFreshDatabase(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		dsn := rostertest.NewDSN(t, b)
		if out := runCommand(t, "migrate", "status", "--database", dsn); migrationStates(out)["pending"] == 0 {
			t.Errorf("status of an empty database:\n%s", out)
		}
		out := runCommand(t, "migrate", "--database", dsn)
		if strings.Contains(out, "applied 0 ") {
			t.Errorf("migrating an empty database applied nothing: %q", out)
		}
		if out := runCommand(t, "migrate", "--database", dsn); !strings.Contains(out, "applied 0 migration") {
			t.Errorf("second migrate: %q", out)
		}
	})
}
