package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/roster-dev/roster"
)

const auditColumns = `id, at, actor_user_id, actor_token_id, via, on_behalf_of, action, target_type, target_id,
	org_id, workspace_id, before_json, after_json, request_id, ip`

// InsertAudit appends events in one statement.
func (t *tx) InsertAudit(ctx context.Context, events ...roster.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	rows := make([]string, len(events))
	args := make([]any, 0, 15*len(events))
	for i, e := range events {
		rows[i] = row
		args = append(args, e.ID, ts(e.At), strArg(e.ActorUserID), strArg(e.ActorTokenID), string(e.Via), strArg(e.OnBehalfOf),
			e.Action, e.TargetType, e.TargetID, strArg(e.OrgID), strArg(e.WorkspaceID),
			jsonArg(e.Before), jsonArg(e.After), e.RequestID, e.IP)
	}
	_, err := t.exec(ctx, `INSERT INTO audit_events (`+auditColumns+`) VALUES `+strings.Join(rows, ", "), args...)
	return err
}

func jsonArg(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

func (q queries) ListAudit(ctx context.Context, f roster.AuditFilter, p roster.Page) ([]roster.AuditEvent, error) {
	where, args := []string{"1 = 1"}, []any{}
	if p.After != "" {
		where, args = append(where, "id < ?"), append(args, p.After)
	}
	if f.OrgID != "" {
		where, args = append(where, "org_id = ?"), append(args, f.OrgID)
	}
	if f.WorkspaceID != "" {
		where, args = append(where, "workspace_id = ?"), append(args, f.WorkspaceID)
	}
	if f.ActorID != "" {
		where, args = append(where, "(actor_user_id = ? OR on_behalf_of = ?)"), append(args, f.ActorID, f.ActorID)
	}
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if f.Since != nil {
		where, args = append(where, "at >= ?"), append(args, ts(*f.Since))
	}
	if f.Until != nil {
		where, args = append(where, "at < ?"), append(args, ts(*f.Until))
	}
	args = append(args, p.Limit+1)
	rows, err := q.query(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE `+strings.Join(where, " AND ")+
		` ORDER BY id DESC LIMIT ?`, args...)
	return collect(rows, err, scanAudit)
}

func scanAudit(r *sql.Rows) (roster.AuditEvent, error) {
	var e roster.AuditEvent
	var actorUser, actorToken, obo, org, ws sql.NullString
	var before, after []byte
	err := r.Scan(&e.ID, timeDest{&e.At}, &actorUser, &actorToken, &e.Via, &obo, &e.Action, &e.TargetType, &e.TargetID,
		&org, &ws, &before, &after, &e.RequestID, &e.IP)
	e.ActorUserID, e.ActorTokenID, e.OnBehalfOf = nullString(actorUser), nullString(actorToken), nullString(obo)
	e.OrgID, e.WorkspaceID = nullString(org), nullString(ws)
	e.Before, e.After = before, after
	return e, err
}
