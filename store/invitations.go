package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/roster-dev/roster"
)

const invitationColumns = `id, org_id, workspace_id, email, role, token_hash, invited_by, by_service, expires_at,
	accepted_at, accepted_by, revoked_at, open, created_at, updated_at`

func scanInvitation(s interface{ Scan(...any) error }) (roster.Invitation, error) {
	var i roster.Invitation
	var invitedBy, acceptedBy sql.NullString
	err := s.Scan(&i.ID, &i.OrgID, &i.WorkspaceID, &i.Email, &i.Role, &i.TokenHash, &invitedBy, &i.ByService,
		timeDest{&i.ExpiresAt}, nullTimeDest{&i.AcceptedAt}, &acceptedBy, nullTimeDest{&i.RevokedAt}, &i.Open,
		timeDest{&i.CreatedAt}, timeDest{&i.UpdatedAt})
	i.InvitedBy, i.AcceptedBy = nullString(invitedBy), nullString(acceptedBy)
	return i, scanOne(err)
}

func (q queries) GetInvitation(ctx context.Context, id string) (roster.Invitation, error) {
	return scanInvitation(q.queryRow(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE id = ?`, id))
}

func (q queries) GetInvitationByTokenHash(ctx context.Context, hash string) (roster.Invitation, error) {
	return scanInvitation(q.queryRow(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE token_hash = ?`, hash))
}

func (q queries) GetOpenInvitation(ctx context.Context, workspaceID, emailKey string) (roster.Invitation, error) {
	return scanInvitation(q.queryRow(ctx, `SELECT `+invitationColumns+` FROM invitations
		WHERE workspace_id = ? AND email_key = ? AND open`, workspaceID, emailKey))
}

