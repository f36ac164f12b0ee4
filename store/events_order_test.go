package store_test

import (
	"context"
	"testing"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// TestEventsFollowTransactionOrder: the log is read in the order of the
// writing transactions' ids as numbers. Transaction 9's event comes before
// transaction 10's, and the read goes through the log's index; read as
// text, "10" would come first, and every read would sort the whole table.
func TestEventsFollowTransactionOrder(t *testing.T) {
	db := rostertest.OpenStore(t, rostertest.Postgres)
	ctx := context.Background()
	pool := db.Pools()["write"]
	if pool == nil {
		pool = db.Pools()["main"]
	}
	for _, row := range []struct{ id, txid string }{
		{roster.NewID(roster.PrefixAudit), "10"},
		{roster.NewID(roster.PrefixAudit), "9"},
	} {
		if _, err := pool.ExecContext(ctx, `INSERT INTO audit_events (id, at, via, action, target_type, target_id, txid)
			VALUES ($1, now(), 'system', 'user.created', 'user', 'usr_x', CAST($2 AS xid8))`, row.id, row.txid); err != nil {
			t.Fatal(err)
		}
	}
	events, err := db.EventsAfter(ctx, roster.EventCursor{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) < 2 || events[0].Cursor.TxID != 9 || events[1].Cursor.TxID != 10 {
		t.Fatalf("the log's first events come from transactions %v", txids(events))
	}
}

func txids(events []roster.AuditEvent) []uint64 {
	out := make([]uint64, len(events))
	for i, e := range events {
		out[i] = e.Cursor.TxID
	}
	return out
}
