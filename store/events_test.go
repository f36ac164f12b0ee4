package store_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

func auditAt(action string, at time.Time) roster.AuditEvent {
	return roster.AuditEvent{ID: roster.NewID(roster.PrefixAudit), At: at, Via: roster.ViaSystem, Action: action, TargetType: "x", TargetID: "1"}
}

func eventsAfter(t *testing.T, db roster.Store, cur roster.EventCursor) []roster.AuditEvent {
	t.Helper()
	evs, err := db.EventsAfter(context.Background(), cur, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// settledEventsAfter waits until the log offers at least n events after
// start that had not committed when it began. On PostgreSQL an event is
// offered once every transaction older than its own has ended, and other
// tests' transactions share the server.
func settledEventsAfter(t *testing.T, db roster.Store, start roster.EventStart, n int) []roster.AuditEvent {
	t.Helper()
	for begin := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		var out []roster.AuditEvent
		for _, e := range eventsAfter(t, db, start.Cursor) {
			if !start.Past(e.Cursor) {
				out = append(out, e)
			}
		}
		if len(out) >= n || time.Since(begin) > 10*time.Second {
			return out
		}
	}
}

// TestEventLog: audit events read back as a log in commit order, with whom
// they are about and whom to tell; a reader resumes after any event; a
// stream that starts now leaves out what had committed.
func TestEventLog(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		start, err := db.EventsNow(ctx)
		if err != nil {
			t.Fatal(err)
		}
		first := auditAt("a.first", t0)
		first.UserID, first.Notify = ptr("usr_1"), []string{"usr_2", "usr_3"}
		second, third := auditAt("a.second", t0), auditAt("a.third", t0)
		write(t, db, func(tx roster.Tx) error { return tx.InsertAudit(ctx, first, second) })
		write(t, db, func(tx roster.Tx) error { return tx.InsertAudit(ctx, third) })

		all := settledEventsAfter(t, db, start, 3)
		var actions []string
		for _, e := range all {
			actions = append(actions, e.Action)
		}
		if !slices.Equal(actions, []string{"a.first", "a.second", "a.third"}) {
			t.Fatalf("the log after the start: %v", actions)
		}
		got := all[len(all)-3]
		if *got.UserID != "usr_1" || !slices.Equal(got.Notify, first.Notify) || all[len(all)-2].UserID != nil || all[len(all)-2].Notify != nil {
			t.Errorf("user and notify: %+v", got)
		}
		for i := 1; i < len(all); i++ {
			if !all[i-1].Cursor.Before(all[i].Cursor) {
				t.Fatalf("cursors out of order: %+v then %+v", all[i-1].Cursor, all[i].Cursor)
			}
		}
		cur, err := db.EventCursorOf(ctx, second.ID)
		if err != nil || cur != all[len(all)-2].Cursor {
			t.Fatalf("cursor of the second: %+v %v", cur, err)
		}
		if rest := eventsAfter(t, db, cur); len(rest) != 1 || rest[0].ID != third.ID {
			t.Errorf("after the second: %+v", rest)
		}
		if _, err := db.EventCursorOf(ctx, "evt_missing"); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("an unknown event: %v", err)
		}
		now, err := db.EventsNow(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range eventsAfter(t, db, now.Cursor) {
			if !now.Past(e.Cursor) {
				t.Errorf("a stream starting after every write sees %s", e.Action)
			}
		}
	})
}

// TestEventLogNeverPlacesACommitBehindAReader: however transactions
// interleave, a reader that follows the log misses nothing: an event never
// appears behind a cursor already read.
func TestEventLogNeverPlacesACommitBehindAReader(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		start, err := db.EventsNow(ctx)
		if err != nil {
			t.Fatal(err)
		}
		const writers, each = 8, 25
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					err := db.Update(ctx, func(tx roster.Tx) error {
						if i%3 == w%3 {
							time.Sleep(time.Millisecond) // hold the transaction open a while
						}
						return tx.InsertAudit(ctx, auditAt("a.concurrent", t0))
					})
					if err != nil {
						t.Error(err)
					}
				}
			}()
		}
		seen := map[string]bool{}
		cur := start.Cursor
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		var finishedAt time.Time
		for {
			select {
			case <-done:
				if finishedAt.IsZero() {
					finishedAt = time.Now()
				}
			default:
			}
			for _, e := range eventsAfter(t, db, cur) {
				if seen[e.ID] {
					t.Fatalf("%s read twice", e.ID)
				}
				seen[e.ID], cur = true, e.Cursor
			}
			if !finishedAt.IsZero() && (len(seen) >= writers*each || time.Since(finishedAt) > 10*time.Second) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		all := settledEventsAfter(t, db, start, writers*each)
		for _, e := range all {
			if !seen[e.ID] {
				t.Errorf("%s was committed behind the reader's cursor and missed", e.ID)
			}
		}
		if len(all) != writers*each {
			t.Errorf("%d events in the log, want %d", len(all), writers*each)
		}
	})
}
