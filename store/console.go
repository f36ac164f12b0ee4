package store

import (
	"context"
	"time"

	"github.com/roster-dev/roster"
)

const consoleSessionColumns = `id, user_id, hash, csrf, created_at, last_seen_at, ended_at`

func scanConsoleSession(s interface{ Scan(...any) error }) (roster.ConsoleSession, error) {
	var c roster.ConsoleSession
	err := s.Scan(&c.ID, &c.UserID, &c.Hash, &c.CSRF, timeDest{&c.CreatedAt}, timeDest{&c.LastSeenAt}, nullTimeDest{&c.EndedAt})
	return c, scanOne(err)
}

func (q queries) GetConsoleSessionByHash(ctx context.Context, hash string) (roster.ConsoleSession, error) {
	return scanConsoleSession(q.queryRow(ctx, `SELECT `+consoleSessionColumns+` FROM console_sessions WHERE hash = ?`, hash))
}

func (t *tx) CreateConsoleSession(ctx context.Context, s roster.ConsoleSession) error {
	_, err := t.exec(ctx, `INSERT INTO console_sessions (`+consoleSessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.UserID, s.Hash, s.CSRF, ts(s.CreatedAt), ts(s.LastSeenAt), nts(s.EndedAt))
	return err
}

func (t *tx) EndConsoleSession(ctx context.Context, id string, at time.Time) error {
	_, err := t.exec(ctx, `UPDATE console_sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL`, ts(at), id)
	return err
}

func (t *tx) EndUserConsoleSessions(ctx context.Context, userID string, at time.Time) error {
	_, err := t.exec(ctx, `UPDATE console_sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL`, ts(at), userID)
	return err
}

const loginLinkColumns = `id, user_id, hash, expires_at, used_at, created_at`

func (t *tx) CreateLoginLink(ctx context.Context, l roster.LoginLink) error {
	_, err := t.exec(ctx, `INSERT INTO login_links (`+loginLinkColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		l.ID, l.UserID, l.Hash, ts(l.ExpiresAt), nts(l.UsedAt), ts(l.CreatedAt))
	return err
}

// UseLoginLink claims a link in one statement, so that of two browsers
// opening it at once exactly one signs in.
func (t *tx) UseLoginLink(ctx context.Context, hash string, at time.Time) (roster.LoginLink, error) {
	var l roster.LoginLink
	err := t.queryRow(ctx, `UPDATE login_links SET used_at = ? WHERE hash = ? AND used_at IS NULL
		RETURNING `+loginLinkColumns, ts(at), hash).
		Scan(&l.ID, &l.UserID, &l.Hash, timeDest{&l.ExpiresAt}, nullTimeDest{&l.UsedAt}, timeDest{&l.CreatedAt})
	return l, scanOne(err)
}

// TouchConsoleSession runs on the write pool outside any request
// transaction; the condition keeps it to one write per session per interval
// across replicas.
func (db *DB) TouchConsoleSession(ctx context.Context, id string, at, notBefore time.Time) error {
	_, err := db.write.ExecContext(ctx, db.rebind(`UPDATE console_sessions SET last_seen_at = ?
		WHERE id = ? AND last_seen_at < ?`), ts(at), id, ts(notBefore))
	return translate(err)
}
