package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/client"
)

// sseEvent is an event's JSON as Roster's stream sends it.
func sseEventJSON(id, typ string) string {
	return fmt.Sprintf(`{"id":%q,"type":%q,"created_at":"2024-05-01T12:00:00Z","org_id":"org_1","workspace_id":null,"actor_id":"usr_1","data":{"id":"wsp_1"}}`, id, typ)
}

// sseFrame is one event as Roster writes it.
func sseFrame(id, typ string) string {
	return fmt.Sprintf("id: %s\nevent: %s\ndata: %s\n\n", id, typ, sseEventJSON(id, typ))
}

// sseStart answers a stream request: headers, then Roster's first comment.
func sseStart(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, ": connected\n\n")
	w.(http.Flusher).Flush()
}

func sseWrite(w http.ResponseWriter, s string) {
	io.WriteString(w, s)
	w.(http.Flusher).Flush()
}

// sseClient is a client of srv whose reconnections are quick.
func sseClient(t *testing.T, srv *httptest.Server, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(srv.URL, "tok", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fastRetry(o client.EventOptions) client.EventOptions {
	o.RetryMin, o.RetryMax = time.Millisecond, time.Millisecond
	return o
}

func TestEventsParsesTheStream(t *testing.T) {
	requests := make(chan *http.Request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests <- r.Clone(context.Background())
		sseStart(w)
		// Data over several lines, with comments (heartbeats) between
		// them and between events.
		sseWrite(w, "id: evt_1\nevent: membership.created\n: heartbeat\ndata: {\"id\":\"evt_1\",\ndata:  \"type\":\"membership.created\",\ndata: \"data\":{\"a\":1}}\n\n")
		sseWrite(w, ": heartbeat\n\n")
		// CRLF line ends, a byte at a time so that CR and LF come apart.
		for _, b := range []byte(strings.ReplaceAll(sseFrame("evt_2", "membership.deleted"), "\n", "\r\n")) {
			sseWrite(w, string(b))
		}
		// CR alone ends lines too; the field's space is optional.
		sseWrite(w, "id:evt_3\revent:user.updated\rdata:"+sseEventJSON("evt_3", "user.updated")+"\r\r")
		// An event without data is not one; nor is an unknown field.
		sseWrite(w, "event: nothing\nunknown: field\n\n")
		sseWrite(w, sseFrame("evt_4", "org.updated"))
		<-r.Context().Done()
	}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var events []client.Event
	for e, err := range sseClient(t, srv).Events(ctx, client.EventOptions{Types: []string{"membership.created", "membership.deleted"}}) {
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
		if len(events) == 4 {
			break
		}
	}
	var ids []string
	for _, e := range events {
		ids = append(ids, e.ID+" "+e.Type)
	}
	if want := "evt_1 membership.created,evt_2 membership.deleted,evt_3 user.updated,evt_4 org.updated"; strings.Join(ids, ",") != want {
		t.Fatalf("events %q, want %q", strings.Join(ids, ","), want)
	}
	if string(events[0].Data) != `{"a":1}` {
		t.Errorf("data %s", events[0].Data)
	}
	e := events[1]
	if !e.CreatedAt.Equal(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)) || e.OrgID == nil || *e.OrgID != "org_1" || e.WorkspaceID != nil || e.ActorID == nil || *e.ActorID != "usr_1" {
		t.Errorf("event decoded as %+v", e)
	}
	got := <-requests
	if got.URL.Path != "/v1/events/stream" || got.URL.Query().Get("types") != "membership.created,membership.deleted" {
		t.Errorf("request %s", got.URL)
	}
	if !strings.HasPrefix(got.Header.Get("Accept"), "text/event-stream") || got.Header.Get("Authorization") != "Bearer tok" || got.Header.Get("Last-Event-ID") != "" {
		t.Errorf("headers %v", got.Header)
	}
}

func TestEventsReconnectsAfterTheLastEvent(t *testing.T) {
	var (
		mu    sync.Mutex
		lasts []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lasts = append(lasts, r.Header.Get("Last-Event-ID"))
		n := len(lasts)
		mu.Unlock()
		sseStart(w)
		if n == 1 {
			sseWrite(w, sseFrame("evt_1", "user.created")+sseFrame("evt_2", "user.updated"))
			return // dropped, as when a client falls behind
		}
		sseWrite(w, sseFrame("evt_3", "user.deleted"))
		<-r.Context().Done()
	}))
	defer srv.Close()

	var connects atomic.Int32
	var downs []error
	o := fastRetry(client.EventOptions{
		LastEventID:  "evt_0",
		OnConnect:    func() { connects.Add(1) },
		OnDisconnect: func(err error) { downs = append(downs, err) },
	})
	var ids []string
	for e, err := range sseClient(t, srv).Events(context.Background(), o) {
		if err != nil {
			t.Fatal(err)
		}
		if ids = append(ids, e.ID); len(ids) == 3 {
			break
		}
	}
	if strings.Join(ids, ",") != "evt_1,evt_2,evt_3" {
		t.Errorf("events %v", ids)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(lasts, ",") != "evt_0,evt_2" {
		t.Errorf("Last-Event-ID of each connection: %q, want evt_0 then evt_2", lasts)
	}
	if connects.Load() != 2 || len(downs) != 1 || !errors.Is(downs[0], client.ErrStreamEnded) {
		t.Errorf("%d connects, disconnects %v", connects.Load(), downs)
	}
}

