package service

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/roster-dev/roster"
)

// The event stream. One hub per replica reads the event log once for all
// of its watchers and hands each a copy through a bounded buffer; a watcher
// that falls behind is cut off and resumes from the log with its last
// event id, losing nothing. Watchers that start behind the hub (resuming,
// or arriving while it is ahead) read the log themselves until they reach
// it.

// Stream tuning, overridable in Options.
const (
	defaultStreamBuffer = 1024
	defaultStreamPoll   = 50 * time.Millisecond
	streamBatch         = 500
)

// Stream errors a watcher reports.
var (
	// ErrStreamLagging ends a watch that fell behind: its buffer filled
	// while the client read too slowly. It resumes with its last event id.
	ErrStreamLagging = roster.Errorf(roster.KindUnavailable, roster.CodeStreamLagging, "the client fell behind the event stream; reconnect with Last-Event-ID")
	errUnknownEvent  = roster.Errorf(roster.KindInvalid, roster.CodeUnknownEvent, "Last-Event-ID names no event this stream can resume after")
)

type eventHub struct {
	s      *Service
	buffer int
	poll   time.Duration
	wake   chan struct{}

	mu     sync.Mutex
	cursor roster.EventCursor // every event up to here has been handed to the watchers
	subs   map[*subscription]struct{}
}

type subscription struct {
	ch     chan roster.AuditEvent
	lagged bool // set (under the hub's lock) when ch filled and was closed
	// wants is the watch's own cheap filter (its types, its start): only
	// what it would deliver takes a place in its buffer.
	wants func(roster.AuditEvent) bool
}

func newEventHub(s *Service, buffer int, poll time.Duration) *eventHub {
	if buffer <= 0 {
		buffer = defaultStreamBuffer
	}
	if poll <= 0 {
		poll = defaultStreamPoll
	}
	return &eventHub{s: s, buffer: buffer, poll: poll, wake: make(chan struct{}, 1), subs: map[*subscription]struct{}{}}
}

// poke tells the hub this replica has just committed events.
func (h *eventHub) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// run reads the log for the watchers until ctx ends: at once when this
// replica commits, every poll interval for the others'.
func (h *eventHub) run(ctx context.Context) {
	t := time.NewTicker(h.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
		case <-t.C:
		}
		for h.publish(ctx) {
		}
	}
}

// publish hands the watchers the next events of the log; it reports
// whether more may be waiting.
func (h *eventHub) publish(ctx context.Context) bool {
	h.mu.Lock()
	idle, from := len(h.subs) == 0, h.cursor
	h.mu.Unlock()
	if idle {
		return false
	}
	events, err := readLog(ctx, h.s.store, from)
	if err != nil || len(events) == 0 {
		if err != nil && ctx.Err() == nil {
			h.s.log.Warn("reading the event log", "err", err)
		}
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cursor != from { // a watcher moved the hub while it read
		return true
	}
	for sub := range h.subs {
		for _, e := range events {
			if !sub.wants(e) {
				continue
			}
			select {
			case sub.ch <- e:
			default: // a slow client never slows the others, nor writers
				sub.lagged = true
				close(sub.ch)
				delete(h.subs, sub)
			}
			if sub.lagged {
				break
			}
		}
	}
	h.cursor = events[len(events)-1].Cursor
	return len(events) == streamBatch
}

// attach subscribes a watcher whose events are read up to cur, if the hub
// is not ahead of it; otherwise it returns nil and the watcher reads on.
// A hub with no watchers starts from the first one's place.
func (h *eventHub) attach(cur roster.EventCursor, wants func(roster.AuditEvent) bool) *subscription {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) == 0 && h.cursor.Before(cur) {
		h.cursor = cur
	}
	if cur.Before(h.cursor) {
		return nil
	}
	sub := &subscription{ch: make(chan roster.AuditEvent, h.buffer), wants: wants}
	h.subs[sub] = struct{}{}
	return sub
}

func (h *eventHub) detach(sub *subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[sub]; ok {
		delete(h.subs, sub)
		close(sub.ch)
	}
}

// readLog reads the next batch of the log after cur, under a deadline of
// its own: the hub and streams run without one.
func readLog(ctx context.Context, r roster.Reader, cur roster.EventCursor) ([]roster.AuditEvent, error) {
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	return r.EventsAfter(ctx, cur, streamBatch)
}

