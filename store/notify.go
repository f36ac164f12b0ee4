package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
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

// Listen delivers invalidation messages until ctx ends. When the connection
// drops it calls fn("") — messages may have been missed, so callers must
// forget everything — and reconnects.
func (db *DB) Listen(ctx context.Context, fn func(message string)) error {
	if db.dialect != Postgres {
		fn("") // listening from the start: there is no other replica to hear
		<-ctx.Done()
		return nil
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, fn)
		if ctx.Err() != nil {
			break
		}
		_ = err // the connection dropped; reconnect below
		fn("")
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
	return nil
}

func (db *DB) listenOnce(ctx context.Context, fn func(string)) error {
	conn, err := pgx.Connect(ctx, db.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{db.channel}.Sanitize()); err != nil {
		return err
	}
	// Anything committed while we were not listening is unknown: start clean.
	fn("")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		fn(n.Payload)
	}
}
