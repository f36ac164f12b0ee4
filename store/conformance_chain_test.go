package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
	"github.com/roster-dev/roster/store"
)

// The audit chain: the sealer's head, its lock, its seals, and the reads
// of the sealed log (see chain.go at the root and service/chain.go).

func idOfAudit(e roster.AuditEvent) string { return e.ID }

// chainEvent is an audit event at t0+minutes with every required field set.
func chainEvent(action string, minutes int) roster.AuditEvent {
	return roster.AuditEvent{ID: roster.NewID(roster.PrefixAudit), At: t0.Add(time.Duration(minutes) * time.Minute), Via: roster.ViaUser,
		Action: action, TargetType: "x", TargetID: "1", RequestID: "req-" + action, IP: "192.0.2.7"}
}

// committedEventsAfter waits until the log offers at least n events after
// cur (on PostgreSQL, once every transaction older than theirs has ended:
// other tests share the server).
func committedEventsAfter(t *testing.T, db *store.DB, cur roster.EventCursor, n int) []roster.AuditEvent {
	t.Helper()
	for begin := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		evs := eventsAfter(t, db, cur)
		if len(evs) >= n || time.Since(begin) > 10*time.Second {
			return evs
		}
	}
}

// sealNext seals the next n events of the log as the sealer does: it takes
// the chain's lock, reads the events after the head in the same
// transaction, chains them after it with their real hashes and moves the
// head. It checks that the lock hands back want, and that the events read
// are ids, in order; it returns the new head.
func sealNext(t *testing.T, db *store.DB, want roster.ChainHead, ids ...string) roster.ChainHead {
	t.Helper()
	ctx := context.Background()
	committedEventsAfter(t, db, want.Cursor, len(ids))
	var head roster.ChainHead
	write(t, db, func(tx roster.Tx) error {
		got, ok, err := tx.LockChain(ctx)
		if err != nil || !ok || got != want {
			t.Fatalf("LockChain: %+v %v %v, want %+v", got, ok, err, want)
		}
		events, err := tx.EventsAfter(ctx, got.Cursor, len(ids))
		if err != nil {
			return err
		}
		if read := idsOf(events, idOfAudit); !slices.Equal(read, ids) {
			t.Fatalf("events after the head: %v, want %v", read, ids)
		}
		head = got
		seals := make([]roster.EventSeal, len(events))
		for i, e := range events {
			if e.Pos != 0 || e.PrevHash != "" || e.Hash != "" {
				t.Errorf("%s is sealed before its seal: %d %q %q", e.ID, e.Pos, e.PrevHash, e.Hash)
			}
			e.Pos, e.PrevHash = head.Pos+1, head.Hash
			hash, err := e.Sealed().Hash()
			if err != nil {
				return err
			}
			seals[i] = roster.EventSeal{EventID: e.ID, Pos: e.Pos, PrevHash: e.PrevHash, Hash: hash}
			head = roster.ChainHead{Cursor: e.Cursor, Pos: e.Pos, Hash: hash}
		}
		return tx.SealEvents(ctx, seals, head)
	})
	if now, err := db.ChainHeadNow(ctx); err != nil || now != head {
		t.Fatalf("ChainHeadNow after sealing: %+v %v, want %+v", now, err, head)
	}
	return head
}

