package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	mathrand "math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Event is one of Roster's events, as the event stream and webhook
// deliveries carry it: every change Roster makes emits one, written in the
// same transaction as the change.
type Event struct {
	ID          string    `json:"id"`   // evt_…; also the SSE id and the webhook-id of its deliveries
	Type        string    `json:"type"` // such as membership.created
	CreatedAt   time.Time `json:"created_at"`
	OrgID       *string   `json:"org_id"`       // null for changes outside any organisation
	WorkspaceID *string   `json:"workspace_id"` // null for changes outside any workspace
	ActorID     *string   `json:"actor_id"`     // the user who made the change, or whom a service token acted for; null for Roster itself
	// Data is the object after the change (before it, for a deletion),
	// with "changes" ({field: {from, to}}) for an update, "user_id" for
	// the user the change is about and "notify".
	Data json.RawMessage `json:"data"`
}

// EventOptions configure Client.Events. The zero value streams every event
// the token may see, from now on.
type EventOptions struct {
	// Types are the event types to receive; all when empty.
	Types []string
	// LastEventID resumes the stream after this event (the ID of the last
	// event handled before a restart); from now on when empty.
	LastEventID string
	// RetryMin is the first wait before reconnecting (default 100 ms); it
	// doubles after each failed attempt up to RetryMax (default 5 s), and
	// starts again from RetryMin once a connection is established.
	RetryMin, RetryMax time.Duration
	// IdleTimeout drops a connection on which nothing arrived for this
	// long (default 45 s; negative: never) and reconnects. Roster sends a
	// comment line at least every 15 s, so a silent connection is a dead
	// one that TCP alone may not notice for a very long time.
	IdleTimeout time.Duration
	// OnConnect, if set, is called each time a connection is established,
	// before its first event: from then on the stream is live.
	OnConnect func()
	// OnDisconnect, if set, is called each time the stream is down and
	// the iterator is about to wait and reconnect, with why: the
	// connection dropped (ErrStreamEnded, ErrStreamIdle or a read error),
	// or an attempt to reconnect failed (a retryable *Problem or a
	// connection error). It may thus be called several times between two
	// OnConnect calls; a "live" flag that OnConnect sets and OnDisconnect
	// clears is the intended use. It is not called when the iteration
	// ends.
	OnDisconnect func(error)
}

// Errors that OnDisconnect reports for a connection that went down.
var (
	// ErrStreamEnded is a connection that Roster closed: it does so when a
	// client falls behind, or when it shuts down.
	ErrStreamEnded = errors.New("roster: the event stream ended")
	// ErrStreamIdle is a connection on which nothing arrived within
	// EventOptions.IdleTimeout.
	ErrStreamIdle = errors.New("roster: the event stream was silent for too long")
)

const (
	streamPath         = "/v1/events/stream"
	defaultRetryMin    = 100 * time.Millisecond
	defaultRetryMax    = 5 * time.Second
	defaultIdleTimeout = 45 * time.Second
	// maxEventBytes bounds one line of the stream: an event is the object
	// it is about, far smaller than this.
	maxEventBytes = 8 << 20
)

