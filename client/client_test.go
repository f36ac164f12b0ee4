package client_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/client"
)

// seen is a request as the fake server received it.
type seen struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   string
}

// fake is a fake Roster: answer handles the n-th request (from 0).
type fake struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newFake(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, n int)) *fake {
	t.Helper()
	f := &fake{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		n := len(f.reqs)
		f.reqs = append(f.reqs, seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), string(body)})
		f.mu.Unlock()
		answer(w, r, n)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func (f *fake) count() int { return len(f.requests()) }

func newClient(t *testing.T, base string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(base, "rst_pat_secret", append([]client.Option{client.WithRetries(0, time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeProblem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"type": "https://roster.dev/problems/" + code, "title": http.StatusText(status),
		"status": status, "code": code, "detail": detail, "request_id": "req_1"})
}

var aUser = map[string]any{"id": "usr_1", "display_name": "Ann", "status": "active", "platform_role": "none",
	"created_at": "2030-01-01T00:00:00Z", "updated_at": "2030-01-01T00:00:00Z"}

func TestProblemAnswerBecomesProblem(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"type":"https://roster.dev/problems/invalid_role","title":"Bad Request","status":400,
			"code":"invalid_role","detail":"role must be one of owner, admin","request_id":"req_42",
			"field":"role","allowed":["owner","admin"]}`)
	})
	_, err := newClient(t, f.URL).PutMember(context.Background(), "ws_1", "usr_1", client.MemberUpdate{Role: "boss"})
	var p *client.Problem
	if !errors.As(err, &p) {
		t.Fatalf("err = %v (%T), want a *Problem", err, err)
	}
	if p.Status != 400 || p.Code != "invalid_role" || p.Detail != "role must be one of owner, admin" || p.RequestID != "req_42" ||
		p.Type != "https://roster.dev/problems/invalid_role" || p.Title != "Bad Request" {
		t.Errorf("problem = %+v", p)
	}
	if p.Extensions["field"] != "role" || !reflect.DeepEqual(p.Extensions["allowed"], []any{"owner", "admin"}) {
		t.Errorf("extensions = %#v", p.Extensions)
	}
	for _, member := range []string{"code", "detail", "status", "request_id", "type", "title"} {
		if _, ok := p.Extensions[member]; ok {
			t.Errorf("extensions carry the standard member %q", member)
		}
	}
	if msg := err.Error(); !strings.Contains(msg, "PUT /v1/workspaces/ws_1/members/usr_1") || !strings.Contains(msg, "400 invalid_role") ||
		!strings.Contains(msg, "role must be one of") {
		t.Errorf("message = %q", msg)
	}
}

// TestErrorAnswers: answers that are not Roster's problems, or not what
// was asked, give an error that says what happened.
func TestErrorAnswers(t *testing.T) {
	for _, tc := range []struct {
		name        string
		answer      func(w http.ResponseWriter)
		wantStatus  int // of the *Problem; 0: not a Problem
		wantInError []string
	}{
		{"an HTML page from a proxy", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1>\n<p>nginx</p></body></html>")
		}, 502, []string{"502", "not Roster's", "text/html", "502 Bad Gateway"}},
		{"an empty error answer", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}, 503, []string{"503", "empty answer"}},
		{"an empty problem", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusForbidden)
		}, 403, []string{"403", "empty answer"}},
		{"an error answer that is a JSON array", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `["no"]`)
		}, 400, []string{"400", "not Roster's", `[\"no\"]`}},
		{"an error answer that is JSON null", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `null`)
		}, 404, []string{"404", "not Roster's", "null"}},
		{"an empty 200", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
		}, 0, []string{"decoding the 200 answer", "empty"}},
		{"a 200 that is a JSON array", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `[1, 2]`)
		}, 0, []string{"decoding the 200 answer", "not a JSON object"}},
		{"a 200 that is JSON null", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `null`)
		}, 0, []string{"decoding the 200 answer", "not a JSON object"}},
		{"a 200 that is an HTML page", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<html>Sign in to the Wi-Fi</html>`)
		}, 0, []string{"decoding the 200 answer", "not a JSON object", "Wi-Fi"}},
		{"a 200 of malformed JSON", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id": "usr_1", "display_name": }`)
		}, 0, []string{"decoding the 200 answer", "invalid character"}},
		{"a 200 with a field of the wrong type", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id": "usr_1", "display_name": 5}`)
		}, 0, []string{"decoding the 200 answer", "display_name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) { tc.answer(w) })
			_, err := newClient(t, f.URL).GetUser(context.Background(), "usr_1")
			if err == nil {
				t.Fatal("no error")
			}
			var p *client.Problem
			if isP := errors.As(err, &p); isP != (tc.wantStatus != 0) || isP && p.Status != tc.wantStatus {
				t.Errorf("err = %v (%T), want a Problem of status %d", err, err, tc.wantStatus)
			}
			for _, s := range tc.wantInError {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

// hijacked is a handler that takes the connection, writes raw and closes it.
func hijacked(t *testing.T, raw string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		buf.WriteString(raw)
		buf.Flush()
		conn.Close()
	}
}

func TestConnectionCut(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		want      string
		attempts  int
	}{
		{"before an answer", "", "no answer: EOF (after 3 attempts)", 3},
		// Indistinguishable from a server that writes a malformed
		// header: not retried.
		{"in the headers", "HTTP/1.1 200 OK\r\nContent-Ty", "no answer: net/http: HTTP/1.x transport connection broken: malformed MIME header", 1},
		{"in the body", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":\"usr_",
			"the 200 answer was cut off: unexpected EOF (after 3 attempts)", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, hijacked(t, tc.raw))
			_, err := newClient(t, f.URL, client.WithRetries(2, time.Millisecond)).GetUser(context.Background(), "usr_1")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one saying %q", err, tc.want)
			}
			if n := f.count(); n != tc.attempts {
				t.Errorf("%d attempts, want %d", n, tc.attempts)
			}
		})
	}
}