// EventWatch is one caller's view of the event stream.
type EventWatch struct {
	s       *Service
	actor   roster.Actor
	types   map[string]bool
	cur     roster.EventCursor
	start   roster.EventStart   // a watch from now leaves out what had committed when it began
	backlog []roster.AuditEvent // read from the log, not yet sent
	sub     *subscription
}

// WatchEvents starts a watch after the event lastEventID, or from now when
// it is empty, of the types given (all when none).
func (s *Service) WatchEvents(ctx context.Context, lastEventID string, types []string) (roster.EventWatch, error) {
	a := actor(ctx)
	w := &EventWatch{s: s, actor: a}
	if len(types) > 0 {
		w.types = map[string]bool{}
		for _, t := range types {
			if !roster.IsEventType(t) {
				return nil, roster.Errorf(roster.KindInvalid, roster.CodeUnknownEventType, "unknown event type %q", t).
					With("field", "types").With("allowed", roster.EventTypes)
			}
			w.types[t] = true
		}
	}
	// A stream has no request deadline; its reads of the log have their own.
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	var err error
	if lastEventID == "" {
		w.start, err = s.store.EventsNow(ctx)
		w.cur = w.start.Cursor
	} else if !roster.ValidID(roster.PrefixAudit, lastEventID) {
		return nil, errUnknownEvent
	} else if w.cur, err = s.store.EventCursorOf(ctx, lastEventID); errors.Is(err, roster.ErrNotFound) {
		return nil, errUnknownEvent
	}
	return w, err
}

// Next returns the next event the caller may see. It reports false when
// none came within wait (time for a heartbeat), and ErrStreamLagging when
// the caller fell behind.
func (w *EventWatch) Next(ctx context.Context, wait time.Duration) (roster.Event, bool, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		e, ok, err := w.take(ctx, timer.C)
		if err != nil || !ok {
			return roster.Event{}, false, err
		}
		w.cur = e.Cursor
		if !w.wants(e) {
			continue
		}
		visible, err := w.s.mayWatch(ctx, w.actor, e)
		if err != nil {
			return roster.Event{}, false, err
		}
		if visible {
			ev, err := toEvent(e)
			return ev, err == nil, err
		}
	}
}

// wants reports whether the watch delivers e, visibility aside: it is of
// a type asked for and was not past when the watch began.
func (w *EventWatch) wants(e roster.AuditEvent) bool {
	return !w.start.Past(e.Cursor) && (w.types == nil || w.types[e.Action])
}

// take returns the next event after w.cur from the backlog, the log or
// the hub.
func (w *EventWatch) take(ctx context.Context, timeout <-chan time.Time) (roster.AuditEvent, bool, error) {
	for {
		if len(w.backlog) > 0 {
			e := w.backlog[0]
			w.backlog = w.backlog[1:]
			return e, true, nil
		}
		if w.sub == nil {
			if w.sub = w.s.hub.attach(w.cur, w.wants); w.sub == nil {
				events, err := readLog(ctx, w.s.store, w.cur)
				if err != nil {
					return roster.AuditEvent{}, false, err
				}
				if len(events) == 0 { // the log has not caught up with the hub yet
					select {
					case <-time.After(w.s.hub.poll):
					case <-timeout:
						return roster.AuditEvent{}, false, nil
					case <-ctx.Done():
						return roster.AuditEvent{}, false, ctx.Err()
					}
				}
				w.backlog = events
				continue
			}
		}
		select {
		case e, open := <-w.sub.ch:
			if !open {
				return roster.AuditEvent{}, false, ErrStreamLagging
			}
			if !w.cur.Before(e.Cursor) { // the hub started behind this watcher
				continue
			}
			return e, true, nil
		case <-timeout:
			return roster.AuditEvent{}, false, nil
		case <-ctx.Done():
			return roster.AuditEvent{}, false, ctx.Err()
		}
	}
}

// Close ends the watch.
func (w *EventWatch) Close() {
	if w.sub != nil {
		w.s.hub.detach(w.sub)
	}
}

// StreamClients counts the watches this replica serves.
func (s *Service) StreamClients() int {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return len(s.hub.subs)
}
