package store

import (
	"context"
	"time"

	"github.com/roster-dev/roster"
)

func (q queries) GetIdempotency(ctx context.Context, scope, key string) (roster.IdempotencyRecord, error) {
	r := roster.IdempotencyRecord{Scope: scope, Key: key}
	err := q.queryRow(ctx, `SELECT fingerprint, status, content_type, body, created_at FROM idempotency_keys
		WHERE scope = ? AND key = ?`, scope, key).Scan(&r.Fingerprint, &r.Status, &r.ContentType, &r.Body, timeDest{&r.CreatedAt})
	return r, scanOne(err)
}

// ClaimIdempotency runs on the write pool: the claim must be visible to other
// requests before the handler it guards starts its own transaction.
func (db *DB) ClaimIdempotency(ctx context.Context, r roster.IdempotencyRecord, staleBefore, abandonedBefore time.Time) (bool, error) {
	claimed := false
	err := db.Update(ctx, func(t roster.Tx) error {
		q := t.(*tx)
		if _, err := q.exec(ctx, `DELETE FROM idempotency_keys WHERE scope = ? AND key = ?
			AND (created_at < ? OR (status = 0 AND created_at < ?))`,
			r.Scope, r.Key, ts(staleBefore), ts(abandonedBefore)); err != nil {
			return err
		}
		res, err := q.exec(ctx, `INSERT INTO idempotency_keys (scope, key, fingerprint, status, content_type, body, created_at)
			VALUES (?, ?, ?, 0, '', NULL, ?) ON CONFLICT DO NOTHING`, r.Scope, r.Key, r.Fingerprint, ts(r.CreatedAt))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	return claimed, err
}

func (db *DB) CompleteIdempotency(ctx context.Context, r roster.IdempotencyRecord) error {
	_, err := db.write.ExecContext(ctx, db.rebind(`UPDATE idempotency_keys SET status = ?, content_type = ?, body = ?
		WHERE scope = ? AND key = ? AND created_at = ?`), r.Status, r.ContentType, r.Body, r.Scope, r.Key, ts(r.CreatedAt))
	return translate(err)
}

func (db *DB) ReleaseIdempotency(ctx context.Context, r roster.IdempotencyRecord) error {
	_, err := db.write.ExecContext(ctx, db.rebind(`DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND created_at = ?`),
		r.Scope, r.Key, ts(r.CreatedAt))
	return translate(err)
}
