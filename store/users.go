package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/roster-dev/roster"
)

const userColumns = `id, email, display_name, status, platform_role, external_id,
	default_workspace_id, created_at, updated_at, deleted_at`

func scanUser(s interface{ Scan(...any) error }) (roster.User, error) {
	var u roster.User
	var email, externalID, defaultWS sql.NullString
	err := s.Scan(&u.ID, &email, &u.DisplayName, &u.Status, &u.PlatformRole, &externalID,
		&defaultWS, timeDest{&u.CreatedAt}, timeDest{&u.UpdatedAt}, nullTimeDest{&u.DeletedAt})
	u.Email = nullString(email)
	u.ExternalID = nullString(externalID)
	u.DefaultWorkspaceID = nullString(defaultWS)
	return u, scanOne(err)
}

func nullString(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

func strArg(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// emailKeyArg is the case-folded email used by the unique index.
func emailKeyArg(email *string) any {
	if email == nil {
		return nil
	}
	return roster.EmailKey(*email)
}

// searchText is what the free-text user filter matches against.
func searchText(u roster.User) string {
	var parts []string
	if u.Email != nil {
		parts = append(parts, *u.Email)
	}
	parts = append(parts, u.DisplayName)
	return strings.ToLower(strings.Join(parts, " "))
}

// GetUser returns a live (not deleted) user.
func (q queries) GetUser(ctx context.Context, id string) (roster.User, error) {
	return scanUser(q.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = ? AND deleted_at IS NULL`, id))
}

func (q queries) GetUserByEmail(ctx context.Context, email string) (roster.User, error) {
	return scanUser(q.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email_key = ? AND deleted_at IS NULL`, roster.EmailKey(email)))
}

func (q queries) GetUserByExternalID(ctx context.Context, externalID string) (roster.User, error) {
	return scanUser(q.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE external_id = ? AND deleted_at IS NULL`, externalID))
}

func (q queries) ListUsers(ctx context.Context, f roster.UserFilter, p roster.Page) ([]roster.User, error) {
	where := []string{"deleted_at IS NULL", "id > ?"}
	args := []any{p.After}
	if f.EmailKey != "" {
		where, args = append(where, "email_key = ?"), append(args, f.EmailKey)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	if f.ExternalID != "" {
		where, args = append(where, "external_id = ?"), append(args, f.ExternalID)
	}
	if f.Query != "" {
		where, args = append(where, `search_text LIKE ? ESCAPE '\'`), append(args, "%"+likeEscape(strings.ToLower(f.Query))+"%")
	}
	args = append(args, p.Limit+1)
	rows, err := q.query(ctx, `SELECT `+userColumns+` FROM users WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, args...)
	return collect(rows, err, func(r *sql.Rows) (roster.User, error) { return scanUser(r) })
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// CountActiveAdmins counts active platform admins. Inside a transaction on
// PostgreSQL it locks their rows, so two admins demoting each other at once
// are serialised and the second sees the first's change.
func (q queries) CountActiveAdmins(ctx context.Context) (int, error) {
	rows, err := q.query(ctx, `SELECT id FROM users WHERE platform_role = ? AND status = ? AND deleted_at IS NULL`+q.forUpdate(),
		string(roster.PlatformAdmin), string(roster.UserActive))
	ids, err := collect(rows, err, func(r *sql.Rows) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
	return len(ids), err
}

func (q queries) HasUsers(ctx context.Context) (bool, error) {
	var n int
	err := q.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) AS one`).Scan(&n)
	return n > 0, scanOne(err)
}

func (t *tx) CreateUser(ctx context.Context, u roster.User) error {
	res, err := t.exec(ctx, `INSERT INTO users (id, email, email_key, display_name, search_text, status, platform_role,
		external_id, default_workspace_id, created_at, updated_at, deleted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		u.ID, strArg(u.Email), emailKeyArg(u.Email), u.DisplayName, searchText(u), string(u.Status), string(u.PlatformRole),
		strArg(u.ExternalID), strArg(u.DefaultWorkspaceID), ts(u.CreatedAt), ts(u.UpdatedAt), nts(u.DeletedAt))
	return oneRowOr(res, err, roster.ErrUniqueViolation)
}

func (t *tx) UpdateUser(ctx context.Context, u roster.User) error {
	res, err := t.exec(ctx, `UPDATE users SET email = ?, email_key = ?, display_name = ?, search_text = ?, status = ?,
		platform_role = ?, external_id = ?, default_workspace_id = ?, updated_at = ?, deleted_at = ? WHERE id = ?`,
		strArg(u.Email), emailKeyArg(u.Email), u.DisplayName, searchText(u), string(u.Status), string(u.PlatformRole),
		strArg(u.ExternalID), strArg(u.DefaultWorkspaceID), ts(u.UpdatedAt), nts(u.DeletedAt), u.ID)
	return oneRowOr(res, err, roster.ErrNotFound)
}

// oneRowOr returns orElse when a write touched no row.
func oneRowOr(res sql.Result, err error, orElse error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return orElse
	}
	return nil
}