// TestChainSealsAndReadsTheLog: a new log's chain is empty; the sealer
// seals committed events in log order, in batches, and the head follows;
// the sealed log lists in chain order, by page and filter, without what is
// unsealed; every read shows an event's seal and reason; an event the
// sealer has passed without sealing is found.
func TestChainSealsAndReadsTheLog(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()

		// A new log: the head at its start, free to take, nothing unsealed.
		zero := roster.ChainHead{}
		if head, err := db.ChainHeadNow(ctx); err != nil || head != zero {
			t.Errorf("a new chain's head: %+v %v", head, err)
		}
		write(t, db, func(tx roster.Tx) error {
			if head, err := tx.ChainHeadNow(ctx); err != nil || head != zero {
				t.Errorf("a new chain's head in a transaction: %+v %v", head, err)
			}
			if head, ok, err := tx.LockChain(ctx); err != nil || !ok || head != zero {
				t.Errorf("LockChain of a new chain: %+v %v %v", head, ok, err)
			}
			return nil
		})
		if e, err := db.FirstUnsealed(ctx, roster.EventCursor{TxID: 1 << 40, Seq: 1 << 40}); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("FirstUnsealed of an empty log: %+v %v", e.ID, err)
		}
		if evs, err := db.ListChain(ctx, roster.AuditFilter{}, 0, 10); err != nil || len(evs) != 0 {
			t.Errorf("ListChain of an empty log: %d %v", len(evs), err)
		}

		// Four events, each its own transaction: the log's order is theirs.
		byA := chainEvent("org.created", 0)
		byA.ActorUserID, byA.OrgID = ptr("usr_a"), ptr("org_1")
		bySupport := chainEvent("workspace.created", 1)
		bySupport.ActorUserID, bySupport.ActorTokenID, bySupport.OnBehalfOf = ptr("usr_staff"), ptr("tok_support"), ptr("usr_b")
		bySupport.Via, bySupport.ActorReason = roster.ViaSupport, ptr("ticket 42: the customer asked")
		bySupport.OrgID, bySupport.WorkspaceID = ptr("org_1"), ptr("ws_1")
		byB := chainEvent("membership.created", 2)
		byB.ActorUserID, byB.OrgID, byB.WorkspaceID = ptr("usr_b"), ptr("org_1"), ptr("ws_1")
		byB.Before, byB.After = json.RawMessage(`{"role": "viewer", "a": [1, 2.50]}`), json.RawMessage(`{"z": null, "role": "admin"}`)
		bySystem := chainEvent("org.created", 3)
		bySystem.Via, bySystem.OrgID, bySystem.UserID, bySystem.Notify = roster.ViaSystem, ptr("org_2"), ptr("usr_a"), []string{"usr_a", "usr_c"}
		sealed := []roster.AuditEvent{byA, bySupport, byB, bySystem}
		for _, e := range sealed {
			write(t, db, func(tx roster.Tx) error { return tx.InsertAudit(ctx, e) })
		}
		all := idsOf(sealed, idOfAudit)
		logged := committedEventsAfter(t, db, zero.Cursor, len(sealed))
		if ids := idsOf(logged, idOfAudit); !slices.Equal(ids, all) {
			t.Fatalf("the log: %v, want %v", ids, all)
		}
		last := logged[len(logged)-1].Cursor

		// Unsealed, the oldest is first; before the first event there is none.
		if e, err := db.FirstUnsealed(ctx, last); err != nil || e.ID != byA.ID {
			t.Errorf("FirstUnsealed of an unsealed log: %s %v, want %s", e.ID, err, byA.ID)
		}
		if e, err := db.FirstUnsealed(ctx, logged[0].Cursor); err != nil || e.ID != byA.ID {
			t.Errorf("FirstUnsealed at the first event (at or before): %s %v", e.ID, err)
		}
		if e, err := db.FirstUnsealed(ctx, zero.Cursor); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("FirstUnsealed before every event: %s %v", e.ID, err)
		}
		if evs, err := db.ListChain(ctx, roster.AuditFilter{}, 0, 10); err != nil || len(evs) != 0 {
			t.Errorf("ListChain before any seal: %v %v", idsOf(evs, idOfAudit), err)
		}

		// Two batches: the second chains after the head the first left.
		head := sealNext(t, db, zero, byA.ID)
		if head.Pos != 1 || head.Cursor != logged[0].Cursor || head.Hash == "" {
			t.Errorf("the head after one event: %+v", head)
		}
		if e, err := db.FirstUnsealed(ctx, last); err != nil || e.ID != bySupport.ID {
			t.Errorf("FirstUnsealed once the first is sealed: %s %v, want %s", e.ID, err, bySupport.ID)
		}
		if e, err := db.FirstUnsealed(ctx, head.Cursor); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("FirstUnsealed at the head: %s %v", e.ID, err)
		}
		head = sealNext(t, db, head, bySupport.ID, byB.ID, bySystem.ID)
		if head.Pos != 4 || head.Cursor != last {
			t.Errorf("the head after four events: %+v, want position 4 at %+v", head, last)
		}
		if e, err := db.FirstUnsealed(ctx, last); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("FirstUnsealed of a sealed log: %s %v", e.ID, err)
		}

		// Written after the seals: never in the chain, until sealed.
		unsealed := chainEvent("membership.created", 4)
		unsealed.ActorUserID, unsealed.OrgID, unsealed.WorkspaceID = ptr("usr_b"), ptr("org_1"), ptr("ws_1")
		write(t, db, func(tx roster.Tx) error { return tx.InsertAudit(ctx, unsealed) })
		unsealedAt := committedEventsAfter(t, db, last, 1)
		if len(unsealedAt) != 1 || unsealedAt[0].ID != unsealed.ID {
			t.Fatalf("the event after the head: %v", idsOf(unsealedAt, idOfAudit))
		}
		if e, err := db.FirstUnsealed(ctx, last); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("FirstUnsealed at the head, with an event after it: %s %v", e.ID, err)
		}
		if e, err := db.FirstUnsealed(ctx, unsealedAt[0].Cursor); err != nil || e.ID != unsealed.ID {
			t.Errorf("FirstUnsealed past the head: %s %v, want %s", e.ID, err, unsealed.ID)
		}

		// The whole chain, in order, each event chained to the one before
		// and its hash that of its content as read back.
		chain, err := db.ListChain(ctx, roster.AuditFilter{}, 0, 100)
		if ids := idsOf(chain, idOfAudit); err != nil || !slices.Equal(ids, all) {
			t.Fatalf("ListChain: %v %v, want %v", ids, err, all)
		}
		vr := &roster.Verifier{Complete: true}
		for i, e := range chain {
			prev := ""
			if i > 0 {
				prev = chain[i-1].Hash
			}
			if e.Pos != int64(i+1) || e.PrevHash != prev || e.Hash == "" {
				t.Errorf("seal of event %d: %d %q %q", i+1, e.Pos, e.PrevHash, e.Hash)
			}
			if ok, err := vr.Add(e.Sealed(), e.Hash); !ok || err != nil {
				t.Errorf("verifying event %d: %+v %v", i+1, vr.Result(), err)
			}
		}
		if v := vr.Result(); !v.OK || v.Events != head.Pos || v.Head != head.Hash {
			t.Errorf("the chain as read: %+v, head %+v", v, head)
		}
		got := chain[1]
		if got.ActorReason == nil || *got.ActorReason != *bySupport.ActorReason || *got.ActorTokenID != "tok_support" ||
			*got.OnBehalfOf != "usr_b" || got.Via != roster.ViaSupport || !got.At.Equal(bySupport.At) {
			t.Errorf("a support event from the chain: %+v", got)
		}
		if chain[0].ActorReason != nil || !sameJSON(chain[2].After, byB.After) || !slices.Equal(chain[3].Notify, bySystem.Notify) {
			t.Errorf("fields from the chain: %+v", chain)
		}

		// Pages after a position.
		pages := []struct {
			after int64
			limit int
			want  []string
		}{
			{0, 2, all[:2]}, {2, 2, all[2:]}, {1, 10, all[1:]}, {3, 1, all[3:]}, {4, 10, nil}, {0, 0, nil},
		}
		for _, p := range pages {
			evs, err := db.ListChain(ctx, roster.AuditFilter{}, p.after, p.limit)
			if ids := idsOf(evs, idOfAudit); err != nil || !slices.Equal(ids, p.want) {
				t.Errorf("ListChain after %d, %d: %v %v, want %v", p.after, p.limit, ids, err, p.want)
			}
		}

		// Filters keep exactly the sealed events that match, in chain order.
		at := func(minutes int) *time.Time { return ptr(t0.Add(time.Duration(minutes) * time.Minute)) }
		filters := []struct {
			name  string
			f     roster.AuditFilter
			after int64
			limit int
			want  []roster.AuditEvent
		}{
			{"organisation", roster.AuditFilter{OrgID: "org_1"}, 0, 100, []roster.AuditEvent{byA, bySupport, byB}},
			{"workspace", roster.AuditFilter{WorkspaceID: "ws_1"}, 0, 100, []roster.AuditEvent{bySupport, byB}},
			{"actor, acting or acted for", roster.AuditFilter{ActorID: "usr_b"}, 0, 100, []roster.AuditEvent{bySupport, byB}},
			{"staff actor", roster.AuditFilter{ActorID: "usr_staff"}, 0, 100, []roster.AuditEvent{bySupport}},
			{"action", roster.AuditFilter{Action: "org.created"}, 0, 100, []roster.AuditEvent{byA, bySystem}},
			{"since (inclusive)", roster.AuditFilter{Since: at(1)}, 0, 100, []roster.AuditEvent{bySupport, byB, bySystem}},
			{"until (exclusive)", roster.AuditFilter{Until: at(2)}, 0, 100, []roster.AuditEvent{byA, bySupport}},
			{"since and until", roster.AuditFilter{Since: at(1), Until: at(3)}, 0, 100, []roster.AuditEvent{bySupport, byB}},
			{"all of them", roster.AuditFilter{OrgID: "org_1", WorkspaceID: "ws_1", ActorID: "usr_b", Action: "membership.created",
				Since: at(0), Until: at(10)}, 0, 100, []roster.AuditEvent{byB}},
			{"organisation, after a position", roster.AuditFilter{OrgID: "org_1"}, 1, 100, []roster.AuditEvent{bySupport, byB}},
			{"organisation, a page", roster.AuditFilter{OrgID: "org_1"}, 1, 1, []roster.AuditEvent{bySupport}},
			{"action, after a position", roster.AuditFilter{Action: "org.created"}, 1, 100, []roster.AuditEvent{bySystem}},
			{"no such organisation", roster.AuditFilter{OrgID: "org_none"}, 0, 100, nil},
		}
		for _, c := range filters {
			evs, err := db.ListChain(ctx, c.f, c.after, c.limit)
			want := idsOf(c.want, idOfAudit)
			if ids := idsOf(evs, idOfAudit); err != nil || !slices.Equal(ids, want) {
				t.Errorf("ListChain, %s: %v %v, want %v", c.name, ids, err, want)
			}
			for _, e := range evs {
				if e.Pos < 1 || e.Hash == "" || e.Pos <= c.after {
					t.Errorf("ListChain, %s: %s sealed at %d %q", c.name, e.ID, e.Pos, e.Hash)
				}
			}
		}

		// Every read shows the seal, and none while unsealed; the reason
		// round-trips through each.
		bySeal := map[string]roster.AuditEvent{}
		for _, e := range chain {
			bySeal[e.ID] = e
		}
		sameSeal := func(how string, e roster.AuditEvent) {
			t.Helper()
			want, ok := bySeal[e.ID]
			if !ok && (e.Pos != 0 || e.PrevHash != "" || e.Hash != "") {
				t.Errorf("%s: unsealed %s reads sealed: %d %q %q", how, e.ID, e.Pos, e.PrevHash, e.Hash)
			}
			if ok && (e.Pos != want.Pos || e.PrevHash != want.PrevHash || e.Hash != want.Hash) {
				t.Errorf("%s: %s reads %d %q %q, sealed %d %q %q", how, e.ID, e.Pos, e.PrevHash, e.Hash, want.Pos, want.PrevHash, want.Hash)
			}
			wantReason := (*string)(nil)
			if e.ID == bySupport.ID {
				wantReason = bySupport.ActorReason
			}
			if (e.ActorReason == nil) != (wantReason == nil) || (wantReason != nil && *e.ActorReason != *wantReason) {
				t.Errorf("%s: %s has reason %v, want %v", how, e.ID, e.ActorReason, wantReason)
			}
		}
		listed, err := db.ListAudit(ctx, roster.AuditFilter{}, roster.Page{Limit: 100})
		if err != nil || len(listed) != 5 {
			t.Fatalf("ListAudit: %d events %v, want 5", len(listed), err)
		}
		for _, e := range listed {
			sameSeal("ListAudit", e)
		}
		for _, e := range eventsAfter(t, db, zero.Cursor) {
			sameSeal("EventsAfter", e)
		}
		for _, id := range append(all, unsealed.ID) {
			e, err := db.GetEvent(ctx, id)
			if err != nil {
				t.Fatalf("GetEvent %s: %v", id, err)
			}
			sameSeal("GetEvent", e)
		}
		write(t, db, func(tx roster.Tx) error {
			e, err := tx.GetEvent(ctx, bySupport.ID)
			if err != nil {
				return err
			}
			sameSeal("GetEvent in a transaction", e)
			evs, err := tx.ListChain(ctx, roster.AuditFilter{WorkspaceID: "ws_1"}, 0, 10)
			if ids := idsOf(evs, idOfAudit); err != nil || !slices.Equal(ids, []string{bySupport.ID, byB.ID}) {
				t.Errorf("ListChain in a transaction: %v %v", ids, err)
			}
			if _, err := tx.FirstUnsealed(ctx, last); !errors.Is(err, roster.ErrNotFound) {
				t.Errorf("FirstUnsealed in a transaction: %v", err)
			}
			return nil
		})

		// Sealed at last, it joins the chain after the others.
		head = sealNext(t, db, head, unsealed.ID)
		if head.Pos != 5 || head.Cursor != unsealedAt[0].Cursor {
			t.Errorf("the head after five: %+v", head)
		}
		evs, err := db.ListChain(ctx, roster.AuditFilter{WorkspaceID: "ws_1"}, 0, 10)
		if ids := idsOf(evs, idOfAudit); err != nil || !slices.Equal(ids, []string{bySupport.ID, byB.ID, unsealed.ID}) || evs[2].PrevHash != chain[3].Hash {
			t.Errorf("ListChain once the last is sealed: %v %v", ids, err)
		}
		if e, err := db.FirstUnsealed(ctx, head.Cursor); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("FirstUnsealed of a sealed log: %s %v", e.ID, err)
		}
	})
}

