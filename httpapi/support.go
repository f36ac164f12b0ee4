package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster"
)

type supportStatus string

func (supportStatus) Schema(huma.Registry) *huma.Schema { return enumSchema(roster.SupportStatuses) }

type supportEndReason string

func (supportEndReason) Schema(huma.Registry) *huma.Schema {
	return nullableEnumSchema(roster.SupportEndReasons)
}

// SupportSession is a staff member's time-boxed presence in a workspace.
type SupportSession struct {
	ID          string            `json:"id" example:"ses_06a3sd3tq1gk5r9ecmqhp1l6sg"`
	WorkspaceID string            `json:"workspace_id"`
	OrgID       string            `json:"org_id"`
	UserID      string            `json:"user_id" doc:"The staff member"`
	Role        workspaceRole     `json:"role" doc:"The role the session grants"`
	Reason      string            `json:"reason" doc:"Why the staff member stepped in, in their words"`
	StartedAt   time.Time         `json:"started_at"`
	ExpiresAt   time.Time         `json:"expires_at" doc:"When access ends, unless it ends earlier"`
	Active      bool              `json:"active"`
	EndedAt     *time.Time        `json:"ended_at" doc:"When it ended; null while it has not"`
	EndReason   *supportEndReason `json:"end_reason" doc:"Why it ended"`
	Token       string            `json:"token,omitempty" doc:"The support token (rst_sup_…), on granted and extended only: shown once; it reaches only this workspace"`
}

// now is the server's clock, for a session's active flag.
func (s *Server) now() time.Time { return roster.Now(s.clock) }

func toSupportSession(now time.Time) func(roster.SupportSession) SupportSession {
	return func(ss roster.SupportSession) SupportSession {
		return SupportSession{ID: ss.ID, WorkspaceID: ss.WorkspaceID, OrgID: ss.OrgID, UserID: ss.UserID, Role: workspaceRole(ss.Role),
			Reason: ss.Reason, StartedAt: ss.StartedAt, ExpiresAt: ss.ExpiresAt, Active: ss.Active(now), EndedAt: ss.EndedAt,
			EndReason: optionalString(supportEndReason(ss.EndReason))}
	}
}

type joinSupportInput = struct {
	WS   string `path:"ws"`
	Body struct {
		Reason   string `json:"reason,omitempty" maxLength:"500" doc:"Required: why support needs access (1 to 500 characters). Shown to the customer and kept in the audit log."`
		Duration *int64 `json:"duration,omitempty" minimum:"1" maximum:"604800" doc:"Whole seconds; default 86400 (24 hours), at most 604800 (7 days)"`
	}
}

type supportJoinBody struct {
	Status  supportStatus `json:"status"`
	Session sessionOrNull `json:"session" doc:"Null for already_member"`
}

// sessionOrNull is a session that may be absent: null on the wire (huma
// marks only scalars nullable, so its schema is written here).
type sessionOrNull struct{ *SupportSession }

func (s sessionOrNull) MarshalJSON() ([]byte, error) { return json.Marshal(s.SupportSession) }

func (sessionOrNull) Schema(r huma.Registry) *huma.Schema {
	return &huma.Schema{OneOf: []*huma.Schema{r.Schema(reflect.TypeFor[SupportSession](), true, ""), {Type: "null"}}}
}

func (s *Server) joinSupport(ctx context.Context, in *joinSupportInput) (*putStatusOutput[supportJoinBody], error) {
	j, err := s.svc.JoinSupport(ctx, in.WS, roster.SupportRequest{Reason: in.Body.Reason, Duration: in.Body.Duration})
	if err != nil {
		return nil, err
	}
	out := &putStatusOutput[supportJoinBody]{Status: http.StatusOK, Body: supportJoinBody{Status: supportStatus(j.Status)}}
	if j.Status == roster.SupportGranted {
		out.Status = http.StatusCreated
	}
	if j.Session != nil {
		ss := toSupportSession(j.Session.UpdatedAt)(*j.Session)
		ss.Token = j.Token
		out.Body.Session = sessionOrNull{&ss}
	}
	return out, nil
}