func TestRetriedStatuses(t *testing.T) {
	for _, status := range []int{429, 502, 503, 504} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, _ *http.Request, n int) {
				if n < 2 {
					writeProblem(w, status, "try_again", "attempt "+strconv.Itoa(n))
					return
				}
				writeJSON(w, 200, aUser)
			})
			u, err := newClient(t, f.URL, client.WithRetries(2, time.Millisecond)).GetUser(context.Background(), "usr_1")
			if err != nil || u.ID != "usr_1" {
				t.Fatalf("GetUser = %+v, %v", u, err)
			}
			if n := f.count(); n != 3 {
				t.Errorf("%d attempts, want 3", n)
			}
		})
	}
}

func TestNotRetriedStatuses(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 409, 500} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeProblem(w, status, "nope", "no")
			})
			_, err := newClient(t, f.URL, client.WithRetries(3, time.Millisecond)).CreateUser(context.Background(), client.NewUser{Email: "a@example.com"})
			var p *client.Problem
			if !errors.As(err, &p) || p.Status != status {
				t.Errorf("err = %v, want a %d Problem", err, status)
			}
			if n := f.count(); n != 1 {
				t.Errorf("%d attempts, want 1", n)
			}
		})
	}
}

func TestRetryBudgetReturnsTheLastProblem(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		writeProblem(w, 503, "unavailable", "attempt "+strconv.Itoa(n))
	})
	_, err := newClient(t, f.URL, client.WithRetries(2, time.Millisecond)).GetUser(context.Background(), "usr_1")
	var p *client.Problem
	if !errors.As(err, &p) || p.Status != 503 || p.Detail != "attempt 2" {
		t.Errorf("err = %v, want the third attempt's 503", err)
	}
	if n := f.count(); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	var times []time.Time
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		times = append(times, time.Now())
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			writeProblem(w, 429, "rate_limited", "slow down")
			return
		}
		writeJSON(w, 200, aUser)
	})
	if _, err := newClient(t, f.URL, client.WithRetries(1, time.Millisecond)).GetUser(context.Background(), "usr_1"); err != nil {
		t.Fatal(err)
	}
	if len(times) != 2 {
		t.Fatalf("%d attempts, want 2", len(times))
	}
	if waited := times[1].Sub(times[0]); waited < 900*time.Millisecond {
		t.Errorf("retried after %v, want the second Retry-After asked for", waited)
	}
}

func TestLongRetryAfterIsReturned(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Retry-After", "3600")
		writeProblem(w, 503, "maintenance", "back in an hour")
	})
	_, err := newClient(t, f.URL, client.WithRetries(3, time.Millisecond)).GetUser(context.Background(), "usr_1")
	var p *client.Problem
	if !errors.As(err, &p) || p.RetryAfter != time.Hour {
		t.Errorf("err = %v, want a Problem with RetryAfter 1h", err)
	}
	if n := f.count(); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

// closingListener closes the first drop connections it accepts.
type closingListener struct {
	net.Listener
	drop     int
	accepted atomic.Int32
}

func (l *closingListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if int(l.accepted.Add(1)) <= l.drop {
			conn.Close()
			continue
		}
		return conn, nil
	}
}

func TestConnectionErrorsAreRetried(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, 200, aUser)
	}))
	l := &closingListener{Listener: srv.Listener, drop: 2}
	srv.Listener = l
	srv.Start()
	defer srv.Close()
	u, err := newClient(t, srv.URL, client.WithRetries(2, time.Millisecond)).GetUser(context.Background(), "usr_1")
	if err != nil || u.ID != "usr_1" {
		t.Fatalf("GetUser = %+v, %v", u, err)
	}
	if n := l.accepted.Load(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
}