func TestEventsDoNotResumeAfterAnEventCutShort(t *testing.T) {
	lasts := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lasts <- r.Header.Get("Last-Event-ID")
		sseStart(w)
		if len(lasts) == 1 {
			// evt_2's blank line never comes: it is not dispatched, and
			// the stream resumes after evt_1.
			sseWrite(w, sseFrame("evt_1", "user.created")+"id: evt_2\nevent: user.updated\ndata: "+sseEventJSON("evt_2", "user.updated")+"\n")
			return
		}
		sseWrite(w, sseFrame("evt_2", "user.updated"))
		<-r.Context().Done()
	}))
	defer srv.Close()
	var ids []string
	for e, err := range sseClient(t, srv).Events(context.Background(), fastRetry(client.EventOptions{})) {
		if err != nil {
			t.Fatal(err)
		}
		if ids = append(ids, e.ID); len(ids) == 2 {
			break
		}
	}
	if first, second := <-lasts, <-lasts; strings.Join(ids, ",") != "evt_1,evt_2" || first != "" || second != "evt_1" {
		t.Errorf("events %v; Last-Event-IDs %q, %q", ids, first, second)
	}
}

func TestEventsRetriesRetryableFailures(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"status":503,"code":"unavailable","title":"Service Unavailable"}`)
		case 2:
			// A fresh connection for the next attempt: on a reused one, the
			// Transport itself would retry the cut below.
			w.Header().Set("Connection", "close")
			http.Error(w, "bad gateway", http.StatusBadGateway)
		case 3: // the connection is cut before any answer
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		case 4:
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			sseStart(w)
			sseWrite(w, sseFrame("evt_1", "user.created"))
			<-r.Context().Done()
		}
	}))
	defer srv.Close()

	var downs []error
	var connects int
	o := fastRetry(client.EventOptions{OnConnect: func() { connects++ }, OnDisconnect: func(err error) { downs = append(downs, err) }})
	for e, err := range sseClient(t, srv).Events(context.Background(), o) {
		if err != nil {
			t.Fatal(err)
		}
		if e.ID != "evt_1" {
			t.Errorf("event %q", e.ID)
		}
		break
	}
	if len(downs) != 4 || connects != 1 {
		t.Fatalf("%d connects, disconnects %v", connects, downs)
	}
	for i, status := range []int{503, 502, 0, 429} {
		var p *client.Problem
		if isProblem := errors.As(downs[i], &p); isProblem != (status != 0) || isProblem && p.Status != status {
			t.Errorf("disconnect %d: %v, want status %d", i, downs[i], status)
		}
	}
}

func TestEventsEndsOnAnErrorAnswer(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusBadRequest, http.StatusInternalServerError} {
		var n atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"status":%d,"code":"code_%d"}`, status, status)
		}))
		var errs []error
		o := fastRetry(client.EventOptions{
			OnConnect:    func() { t.Error("OnConnect called") },
			OnDisconnect: func(err error) { t.Errorf("OnDisconnect(%v) called", err) },
		})
		for e, err := range sseClient(t, srv).Events(context.Background(), o) {
			if err == nil {
				t.Errorf("event %v", e)
			}
			errs = append(errs, err)
		}
		srv.Close()
		var p *client.Problem
		if len(errs) != 1 || !errors.As(errs[0], &p) || p.Status != status || p.Code != fmt.Sprintf("code_%d", status) {
			t.Errorf("%d: errors %v", status, errs)
		}
		if n.Load() != 1 {
			t.Errorf("%d: %d requests, want 1", status, n.Load())
		}
	}
}

