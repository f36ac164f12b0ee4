package httpapi

import (
	"context"
	"encoding/json"
	"time"

	"github.com/roster-dev/roster"
)

type AuditEvent struct {
	ID           string    `json:"id"`
	At           time.Time `json:"at"`
	ActorUserID  *string   `json:"actor_user_id" doc:"The user whose token made the change; null for Roster's command line"`
	ActorTokenID *string   `json:"actor_token_id"`
	Via          via       `json:"via"`
	OnBehalfOf   *string   `json:"on_behalf_of" doc:"The user a service token acted for"`
	Action       string    `json:"action"`
	TargetType   string    `json:"target_type"`
	TargetID     string    `json:"target_id"`
	OrgID        *string   `json:"org_id"`
	WorkspaceID  *string   `json:"workspace_id"`
	Before       any       `json:"before" doc:"The object before the change; null when it was created"`
	After        any       `json:"after" doc:"The object after the change; null when it was deleted"`
	RequestID    string    `json:"request_id"`
	IP           string    `json:"ip"`
}

func toAudit(e roster.AuditEvent) AuditEvent {
	return AuditEvent{ID: e.ID, At: e.At, ActorUserID: e.ActorUserID, ActorTokenID: e.ActorTokenID, Via: via(e.Via),
		OnBehalfOf: e.OnBehalfOf, Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, OrgID: e.OrgID,
		WorkspaceID: e.WorkspaceID, Before: rawJSON(e.Before), After: rawJSON(e.After), RequestID: e.RequestID, IP: e.IP}
}

func rawJSON(b []byte) any {
	if b == nil {
		return nil
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	return v
}

type auditInput struct {
	PageParams
	OrgID       string    `query:"org_id"`
	WorkspaceID string    `query:"workspace_id"`
	ActorID     string    `query:"actor_id" doc:"The acting user, or the user a service token acted for"`
	Action      string    `query:"action" example:"user.created"`
	Since       time.Time `query:"since" doc:"Events at or after this time (RFC 3339)"`
	Until       time.Time `query:"until" doc:"Events before this time (RFC 3339)"`
}

func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) listAudit(ctx context.Context, in *auditInput, p roster.Page) ([]roster.AuditEvent, string, error) {
	return s.svc.ListAudit(ctx, roster.AuditFilter{OrgID: in.OrgID, WorkspaceID: in.WorkspaceID,
		ActorID: in.ActorID, Action: in.Action, Since: optionalTime(in.Since), Until: optionalTime(in.Until)}, p)
}