// closeAtOnce is a listener that closes every connection it accepts.
func closeAtOnce(t *testing.T) (addr string, accepted *atomic.Int32) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	accepted = new(atomic.Int32)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conn.Close()
		}
	}()
	return l.Addr().String(), accepted
}

func TestConnectionErrorsExhaustTheBudget(t *testing.T) {
	addr, accepted := closeAtOnce(t)
	_, err := newClient(t, "http://"+addr, client.WithRetries(2, time.Millisecond)).CreateUser(context.Background(), client.NewUser{})
	// net/http says "EOF" or "server closed idle connection", depending
	// on whether it sees the close before it writes the request.
	if err == nil || !strings.Contains(err.Error(), "no answer: ") || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("err = %v", err)
	}
	if n := accepted.Load(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
}

func TestAnAnswerThatIsNotHTTPIsNotRetried(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var accepted atomic.Int32
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			br := bufio.NewReader(conn) // the request first, then the answer
			for line := "x"; line != "\r\n"; {
				if line, err = br.ReadString('\n'); err != nil {
					break
				}
			}
			io.WriteString(conn, "SSH-2.0-OpenSSH_9.6\r\n\r\n")
			conn.Close()
		}
	}()
	_, err = newClient(t, "http://"+l.Addr().String(), client.WithRetries(3, time.Millisecond)).GetUser(context.Background(), "usr_1")
	if err == nil || !strings.Contains(err.Error(), "malformed HTTP") {
		t.Errorf("err = %v", err)
	}
	if n := accepted.Load(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestAttemptTimeoutIsRetried(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 0 {
			<-r.Context().Done() // the client gives up on it
			return
		}
		writeJSON(w, 200, aUser)
	})
	c := newClient(t, f.URL, client.WithTimeout(50*time.Millisecond), client.WithRetries(1, time.Millisecond))
	if _, err := c.GetUser(context.Background(), "usr_1"); err != nil {
		t.Fatal(err)
	}
	if n := f.count(); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
	_, err := newClient(t, f.URL, client.WithTimeout(50*time.Millisecond)).GetUser(context.Background(), "usr_1")
	if err != nil {
		t.Fatal(err) // the third request is answered at once
	}
}

func TestAttemptTimeoutMessage(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { <-r.Context().Done() })
	_, err := newClient(t, f.URL, client.WithTimeout(20*time.Millisecond)).GetUser(context.Background(), "usr_1")
	if err == nil || !strings.Contains(err.Error(), "no answer within 20ms") {
		t.Errorf("err = %v", err)
	}
}

// TestIdempotencyKeyRetriedInProgress: a retried POST that finds its own
// first attempt still running (409 idempotency_request_in_progress) is
// retried; the same 409 on a first attempt is not.
func TestIdempotencyKeyRetriedInProgress(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		switch n {
		case 0:
			writeProblem(w, 503, "unavailable", "")
		case 1:
			writeProblem(w, 409, "idempotency_request_in_progress", "retry shortly")
		default:
			writeJSON(w, 201, aUser)
		}
	})
	if _, err := newClient(t, f.URL, client.WithRetries(3, time.Millisecond)).CreateUser(context.Background(), client.NewUser{}); err != nil {
		t.Fatal(err)
	}
	if n := f.count(); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}

	f = newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeProblem(w, 409, "idempotency_request_in_progress", "retry shortly")
	})
	_, err := newClient(t, f.URL, client.WithRetries(3, time.Millisecond)).CreateUser(context.Background(), client.NewUser{})
	if p := (*client.Problem)(nil); !errors.As(err, &p) || p.Status != 409 || f.count() != 1 {
		t.Errorf("err = %v after %d attempts, want the 409 after 1", err, f.count())
	}
}

