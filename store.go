package roster

import (
	"context"
	"time"
)

// Reader is every query a service may run outside a transaction.
type Reader interface {
	UserStore
	OrgStore
	SeatStore
	InvitationStore
	TokenStore
	AuditStore
	IdempotencyStore
	WebhookStore
	SupportStore
	ChainStore
	ResourceStore
	ImportStore
	ConsoleStore
}

// Tx is a write transaction: it reads its own writes, and everything written
// through it (the change and its audit event) commits or rolls back together.
type Tx interface {
	Reader
	UserWriter
	OrgWriter
	SeatWriter
	InvitationWriter
	TokenWriter
	AuditWriter
	TaskWriter
	WebhookWriter
	SupportWriter
	ChainWriter
	ResourceWriter
	ImportWriter
	ConsoleWriter
	// Notify queues an invalidation message that other replicas receive only
	// if the transaction commits.
	Notify(ctx context.Context, message string) error
}

// Store is Roster's persistence: reads on a read pool, writes in transactions.
type Store interface {
	Reader
	TokenToucher
	ConsoleToucher
	IdempotencyWriter
	TaskQueue
	// Update runs fn in a write transaction and commits if fn returns nil.
	Update(ctx context.Context, fn func(Tx) error) error
	// Listen tells l of every invalidation committed by any replica until
	// ctx ends.
	Listen(ctx context.Context, l InvalidationListener) error
	Ping(ctx context.Context) error
	Close() error
}

// InvalidationListener hears the cache invalidations of every replica.
// Its methods are called from one goroutine, in order.
type InvalidationListener interface {
	// Reset says that messages may have been missed (the first connection,
	// a reconnection): everything cached must be forgotten. Every message
	// committed from now on will be heard.
	Reset()
	// Invalidate handles one message.
	Invalidate(message string)
	// Synced says that every message committed before at has been heard.
	// A store that cannot miss a message (one process, SQLite) reports
	// AlwaysSynced once.
	Synced(at time.Time)
	// Dropped says that the listening connection was lost: until the next
	// Reset, messages are being missed.
	Dropped(err error)
}

// AlwaysSynced is the Synced time of a store whose caches cannot go stale.
var AlwaysSynced = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// IdempotencyRecord remembers the response to a POST sent with an
// Idempotency-Key, so a retry gets the same answer.
type IdempotencyRecord struct {
	Scope       string // who sent it: keys of different callers never clash
	Key         string
	Fingerprint string // hash of method, path, acting user and body
	Status      int    // 0 while the first request is still running
	ContentType string
	Body        []byte
	CreatedAt   time.Time
}

// IdempotencyStore reads idempotency records.
type IdempotencyStore interface {
	GetIdempotency(ctx context.Context, scope, key string) (IdempotencyRecord, error)
}

// IdempotencyWriter claims and completes idempotency records.
type IdempotencyWriter interface {
	// ClaimIdempotency inserts r unless a record for its scope and key exists;
	// it replaces one older than staleBefore, or one still without a response
	// that was claimed before abandonedBefore (its request died with its
	// process). It reports whether r was stored.
	ClaimIdempotency(ctx context.Context, r IdempotencyRecord, staleBefore, abandonedBefore time.Time) (bool, error)
	// CompleteIdempotency stores r's response on the claim r made (the same
	// CreatedAt); a claim taken over since is left alone.
	CompleteIdempotency(ctx context.Context, r IdempotencyRecord) error
	// ReleaseIdempotency deletes the claim r made, if it is still there.
	ReleaseIdempotency(ctx context.Context, r IdempotencyRecord) error
}
