package service

import (
	"context"
	"errors"
	"iter"
	"slices"
	"time"

	"github.com/roster-dev/roster"
)

// The sealer chains the audit log (see chain.go at the root). It follows
// the log like the webhook dispatcher, one replica at a time, in batches:
// mutations never wait for it, whatever their organisation, and an event
// is sealed within a poll of its commit.

const sealBatch = 500

// seal runs the sealer until ctx ends.
func (s *Service) seal(ctx context.Context) {
	s.followLog(ctx, "sealing the audit log", s.sealUnlessImporting)
}

// sealUnlessImporting is the sealer's step. While this replica runs an
// import, the sealer waits: sealing the import's events batch by batch
// would take turns with it for SQLite's one writer (and for PostgreSQL's
// time), and the import is the work a person is waiting for. The sealer
// catches up as soon as the import ends; SealNow does not wait.
func (s *Service) sealUnlessImporting(ctx context.Context, seen **roster.EventCursor) (bool, error) {
	if s.importing.Load() > 0 {
		return false, nil
	}
	return s.sealOnce(ctx, seen)
}

// sealOnce seals the next batch of events; it reports whether more may
// follow, and sets seen to where the log ends when it has read it all.
func (s *Service) sealOnce(ctx context.Context, seen **roster.EventCursor) (bool, error) {
	more := false
	err := s.update(ctx, func(c *change) error {
		head, ok, err := c.tx.LockChain(c.ctx)
		if err != nil || !ok {
			return err
		}
		events, err := c.tx.EventsAfter(c.ctx, head.Cursor, sealBatch)
		if err != nil || len(events) == 0 {
			*seen = &head.Cursor
			return err
		}
		seals := make([]roster.EventSeal, len(events))
		for i, e := range events {
			e.Pos, e.PrevHash = head.Pos+1, head.Hash
			hash, err := e.Sealed().Hash()
			if err != nil {
				return err
			}
			seals[i] = roster.EventSeal{EventID: e.ID, Pos: e.Pos, PrevHash: e.PrevHash, Hash: hash}
			head = roster.ChainHead{Cursor: e.Cursor, Pos: e.Pos, Hash: hash}
		}
		*seen, more = &head.Cursor, len(events) == sealBatch
		return c.tx.SealEvents(c.ctx, seals, head)
	})
	return more, err
}

// SealNow seals every event committed before it was called (the sealer
// does it on its own within a poll; tests and tools that must see a sealed
// log call it). On PostgreSQL an event becomes sealable once every
// transaction older than its own has ended: it waits for those.
func (s *Service) SealNow(ctx context.Context) error {
	ctx = roster.WithActor(ctx, roster.SystemActor())
	start, err := s.eventsNow(ctx)
	if err != nil {
		return err
	}
	for {
		var seen *roster.EventCursor
		for more := true; more; {
			if more, err = s.followStep(ctx, &seen, s.sealOnce); err != nil {
				return err
			}
		}
		if start.Xmax == 0 { // SQLite: every committed event is sealable at once
			return nil
		}
		e, err := s.firstUnsealed(ctx, roster.EventCursor{TxID: start.Xmax, Seq: -1})
		if errors.Is(err, roster.ErrNotFound) || (err == nil && slices.Contains(start.Running, e.Cursor.TxID)) {
			return nil // what is left was not committed when SealNow was called
		}
		if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

const chainPage = 1000

// VerifyAudit walks the whole chain from its first event to the head the
// sealer has reached, recomputing every hash (platform admins).
func (s *Service) VerifyAudit(ctx context.Context) (roster.Verification, error) {
	if !actor(ctx).IsPlatformAdmin() {
		return roster.Verification{}, errForbidden
	}
	head, err := s.chainHead(ctx)
	if err != nil {
		return roster.Verification{}, err
	}
	vr := &roster.Verifier{Complete: true}
	err = s.walkChain(ctx, roster.AuditFilter{}, head.Pos, func(e roster.AuditEvent) (bool, error) {
		return vr.Add(e.Sealed(), e.Hash)
	})
	if err != nil {
		return roster.Verification{}, err
	}
	v := vr.Result()
	if v.OK && (v.Events != head.Pos || v.Head != head.Hash) {
		vr.Fail("", "the chain ends before its head: the last events are missing")
	}
	if v.OK {
		// An event the sealer has passed without sealing was put there
		// behind its back.
		if e, err := s.firstUnsealed(ctx, head.Cursor); err == nil {
			vr.Fail(e.ID, "it was never sealed: it was written behind the sealer")
		} else if !errors.Is(err, roster.ErrNotFound) {
			return roster.Verification{}, err
		}
	}
	return vr.Result(), nil
}

// eventsNow and firstUnsealed read the log within a deadline of their own:
// their callers (the sealer's tools, verify) have none.
func (s *Service) eventsNow(ctx context.Context) (roster.EventStart, error) {
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	return s.store.EventsNow(ctx)
}

func (s *Service) firstUnsealed(ctx context.Context, cur roster.EventCursor) (roster.AuditEvent, error) {
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	return s.store.FirstUnsealed(ctx, cur)
}

// chainHead reads where the sealer has reached, within a deadline.
func (s *Service) chainHead(ctx context.Context) (roster.ChainHead, error) {
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	return s.store.ChainHeadNow(ctx)
}

// walkChain calls fn with every sealed event matching f, in chain order, up
// to position last, until fn says stop. Each page read has its own
// deadline: a walk of the whole log outlasts any one request's.
func (s *Service) walkChain(ctx context.Context, f roster.AuditFilter, last int64, fn func(roster.AuditEvent) (bool, error)) error {
	after := int64(0)
	for after < last {
		rctx, cancel := context.WithTimeout(ctx, loadTimeout)
		page, err := s.store.ListChain(rctx, f, after, chainPage)
		cancel()
		if err != nil {
			return err
		}
		for _, e := range page {
			if e.Pos > last {
				return nil
			}
			if ok, err := fn(e); err != nil || !ok {
				return err
			}
			after = e.Pos
		}
		if len(page) < chainPage {
			return nil
		}
	}
	return nil
}

// ExportAudit returns every sealed event matching f up to the head the
// sealer has reached now, oldest first, with its seal, read a page at a
// time (constant memory). The caller may read it as ListAudit allows.
func (s *Service) ExportAudit(ctx context.Context, f roster.AuditFilter) (iter.Seq2[roster.AuditEvent, error], error) {
	// This request has no deadline of its own (it lasts as long as the
	// export): each read before the walk, and each page of it, has one.
	rctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	if err := s.mayReadAudit(rctx, &f); err != nil {
		return nil, err
	}
	head, err := s.chainHead(ctx)
	if err != nil {
		return nil, err
	}
	return func(yield func(roster.AuditEvent, error) bool) {
		err := s.walkChain(ctx, f, head.Pos, func(e roster.AuditEvent) (bool, error) {
			return yield(e, nil), nil
		})
		if err != nil {
			yield(roster.AuditEvent{}, err)
		}
	}, nil
}
