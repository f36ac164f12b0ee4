package middleware

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/client"
)

// fakeRoster answers introspection and checks as a test sets them.
type fakeRoster struct {
	*httptest.Server
	introspections, checks atomic.Int32
	introspection          func(token string) (int, any)
	decision               func(c client.CheckRequest) (int, any)
}

func newFakeRoster(t testing.TB) *fakeRoster {
	f := &fakeRoster{
		introspection: func(token string) (int, any) {
			return 200, client.Introspection{Active: token == "rst_pat_good", UserID: "usr_1", TokenID: "tok_1", Kind: "personal"}
		},
		decision: func(client.CheckRequest) (int, any) { return 200, client.Decision{Allowed: true} },
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/tokens/introspect", func(w http.ResponseWriter, r *http.Request) {
		f.introspections.Add(1)
		var in struct{ Token string }
		json.NewDecoder(r.Body).Decode(&in)
		status, body := f.introspection(in.Token)
		reply(w, status, body)
	})
	mux.HandleFunc("POST /v1/check", func(w http.ResponseWriter, r *http.Request) {
		f.checks.Add(1)
		var in client.CheckRequest
		json.NewDecoder(r.Body).Decode(&in)
		status, body := f.decision(in)
		reply(w, status, body)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func reply(w http.ResponseWriter, status int, body any) {
	if status >= 400 {
		w.Header().Set("Content-Type", "application/problem+json")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

// clock is a settable clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newGuard(t testing.TB, f *fakeRoster, c *clock) *Guard {
	rc, err := client.New(f.URL, "rst_svc_backend", client.WithRetries(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	return New(rc, WithClock(c.now))
}

// serve runs one request through h and reports the status, its problem
// code and whether the handler behind was called.
func serve(h func(http.Handler) http.Handler, authorization string) (status int, code string, called bool) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true })
	req := httptest.NewRequest("GET", "/ws/ws_1/notes", nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	h(inner).ServeHTTP(rec, req)
	var p struct{ Code string }
	json.Unmarshal(rec.Body.Bytes(), &p)
	return rec.Code, p.Code, called
}

func TestAuthenticate(t *testing.T) {
	f := newFakeRoster(t)
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	g := newGuard(t, f, c)
	for _, tc := range []struct {
		authorization string
		status        int
		code          string
	}{
		{"", 401, "unauthenticated"},
		{"Basic dTpw", 401, "unauthenticated"},
		{"Bearer", 401, "unauthenticated"},
		{"Bearer not-roster", 401, "unauthenticated"},
		{"Bearer rst_pat_good extra", 401, "unauthenticated"},
		{"Bearer rst_pat_revoked", 401, "invalid_token"},
		{"Bearer rst_pat_good", 200, ""},
		{"bearer rst_pat_good", 200, ""},
	} {
		status, code, called := serve(g.Authenticate, tc.authorization)
		if status != tc.status || code != tc.code || called != (tc.status == 200) {
			t.Errorf("%q: %d %q, handler called %v; want %d %q", tc.authorization, status, code, called, tc.status, tc.code)
		}
	}
	if n := f.introspections.Load(); n != 2 {
		t.Errorf("introspected %d times, want 2 (malformed tokens never reach Roster; a good one is cached)", n)
	}

	// Without the event stream, an introspection is trusted for the short TTL only.
	c.t = c.t.Add(time.Second)
	serve(g.Authenticate, "Bearer rst_pat_good")
	if n := f.introspections.Load(); n != 3 {
		t.Errorf("after the short TTL: %d introspections, want 3", n)
	}

	// An expiring token is refused once it expires, without asking Roster.
	f.introspection = func(string) (int, any) {
		return 200, client.Introspection{Active: true, UserID: "usr_2", TokenID: "tok_2", ExpiresAt: c.t.Add(500 * time.Millisecond)}
	}
	if status, _, _ := serve(g.Authenticate, "Bearer rst_pat_expiring"); status != 200 {
		t.Fatalf("an expiring token before it expires: %d", status)
	}
	c.t = c.t.Add(600 * time.Millisecond)
	if status, code, called := serve(g.Authenticate, "Bearer rst_pat_expiring"); status != 401 || code != "token_expired" || called {
		t.Errorf("an expired token: %d %s %v", status, code, called)
	}

	// Roster unreachable: 503, never the handler.
	f.Close()
	if status, _, called := serve(g.Authenticate, "Bearer rst_pat_other"); status != 503 || called {
		t.Errorf("Roster down: %d, handler called %v", status, called)
	}
}

func TestRequire(t *testing.T) {
	f := newFakeRoster(t)
	g := newGuard(t, f, &clock{t: time.Now()})
	target := func(r *http.Request) Target { return Target{WorkspaceID: "ws_1"} }
	guarded := func(next http.Handler) http.Handler {
		return g.Authenticate(g.Require("resources.write", target)(next))
	}
	for _, tc := range []struct {
		status int
		body   any
		want   int
		code   string
	}{
		{200, client.Decision{Allowed: true}, 200, ""},
		{200, client.Decision{Reason: "insufficient_role"}, 403, "forbidden"},
		{200, client.Decision{Reason: "no_access"}, 404, "not_found"},
		{200, client.Decision{Reason: "workspace_archived"}, 410, "workspace_archived"},
		{200, client.Decision{Reason: "user_inactive"}, 401, "user_inactive"},
		{404, map[string]any{"status": 404, "code": "workspace_not_found"}, 404, "not_found"},
		{400, map[string]any{"status": 400, "code": "unknown_action"}, 500, "authorization_misconfigured"},
		{503, map[string]any{"status": 503, "code": "database_unavailable"}, 503, "authorization_unavailable"},
	} {
		f.decision = func(in client.CheckRequest) (int, any) {
			if in.UserID != "usr_1" || in.Action != "resources.write" || in.WorkspaceID != "ws_1" {
				return 400, map[string]any{"status": 400, "code": "invalid_request"}
			}
			return tc.status, tc.body
		}
		status, code, called := serve(guarded, "Bearer rst_pat_good")
		if status != tc.want || code != tc.code || called != (tc.want == 200) {
			t.Errorf("Roster answering %d %+v: %d %q, handler called %v; want %d %q", tc.status, tc.body, status, code, called, tc.want, tc.code)
		}
	}
	// Require without Authenticate in front refuses.
	if status, _, called := serve(g.Require("resources.write", target), "Bearer rst_pat_good"); status != 401 || called {
		t.Errorf("Require alone: %d, handler called %v", status, called)
	}
}

func TestForgetDropsWhatAnEventConcerns(t *testing.T) {
	g := New(nil)
	now := time.Now()
	put := func(token, tokenID, userID string) {
		g.tokens[key(token)] = cached{active: true, at: now, identity: Identity{TokenID: tokenID, UserID: userID}}
	}
	put("a", "tok_a", "usr_1")
	put("b", "tok_b", "usr_1")
	put("c", "tok_c", "usr_2")
	g.forget(client.Event{Type: "token.revoked", Data: json.RawMessage(`{"id":"tok_a","user_id":"usr_1"}`)})
	if _, ok := g.tokens[key("a")]; ok {
		t.Error("the revoked token is still cached")
	}
	if len(g.tokens) != 1 {
		t.Errorf("token.revoked about usr_1 left %d tokens, want usr_2's only", len(g.tokens))
	}
	put("a", "tok_a", "usr_1")
	g.forget(client.Event{Type: "user.updated", Data: json.RawMessage(`{"id":"usr_2"}`)})
	if _, ok := g.tokens[key("c")]; ok || len(g.tokens) != 1 {
		t.Errorf("user.updated of usr_2: %d tokens left", len(g.tokens))
	}
	g.forget(client.Event{Type: "token.revoked", Data: json.RawMessage(`not json`)})
	if len(g.tokens) != 0 {
		t.Error("an event that cannot be read did not empty the cache")
	}
}

// BenchmarkAuthenticateWarm is what Authenticate adds to a request whose
// token is cached.
func BenchmarkAuthenticateWarm(b *testing.B) {
	f := newFakeRoster(b)
	g := newGuard(b, f, &clock{t: time.Now()})
	g.listening.Store(true)
	h := g.Authenticate(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest("GET", "/ws/ws_1/notes", nil)
	req.Header.Set("Authorization", "Bearer rst_pat_good")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
	if f.introspections.Load() != 1 {
		b.Fatalf("%d introspections", f.introspections.Load())
	}
}

// TestWatchStartsAgain: a stream that ends for good (here its first
// answer is a 400) is followed again from now; the hook hears both.
func TestWatchStartsAgain(t *testing.T) {
	restartAfter = time.Millisecond
	var streams atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if streams.Add(1) == 1 {
			reply(w, 400, map[string]any{"status": 400, "code": "unknown_event"})
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte("id: evt_1\nevent: token.revoked\ndata: {\"id\":\"evt_1\",\"type\":\"token.revoked\",\"data\":{\"id\":\"tok_a\"}}\n\n"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	rc, _ := client.New(srv.URL, "rst_svc_backend", client.WithRetries(0, 0))
	heard := make(chan bool, 8)
	g := New(rc, WithListeningHook(func(listening bool, _ error) { heard <- listening }))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Watch(ctx) }()
	if <-heard {
		t.Fatal("the refused stream was heard as listening")
	}
	if !<-heard {
		t.Fatal("the guard did not listen after starting again")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Watch returned %v", err)
	}
	if streams.Load() < 2 {
		t.Errorf("%d streams opened", streams.Load())
	}
}

// TestIntrospectionRacingARevocation: an introspection answered while the
// stream made the guard forget is used once but not cached.
func TestIntrospectionRacingARevocation(t *testing.T) {
	f := newFakeRoster(t)
	g := newGuard(t, f, &clock{t: time.Now()})
	g.listening.Store(true)
	f.introspection = func(string) (int, any) {
		g.forget(client.Event{Type: "token.revoked", Data: json.RawMessage(`{"id":"tok_1"}`)}) // heard meanwhile
		return 200, client.Introspection{Active: true, UserID: "usr_1", TokenID: "tok_1"}
	}
	serve(g.Authenticate, "Bearer rst_pat_good")
	serve(g.Authenticate, "Bearer rst_pat_good")
	if n := f.introspections.Load(); n != 2 {
		t.Errorf("%d introspections: the racing answer was cached", n)
	}
}