func TestIdempotencyKeys(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Method == http.MethodPost && n < 2 {
			writeProblem(w, 503, "unavailable", "")
			return
		}
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, 200, aUser)
	})
	c := newClient(t, f.URL, client.WithRetries(3, time.Millisecond))
	ctx := context.Background()
	if _, err := c.CreateUser(ctx, client.NewUser{Email: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d attempts, want 3", len(reqs))
	}
	first := reqs[0].Header.Get("Idempotency-Key")
	if first == "" {
		t.Fatal("a POST without an Idempotency-Key")
	}
	for i, r := range reqs {
		if k := r.Header.Get("Idempotency-Key"); k != first {
			t.Errorf("attempt %d: Idempotency-Key %q, want %q", i, k, first)
		}
		if r.Body != `{"email":"a@example.com"}` {
			t.Errorf("attempt %d: body %q", i, r.Body)
		}
	}
	if _, err := c.CreateUser(ctx, client.NewUser{Email: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	if second := f.requests()[3].Header.Get("Idempotency-Key"); second == "" || second == first {
		t.Errorf("the second call's key %q, want a new one (the first: %q)", second, first)
	}

	_, _ = c.GetUser(ctx, "usr_1")
	_, _ = c.PutMember(ctx, "ws_1", "usr_1", client.MemberUpdate{Role: "member"})
	_, _ = c.UpdateUser(ctx, "usr_1", client.UserUpdate{})
	_ = c.DeleteUser(ctx, "usr_1")
	for _, r := range f.requests()[4:] {
		if k, ok := r.Header["Idempotency-Key"]; ok {
			t.Errorf("%s carries Idempotency-Key %q", r.Method, k)
		}
	}
	if n := f.count(); n != 8 {
		t.Errorf("%d requests, want 8", n)
	}
}

func TestHeaders(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeJSON(w, 200, aUser) })
	c := newClient(t, f.URL)
	svc := c.OnBehalfOf("usr_9")
	ctx := context.Background()
	if _, err := svc.GetUser(ctx, "usr_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(ctx, "usr_1"); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if got := reqs[0].Header.Values("Roster-On-Behalf-Of"); len(got) != 1 || got[0] != "usr_9" {
		t.Errorf("Roster-On-Behalf-Of = %q, want usr_9", got)
	}
	if got, ok := reqs[1].Header["Roster-On-Behalf-Of"]; ok {
		t.Errorf("the original client sends Roster-On-Behalf-Of %q", got)
	}
	for i, r := range reqs {
		if got := r.Header.Get("Authorization"); got != "Bearer rst_pat_secret" {
			t.Errorf("request %d: Authorization %q", i, got)
		}
		if got := r.Header.Get("Accept"); !strings.HasPrefix(got, "application/json") || !strings.Contains(got, "application/problem+json") {
			t.Errorf("request %d: Accept %q", i, got)
		}
	}
}

// users is a fake GET /v1/users of n users that pages by ?limit= and
// ?cursor= (an index); failAt, if not 0, fails the request of that index.
func users(t *testing.T, n, failAt int) *fake {
	return newFake(t, func(w http.ResponseWriter, r *http.Request, req int) {
		if failAt != 0 && req == failAt {
			writeProblem(w, 500, "internal", "boom")
			return
		}
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		start, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
		page := []map[string]any{}
		for i := start; i < min(start+limit, n); i++ {
			page = append(page, map[string]any{"id": fmt.Sprintf("usr_%d", i), "created_at": "2030-01-01T00:00:00Z", "updated_at": "2030-01-01T00:00:00Z"})
		}
		var next any
		if start+limit < n {
			next = strconv.Itoa(start + limit)
		}
		writeJSON(w, 200, map[string]any{"data": page, "next_cursor": next})
	})
}

func TestListFollowsCursors(t *testing.T) {
	f := users(t, 5, 0)
	got, err := client.Collect(newClient(t, f.URL).ListUsers(context.Background(), client.UserFilter{ListOptions: client.ListOptions{Limit: 2}, Q: "ann"}))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range got {
		ids = append(ids, u.ID)
	}
	if want := []string{"usr_0", "usr_1", "usr_2", "usr_3", "usr_4"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids = %v, want %v", ids, want)
	}
	var queries []string
	for _, r := range f.requests() {
		queries = append(queries, r.RawQuery)
	}
	if want := []string{"limit=2&q=ann", "cursor=2&limit=2&q=ann", "cursor=4&limit=2&q=ann"}; !reflect.DeepEqual(queries, want) {
		t.Errorf("queries = %q, want %q", queries, want)
	}
}

func TestListStopsWhenTheLoopBreaks(t *testing.T) {
	f := users(t, 10, 0)
	n := 0
	for _, err := range newClient(t, f.URL).ListUsers(context.Background(), client.UserFilter{ListOptions: client.ListOptions{Limit: 2}}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
	if got := f.count(); got != 2 {
		t.Errorf("%d pages fetched, want 2", got)
	}
}

func TestListYieldsAPageErrorAndStops(t *testing.T) {
	f := users(t, 10, 1)
	var ids []string
	var errs []error
	for u, err := range newClient(t, f.URL, client.WithRetries(3, time.Millisecond)).ListUsers(context.Background(), client.UserFilter{ListOptions: client.ListOptions{Limit: 2}}) {
		if err != nil {
			errs = append(errs, err)
			continue // the iterator must stop by itself
		}
		ids = append(ids, u.ID)
	}
	var p *client.Problem
	if len(errs) != 1 || !errors.As(errs[0], &p) || p.Status != 500 {
		t.Errorf("errors = %v, want one 500 Problem", errs)
	}
	if !reflect.DeepEqual(ids, []string{"usr_0", "usr_1"}) {
		t.Errorf("ids = %v", ids)
	}
	if got := f.count(); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
	got, err := client.Collect(newClient(t, users(t, 10, 1).URL).ListUsers(context.Background(), client.UserFilter{ListOptions: client.ListOptions{Limit: 2}}))
	if len(got) != 2 || !errors.As(err, &p) {
		t.Errorf("Collect = %d users, %v", len(got), err)
	}
}

func TestListRefusesACursorThatDoesNotMove(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		writeJSON(w, 200, map[string]any{"data": []any{map[string]any{"id": "usr_1"}}, "next_cursor": "same"})
	})
	got, err := client.Collect(newClient(t, f.URL).ListUsers(context.Background(), client.UserFilter{}))
	if err == nil || len(got) != 2 || f.count() != 2 {
		t.Errorf("Collect = %d users, %v after %d requests", len(got), err, f.count())
	}
}