type supportStateOutput struct {
	Body struct {
		Active  bool          `json:"active"`
		Session sessionOrNull `json:"session" doc:"The caller's active session; null when none is"`
	}
}

func (s *Server) getSupportSession(ctx context.Context, in *wsPathInput) (*supportStateOutput, error) {
	ss, err := s.svc.MySupportSession(ctx, in.WS)
	if err != nil {
		return nil, err
	}
	out := &supportStateOutput{}
	if ss != nil {
		v := toSupportSession(s.now())(*ss)
		out.Body.Active, out.Body.Session = true, sessionOrNull{&v}
	}
	return out, nil
}

type supportLeaveOutput struct {
	Body struct {
		Ended bool `json:"ended" doc:"False when there was no active session to end"`
	}
}

func (s *Server) leaveSupport(ctx context.Context, in *wsPathInput) (*supportLeaveOutput, error) {
	ended, err := s.svc.LeaveSupport(ctx, in.WS)
	if err != nil {
		return nil, err
	}
	out := &supportLeaveOutput{}
	out.Body.Ended = ended
	return out, nil
}

type listSupportInput struct {
	PageParams
	WorkspaceID string `query:"workspace_id" doc:"Only sessions in this workspace"`
	UserID      string `query:"user_id" doc:"Only this staff member's sessions"`
}

func (s *Server) listSupportSessions(ctx context.Context, in *listSupportInput, p roster.Page) ([]roster.SupportSession, string, error) {
	return s.svc.ListSupportSessions(ctx, roster.SupportFilter{WorkspaceID: in.WorkspaceID, UserID: in.UserID}, p)
}

type listWorkspaceSupportInput struct {
	PageParams
	WS string `path:"ws"`
}

func (s *Server) listWorkspaceSupportSessions(ctx context.Context, in *listWorkspaceSupportInput, p roster.Page) ([]roster.SupportSession, string, error) {
	return s.svc.ListWorkspaceSupportSessions(ctx, in.WS, p)
}

// registerSupport adds the staff support endpoints.
func (s *Server) registerSupport(api huma.API) {
	tags := []string{"Staff support access"}
	const path = "/v1/admin/workspaces/{ws}/support-session"
	huma.Register(api, s.op("join-support", http.MethodPost, path, http.StatusCreated, tags, "Step into a customer's workspace as support",
		"Staff (platform role admin or support), with a personal token, in a workspace whose owners allow support access "+
			"(403 `support_access_disabled` otherwise). 201 `granted` with a new session and its support token; 200 `extended` "+
			"(new expiry, a fresh token: the older one stops working) or `already_member` (nothing is created)."), s.joinSupport)
	documentPostStatus(api, path, http.StatusOK, "extended or already_member")
	huma.Register(api, s.op("get-support-session", http.MethodGet, path, byBody, tags, "The caller's support session in a workspace",
		"Staff, or the session's own support token."), s.getSupportSession)
	huma.Register(api, s.op("leave-support", http.MethodDelete, path, byBody, tags, "Leave a workspace early",
		"Ends the session, its membership and its token at once. `{ended: false}` when nothing was active."), s.leaveSupport)
	huma.Register(api, s.op("list-support-sessions", http.MethodGet, "/v1/admin/support-sessions", byBody, tags, "Active support sessions",
		"Every one for platform admins; support staff see their own. Newest first."),
		listOf(roster.PrefixSupportSession, func(ss roster.SupportSession) SupportSession { return toSupportSession(s.now())(ss) }, s.listSupportSessions))
	huma.Register(api, s.op("list-workspace-support-sessions", http.MethodGet, "/v1/workspaces/{ws}/support-sessions", byBody, tags,
		"Who from the vendor is or was inside a workspace",
		"The workspace's owners and admins: active sessions and those of the last 90 days, with the reason given and the expiry. Newest first."),
		listOf(roster.PrefixSupportSession, func(ss roster.SupportSession) SupportSession { return toSupportSession(s.now())(ss) }, s.listWorkspaceSupportSessions))
}
