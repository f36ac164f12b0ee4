package store

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/roster-dev/roster"
)

// notifyChannel carries cache invalidations between replicas of one
// deployment: one channel per schema, so deployments (or test runs) sharing a
// PostgreSQL database in different schemas do not hear each other.
func notifyChannel(schema string) string {
	if schema == "" || schema == "public" {
		return "roster_invalidate"
	}
	return "roster_invalidate_" + schema
}

// Notify queues message for every replica's Listen; PostgreSQL delivers it
// when the transaction commits and drops it on rollback. SQLite has one
// process, which invalidates its own caches directly.
func (t *tx) Notify(ctx context.Context, message string) error {
	if t.db.dialect != Postgres {
		return nil
	}
	_, err := t.exec(ctx, `SELECT pg_notify(?, ?)`, t.db.channel, message)
	return err
}

const (
	// heartbeatInterval is how often a listening replica sends itself a
	// heartbeat through the database. PostgreSQL delivers notifications in
	// commit order, so hearing one's own heartbeat proves that every
	// invalidation committed before it was sent has been heard.
	heartbeatInterval = 200 * time.Millisecond
	// listenSilence is how long a listening connection may stay quiet,
	// heartbeats included, before it is taken for dead and replaced.
	listenSilence = 10 * heartbeatInterval
	// heartbeatPrefix starts heartbeat messages; invalidations start with
	// a replica's origin, which never contains it.
	heartbeatPrefix = "\x01hb:"
	backoffFirst    = 50 * time.Millisecond
	backoffMax      = 2 * time.Second
)

// Listen tells l of every invalidation message until ctx ends. On
// PostgreSQL it reconnects when the connection drops or goes quiet, with a
// backoff that starts over after every connection that worked.
func (db *DB) Listen(ctx context.Context, l roster.InvalidationListener) error {
	if db.dialect != Postgres {
		l.Reset() // one process: every write invalidates this cache directly
		l.Synced(roster.AlwaysSynced)
		<-ctx.Done()
		return nil
	}
	backoff := backoffFirst
	for ctx.Err() == nil {
		connected, err := db.listenOnce(ctx, l)
		if ctx.Err() != nil {
			break
		}
		l.Dropped(err)
		if connected {
			backoff = backoffFirst
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, backoffMax)
	}
	return nil
}

// listenOnce listens on one connection until it fails; connected reports
// whether it got as far as listening.
func (db *DB) listenOnce(ctx context.Context, l roster.InvalidationListener) (connected bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, db.pgConf.Copy())
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{db.channel}.Sanitize()); err != nil {
		return false, err
	}
	l.Reset() // anything committed while we were not listening is unknown

	hbCtx, stopHeartbeats := context.WithCancel(ctx)
	defer stopHeartbeats()
	hb := &heartbeats{nonce: rand.Text(), sent: map[uint64]time.Time{}}
	go db.sendHeartbeats(hbCtx, hb)

	for {
		waitCtx, cancel := context.WithTimeout(ctx, listenSilence)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		if err != nil {
			if ctx.Err() == nil && waitCtx.Err() != nil {
				err = fmt.Errorf("no notification, not even a heartbeat, for %v", listenSilence)
			}
			return true, err
		}
		if !strings.HasPrefix(n.Payload, heartbeatPrefix) {
			l.Invalidate(n.Payload)
			continue
		}
		if at, ok := hb.heard(n.Payload); ok {
			l.Synced(at)
		}
	}
}

// heartbeats remembers when each of one connection's heartbeats was sent.
type heartbeats struct {
	nonce string // tells this connection's heartbeats from other replicas'
	mu    sync.Mutex
	seq   uint64
	sent  map[uint64]time.Time
}

func (h *heartbeats) next(now time.Time) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	h.sent[h.seq] = now
	return heartbeatPrefix + h.nonce + ":" + strconv.FormatUint(h.seq, 10)
}

// heard returns when the heartbeat in payload was sent, if it is ours, and
// forgets it and every earlier one.
func (h *heartbeats) heard(payload string) (time.Time, bool) {
	nonce, seqText, _ := strings.Cut(strings.TrimPrefix(payload, heartbeatPrefix), ":")
	seq, err := strconv.ParseUint(seqText, 10, 64)
	if nonce != h.nonce || err != nil {
		return time.Time{}, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	at, ok := h.sent[seq]
	for s := range h.sent {
		if s <= seq {
			delete(h.sent, s)
		}
	}
	return at, ok
}

// sendHeartbeats notifies the channel every heartbeatInterval on a
// connection of its own: a pool busy with writes must not delay heartbeats
// and so make a replica that hears everything distrust its caches.
func (db *DB) sendHeartbeats(ctx context.Context, h *heartbeats) {
	t := time.NewTicker(heartbeatInterval)
	defer t.Stop()
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for {
		sendCtx, cancel := context.WithTimeout(ctx, listenSilence)
		var err error
		if conn == nil {
			conn, err = pgx.ConnectConfig(sendCtx, db.pgConf.Copy())
		}
		if err == nil {
			_, err = conn.Exec(sendCtx, `SELECT pg_notify($1, $2)`, db.channel, h.next(time.Now()))
		}
		cancel()
		if err != nil && conn != nil { // an unheard heartbeat is the signal; start afresh next time
			conn.Close(context.Background())
			conn = nil
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
