package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// recorder is an InvalidationListener that remembers what it heard.
type recorder struct {
	mu       sync.Mutex
	resets   int
	messages []string
	synced   time.Time
	changed  chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) note(fn func()) {
	r.mu.Lock()
	fn()
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

func (r *recorder) Reset()                { r.note(func() { r.resets++ }) }
func (r *recorder) Invalidate(msg string) { r.note(func() { r.messages = append(r.messages, msg) }) }
func (r *recorder) Synced(at time.Time)   { r.note(func() { r.synced = at }) }
func (r *recorder) Dropped(error)         {}

// waitFor waits until cond holds of what r heard.
func (r *recorder) waitFor(t *testing.T, what string, cond func(r *recorder) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		ok := cond(r)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("never heard %s", what)
		}
	}
}

// TestListen: a listener is reset when it starts, hears committed messages
// and not rolled-back ones, and is told regularly up to when it is synced
// (for ever, on SQLite).
func TestListen(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r := newRecorder()
		go db.Listen(ctx, r)
		r.waitFor(t, "a reset", func(r *recorder) bool { return r.resets == 1 })
		if b == rostertest.SQLite {
			r.waitFor(t, "always synced", func(r *recorder) bool { return r.synced.Equal(roster.AlwaysSynced) })
			return
		}
		write(t, db, func(tx roster.Tx) error { return tx.Notify(ctx, "kept") })
		db.Update(ctx, func(tx roster.Tx) error {
			tx.Notify(ctx, "rolled back")
			return context.Canceled
		})
		write(t, db, func(tx roster.Tx) error { return tx.Notify(ctx, "last") })
		r.waitFor(t, "the committed messages", func(r *recorder) bool { return len(r.messages) == 2 })
		if r.messages[0] != "kept" || r.messages[1] != "last" {
			t.Errorf("heard %q", r.messages)
		}
		committed := time.Now()
		r.waitFor(t, "a heartbeat sent after the commit", func(r *recorder) bool { return r.synced.After(committed) })
	})
}
