package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/webhook"
)

// received is what a test endpoint saw of one request.
type received struct {
	method string
	header http.Header
	body   []byte
}

// endpoint starts a server answering status with answer, and records what
// it receives.
func endpoint(t *testing.T, status int, answer string) (*httptest.Server, func() []received) {
	t.Helper()
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{r.Method, r.Header.Clone(), body})
		mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []received {
		mu.Lock()
		defer mu.Unlock()
		return append([]received(nil), got...)
	}
}

func TestDeliverOK(t *testing.T) {
	srv, got := endpoint(t, http.StatusNoContent, "")
	secret := webhook.NewSecret()
	body := []byte(`{"type":"user.created","timestamp":"2026-01-02T03:04:05Z","data":{"id":"evt_9"}}`)
	now := time.Now()
	res := (&webhook.Client{}).Deliver(context.Background(), srv.URL+"/hooks?x=1", "evt_9", now, body, []string{secret})
	if !res.OK() || res.Status != http.StatusNoContent || res.Err != nil || res.Duration <= 0 {
		t.Fatalf("Deliver = %+v", res)
	}
	reqs := got()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || !bytes.Equal(r.body, body) {
		t.Errorf("got %s %q", r.method, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if ua := r.header.Get("User-Agent"); ua != "Roster-Webhooks/1" {
		t.Errorf("User-Agent = %q", ua)
	}
	if id := r.header.Get("webhook-id"); id != "evt_9" {
		t.Errorf("webhook-id = %q", id)
	}
	if err := verify(r.header, r.body, secret, time.Now()); err != nil {
		t.Errorf("the receiver cannot verify the delivery: %v", err)
	}
}

func TestDeliverStatus(t *testing.T) {
	tests := []struct {
		status int
		ok     bool
	}{
		{200, true}, {201, true}, {202, true}, {204, true}, {299, true},
		{300, false}, {304, false}, {400, false}, {401, false}, {404, false},
		{410, false}, {429, false}, {500, false}, {503, false},
	}
	secret := webhook.NewSecret()
	for _, tt := range tests {
		srv, _ := endpoint(t, tt.status, "thanks")
		res := (&webhook.Client{}).Deliver(context.Background(), srv.URL, "evt_1", time.Now(), []byte("{}"), []string{secret})
		if res.OK() != tt.ok || res.Status != tt.status || res.Err != nil {
			t.Errorf("status %d: Deliver = %+v, OK() = %v; want %v", tt.status, res, res.OK(), tt.ok)
		}
	}
}

// countingTransport counts the response body bytes its caller reads and
// whether it closes the body.
type countingTransport struct {
	read   atomic.Int64
	closed atomic.Bool
}

type countingBody struct {
	io.ReadCloser
	t *countingTransport
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.t.read.Add(int64(n))
	return n, err
}

func (b countingBody) Close() error {
	b.t.closed.Store(true)
	return b.ReadCloser.Close()
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		resp.Body = countingBody{resp.Body, c}
	}
	return resp, err
}

func TestDeliverBoundsTheResponse(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	srv, _ := endpoint(t, http.StatusInternalServerError, big)
	ct := &countingTransport{}
	c := &webhook.Client{HTTP: &http.Client{Transport: ct}}
	res := c.Deliver(context.Background(), srv.URL, "evt_1", time.Now(), []byte("{}"), []string{webhook.NewSecret()})
	if res.OK() || res.Status != 500 || res.Err != nil {
		t.Fatalf("Deliver = %+v", res)
	}
	if res.Body != big[:1024] {
		t.Errorf("Body is %d bytes, want the first 1024", len(res.Body))
	}
	if n := ct.read.Load(); n > 8<<10 {
		t.Errorf("read %d bytes of the response, want no more than 8 KiB", n)
	}
	if !ct.closed.Load() {
		t.Error("the response body was not closed")
	}
}

func TestDeliverBodyIsText(t *testing.T) {
	tests := []struct {
		name, answer, want string
	}{
		{"short", "nope", "nope"},
		{"invalid UTF-8 and NUL", "a\xff\xfeb\x00c", "a?b?c"},
		{"character cut at the limit", strings.Repeat("a", 1023) + "é" + "tail", strings.Repeat("a", 1023)},
		{"character ending at the limit", strings.Repeat("a", 1022) + "é" + "tail", strings.Repeat("a", 1022) + "é"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := endpoint(t, http.StatusBadRequest, tt.answer)
			res := (&webhook.Client{}).Deliver(context.Background(), srv.URL, "evt_1", time.Now(), []byte("{}"), []string{webhook.NewSecret()})
			if res.Body != tt.want {
				t.Errorf("Body = %q, want %q", res.Body, tt.want)
			}
		})
	}
}

func TestDeliverTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		case <-time.After(10 * time.Second):
		}
	}))
	defer srv.Close()
	defer close(release)

	c := &webhook.Client{Timeout: 100 * time.Millisecond}
	start := time.Now()
	res := c.Deliver(context.Background(), srv.URL, "evt_1", time.Now(), []byte("{}"), []string{webhook.NewSecret()})
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Deliver took %s with a 100 ms timeout", elapsed)
	}
	if res.OK() || res.Status != 0 || res.Err == nil {
		t.Fatalf("Deliver = %+v, want a timeout", res)
	}
	if !errors.Is(res.Err, context.DeadlineExceeded) || !strings.Contains(res.Err.Error(), "no answer within 100ms") {
		t.Errorf("Err = %v, want a deadline exceeded after 100ms", res.Err)
	}
	if res.Duration < 100*time.Millisecond {
		t.Errorf("Duration = %s", res.Duration)
	}
}

func TestDeliverCallerCancels(t *testing.T) {
	srv, got := endpoint(t, 200, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := (&webhook.Client{}).Deliver(ctx, srv.URL, "evt_1", time.Now(), []byte("{}"), []string{webhook.NewSecret()})
	if res.OK() || !errors.Is(res.Err, context.Canceled) || strings.Contains(res.Err.Error(), "no answer within") {
		t.Fatalf("Deliver = %+v, want the caller's cancellation", res)
	}
	if n := len(got()); n != 0 {
		t.Errorf("%d requests", n)
	}
}

func TestDeliverDoesNotFollowRedirects(t *testing.T) {
	target, got := endpoint(t, 200, "")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	}))
	defer srv.Close()

	// A given client that would follow redirects does not.
	hc := &http.Client{}
	for _, c := range []*webhook.Client{{}, {HTTP: hc}} {
		res := c.Deliver(context.Background(), srv.URL, "evt_1", time.Now(), []byte("{}"), []string{webhook.NewSecret()})
		if res.OK() || res.Status != http.StatusFound || res.Err != nil {
			t.Errorf("Deliver = %+v, want a failed 302", res)
		}
	}
	if n := len(got()); n != 0 {
		t.Errorf("the redirect target was hit %d times", n)
	}
	if hc.CheckRedirect != nil {
		t.Error("Deliver changed the given client")
	}
}

func TestDeliverErrors(t *testing.T) {
	srv, got := endpoint(t, 200, "")
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name, url string
		secrets   []string
	}{
		{"bad secret", srv.URL, []string{"whsec_short"}},
		{"no secret", srv.URL, nil},
		{"bad url", "http://exa mple.com/", []string{webhook.NewSecret()}},
		{"unsupported scheme", "ftp://" + srv.Listener.Addr().String(), []string{webhook.NewSecret()}},
		{"connection refused", closed.URL, []string{webhook.NewSecret()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := (&webhook.Client{}).Deliver(context.Background(), tt.url, "evt_1", time.Now(), []byte("{}"), tt.secrets)
			if res.OK() || res.Err == nil || res.Status != 0 {
				t.Fatalf("Deliver = %+v, want an error", res)
			}
		})
	}
	if n := len(got()); n != 0 {
		t.Errorf("%d requests", n)
	}
}

func TestDeliverConcurrently(t *testing.T) {
	srv, got := endpoint(t, 200, "ok")
	var nilClient *webhook.Client // a nil Client delivers with the defaults
	clients := []*webhook.Client{nilClient, {Timeout: 5 * time.Second}}
	secret := webhook.NewSecret()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if res := clients[i%2].Deliver(context.Background(), srv.URL, "evt_1", time.Now(), []byte("{}"), []string{secret}); !res.OK() {
				t.Errorf("Deliver = %+v", res)
			}
		})
	}
	wg.Wait()
	if n := len(got()); n != 20 {
		t.Errorf("%d requests, want 20", n)
	}
}