func (q queries) ListInvitations(ctx context.Context, f roster.InvitationFilter, p roster.Page) ([]roster.Invitation, error) {
	where, args := []string{"id > ?"}, []any{p.After}
	if f.WorkspaceID != "" {
		where, args = append(where, "workspace_id = ?"), append(args, f.WorkspaceID)
	}
	if f.EmailKey != "" {
		where, args = append(where, "email_key = ?"), append(args, f.EmailKey)
	}
	if f.OpenOnly {
		where = append(where, "open")
	}
	args = append(args, p.Limit+1)
	rows, err := q.query(ctx, `SELECT `+invitationColumns+` FROM invitations WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, args...)
	return collect(rows, err, func(r *sql.Rows) (roster.Invitation, error) { return scanInvitation(r) })
}

func rolesIn(column string, roles []roster.WorkspaceRole) (string, []any) {
	if len(roles) == 0 {
		return "1 = 0", nil
	}
	args := make([]any, len(roles))
	for i, r := range roles {
		args[i] = string(r)
	}
	return column + " IN (?" + strings.Repeat(", ?", len(roles)-1) + ")", args
}

// pendingSeatsFrom is the shared part of the pending-seat queries: open,
// unexpired invitations of paid roles whose email holds no seat.
func pendingSeatsFrom(orgID string, paidRoles []roster.WorkspaceRole, now time.Time) (string, []any) {
	roleCond, roleArgs := rolesIn("i.role", paidRoles)
	args := append([]any{orgID, ts(now)}, roleArgs...)
	args = append(args, ts(now))
	return `FROM invitations i WHERE i.org_id = ? AND i.open AND i.expires_at > ? AND ` + roleCond + `
		AND NOT EXISTS (SELECT 1 FROM seat_holders s JOIN users u ON u.id = s.user_id
			WHERE s.org_id = i.org_id AND u.email_key = i.email_key AND u.deleted_at IS NULL AND (s.until IS NULL OR s.until > ?))`, args
}

func (q queries) CountPendingSeats(ctx context.Context, orgID string, paidRoles []roster.WorkspaceRole, now time.Time) (int, error) {
	from, args := pendingSeatsFrom(orgID, paidRoles, now)
	var n int
	err := q.queryRow(ctx, `SELECT COUNT(DISTINCT i.email_key) `+from, args...).Scan(&n)
	return n, scanOne(err)
}

func (q queries) PendingEmails(ctx context.Context, orgID string, paidRoles []roster.WorkspaceRole, emailKeys []string, now time.Time) ([]string, error) {
	if len(emailKeys) == 0 {
		return nil, nil
	}
	from, args := pendingSeatsFrom(orgID, paidRoles, now)
	for _, e := range emailKeys {
		args = append(args, e)
	}
	rows, err := q.query(ctx, `SELECT DISTINCT i.email_key `+from+` AND i.email_key IN (?`+strings.Repeat(", ?", len(emailKeys)-1)+`)`, args...)
	return collect(rows, err, func(r *sql.Rows) (string, error) {
		var s string
		return s, r.Scan(&s)
	})
}

func (t *tx) CreateInvitation(ctx context.Context, i roster.Invitation) (bool, error) {
	res, err := t.exec(ctx, `INSERT INTO invitations (id, org_id, workspace_id, email, email_key, role, token_hash, invited_by,
		by_service, expires_at, accepted_at, accepted_by, revoked_at, open, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		i.ID, i.OrgID, i.WorkspaceID, i.Email, roster.EmailKey(i.Email), string(i.Role), i.TokenHash, strArg(i.InvitedBy),
		i.ByService, ts(i.ExpiresAt), nts(i.AcceptedAt), strArg(i.AcceptedBy), nts(i.RevokedAt), i.Open, ts(i.CreatedAt), ts(i.UpdatedAt))
	return inserted(res, err)
}

func (t *tx) UpdateInvitation(ctx context.Context, i roster.Invitation) error {
	res, err := t.exec(ctx, `UPDATE invitations SET token_hash = ?, expires_at = ?, accepted_at = ?, accepted_by = ?, revoked_at = ?,
		open = ?, updated_at = ? WHERE id = ?`,
		i.TokenHash, ts(i.ExpiresAt), nts(i.AcceptedAt), strArg(i.AcceptedBy), nts(i.RevokedAt), i.Open, ts(i.UpdatedAt), i.ID)
	return oneRowOr(res, err, roster.ErrNotFound)
}

const requestColumns = `id, org_id, workspace_id, user_id, message, status, role, decided_by, decided_at, created_at`

func scanRequest(s interface{ Scan(...any) error }) (roster.AccessRequest, error) {
	var r roster.AccessRequest
	var role, decidedBy sql.NullString
	err := s.Scan(&r.ID, &r.OrgID, &r.WorkspaceID, &r.UserID, &r.Message, &r.Status, &role, &decidedBy, nullTimeDest{&r.DecidedAt}, timeDest{&r.CreatedAt})
	if role.Valid {
		wr := roster.WorkspaceRole(role.String)
		r.Role = &wr
	}
	r.DecidedBy = nullString(decidedBy)
	return r, scanOne(err)
}

func (q queries) GetAccessRequest(ctx context.Context, id string) (roster.AccessRequest, error) {
	return scanRequest(q.queryRow(ctx, `SELECT `+requestColumns+` FROM access_requests WHERE id = ?`, id))
}

func (q queries) GetOpenAccessRequest(ctx context.Context, workspaceID, userID string) (roster.AccessRequest, error) {
	return scanRequest(q.queryRow(ctx, `SELECT `+requestColumns+` FROM access_requests WHERE workspace_id = ? AND user_id = ? AND open`,
		workspaceID, userID))
}

func (q queries) ListAccessRequests(ctx context.Context, workspaceID string, status roster.AccessRequestStatus, p roster.Page) ([]roster.AccessRequest, error) {
	where, args := "", []any{workspaceID, p.After}
	if status != "" {
		where, args = " AND status = ?", append(args, string(status))
	}
	args = append(args, p.Limit+1)
	rows, err := q.query(ctx, `SELECT `+requestColumns+` FROM access_requests WHERE workspace_id = ? AND id > ?`+where+` ORDER BY id LIMIT ?`, args...)
	return collect(rows, err, func(r *sql.Rows) (roster.AccessRequest, error) { return scanRequest(r) })
}

func roleArg(r *roster.WorkspaceRole) any {
	if r == nil {
		return nil
	}
	return string(*r)
}

func (t *tx) CreateAccessRequest(ctx context.Context, r roster.AccessRequest) (bool, error) {
	res, err := t.exec(ctx, `INSERT INTO access_requests (`+requestColumns+`, open) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`,
		r.ID, r.OrgID, r.WorkspaceID, r.UserID, r.Message, string(r.Status), roleArg(r.Role), strArg(r.DecidedBy), nts(r.DecidedAt),
		ts(r.CreatedAt), r.Status == roster.RequestPending)
	return inserted(res, err)
}

func (t *tx) UpdateAccessRequest(ctx context.Context, r roster.AccessRequest) error {
	res, err := t.exec(ctx, `UPDATE access_requests SET status = ?, role = ?, decided_by = ?, decided_at = ?, open = ? WHERE id = ?`,
		string(r.Status), roleArg(r.Role), strArg(r.DecidedBy), nts(r.DecidedAt), r.Status == roster.RequestPending, r.ID)
	return oneRowOr(res, err, roster.ErrNotFound)
}