func TestCancelStopsRetries(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Retry-After", "30")
		writeProblem(w, 503, "unavailable", "")
	})
	c := newClient(t, f.URL, client.WithRetries(10, time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.GetUser(ctx, "usr_1")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("returned after %v", took)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := f.count(); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}

	// A request in flight is abandoned too.
	hang := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { <-r.Context().Done() })
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = newClient(t, hang.URL, client.WithRetries(10, time.Millisecond)).CreateUser(ctx, client.NewUser{})
	if took := time.Since(start); took > 2*time.Second || !errors.Is(err, context.DeadlineExceeded) || hang.count() != 1 {
		t.Errorf("err = %v after %v and %d attempts", err, took, hang.count())
	}

	// A context cancelled already sends nothing.
	_, err = c.GetUser(ctx, "usr_1")
	if !errors.Is(err, context.DeadlineExceeded) || f.count() != 1 {
		t.Errorf("err = %v, %d attempts", err, f.count())
	}
}

func TestPathSegmentsAreEscaped(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, 200, aUser)
	})
	ctx := context.Background()
	c := newClient(t, f.URL)
	if _, err := c.GetUser(ctx, "usr_1/tokens?x=1#y"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveShare(ctx, "res 1", "../ws_2"); err != nil {
		t.Fatal(err)
	}
	prefixed := newClient(t, f.URL+"/roster/")
	if _, err := prefixed.GetUser(ctx, "a%2Fb"); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	for i, want := range []seen{
		{Method: "GET", Path: "/v1/users/usr_1%2Ftokens%3Fx=1%23y"},
		{Method: "DELETE", Path: "/v1/resources/res%201/shares/..%2Fws_2"},
		{Method: "GET", Path: "/roster/v1/users/a%252Fb"},
	} {
		if reqs[i].Method != want.Method || reqs[i].Path != want.Path || reqs[i].RawQuery != "" {
			t.Errorf("request %d: %s %s ? %s, want %s %s", i, reqs[i].Method, reqs[i].Path, reqs[i].RawQuery, want.Method, want.Path)
		}
	}
	for _, id := range []string{"", ".", ".."} {
		if _, err := c.GetUser(ctx, id); err == nil {
			t.Errorf("GetUser(%q) sent", id)
		}
	}
	if n := f.count(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestNewChecksTheBaseURL(t *testing.T) {
	for _, bad := range []string{"", "127.0.0.1:8080", "localhost:8080", "ftp://example.com", "http://", "http:///v1",
		"https://user:pw@example.com", "http://example.com?x=1", "http://example.com/#top", "mailto:a@example.com", "http://exa mple.com"} {
		if _, err := client.New(bad, "t"); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	for _, good := range []string{"http://127.0.0.1:8080", "https://roster.example.com/", "https://example.com/roster"} {
		if _, err := client.New(good, "t"); err != nil {
			t.Errorf("New(%q): %v", good, err)
		}
	}
}

// TestCalls: each call sends its method, path, query and body.
func TestCalls(t *testing.T) {
	ctx := context.Background()
	since := time.Date(2030, 1, 1, 1, 0, 0, 0, time.FixedZone("CET", 3600))
	until := time.Date(2030, 1, 2, 0, 0, 0, 500_000_000, time.UTC)
	for _, tc := range []struct {
		call                      func(c *client.Client) error
		method, path, query, body string
	}{
		{func(c *client.Client) error {
			_, err := c.CreateResource(ctx, client.NewResource{Type: "document", ExternalID: "d1", Name: "Doc"})
			return err
		}, "POST", "/v1/resources", "", `{"type":"document","external_id":"d1","name":"Doc"}`},
		{func(c *client.Client) error {
			_, err := client.Collect(c.ListResources(ctx, client.ResourceFilter{ListOptions: client.ListOptions{Limit: 10}, Type: "document", ExternalID: "d1", WorkspaceID: "ws_1"}))
			return err
		}, "GET", "/v1/resources", "external_id=d1&limit=10&type=document&workspace_id=ws_1", ""},
		{func(c *client.Client) error {
			_, err := client.Collect(c.ListUserResources(ctx, "usr_1", client.UserResourceFilter{Type: "document", WorkspaceID: "ws_1"}))
			return err
		}, "GET", "/v1/users/usr_1/resources", "type=document&workspace_id=ws_1", ""},
		{func(c *client.Client) error { _, err := c.GetResource(ctx, "res_1"); return err }, "GET", "/v1/resources/res_1", "", ""},
		{func(c *client.Client) error { _, err := c.RenameResource(ctx, "res_1", "New"); return err }, "PATCH", "/v1/resources/res_1", "", `{"name":"New"}`},
		{func(c *client.Client) error { return c.DeleteResource(ctx, "res_1") }, "DELETE", "/v1/resources/res_1", "", ""},
		{func(c *client.Client) error { _, err := c.Shares(ctx, "res_1"); return err }, "GET", "/v1/resources/res_1/shares", "", ""},
		{func(c *client.Client) error { _, _, err := c.PutShare(ctx, "res_1", "ws_2", "editor"); return err }, "PUT", "/v1/resources/res_1/shares/ws_2", "", `{"role":"editor"}`},
		{func(c *client.Client) error { return c.RemoveShare(ctx, "res_1", "usr_2") }, "DELETE", "/v1/resources/res_1/shares/usr_2", "", ""},
		{func(c *client.Client) error { _, err := c.TransferResource(ctx, "res_1", "ws_2"); return err }, "POST", "/v1/resources/res_1/transfer", "", `{"to_workspace_id":"ws_2"}`},

		{func(c *client.Client) error {
			_, err := c.JoinSupport(ctx, "ws_1", client.SupportJoin{Reason: "ticket 42", Duration: 3600})
			return err
		}, "POST", "/v1/admin/workspaces/ws_1/support-session", "", `{"reason":"ticket 42","duration":3600}`},
		{func(c *client.Client) error { _, err := c.GetSupportSession(ctx, "ws_1"); return err }, "GET", "/v1/admin/workspaces/ws_1/support-session", "", ""},
		{func(c *client.Client) error { _, err := c.LeaveSupport(ctx, "ws_1"); return err }, "DELETE", "/v1/admin/workspaces/ws_1/support-session", "", ""},
		{func(c *client.Client) error {
			_, err := client.Collect(c.ListSupportSessions(ctx, client.SupportSessionFilter{WorkspaceID: "ws_1", UserID: "usr_9"}))
			return err
		}, "GET", "/v1/admin/support-sessions", "user_id=usr_9&workspace_id=ws_1", ""},
		{func(c *client.Client) error {
			_, err := client.Collect(c.ListWorkspaceSupportSessions(ctx, "ws_1", client.ListOptions{Limit: 5}))
			return err
		}, "GET", "/v1/workspaces/ws_1/support-sessions", "limit=5", ""},

		{func(c *client.Client) error {
			_, err := client.Collect(c.ListTasks(ctx, client.TaskFilter{Status: "failed", Type: "callback"}))
			return err
		}, "GET", "/v1/admin/tasks", "status=failed&type=callback", ""},
		{func(c *client.Client) error { _, err := c.GetTask(ctx, "task_1"); return err }, "GET", "/v1/admin/tasks/task_1", "", ""},
		{func(c *client.Client) error { _, err := c.CancelTask(ctx, "task_1"); return err }, "POST", "/v1/admin/tasks/task_1/cancel", "", ""},
		{func(c *client.Client) error { _, err := c.RetryTask(ctx, "task_1"); return err }, "POST", "/v1/admin/tasks/task_1/retry", "", ""},
		{func(c *client.Client) error {
			_, err := c.CreateCallback(ctx, client.NewCallback{RunAt: until, Payload: json.RawMessage(`{"a":1}`), WebhookID: "whk_1"})
			return err
		}, "POST", "/v1/tasks/callbacks", "", `{"payload":{"a":1},"run_at":"2030-01-02T00:00:00.5Z","webhook_id":"whk_1"}`},

		{func(c *client.Client) error {
			_, err := c.CreateWebhook(ctx, client.NewWebhook{URL: "https://h.example/hook", EventTypes: []string{"user.created"}})
			return err
		}, "POST", "/v1/webhooks", "", `{"url":"https://h.example/hook","event_types":["user.created"]}`},
		{func(c *client.Client) error {
			_, err := client.Collect(c.ListWebhooks(ctx, client.ListOptions{}))
			return err
		}, "GET", "/v1/webhooks", "", ""},
		{func(c *client.Client) error { _, err := c.GetWebhook(ctx, "whk_1"); return err }, "GET", "/v1/webhooks/whk_1", "", ""},
		{func(c *client.Client) error { return c.DeleteWebhook(ctx, "whk_1") }, "DELETE", "/v1/webhooks/whk_1", "", ""},
		{func(c *client.Client) error { _, err := c.RotateWebhookSecret(ctx, "whk_1"); return err }, "POST", "/v1/webhooks/whk_1/rotate-secret", "", ""},
		{func(c *client.Client) error {
			_, err := client.Collect(c.ListWebhookDeliveries(ctx, "whk_1", client.ListOptions{}))
			return err
		}, "GET", "/v1/webhooks/whk_1/deliveries", "", ""},

		{func(c *client.Client) error {
			_, err := client.Collect(c.ListAudit(ctx, client.AuditFilter{ListOptions: client.ListOptions{Limit: 20}, OrgID: "org_1", WorkspaceID: "ws_1",
				ActorID: "usr_1", Action: "user.created", Since: since, Until: until}))
			return err
		}, "GET", "/v1/audit", "action=user.created&actor_id=usr_1&limit=20&org_id=org_1&since=2030-01-01T00:00:00Z&until=2030-01-02T00:00:00.5Z&workspace_id=ws_1", ""},
		{func(c *client.Client) error { _, err := c.VerifyAudit(ctx); return err }, "GET", "/v1/audit/verify", "", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				if r.Method == http.MethodDelete && !strings.HasSuffix(r.URL.Path, "/support-session") {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				writeJSON(w, 200, map[string]any{"data": []any{}, "next_cursor": nil})
			})
			if err := tc.call(newClient(t, f.URL)); err != nil {
				t.Fatal(err)
			}
			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tc.method || r.Path != tc.path {
				t.Errorf("sent %s %s", r.Method, r.Path)
			}
			gotQ, _ := url.ParseQuery(r.RawQuery)
			wantQ, _ := url.ParseQuery(tc.query)
			if !reflect.DeepEqual(gotQ, wantQ) {
				t.Errorf("query %q, want %q", r.RawQuery, tc.query)
			}
			if !sameJSON(r.Body, tc.body) {
				t.Errorf("body %s, want %s", r.Body, tc.body)
			}
			if ct := r.Header.Get("Content-Type"); (tc.body != "") != (ct == "application/json") {
				t.Errorf("Content-Type %q with body %q", ct, r.Body)
			}
		})
	}
}

func sameJSON(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && reflect.DeepEqual(x, y)
}

func TestPutShareTellsCreated(t *testing.T) {
	share := map[string]any{"resource_id": "res_1", "grantee_kind": "workspace", "grantee_id": "ws_2", "role": "viewer",
		"created_by": "usr_1", "created_at": "2030-01-01T00:00:00Z"}
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		writeJSON(w, map[bool]int{true: 201, false: 200}[n == 0], share)
	})
	c := newClient(t, f.URL)
	for i, want := range []bool{true, false} {
		s, created, err := c.PutShare(context.Background(), "res_1", "ws_2", "viewer")
		if err != nil || created != want || s.GranteeID != "ws_2" || s.Role != "viewer" || *s.CreatedBy != "usr_1" {
			t.Errorf("call %d: PutShare = %+v, %v, %v; want created %v", i, s, created, err, want)
		}
	}
}

