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
	// Notify queues an invalidation message that other replicas receive only
	// if the transaction commits.
	Notify(ctx context.Context, message string) error
}

// Store is Roster's persistence: reads on a read pool, writes in transactions.
type Store interface {
	Reader
	TokenToucher
	IdempotencyWriter
	// Update runs fn in a write transaction and commits if fn returns nil.
	Update(ctx context.Context, fn func(Tx) error) error
	// Listen calls fn with every invalidation message committed by any
	// replica until ctx ends, and with "" whenever it starts listening
	// (first, and after a reconnection, when messages may have been lost).
	Listen(ctx context.Context, fn func(message string)) error
	Ping(ctx context.Context) error
	Close() error
}

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