// TestChainSealRefusesSealedOrMissingEvents: an event is sealed once; a
// seal of an event sealed already, of one not there, or at a position
// taken fails, and its transaction leaves the chain as it was.
func TestChainSealRefusesSealedOrMissingEvents(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		first, second := chainEvent("a.first", 0), chainEvent("a.second", 1)
		write(t, db, func(tx roster.Tx) error { return tx.InsertAudit(ctx, first) })
		write(t, db, func(tx roster.Tx) error { return tx.InsertAudit(ctx, second) })
		head := sealNext(t, db, roster.ChainHead{}, first.ID)
		// The second is offered once every older transaction has ended.
		next := committedEventsAfter(t, db, head.Cursor, 1)
		if len(next) != 1 || next[0].ID != second.ID {
			t.Fatalf("after the head: %v", idsOf(next, idOfAudit))
		}
		moved := roster.ChainHead{Cursor: next[0].Cursor, Pos: head.Pos + 1, Hash: "moved"}
		valid := roster.EventSeal{EventID: second.ID, Pos: 2, PrevHash: head.Hash, Hash: "h2"}

		cases := []struct {
			name  string
			seals []roster.EventSeal
		}{
			{"sealed already", []roster.EventSeal{{EventID: first.ID, Pos: 2, PrevHash: head.Hash, Hash: "again"}}},
			{"no such event", []roster.EventSeal{{EventID: roster.NewID(roster.PrefixAudit), Pos: 2, PrevHash: head.Hash, Hash: "h"}}},
			{"a valid seal with one sealed already", []roster.EventSeal{valid, {EventID: first.ID, Pos: 3, PrevHash: "h2", Hash: "h3"}}},
			{"a valid seal with a missing event", []roster.EventSeal{valid, {EventID: "aud_missing", Pos: 3, PrevHash: "h2", Hash: "h3"}}},
			{"the same event twice", []roster.EventSeal{valid, {EventID: second.ID, Pos: 3, PrevHash: "h2", Hash: "h3"}}},
			{"a position taken", []roster.EventSeal{{EventID: second.ID, Pos: head.Pos, PrevHash: "", Hash: "h"}}},
		}
		for _, c := range cases {
			var sealErr error
			err := db.Update(ctx, func(tx roster.Tx) error {
				if _, ok, err := tx.LockChain(ctx); err != nil || !ok {
					t.Fatalf("%s: LockChain: %v %v", c.name, ok, err)
				}
				sealErr = tx.SealEvents(ctx, c.seals, moved)
				return sealErr
			})
			if sealErr == nil || err == nil {
				t.Errorf("%s: sealed (%v, %v)", c.name, sealErr, err)
			}
			if now, err := db.ChainHeadNow(ctx); err != nil || now != head {
				t.Errorf("%s: the head moved to %+v (%v), want %+v", c.name, now, err, head)
			}
			for _, id := range []string{first.ID, second.ID} {
				e, err := db.GetEvent(ctx, id)
				wantPos := map[string]int64{first.ID: 1, second.ID: 0}[id]
				if err != nil || e.Pos != wantPos || (wantPos == 1 && e.Hash != head.Hash) || (wantPos == 0 && e.Hash != "") {
					t.Errorf("%s: %s reads %d %q (%v)", c.name, id, e.Pos, e.Hash, err)
				}
			}
		}
		chain, err := db.ListChain(ctx, roster.AuditFilter{}, 0, 10)
		if ids := idsOf(chain, idOfAudit); err != nil || !slices.Equal(ids, []string{first.ID}) {
			t.Errorf("the chain after refusals: %v %v", ids, err)
		}
		if e, err := db.FirstUnsealed(ctx, next[0].Cursor); err != nil || e.ID != second.ID {
			t.Errorf("FirstUnsealed after refusals: %s %v", e.ID, err)
		}

		// The valid seal alone goes through.
		write(t, db, func(tx roster.Tx) error { return tx.SealEvents(ctx, []roster.EventSeal{valid}, moved) })
		if now, err := db.ChainHeadNow(ctx); err != nil || now != moved {
			t.Errorf("the head after a seal: %+v %v, want %+v", now, err, moved)
		}
		if e, err := db.GetEvent(ctx, second.ID); err != nil || e.Pos != 2 || e.PrevHash != head.Hash || e.Hash != "h2" {
			t.Errorf("the second, sealed: %d %q %q %v", e.Pos, e.PrevHash, e.Hash, err)
		}
	})
}