func TestDecodedAnswers(t *testing.T) {
	session := map[string]any{"id": "ses_1", "workspace_id": "ws_1", "org_id": "org_1", "user_id": "usr_9", "role": "admin",
		"reason": "ticket 42", "started_at": "2030-01-01T00:00:00Z", "expires_at": "2030-01-02T00:00:00Z", "active": true,
		"ended_at": nil, "end_reason": nil, "token": "rst_sup_x"}
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		switch {
		case r.Method == http.MethodPost:
			writeJSON(w, 201, map[string]any{"status": "granted", "session": session})
		case r.Method == http.MethodDelete:
			writeJSON(w, 200, map[string]any{"ended": true})
		case strings.HasSuffix(r.URL.Path, "/shares"):
			writeJSON(w, 200, map[string]any{"data": []any{map[string]any{"resource_id": "res_1", "grantee_id": "usr_2", "grantee_kind": "user", "role": "editor"}}})
		default:
			writeJSON(w, 200, map[string]any{"active": false, "session": nil})
		}
	})
	c := newClient(t, f.URL)
	ctx := context.Background()
	joined, err := c.JoinSupport(ctx, "ws_1", client.SupportJoin{Reason: "ticket 42"})
	if err != nil || joined.Status != "granted" || joined.Session == nil || joined.Session.Token != "rst_sup_x" || joined.Session.EndedAt != nil {
		t.Errorf("JoinSupport = %+v, %v", joined, err)
	}
	if st, err := c.GetSupportSession(ctx, "ws_1"); err != nil || st.Active || st.Session != nil {
		t.Errorf("GetSupportSession = %+v, %v", st, err)
	}
	if ended, err := c.LeaveSupport(ctx, "ws_1"); err != nil || !ended {
		t.Errorf("LeaveSupport = %v, %v", ended, err)
	}
	if shares, err := c.Shares(ctx, "res_1"); err != nil || len(shares) != 1 || shares[0].GranteeID != "usr_2" {
		t.Errorf("Shares = %+v, %v", shares, err)
	}
}

