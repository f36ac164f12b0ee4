package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/client"
)

// TestWalkthrough runs README.md's story against a real Roster: the
// binary built from this repository, serving a fresh SQLite database, with
// the app (its handler, on an httptest server) wired to it by a service
// token and a webhook.
func TestWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs Roster; skipped with -short")
	}
	began := time.Now()
	r := startRoster(t)
	t.Logf("Roster built and serving at %s after %s", r.url, time.Since(began).Round(time.Millisecond))
	ctx := t.Context()

	// The operator's part, with the admin's token: a bot user with a
	// service token, and a webhook to the app (later, its delivery log).
	// The app itself has the service token only. The app's server is made
	// before it starts so that its address is known to register the
	// webhook.
	admin := newClient(t, r.url, r.adminToken)
	bot, err := admin.CreateUser(ctx, client.NewUser{DisplayName: "Notes backend"})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := admin.CreateUserToken(ctx, bot.ID, client.NewToken{Name: "notes", Kind: "service"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	hook, err := admin.CreateWebhook(ctx, client.NewWebhook{URL: "http://" + srv.Listener.Addr().String() + "/webhooks/roster"})
	if err != nil {
		t.Fatal(err)
	}
	// The guard's listening hook says when Watch starts and stops hearing
	// Roster's revocations: heard gets a value on each start, and the
	// last report is kept to check how Watch stopped.
	heard := make(chan struct{}, 1)
	var (
		hookMu   sync.Mutex
		lastHook *listeningReport
	)
	onListening := func(listening bool, err error) {
		hookMu.Lock()
		lastHook = &listeningReport{listening, err}
		hookMu.Unlock()
		if listening {
			select {
			case heard <- struct{}{}:
			default: // an earlier start is not yet taken: one is enough
			}
		}
	}
	service := newClient(t, r.url, svc.Token)
	a := newApp(config{Roster: service, WebhookSecrets: []string{hook.Secret},
		OnListening: onListening, Log: slog.New(slog.NewTextHandler(t.Output(), nil))})
	srv.Config.Handler = a.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan error, 1)
	go func() { watched <- a.guard.Watch(watchCtx) }()
	t.Cleanup(func() {
		stopWatch()
		if err := <-watched; !errors.Is(err, context.Canceled) {
			t.Errorf("Watch returned %v, want context.Canceled", err)
		}
		if t.Failed() {
			return // Watch may never have heard Roster
		}
		hookMu.Lock()
		defer hookMu.Unlock()
		if lastHook == nil || lastHook.listening || !errors.Is(lastHook.err, context.Canceled) {
			t.Errorf("the listening hook's last report: %+v, want not listening, for context.Canceled", lastHook)
		}
	})
	select {
	case <-heard:
	case err := <-watched:
		t.Fatalf("Watch returned before hearing Roster's revocations: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the guard did not start hearing Roster's revocations within 10 s")
	}

	app := &caller{t: t, base: srv.URL}
	app.want(http.StatusUnauthorized, "GET", "/workspaces", "", nil, nil)
	app.want(http.StatusUnauthorized, "GET", "/workspaces", "rst_pat_not-a-real-token", nil, nil)

	// Ann signs up and writes a note.
	var ann, bob signedUp
	app.want(http.StatusCreated, "POST", "/signup", "", map[string]string{"email": "ann@example.com", "name": "Ann"}, &ann)
	app.want(http.StatusConflict, "POST", "/signup", "", map[string]string{"email": "ann@example.com", "name": "Ann"}, nil)
	// The app issued her token with its service token alone: a personal one, hers.
	if in, err := service.IntrospectToken(ctx, ann.Token); err != nil || !in.Active || in.Kind != "personal" || in.UserID != ann.UserID || in.TokenID != ann.TokenID {
		t.Fatalf("Ann's token: %+v, %v; want her active personal token %s", in, err, ann.TokenID)
	}
	notes := "/workspaces/" + ann.WorkspaceID + "/notes"
	var note Note
	app.want(http.StatusCreated, "POST", notes, ann.Token, map[string]string{"title": "Roadmap", "body": "Ship it"}, &note)
	app.want(http.StatusBadRequest, "POST", notes, ann.Token, map[string]string{"title": ""}, nil)
	if got := app.notes(notes, ann.Token); len(got) != 1 || got[0].ID != note.ID || got[0].AuthorID != ann.UserID {
		t.Fatalf("Ann's notes: %+v, want her one note", got)
	}
	seats := "/orgs/" + ann.OrgID + "/seats"
	app.seats(seats, ann.Token, 1, 0)

	// Bob signs up: Ann's workspace does not exist for him.
	app.want(http.StatusCreated, "POST", "/signup", "", map[string]string{"email": "bob@example.com", "name": "Bob"}, &bob)
	app.want(http.StatusNotFound, "GET", notes, bob.Token, nil, nil)
	app.want(http.StatusNotFound, "GET", seats, bob.Token, nil, nil)
	app.want(http.StatusNotFound, "POST", "/workspaces/"+ann.WorkspaceID+"/invitations", bob.Token, map[string]string{"email": "eve@example.com", "role": "owner"}, nil)

	// Ann invites Bob as a viewer (free) and Cat as a member (a pending seat).
	var inviteBob, inviteCat client.IssuedInvitation
	invitations := "/workspaces/" + ann.WorkspaceID + "/invitations"
	app.want(http.StatusCreated, "POST", invitations, ann.Token, map[string]string{"email": "bob@example.com", "role": "viewer"}, &inviteBob)
	app.want(http.StatusCreated, "POST", invitations, ann.Token, map[string]string{"email": "cat@example.com", "role": "member"}, &inviteCat)
	app.seats(seats, ann.Token, 1, 1)
	app.want(http.StatusForbidden, "POST", "/invitations/accept", bob.Token, map[string]string{"token": inviteCat.Token}, nil)
	app.want(http.StatusOK, "POST", "/invitations/accept", bob.Token, map[string]string{"token": inviteBob.Token}, nil)

	// A viewer reads, and nothing more.
	if got := app.notes(notes, bob.Token); len(got) != 1 {
		t.Fatalf("Bob reads %d notes, want Ann's one", len(got))
	}
	app.want(http.StatusForbidden, "POST", notes, bob.Token, map[string]string{"title": "Bob was here"}, nil)
	app.want(http.StatusForbidden, "DELETE", notes+"/"+note.ID, bob.Token, nil, nil)
	app.want(http.StatusForbidden, "GET", "/workspaces/"+ann.WorkspaceID+"/members", bob.Token, nil, nil)
	app.want(http.StatusForbidden, "POST", invitations, bob.Token, map[string]string{"email": "eve@example.com", "role": "viewer"}, nil)
	app.seats(seats, ann.Token, 1, 1)

	// Ann makes Bob a member: he takes a seat and may write.
	app.want(http.StatusOK, "PUT", "/workspaces/"+ann.WorkspaceID+"/members/"+bob.UserID, ann.Token, map[string]string{"role": "member"}, nil)
	app.seats(seats, ann.Token, 2, 1)
	var bobs Note
	app.want(http.StatusCreated, "POST", notes, bob.Token, map[string]string{"title": "Bob was here"}, &bobs)
	// A note is found only in its own workspace, whatever the caller may do elsewhere.
	app.want(http.StatusNotFound, "DELETE", "/workspaces/"+bob.WorkspaceID+"/notes/"+bobs.ID, bob.Token, nil, nil)
	app.want(http.StatusNoContent, "DELETE", notes+"/"+bobs.ID, bob.Token, nil, nil)
	app.want(http.StatusNotFound, "DELETE", notes+"/"+bobs.ID, bob.Token, nil, nil)
	var members struct{ Data []client.WorkspaceMember }
	app.want(http.StatusOK, "GET", "/workspaces/"+ann.WorkspaceID+"/members", ann.Token, nil, &members)
	if !slices.ContainsFunc(members.Data, func(m client.WorkspaceMember) bool { return m.UserID == bob.UserID && m.Role == "member" }) {
		t.Fatalf("members of Ann's workspace: %+v, want Bob as a member", members.Data)
	}

	// The webhook: Roster's signed deliveries reach the activity list;
	// a forged one is refused.
	eventually(t, 15*time.Second, "the webhook delivers Bob's promotion", func() bool {
		var act struct{ Data []Activity }
		app.want(http.StatusOK, "GET", "/activity", ann.Token, nil, &act)
		return slices.ContainsFunc(act.Data, func(x Activity) bool {
			return x.Type == "membership.updated" && x.UserID == bob.UserID && x.WorkspaceID == ann.WorkspaceID
		})
	})
	forged, _ := http.NewRequest("POST", srv.URL+"/webhooks/roster", strings.NewReader(`{"type":"workspace.deleted","timestamp":"2024-01-01T00:00:00Z","data":{}}`))
	forged.Header.Set("webhook-id", "evt_forged")
	forged.Header.Set("webhook-timestamp", "1700000000")
	forged.Header.Set("webhook-signature", "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	res, err := http.DefaultClient.Do(forged)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("a forged delivery: %d, want 400", res.StatusCode)
	}
	deliveries, err := client.Collect(admin.ListWebhookDeliveries(ctx, hook.ID, client.ListOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(deliveries, func(d client.Delivery) bool { return d.Status == "succeeded" }) {
		t.Fatalf("Roster's delivery log: %+v, want deliveries that succeeded", deliveries)
	}

	// Bob revokes his token in Roster (signing out everywhere): the guard
	// trusts an introspection for a minute while it hears Roster's events,
	// so a refusal within seconds is the revocation event at work.
	app.want(http.StatusOK, "GET", notes, bob.Token, nil, nil)
	if !a.guard.Listening() {
		t.Fatal("the guard stopped hearing Roster's revocations before Bob's token was revoked")
	}
	if err := newClient(t, r.url, bob.Token).RevokeMyToken(ctx, bob.TokenID); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	eventually(t, 5*time.Second, "Bob's revoked token is refused", func() bool { return app.status("GET", notes, bob.Token) == http.StatusUnauthorized })
	t.Logf("the revoked token was refused after %s", time.Since(revoked).Round(time.Millisecond))
	app.want(http.StatusOK, "GET", notes, ann.Token, nil, nil)
	t.Logf("the walkthrough took %s in all", time.Since(began).Round(time.Millisecond))
}

// listeningReport is one call of the guard's listening hook.
type listeningReport struct {
	listening bool
	err       error
}

// signedUp is the answer to POST /signup.
type signedUp struct {
	UserID      string `json:"user_id"`
	Token       string `json:"token"`
	TokenID     string `json:"token_id"`
	OrgID       string `json:"org_id"`
	WorkspaceID string `json:"workspace_id"`
}

// caller calls the app as a user would, over HTTP.
type caller struct {
	t    *testing.T
	base string
}

// send sends a request with a bearer token (if any) and a JSON body (if
// any), and returns the status and the body.
func (c *caller) send(method, path, token string, body any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return res.StatusCode, raw
}

func (c *caller) status(method, path, token string) int {
	c.t.Helper()
	status, _ := c.send(method, path, token, nil)
	return status
}

// want sends a request, fails the test unless it is answered with status,
// and decodes the answer into out, when given.
func (c *caller) want(status int, method, path, token string, body, out any) {
	c.t.Helper()
	got, raw := c.send(method, path, token, body)
	if got != status {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, path, got, status, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: decoding %s: %v", method, path, raw, err)
		}
	}
}

func (c *caller) notes(path, token string) []Note {
	c.t.Helper()
	var out struct{ Data []Note }
	c.want(http.StatusOK, "GET", path, token, nil, &out)
	return out.Data
}

func (c *caller) seats(path, token string, used, pending int) {
	c.t.Helper()
	var s client.Seats
	c.want(http.StatusOK, "GET", path, token, nil, &s)
	if s.Used != used || s.Pending != pending {
		c.t.Fatalf("seats: used %d, pending %d; want %d and %d (%+v)", s.Used, s.Pending, used, pending, s)
	}
}

// eventually polls cond until it holds, failing the test at the deadline.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newClient(t *testing.T, url, token string) *client.Client {
	t.Helper()
	c, err := client.New(url, token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rosterServer is a Roster process serving a temporary database.
type rosterServer struct {
	url, adminToken string
}

// startRoster builds Roster from this repository and starts `roster
// serve` on a free loopback port, stopping it when the test ends. It reads
// the address and the first admin's token from what serve prints.
func startRoster(t *testing.T) rosterServer {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "roster")
	build := exec.Command("go", "build", "-o", bin, "./cmd/roster")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("this test needs Roster, built from the repository root, and `go build ./cmd/roster` failed "+
			"(run `go test -short` to skip the test): %v\n%s", err, out)
	}

	cmd := exec.Command(bin, "serve", "--database", "sqlite:"+filepath.Join(dir, "roster.db"), "--listen", "127.0.0.1:0", "--quiet")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Roster: %v", err)
	}
	ready := make(chan rosterServer, 1)
	exited := make(chan struct{})
	var waitErr error
	go func() {
		// serve prints the admin's token on a line of its own, then the
		// address; the rest of its output is drained until it exits.
		var s rosterServer
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			switch {
			case strings.HasPrefix(line, "rst_pat_"):
				s.adminToken = line
			case strings.HasPrefix(line, "Roster is listening on "):
				s.url = strings.TrimPrefix(line, "Roster is listening on ")
				ready <- s
			}
		}
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt) // serve finishes its requests and stops
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("Roster did not stop within 10 s of SIGINT; killing it")
			cmd.Process.Kill()
			<-exited
		}
	})
	select {
	case s := <-ready:
		if s.adminToken == "" {
			t.Fatalf("Roster printed no admin token (is the database not fresh?)\n%s", stderr.String())
		}
		return s
	case <-exited:
		t.Fatalf("Roster exited before serving: %v\n%s", waitErr, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("Roster did not start serving within 60 s\n%s", stderr.String())
	}
	panic("unreachable")
}

// syncBuffer is a buffer a process writes while the test may read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