// Events streams the events the client's token may see (GET
// /v1/events/stream), oldest first, until the loop stops or ctx ends.
//
// The stream survives interruptions: when a connection drops, or an attempt
// gets a 429, 502, 503 or 504 answer or a connection error, Events waits
// (see EventOptions.RetryMin) and reconnects with Last-Event-ID set to the
// last event received, so that no event is lost or repeated. Any other
// error answer (401, 403, a 400 such as unknown_event for a LastEventID
// Roster cannot resume after, …) is yielded as a *Problem and ends the
// iteration, as does an event that cannot be decoded.
//
// When ctx is cancelled the iteration ends without yielding an error: the
// caller who cancelled knows why. The stream has no overall timeout: it
// uses a copy of the client's http.Client (and its Transport) without one.
func (c *Client) Events(ctx context.Context, o EventOptions) iter.Seq2[Event, error] {
	if o.RetryMin <= 0 {
		o.RetryMin = defaultRetryMin
	}
	if o.RetryMax <= 0 {
		o.RetryMax = defaultRetryMax
	}
	o.RetryMax = max(o.RetryMax, o.RetryMin)
	if o.IdleTimeout == 0 {
		o.IdleTimeout = defaultIdleTimeout
	}
	return func(yield func(Event, error) bool) {
		// The client's Timeout bounds a whole exchange, body included:
		// it would cut every stream after 30 s.
		hc := http.Client{}
		if c.http != nil {
			hc = *c.http
		}
		hc.Timeout = 0
		s := stream{c: c, http: &hc, o: o, last: o.LastEventID}
		attempt := 0
		for {
			connected, down, err := s.connect(ctx, yield)
			if ctx.Err() != nil {
				return
			}
			if err != nil { // not retryable, or the loop stopped
				if err != errStopped {
					yield(Event{}, err)
				}
				return
			}
			if connected {
				attempt = 0
			}
			if o.OnDisconnect != nil {
				o.OnDisconnect(down)
			}
			wait := backoff(o.RetryMin, o.RetryMax, attempt)
			var p *Problem
			if errors.As(down, &p) {
				wait = max(wait, p.RetryAfter)
			}
			attempt++
			if sleep(ctx, wait) != nil {
				return
			}
		}
	}
}

// errStopped is the loop's body stopping the iteration.
var errStopped = errors.New("roster: the loop stopped")

// stream is one Events iteration: what survives its reconnections.
type stream struct {
	c    *Client
	http *http.Client
	o    EventOptions
	last string // the id of the last event received: where a reconnection resumes
}

// connect makes one connection and reads its events until it ends. It
// reports whether the connection was established, and either why it went
// down (down, to reconnect) or an error that ends the iteration (err).
func (s *stream) connect(ctx context.Context, yield func(Event, error) bool) (connected bool, down, err error) {
	q := url.Values{}
	if len(s.o.Types) > 0 {
		q.Set("types", strings.Join(s.o.Types, ","))
	}
	u := *s.c.base
	u.Path += streamPath
	u.RawQuery = q.Encode()

	// The idle timer cancels this connection only, with a cause that
	// tells it from the caller's cancellation.
	connCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(connCtx, http.MethodGet, u.String(), http.NoBody)
	if err != nil {
		return false, nil, fmt.Errorf("roster: GET %s: %w", streamPath, err)
	}
	s.c.header(req, request{accept: "text/event-stream"}, "", false)
	if s.last != "" {
		req.Header.Set("Last-Event-ID", s.last)
	}
	var idle *time.Timer
	if s.o.IdleTimeout > 0 {
		// Armed before the request, so that a server that never answers
		// is given up on too.
		idle = time.AfterFunc(s.o.IdleTimeout, func() { cancel(ErrStreamIdle) })
		defer idle.Stop()
	}
	res, err := s.http.Do(req)
	if err != nil {
		if cause := context.Cause(connCtx); cause == ErrStreamIdle {
			err = cause
		}
		err = fmt.Errorf("roster: GET %s: %w", streamPath, err)
		if errors.Is(err, ErrStreamIdle) || retryableError(err) {
			return false, err, nil
		}
		return false, nil, err
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		p := readProblem(http.MethodGet, streamPath, res)
		if retryableStatus(res.StatusCode) {
			return false, p, nil
		}
		return false, nil, p
	}
	defer res.Body.Close()
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "text/event-stream" {
		// A proxy's page, say: reading it as events would find none and
		// reconnect forever.
		return false, nil, fmt.Errorf("roster: GET %s: a %d answer of type %s, not text/event-stream", streamPath, res.StatusCode, orNone(mt))
	}
	if s.o.OnConnect != nil {
		s.o.OnConnect()
	}

	r := newSSEReader(res.Body)
	for {
		f, err := r.next(func() {
			if idle != nil {
				idle.Reset(s.o.IdleTimeout)
			}
		})
		if err != nil {
			if cause := context.Cause(connCtx); cause == ErrStreamIdle {
				return true, ErrStreamIdle, nil
			}
			if errors.Is(err, errEOF) {
				return true, ErrStreamEnded, nil
			}
			if errors.Is(err, bufio.ErrTooLong) { // it would be as long on every reconnection
				return true, nil, fmt.Errorf("roster: GET %s: a line of the stream is longer than %d bytes: %w", streamPath, maxEventBytes, err)
			}
			return true, fmt.Errorf("roster: GET %s: reading the stream: %w", streamPath, err), nil
		}
		var e Event
		if err := json.Unmarshal(f.data, &e); err != nil {
			return true, nil, fmt.Errorf("roster: GET %s: decoding event %q: %w", streamPath, f.id, err)
		}
		if e.Type == "" {
			e.Type = f.event
		}
		// The SSE id is what the server resumes after; Roster makes it
		// the event's id.
		if f.id != "" {
			s.last = f.id
		} else if e.ID != "" {
			s.last = e.ID
		}
		// The loop's body may take its time: the silence it causes is not
		// the server's.
		if idle != nil {
			idle.Stop()
		}
		if !yield(e, nil) {
			return true, nil, errStopped
		}
		if idle != nil {
			idle.Reset(s.o.IdleTimeout)
		}
	}
}

