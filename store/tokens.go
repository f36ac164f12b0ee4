package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/roster-dev/roster"
)

const tokenColumns = `id, user_id, kind, name, prefix, hint, hash, workspace_id, expires_at, last_used_at, revoked_at, created_at`

func scanToken(s interface{ Scan(...any) error }) (roster.Token, error) {
	var t roster.Token
	var ws sql.NullString
	err := s.Scan(&t.ID, &t.UserID, &t.Kind, &t.Name, &t.Prefix, &t.Hint, &t.Hash, &ws,
		nullTimeDest{&t.ExpiresAt}, nullTimeDest{&t.LastUsedAt}, nullTimeDest{&t.RevokedAt}, timeDest{&t.CreatedAt})
	t.WorkspaceID = nullString(ws)
	return t, scanOne(err)
}

func (q queries) GetToken(ctx context.Context, id string) (roster.Token, error) {
	return scanToken(q.queryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE id = ?`, id))
}

func (q queries) GetTokenByHash(ctx context.Context, hash string) (roster.Token, error) {
	return scanToken(q.queryRow(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`, hash))
}

func (q queries) ListTokens(ctx context.Context, userID string, p roster.Page) ([]roster.Token, error) {
	rows, err := q.query(ctx, `SELECT `+tokenColumns+` FROM tokens WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?`,
		userID, p.After, p.Limit+1)
	return collect(rows, err, func(r *sql.Rows) (roster.Token, error) { return scanToken(r) })
}

func (t *tx) CreateToken(ctx context.Context, tok roster.Token) error {
	_, err := t.exec(ctx, `INSERT INTO tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tok.ID, tok.UserID, string(tok.Kind), tok.Name, tok.Prefix, tok.Hint, tok.Hash, strArg(tok.WorkspaceID),
		nts(tok.ExpiresAt), nts(tok.LastUsedAt), nts(tok.RevokedAt), ts(tok.CreatedAt))
	return err
}

func (t *tx) RevokeToken(ctx context.Context, id string, at time.Time) (bool, error) {
	res, err := t.exec(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, ts(at), id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (t *tx) RevokeUserTokens(ctx context.Context, userID string, at time.Time) ([]string, error) {
	rows, err := t.query(ctx, `UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL RETURNING hash`, ts(at), userID)
	return collect(rows, err, func(r *sql.Rows) (string, error) {
		var h string
		return h, r.Scan(&h)
	})
}

// TouchToken runs on the write pool outside any request transaction; the
// condition keeps it to one write per token per interval across replicas.
func (db *DB) TouchToken(ctx context.Context, id string, at, notBefore time.Time) error {
	_, err := db.write.ExecContext(ctx, db.rebind(`UPDATE tokens SET last_used_at = ?
		WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`), ts(at), id, ts(notBefore))
	return translate(err)
}