// TestChainLockIsOneSealerAtATime: the chain's lock hands back the head;
// on PostgreSQL, while one transaction holds it, another does not wait for
// it but is told to skip its turn, and takes it once it is free.
func TestChainLockIsOneSealerAtATime(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		e := chainEvent("a.one", 0)
		write(t, db, func(tx roster.Tx) error { return tx.InsertAudit(ctx, e) })
		head := sealNext(t, db, roster.ChainHead{}, e.ID)
		if b != rostertest.Postgres {
			return
		}
		held, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			err := db.Update(ctx, func(tx roster.Tx) error {
				got, ok, err := tx.LockChain(ctx)
				if err != nil || !ok || got != head {
					t.Errorf("the first LockChain: %+v %v %v", got, ok, err)
				}
				close(held)
				<-release
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
		<-held
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		began := time.Now()
		err := db.Update(wctx, func(tx roster.Tx) error {
			if got, ok, err := tx.LockChain(wctx); ok || err != nil {
				t.Errorf("LockChain while another transaction holds it: %+v %v %v", got, ok, err)
			}
			// Reading the head does not wait for the lock either.
			if got, err := tx.ChainHeadNow(wctx); err != nil || got != head {
				t.Errorf("ChainHeadNow while the lock is held: %+v %v", got, err)
			}
			return nil
		})
		if err != nil || time.Since(began) > 4*time.Second {
			t.Errorf("the second transaction waited %v: %v", time.Since(began), err)
		}
		if got, err := db.ChainHeadNow(ctx); err != nil || got != head {
			t.Errorf("ChainHeadNow outside, while the lock is held: %+v %v", got, err)
		}
		close(release)
		<-done
		write(t, db, func(tx roster.Tx) error {
			if got, ok, err := tx.LockChain(ctx); !ok || err != nil || got != head {
				t.Errorf("LockChain once free: %+v %v %v", got, ok, err)
			}
			return nil
		})
	})
}