// backoff is the wait before reconnection attempt+1: exponential from min
// to max, with jitter so that clients dropped together (by a restart, say)
// do not come back together.
func backoff(lo, hi time.Duration, attempt int) time.Duration {
	d := hi
	if attempt < 32 && lo<<attempt > 0 {
		d = min(lo<<attempt, hi)
	}
	return d/2 + mathrand.N(d/2+1)
}

// sseEvent is one dispatched Server-Sent Event.
type sseEvent struct {
	id, event string
	data      []byte
}

// errEOF is the stream's end, as sseReader reports it: io.EOF may also
// come from a connection cut in the middle of a line.
var errEOF = errors.New("end of stream")

// sseReader parses a text/event-stream body (the WHATWG HTML "server-sent
// events" format): lines end with LF, CRLF or CR; a blank line dispatches
// the event being built; lines starting with ':' are comments (Roster's
// heartbeats). retry: is ignored: reconnection waits are the caller's.
type sseReader struct {
	sc     *bufio.Scanner
	lastID string // the spec's "last event ID buffer": it persists across events
}

func newSSEReader(body io.Reader) *sseReader {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 4096), maxEventBytes)
	afterCR := false
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		// A CR ends a line at once (waiting to see whether an LF follows
		// would hold an event back until the next bytes arrive); an LF
		// right after it is skipped with the next line. Every call that
		// consumes input returns a token: the Scanner reads on, blocking,
		// after one that does not.
		skip := 0
		if afterCR && len(data) > 0 && data[0] == '\n' {
			skip = 1
		}
		if i := bytes.IndexAny(data[skip:], "\r\n"); i >= 0 {
			end := skip + i
			afterCR = data[end] == '\r'
			return end + 1, data[skip:end], nil
		}
		if atEOF && len(data) > 0 {
			// An unterminated last line: the connection was cut in the
			// middle of it, so it is not dispatched.
			return len(data), nil, nil
		}
		return 0, nil, nil
	})
	return &sseReader{sc: sc}
}

// next returns the next event that has data. It calls alive whenever a
// line arrives, comments included.
func (r *sseReader) next(alive func()) (sseEvent, error) {
	var (
		event   string
		data    []byte
		hasData bool
	)
	for r.sc.Scan() {
		alive()
		line := r.sc.Bytes()
		if len(line) == 0 {
			if !hasData { // the spec: an event without data is not dispatched
				event = ""
				continue
			}
			return sseEvent{id: r.lastID, event: event, data: data}, nil
		}
		if line[0] == ':' {
			continue
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(name) {
		case "event":
			event = string(value)
		case "data":
			if hasData {
				data = append(data, '\n')
			}
			data, hasData = append(data, value...), true
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				r.lastID = string(value)
			}
		}
	}
	if err := r.sc.Err(); err != nil {
		return sseEvent{}, err
	}
	// An event not ended by a blank line is dropped, as the spec says: it
	// may have been cut short.
	return sseEvent{}, errEOF
}