func exportedLine(seq int) string {
	b, _ := json.Marshal(map[string]any{"seq": seq, "hash": fmt.Sprintf("h%d", seq), "prev_hash": fmt.Sprintf("h%d", seq-1),
		"id": fmt.Sprintf("evt_%d", seq), "at": "2030-01-01T00:00:00Z", "action": "user.created", "before": nil, "after": map[string]any{"id": "usr_1"}})
	return string(b) + "\n"
}

func TestExportAudit(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		for seq := 1; seq <= 3; seq++ {
			io.WriteString(w, exportedLine(seq))
		}
	})
	since := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var seqs []int
	for e, err := range newClient(t, f.URL).ExportAudit(context.Background(), client.AuditFilter{OrgID: "org_1", Since: since}) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Hash != fmt.Sprintf("h%d", e.Seq) || string(e.After) != `{"id":"usr_1"}` {
			t.Errorf("event %+v", e)
		}
		seqs = append(seqs, e.Seq)
	}
	if !reflect.DeepEqual(seqs, []int{1, 2, 3}) {
		t.Errorf("seqs = %v", seqs)
	}
	r := f.requests()[0]
	if r.Method != "GET" || r.Path != "/v1/audit/export" || r.RawQuery != "org_id=org_1&since=2030-01-01T00%3A00%3A00Z" {
		t.Errorf("sent %s %s?%s", r.Method, r.Path, r.RawQuery)
	}
	if a := r.Header.Get("Accept"); !strings.HasPrefix(a, "application/x-ndjson") {
		t.Errorf("Accept %q", a)
	}
	if _, ok := r.Header["Idempotency-Key"]; ok {
		t.Error("a GET with an Idempotency-Key")
	}
}

