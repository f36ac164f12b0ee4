package store

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/roster-dev/roster"
)

const chainName = "chain"

func (q queries) ChainHeadNow(ctx context.Context) (roster.ChainHead, error) {
	return q.chainHead(ctx, "")
}

func (q queries) chainHead(ctx context.Context, lock string) (roster.ChainHead, error) {
	var h roster.ChainHead
	var txid string
	err := q.queryRow(ctx, `SELECT txid, seq, pos, hash FROM audit_chain_head WHERE name = ?`+lock, chainName).
		Scan(&txid, &h.Cursor.Seq, &h.Pos, &h.Hash)
	if err != nil {
		return h, err
	}
	h.Cursor.TxID, err = strconv.ParseUint(txid, 10, 64)
	return h, err
}

func (q queries) ListChain(ctx context.Context, f roster.AuditFilter, afterPos int64, limit int) ([]roster.AuditEvent, error) {
	where, args := q.db.auditWhere(f, false)
	where, args = append(where, "chain_pos > ?"), append(args, afterPos)
	rows, err := q.query(ctx, `SELECT `+auditRead+` FROM audit_events WHERE `+strings.Join(where, " AND ")+
		` ORDER BY chain_pos LIMIT ?`, append(args, limit)...)
	return collect(rows, err, scanAudit)
}

func (q queries) FirstUnsealed(ctx context.Context, cur roster.EventCursor) (roster.AuditEvent, error) {
	var query string
	var args []any
	if q.db.dialect == Postgres {
		query = `SELECT ` + auditRead + ` FROM audit_events WHERE chain_pos IS NULL AND (txid, seq) <= (CAST(? AS xid8), ?)
			ORDER BY txid, seq LIMIT 1`
		args = []any{strconv.FormatUint(cur.TxID, 10), cur.Seq}
	} else {
		query = `SELECT ` + auditRead + ` FROM audit_events WHERE chain_pos IS NULL AND txid = 0 AND seq <= ? ORDER BY seq LIMIT 1`
		args = []any{cur.Seq}
	}
	rows, err := q.query(ctx, query, args...)
	events, err := collect(rows, err, scanAudit)
	if err == nil && len(events) == 0 {
		err = roster.ErrNotFound
	}
	if err != nil {
		return roster.AuditEvent{}, err
	}
	return events[0], nil
}

// LockChain takes the sealer's row for this transaction. On PostgreSQL a
// replica that finds it taken skips its turn rather than wait.
func (t *tx) LockChain(ctx context.Context) (roster.ChainHead, bool, error) {
	lock := ""
	if t.db.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	h, err := t.chainHead(ctx, lock)
	if errors.Is(err, roster.ErrNotFound) {
		return h, false, nil // another replica's turn (the migration wrote the row)
	}
	return h, err == nil, err
}

// SealEvents writes a batch of seals in one statement and moves the head.
func (t *tx) SealEvents(ctx context.Context, seals []roster.EventSeal, head roster.ChainHead) error {
	if len(seals) > 0 {
		rows := make([]string, len(seals))
		args := make([]any, 0, 4*len(seals))
		for i, s := range seals {
			rows[i] = "(CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT))"
			args = append(args, s.EventID, s.Pos, s.PrevHash, s.Hash)
		}
		res, err := t.exec(ctx, `WITH v (id, pos, prev, hash) AS (VALUES `+strings.Join(rows, ", ")+`)
			UPDATE audit_events SET chain_pos = v.pos, prev_hash = v.prev, hash = v.hash FROM v
			WHERE audit_events.id = v.id AND audit_events.chain_pos IS NULL`, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != int64(len(seals)) {
			return errors.New("sealing the audit log: an event was sealed already or is gone")
		}
	}
	_, err := t.exec(ctx, `UPDATE audit_chain_head SET txid = ?, seq = ?, pos = ?, hash = ? WHERE name = ?`,
		strconv.FormatUint(head.Cursor.TxID, 10), head.Cursor.Seq, head.Pos, head.Hash, chainName)
	return err
}
