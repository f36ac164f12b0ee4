package service

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/roster-dev/roster"
)

// TestHearingTrustsCachesOnlyWhileCurrent: caches are used only while every
// invalidation committed more than maxStaleness ago is known to be heard.
func TestHearingTrustsCachesOnlyWhileCurrent(t *testing.T) {
	var now time.Duration
	h := newHearing("me", newAuthCache(10), time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	h.elapsed = func() time.Duration { return now }
	want := func(step string, current bool) {
		t.Helper()
		if h.current() != current || (h.err() == nil) != current {
			t.Errorf("%s: current %v (%v), want %v", step, h.current(), h.err(), current)
		}
	}
	want("before listening", false)
	select {
	case <-h.first:
		t.Fatal("first closed before listening")
	default:
	}

	now = 10 * time.Second
	h.Reset()
	want("just connected", true)
	<-h.first
	now += 999 * time.Millisecond
	want("no heartbeat for 0.999 s", true)
	now += 2 * time.Millisecond
	want("no heartbeat for 1.001 s", false)

	h.Synced(h.start.Add(now - 100*time.Millisecond))
	want("heartbeat sent 0.1 s ago heard", true)
	h.Synced(h.start.Add(now - 2*time.Second))
	want("only a heartbeat sent 2 s ago heard", false)

	h.Synced(h.start.Add(now))
	h.Dropped(errors.New("connection reset"))
	want("dropped", false)
	if h.drops.Load() != 1 {
		t.Errorf("drops %d", h.drops.Load())
	}
	h.Reset()
	want("reconnected", true)

	h.Synced(roster.AlwaysSynced)
	now += 1000 * time.Hour
	want("always synced (one process)", true)
}

// TestHearingAppliesOthersInvalidations: a replica's own invalidations,
// applied at commit, are not applied again when they come back.
func TestHearingAppliesOthersInvalidations(t *testing.T) {
	c := newAuthCache(10)
	h := newHearing("me", c, time.Second, slog.New(slog.NewTextHandler(io.Discard, nil)))
	c.sets.Load().users.Set("usr_1", roster.User{ID: "usr_1"})
	h.Invalidate("me" + originSeparator + userMessage("usr_1"))
	if _, ok := c.sets.Load().users.GetIfPresent("usr_1"); !ok {
		t.Error("the replica's own invalidation evicted the user again")
	}
	h.Invalidate("other" + originSeparator + userMessage("usr_1"))
	if _, ok := c.sets.Load().users.GetIfPresent("usr_1"); ok {
		t.Error("another replica's invalidation did not evict the user")
	}
}