func TestExportAuditClosesWhenTheLoopBreaks(t *testing.T) {
	gone := make(chan struct{})
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		for seq := 1; ; seq++ {
			if _, err := io.WriteString(w, exportedLine(seq)); err != nil {
				break
			}
			w.(http.Flusher).Flush()
			if seq > 2 {
				select {
				case <-r.Context().Done():
					close(gone)
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		}
	})
	for _, err := range newClient(t, f.URL).ExportAudit(context.Background(), client.AuditFilter{}) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Error("the export's connection was not closed when the loop stopped")
	}
}

func TestExportAuditCutOrFailing(t *testing.T) {
	cut := newFake(t, hijacked(t, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n"+exportedLine(1)+`{"seq":2,"ha`))
	var n int
	var errs []error
	for _, err := range newClient(t, cut.URL).ExportAudit(context.Background(), client.AuditFilter{}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	if n != 1 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "line 2") {
		t.Errorf("%d events, errors %v; want 1 event and an error at line 2", n, errs)
	}

	failing := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ int) { writeProblem(w, 403, "forbidden", "admins only") })
	_, err := client.Collect(newClient(t, failing.URL).ExportAudit(context.Background(), client.AuditFilter{}))
	if p := (*client.Problem)(nil); !errors.As(err, &p) || p.Code != "forbidden" {
		t.Errorf("err = %v", err)
	}
}

// TestLongCallsOutliveTheTimeout: the export and the verification are
// bounded by their context, not by the client's per-attempt timeout.
func TestLongCallsOutliveTheTimeout(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if strings.HasSuffix(r.URL.Path, "/verify") {
			time.Sleep(100 * time.Millisecond)
			writeJSON(w, 200, map[string]any{"ok": true, "events": 7, "head": "h7", "first_bad_event_id": nil})
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		io.WriteString(w, exportedLine(1))
		w.(http.Flusher).Flush()
		time.Sleep(100 * time.Millisecond)
		io.WriteString(w, exportedLine(2))
	})
	c := newClient(t, f.URL, client.WithTimeout(20*time.Millisecond))
	events, err := client.Collect(c.ExportAudit(context.Background(), client.AuditFilter{}))
	if err != nil || len(events) != 2 {
		t.Errorf("export: %d events, %v", len(events), err)
	}
	if v, err := c.VerifyAudit(context.Background()); err != nil || !v.OK || v.Events != 7 {
		t.Errorf("VerifyAudit = %+v, %v", v, err)
	}
}

// TestHijackedHelperWrites guards the helper the cut tests rely on: a
// server that writes a whole answer through it is read as one.
func TestHijackedHelperWrites(t *testing.T) {
	body := `{"id":"usr_1","created_at":"2030-01-01T00:00:00Z","updated_at":"2030-01-01T00:00:00Z"}`
	f := newFake(t, hijacked(t, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body))
	if u, err := newClient(t, f.URL).GetUser(context.Background(), "usr_1"); err != nil || u.ID != "usr_1" {
		t.Errorf("GetUser = %+v, %v", u, err)
	}
}