func TestEventsEndsQuietlyWhenCancelled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sseStart(w)
		for {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(5 * time.Millisecond):
				sseWrite(w, ": heartbeat\n\n")
			}
		}
	}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := fastRetry(client.EventOptions{
		OnConnect:    func() { time.AfterFunc(20*time.Millisecond, cancel) },
		OnDisconnect: func(err error) { t.Errorf("OnDisconnect(%v)", err) },
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e, err := range sseClient(t, srv).Events(ctx, o) {
			t.Errorf("yielded %v, %v", e, err)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the iteration did not end when its context was cancelled")
	}
}

func TestEventsEndsQuietlyWhenCancelledWhileWaiting(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	o := client.EventOptions{RetryMin: time.Hour, OnDisconnect: func(error) { cancel() }}
	for e, err := range sseClient(t, srv).Events(ctx, o) {
		t.Errorf("yielded %v, %v", e, err)
	}
}

func TestEventsReconnectsASilentStream(t *testing.T) {
	var (
		mu    sync.Mutex
		lasts []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lasts = append(lasts, r.Header.Get("Last-Event-ID"))
		n := len(lasts)
		mu.Unlock()
		sseStart(w)
		sseWrite(w, sseFrame(fmt.Sprintf("evt_%d", n), "user.created"))
		<-r.Context().Done() // then silence, not even heartbeats
	}))
	defer srv.Close()

	var downs []error
	o := fastRetry(client.EventOptions{IdleTimeout: 50 * time.Millisecond, OnDisconnect: func(err error) { downs = append(downs, err) }})
	var ids []string
	for e, err := range sseClient(t, srv).Events(context.Background(), o) {
		if err != nil {
			t.Fatal(err)
		}
		if ids = append(ids, e.ID); len(ids) == 2 {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(ids, ",") != "evt_1,evt_2" || strings.Join(lasts, ",") != ",evt_1" {
		t.Errorf("events %v, Last-Event-IDs %q", ids, lasts)
	}
	if len(downs) != 1 || !errors.Is(downs[0], client.ErrStreamIdle) {
		t.Errorf("disconnects %v", downs)
	}
}

func TestEventsASlowLoopIsNotASilentStream(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		sseStart(w)
		sseWrite(w, sseFrame("evt_1", "user.created"))
		time.Sleep(150 * time.Millisecond)
		sseWrite(w, sseFrame("evt_2", "user.updated"))
		<-r.Context().Done()
	}))
	defer srv.Close()
	var ids []string
	for e, err := range sseClient(t, srv).Events(context.Background(), fastRetry(client.EventOptions{IdleTimeout: 100 * time.Millisecond})) {
		if err != nil {
			t.Fatal(err)
		}
		if ids = append(ids, e.ID); len(ids) == 2 {
			break
		}
		time.Sleep(200 * time.Millisecond) // longer than IdleTimeout, while evt_2 arrives
	}
	if n.Load() != 1 {
		t.Errorf("%d connections, want 1: the loop's own slowness dropped the stream", n.Load())
	}
}

func TestEventsIgnoreTheClientTimeout(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		sseStart(w)
		sseWrite(w, sseFrame("evt_1", "user.created"))
		// Longer than the client's Timeout, with heartbeats as Roster does.
		for range 6 {
			time.Sleep(25 * time.Millisecond)
			sseWrite(w, ": heartbeat\n\n")
		}
		sseWrite(w, sseFrame("evt_2", "user.updated"))
		<-r.Context().Done()
	}))
	defer srv.Close()

	c := sseClient(t, srv, client.WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}))
	var ids []string
	for e, err := range c.Events(context.Background(), fastRetry(client.EventOptions{})) {
		if err != nil {
			t.Fatal(err)
		}
		if ids = append(ids, e.ID); len(ids) == 2 {
			break
		}
	}
	if n.Load() != 1 {
		t.Errorf("%d connections, want 1: the client's timeout cut the stream", n.Load())
	}
}

func TestEventsRefusesWhatIsNotAStream(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"an HTML page": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>login</html>")
		},
		"an event that is not JSON": func(w http.ResponseWriter, r *http.Request) {
			sseStart(w)
			sseWrite(w, "id: evt_1\ndata: {oops\n\n")
			<-r.Context().Done()
		},
	} {
		srv := httptest.NewServer(h)
		var errs []error
		for _, err := range sseClient(t, srv).Events(context.Background(), fastRetry(client.EventOptions{})) {
			errs = append(errs, err)
		}
		srv.Close()
		if len(errs) != 1 || errs[0] == nil {
			t.Errorf("%s: yielded %v, want one error", name, errs)
		}
	}
}
