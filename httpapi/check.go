package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster/service"
)

type checkBody struct {
	UserID      string `json:"user_id"`
	Action      string `json:"action" doc:"A permission (workspace.read, members.manage, …), an organisation permission (org.billing, …) or one of the host application's configured actions"`
	WorkspaceID string `json:"workspace_id,omitempty"`
	OrgID       string `json:"org_id,omitempty"`
}

func (b checkBody) request() service.CheckRequest {
	return service.CheckRequest{UserID: b.UserID, Action: b.Action, WorkspaceID: b.WorkspaceID, OrgID: b.OrgID}
}

type Decision struct {
	Allowed   bool       `json:"allowed"`
	Role      *string    `json:"role" doc:"The effective workspace role (or organisation role for organisation targets)"`
	Via       *accessVia `json:"via" nullable:"true"`
	ExpiresAt *time.Time `json:"expires_at" doc:"When the access that decided this ends"`
	Reason    string     `json:"reason,omitempty" doc:"Why not: no_access, insufficient_role, user_inactive, workspace_archived"`
}

func toDecision(d service.Decision) Decision {
	return Decision{Allowed: d.Allowed, Role: optionalString(d.Role), Via: optionalString(accessVia(d.Via)), ExpiresAt: d.ExpiresAt, Reason: d.Reason}
}

func (s *Server) registerCheck(api huma.API) {
	tags := []string{"Authorization checks"}
	huma.Register(api, s.secured(huma.Operation{OperationID: "check", Method: http.MethodPost, Path: "/v1/check",
		Summary: "May this user do this, here, now?", Description: "Users may check for themselves; service tokens and platform admins for anyone.", Tags: tags}),
		func(ctx context.Context, in *struct{ Body checkBody }) (*struct{ Body Decision }, error) {
			d, err := s.svc.Check(ctx, in.Body.request())
			if err != nil {
				return nil, err
			}
			return &struct{ Body Decision }{toDecision(d)}, nil
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "check-batch", Method: http.MethodPost, Path: "/v1/check/batch",
		Summary: "Many checks at once", Description: "Up to 1,000 checks; results in the same order.", Tags: tags}),
		func(ctx context.Context, in *struct {
			Body struct {
				Checks []checkBody `json:"checks" maxItems:"1000"`
			}
		}) (*struct {
			Body struct {
				Results []Decision `json:"results"`
			}
		}, error) {
			reqs := make([]service.CheckRequest, len(in.Body.Checks))
			for i, c := range in.Body.Checks {
				reqs[i] = c.request()
			}
			ds, err := s.svc.CheckBatch(ctx, reqs)
			if err != nil {
				return nil, err
			}
			out := &struct {
				Body struct {
					Results []Decision `json:"results"`
				}
			}{}
			out.Body.Results = make([]Decision, len(ds))
			for i, d := range ds {
				out.Body.Results[i] = toDecision(d)
			}
			return out, nil
		})
}
