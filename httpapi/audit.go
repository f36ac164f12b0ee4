package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

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
	ActorReason  *string   `json:"actor_reason" doc:"Why the actor acted: the reason a staff member gave for the support session they acted in"`
	UserID       *string   `json:"user_id" doc:"The user the change is about"`
	Notify       []string  `json:"notify" doc:"The users the host application should tell"`
	Seq          *int64    `json:"seq" doc:"Its position in the hash chain; null for the moment between its write and its seal"`
	PrevHash     *string   `json:"prev_hash" doc:"The hash of the event before it in the chain (empty for the first)"`
	Hash         *string   `json:"hash" doc:"SHA-256 (hex) of its canonical encoding, its position and prev_hash"`
}

func toAudit(e roster.AuditEvent) AuditEvent {
	out := AuditEvent{ID: e.ID, At: e.At, ActorUserID: e.ActorUserID, ActorTokenID: e.ActorTokenID, Via: via(e.Via),
		OnBehalfOf: e.OnBehalfOf, Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, OrgID: e.OrgID,
		WorkspaceID: e.WorkspaceID, Before: rawJSON(e.Before), After: rawJSON(e.After), RequestID: e.RequestID, IP: e.IP,
		ActorReason: e.ActorReason, UserID: e.UserID, Notify: e.Notify}
	if out.Notify == nil {
		out.Notify = []string{}
	}
	if e.Pos > 0 {
		out.Seq, out.PrevHash, out.Hash = &e.Pos, &e.PrevHash, &e.Hash
	}
	return out
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
	AuditFilterParams
}

// AuditFilterParams are the filters of the audit log's reads (exported:
// huma fills only exported embedded structs).
type AuditFilterParams struct {
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
	return s.svc.ListAudit(ctx, in.filter(), p)
}

func (in AuditFilterParams) filter() roster.AuditFilter {
	return roster.AuditFilter{OrgID: in.OrgID, WorkspaceID: in.WorkspaceID,
		ActorID: in.ActorID, Action: in.Action, Since: optionalTime(in.Since), Until: optionalTime(in.Until)}
}

// Long-running audit reads: they have no request deadline (each page they
// read has its own).
const (
	exportPath = "/v1/audit/export"
	verifyPath = "/v1/audit/verify"
)

type exportInput struct {
	AuditFilterParams
}

// exportAudit streams the events as NDJSON, one sealed event a line with
// its hash, oldest first: a copy can be verified offline (roster audit
// verify FILE).
func (s *Server) exportAudit(ctx context.Context, in *exportInput) (*huma.StreamResponse, error) {
	events, err := s.svc.ExportAudit(ctx, in.filter())
	if err != nil {
		return nil, err
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		hctx.SetHeader("Content-Type", "application/x-ndjson")
		hctx.SetHeader("Cache-Control", "no-store")
		hctx.SetStatus(http.StatusOK)
		if err := roster.WriteExport(hctx.BodyWriter(), events); err != nil {
			// The status is sent: the client sees a cut export, whose
			// last line does not verify as the end of the chain.
			logger(ctx).WarnContext(ctx, "audit export cut short", "err", err)
		}
	}}, nil
}

type verifyOutput struct {
	Body struct {
		OK              bool    `json:"ok"`
		Events          int64   `json:"events" doc:"Events verified"`
		Head            string  `json:"head" doc:"The hash of the last event of the chain: record it to detect a rewrite of the whole chain later"`
		FirstBadEventID *string `json:"first_bad_event_id" doc:"The first event that breaks the chain; null when ok, or when the chain's last events are missing"`
		Problem         string  `json:"problem,omitempty" doc:"What is wrong with it"`
	}
}

func (s *Server) verifyAudit(ctx context.Context, _ *struct{}) (*verifyOutput, error) {
	v, err := s.svc.VerifyAudit(ctx)
	if err != nil {
		return nil, err
	}
	out := &verifyOutput{}
	out.Body.OK, out.Body.Events, out.Body.Head, out.Body.Problem = v.OK, v.Events, v.Head, v.Problem
	if v.FirstBadID != "" {
		out.Body.FirstBadEventID = &v.FirstBadID
	}
	return out, nil
}
