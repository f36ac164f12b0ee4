package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/roster-dev/roster"
)

const supportColumns = `id, workspace_id, org_id, user_id, role, reason, membership_id, token_id, end_task_id, started_at, expires_at,
	ended_at, end_reason, updated_at`

func scanSupportSession(s interface{ Scan(...any) error }) (roster.SupportSession, error) {
	var ss roster.SupportSession
	var endReason sql.NullString
	err := s.Scan(&ss.ID, &ss.WorkspaceID, &ss.OrgID, &ss.UserID, &ss.Role, &ss.Reason, &ss.MembershipID, &ss.TokenID, &ss.EndTaskID,
		timeDest{&ss.StartedAt}, timeDest{&ss.ExpiresAt}, nullTimeDest{&ss.EndedAt}, &endReason, timeDest{&ss.UpdatedAt})
	ss.EndReason = roster.SupportEndReason(endReason.String)
	return ss, scanOne(err)
}

func (q queries) GetSupportSession(ctx context.Context, id string) (roster.SupportSession, error) {
	return scanSupportSession(q.queryRow(ctx, `SELECT `+supportColumns+` FROM support_sessions WHERE id = ?`, id))
}

func (q queries) GetOpenSupportSession(ctx context.Context, workspaceID, userID string) (roster.SupportSession, error) {
	return scanSupportSession(q.queryRow(ctx, `SELECT `+supportColumns+` FROM support_sessions
		WHERE workspace_id = ? AND user_id = ? AND ended_at IS NULL`, workspaceID, userID))
}

func (q queries) ListSupportSessions(ctx context.Context, f roster.SupportFilter, p roster.Page) ([]roster.SupportSession, error) {
	// Newest first. No sentinel for the first page: "~" sorts after every
	// id only under the C collation, not e.g. ICU en-US.
	where, args := []string{"1 = 1"}, []any{}
	if p.After != "" {
		where, args = append(where, "id < ?"), append(args, p.After)
	}
	if f.WorkspaceID != "" {
		where, args = append(where, "workspace_id = ?"), append(args, f.WorkspaceID)
	}
	if f.OrgID != "" {
		where, args = append(where, "org_id = ?"), append(args, f.OrgID)
	}
	if f.UserID != "" {
		where, args = append(where, "user_id = ?"), append(args, f.UserID)
	}
	if f.Open {
		where = append(where, "ended_at IS NULL")
	}
	if !f.ActiveAt.IsZero() {
		where, args = append(where, "ended_at IS NULL AND expires_at > ?"), append(args, ts(f.ActiveAt))
	}
	if !f.NotEndedBefore.IsZero() {
		where, args = append(where, "(ended_at IS NULL OR ended_at >= ?)"), append(args, ts(f.NotEndedBefore))
	}
	if !f.ExpiredAt.IsZero() {
		where, args = append(where, "ended_at IS NULL AND expires_at <= ?"), append(args, ts(f.ExpiredAt))
	}
	rows, err := q.query(ctx, `SELECT `+supportColumns+` FROM support_sessions WHERE `+strings.Join(where, " AND ")+
		` ORDER BY id DESC LIMIT ?`, append(args, p.Limit+1)...)
	return collect(rows, err, func(r *sql.Rows) (roster.SupportSession, error) { return scanSupportSession(r) })
}

func (t *tx) CreateSupportSession(ctx context.Context, s roster.SupportSession) (bool, error) {
	res, err := t.exec(ctx, `INSERT INTO support_sessions (`+supportColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`,
		s.ID, s.WorkspaceID, s.OrgID, s.UserID, string(s.Role), s.Reason, s.MembershipID, s.TokenID, s.EndTaskID, ts(s.StartedAt), ts(s.ExpiresAt),
		nts(s.EndedAt), strArg(endReason(s.EndReason)), ts(s.UpdatedAt))
	return inserted(res, err)
}

func (t *tx) UpdateSupportSession(ctx context.Context, s roster.SupportSession) error {
	res, err := t.exec(ctx, `UPDATE support_sessions SET role = ?, reason = ?, membership_id = ?, token_id = ?, end_task_id = ?, expires_at = ?,
		ended_at = ?, end_reason = ?, updated_at = ? WHERE id = ?`,
		string(s.Role), s.Reason, s.MembershipID, s.TokenID, s.EndTaskID, ts(s.ExpiresAt), nts(s.EndedAt), strArg(endReason(s.EndReason)),
		ts(s.UpdatedAt), s.ID)
	return oneRowOr(res, err, roster.ErrNotFound)
}

// endReason is nil for a session that has not ended.
func endReason(r roster.SupportEndReason) *string {
	if r == "" {
		return nil
	}
	s := string(r)
	return &s
}
