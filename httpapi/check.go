package httpapi

import (
	"context"
	"time"

	"github.com/roster-dev/roster"
)

type checkBody struct {
	UserID      string       `json:"user_id"`
	Action      string       `json:"action" doc:"A permission (workspace.read, members.manage, …), an organisation permission (org.billing, …) or one of the host application's configured actions"`
	WorkspaceID string       `json:"workspace_id,omitempty"`
	OrgID       string       `json:"org_id,omitempty"`
	ResourceID  string       `json:"resource_id,omitempty"`
	Resource    *resourceRef `json:"resource,omitempty" doc:"The resource by the host application's id"`
}

type resourceRef struct {
	Type       string `json:"type"`
	ExternalID string `json:"external_id"`
}

func (b checkBody) request() roster.CheckRequest {
	req := roster.CheckRequest{UserID: b.UserID, Action: b.Action, WorkspaceID: b.WorkspaceID, OrgID: b.OrgID, ResourceID: b.ResourceID}
	if b.Resource != nil {
		req.Resource = &roster.ResourceRef{Type: b.Resource.Type, ExternalID: b.Resource.ExternalID}
	}
	return req
}

type Decision struct {
	Allowed   bool       `json:"allowed"`
	Role      *string    `json:"role" doc:"The effective workspace role (or organisation role for organisation targets)"`
	Via       *accessVia `json:"via" nullable:"true"`
	ExpiresAt *time.Time `json:"expires_at" doc:"When the access that decided this ends"`
	Reason    string     `json:"reason,omitempty" doc:"Why not: no_access, insufficient_role, user_inactive, workspace_archived"`
}

// toDecision shapes a decision for the wire: a reason only says why not.
func toDecision(d roster.Decision) Decision {
	out := Decision{Allowed: d.Allowed, Role: optionalString(d.Role), Via: optionalString(accessVia(d.Via)), ExpiresAt: d.ExpiresAt}
	if !d.Allowed {
		out.Reason = d.Reason
	}
	return out
}

type checkInput struct{ Body checkBody }

type decisionOutput struct{ Body Decision }

func (s *Server) check(ctx context.Context, in *checkInput) (*decisionOutput, error) {
	d, err := s.svc.Check(ctx, in.Body.request())
	if err != nil {
		return nil, err
	}
	return &decisionOutput{toDecision(d)}, nil
}

// checkBatchInput and checkBatchOutput are aliases for the operation-named
// body schemas (see routes).
type checkBatchInput = struct {
	Body struct {
		Checks []checkBody `json:"checks" maxItems:"1000"`
	}
}

type checkBatchOutput = struct {
	Body struct {
		Results []Decision `json:"results"`
	}
}

func (s *Server) checkBatch(ctx context.Context, in *checkBatchInput) (*checkBatchOutput, error) {
	reqs := make([]roster.CheckRequest, len(in.Body.Checks))
	for i, c := range in.Body.Checks {
		reqs[i] = c.request()
	}
	ds, err := s.svc.CheckBatch(ctx, reqs)
	if err != nil {
		return nil, err
	}
	out := &checkBatchOutput{}
	out.Body.Results = make([]Decision, len(ds))
	for i, d := range ds {
		out.Body.Results[i] = toDecision(d)
	}
	return out, nil
}
