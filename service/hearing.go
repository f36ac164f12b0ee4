package service

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-dev/roster"
)

// hearing follows whether this replica hears other replicas' invalidations,
// and applies them. Caches are trusted only while it is current: a replica
// that cannot show it is hearing reads the database, so a partition or a
// lost listening connection can delay nothing by more than maxStaleness.
type hearing struct {
	origin       string // this replica's own invalidations come back; they were applied at commit
	cache        *authCache
	maxStaleness time.Duration
	log          *slog.Logger
	start        time.Time            // the monotonic origin of syncedAt
	elapsed      func() time.Duration // since start; replaced by tests
	syncedAt     atomic.Int64         // nanoseconds after start up to which every invalidation was heard; <0 when deaf
	drops        atomic.Uint64
	first        chan struct{} // closed at the first Reset
	firstOnce    sync.Once
}

func newHearing(origin string, cache *authCache, maxStaleness time.Duration, log *slog.Logger) *hearing {
	h := &hearing{origin: origin, cache: cache, maxStaleness: maxStaleness, log: log, start: time.Now(), first: make(chan struct{})}
	h.elapsed = func() time.Duration { return time.Since(h.start) }
	h.syncedAt.Store(-1)
	return h
}

var _ roster.InvalidationListener = (*hearing)(nil)

func (h *hearing) Reset() {
	h.cache.apply("") // anything may have been missed
	// From here on every commit is heard; the cache is empty.
	h.syncedAt.Store(int64(h.elapsed()))
	h.firstOnce.Do(func() { close(h.first) })
}

func (h *hearing) Invalidate(message string) {
	origin, body, _ := strings.Cut(message, originSeparator)
	if origin == h.origin {
		return
	}
	for msg := range strings.SplitSeq(body, string(messageSeparator)) {
		h.cache.apply(msg)
	}
}

func (h *hearing) Synced(at time.Time) {
	if at.Equal(roster.AlwaysSynced) {
		h.syncedAt.Store(math.MaxInt64)
		return
	}
	h.syncedAt.Store(int64(at.Sub(h.start))) // both carry this process's monotonic clock
}

func (h *hearing) Dropped(err error) {
	h.syncedAt.Store(-1)
	h.drops.Add(1)
	h.log.Warn("lost the connection that hears other replicas' changes; reading the database until it is back", "error", err)
}

// current reports whether cached state may be used now.
func (h *hearing) current() bool {
	synced := h.syncedAt.Load()
	return synced >= 0 && h.elapsed()-h.maxStaleness <= time.Duration(synced)
}

var errDeaf = errors.New("not hearing other replicas' changes")

func (h *hearing) err() error {
	synced := h.syncedAt.Load()
	switch {
	case synced < 0:
		return errDeaf
	case !h.current():
		return fmt.Errorf("%w: last heard everything up to %v ago", errDeaf, (h.elapsed() - time.Duration(synced)).Round(time.Millisecond))
	}
	return nil
}
