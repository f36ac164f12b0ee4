package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/service"
)

type Invitation struct {
	ID          string           `json:"id"`
	OrgID       string           `json:"org_id"`
	WorkspaceID string           `json:"workspace_id"`
	Email       string           `json:"email"`
	Role        workspaceRole    `json:"role"`
	Status      invitationStatus `json:"status"`
	InvitedBy   *string          `json:"invited_by"`
	ExpiresAt   time.Time        `json:"expires_at"`
	AcceptedAt  *time.Time       `json:"accepted_at"`
	AcceptedBy  *string          `json:"accepted_by"`
	RevokedAt   *time.Time       `json:"revoked_at"`
	CreatedAt   time.Time        `json:"created_at"`
}

func (s *Server) toInvitation(i roster.Invitation) Invitation {
	return Invitation{ID: i.ID, OrgID: i.OrgID, WorkspaceID: i.WorkspaceID, Email: i.Email, Role: workspaceRole(i.Role),
		Status: invitationStatus(i.Status(roster.Now(s.clock))), InvitedBy: i.InvitedBy, ExpiresAt: i.ExpiresAt,
		AcceptedAt: i.AcceptedAt, AcceptedBy: i.AcceptedBy, RevokedAt: i.RevokedAt, CreatedAt: i.CreatedAt}
}

type IssuedInvitation struct {
	Invitation
	Token     string `json:"token,omitempty" doc:"The accept secret, shown only when it is issued (create, resend); a replay or an existing invitation omits it"`
	AcceptURL string `json:"accept_url,omitempty" doc:"The host application's accept link, when one is configured"`
}

type AccessRequest struct {
	ID          string         `json:"id"`
	OrgID       string         `json:"org_id,omitempty" doc:"Left out for a requester outside the organisation"`
	WorkspaceID string         `json:"workspace_id"`
	UserID      string         `json:"user_id"`
	Message     string         `json:"message"`
	Status      requestStatus  `json:"status"`
	Role        *effectiveRole `json:"role" nullable:"true" doc:"The role granted on approval"`
	DecidedBy   *string        `json:"decided_by"`
	DecidedAt   *time.Time     `json:"decided_at"`
	CreatedAt   time.Time      `json:"created_at"`
}

func toRequest(r roster.AccessRequest) AccessRequest {
	out := AccessRequest{ID: r.ID, OrgID: r.OrgID, WorkspaceID: r.WorkspaceID, UserID: r.UserID, Message: r.Message,
		Status: requestStatus(r.Status), DecidedBy: r.DecidedBy, DecidedAt: r.DecidedAt, CreatedAt: r.CreatedAt}
	if r.Role != nil {
		out.Role = optionalString(effectiveRole(*r.Role))
	}
	return out
}

// acceptURLField is the response member holding the accept link.
const acceptURLField = "accept_url"

func (s *Server) issued(ctx context.Context, in service.IssuedInvitation) IssuedInvitation {
	if in.Secret != "" {
		redactOnReplay(ctx, secretField)
		redactOnReplay(ctx, acceptURLField) // it carries the secret too
	}
	return IssuedInvitation{Invitation: s.toInvitation(in.Invitation), Token: in.Secret, AcceptURL: in.AcceptURL}
}

type invitationPathInput struct {
	WS string `path:"ws"`
	ID string `path:"id"`
}

func (s *Server) registerInvitations(api huma.API) {
	tags := []string{"Invitations and access requests"}
	huma.Register(api, s.secured(huma.Operation{OperationID: "create-invitation", Method: http.MethodPost, Path: "/v1/workspaces/{ws}/invitations",
		Summary: "Invite someone to a workspace",
		Description: "Admins of the workspace; only owners invite owners. 201 with the accept token (shown once); 200 with the pending invitation when one exists. " +
			"402 when a paid role would exceed the seat cap (used + pending + 1).",
		DefaultStatus: http.StatusCreated, Tags: tags}),
		func(ctx context.Context, in *struct {
			WS   string `path:"ws"`
			Body struct {
				Email     string        `json:"email" maxLength:"254"`
				Role      workspaceRole `json:"role"`
				ExpiresIn *int64        `json:"expires_in,omitempty" doc:"Seconds; default 7 days, at most 30 days"`
			}
		}) (*putStatusOutput[IssuedInvitation], error) {
			inv, err := s.svc.Invite(ctx, in.WS, service.NewInvitation{Email: in.Body.Email, Role: string(in.Body.Role), ExpiresIn: in.Body.ExpiresIn})
			if err != nil {
				return nil, err
			}
			return &putStatusOutput[IssuedInvitation]{Status: createdOr200(inv.Created), Body: s.issued(ctx, inv)}, nil
		})
	documentPostStatus(api, "/v1/workspaces/{ws}/invitations", http.StatusOK, "A pending invitation to this email exists; it is returned")
	huma.Register(api, s.secured(huma.Operation{OperationID: "list-invitations", Method: http.MethodGet, Path: "/v1/workspaces/{ws}/invitations",
		Summary: "List a workspace's invitations", Description: "Admins of the workspace. Pending ones unless `status` says otherwise.", Tags: tags}),
		listOf(roster.PrefixInvitation, s.toInvitation, func(ctx context.Context, in *struct {
			WS string `path:"ws"`
			PageParams
			Status invitationStatus `query:"status" doc:"pending (default), accepted, revoked or expired"`
		}, p roster.Page) ([]roster.Invitation, string, error) {
			status := roster.InvitationStatus(in.Status)
			if status == "" {
				status = roster.InvitationPending
			}
			return s.svc.ListInvitations(ctx, in.WS, status, p)
		}))
	huma.Register(api, s.secured(huma.Operation{OperationID: "revoke-invitation", Method: http.MethodDelete, Path: "/v1/workspaces/{ws}/invitations/{id}",
		Summary: "Revoke an invitation", DefaultStatus: http.StatusNoContent, Tags: tags}),
		func(ctx context.Context, in *invitationPathInput) (*struct{}, error) {
			return nil, s.svc.RevokeInvitation(ctx, in.WS, in.ID)
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "resend-invitation", Method: http.MethodPost, Path: "/v1/workspaces/{ws}/invitations/{id}/resend",
		Summary: "Issue a new accept token", Description: "The old token stops working at once; the expiry starts again.", Tags: tags}),
		func(ctx context.Context, in *invitationPathInput) (*struct{ Body IssuedInvitation }, error) {
			inv, err := s.svc.ResendInvitation(ctx, in.WS, in.ID)
			if err != nil {
				return nil, err
			}
			return &struct{ Body IssuedInvitation }{s.issued(ctx, inv)}, nil
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "my-invitations", Method: http.MethodGet, Path: "/v1/me/invitations",
		Summary: "Pending invitations to the caller's email", Tags: tags}),
		listOf(roster.PrefixInvitation, s.toInvitation, func(ctx context.Context, in *struct{ PageParams }, p roster.Page) ([]roster.Invitation, string, error) {
			return s.svc.MyInvitations(ctx, p)
		}))
	huma.Register(api, s.secured(huma.Operation{OperationID: "accept-invitation", Method: http.MethodPost, Path: "/v1/invitations/accept",
		Summary: "Accept an invitation", Description: "As the invited person (or a service token acting for them), with the token or the invitation id. Idempotent.", Tags: tags}),
		func(ctx context.Context, in *struct {
			Body struct {
				Token        string `json:"token,omitempty" maxLength:"200"`
				InvitationID string `json:"invitation_id,omitempty"`
			}
		}) (*struct {
			Body struct {
				Invitation Invitation      `json:"invitation"`
				Membership WorkspaceMember `json:"membership"`
			}
		}, error) {
			res, err := s.svc.AcceptInvitation(ctx, in.Body.Token, in.Body.InvitationID)
			if err != nil {
				return nil, err
			}
			out := &struct {
				Body struct {
					Invitation Invitation      `json:"invitation"`
					Membership WorkspaceMember `json:"membership"`
				}
			}{}
			out.Body.Invitation, out.Body.Membership = s.toInvitation(res.Invitation), toDirectMember(res.Membership)
			return out, nil
		})

	huma.Register(api, s.secured(huma.Operation{OperationID: "request-access", Method: http.MethodPost, Path: "/v1/workspaces/{ws}/access-requests",
		Summary: "Ask to join a workspace", Description: "201 for a new request; 200 with the pending one when it exists.", DefaultStatus: http.StatusCreated, Tags: tags}),
		func(ctx context.Context, in *struct {
			WS   string `path:"ws"`
			Body struct {
				Message string `json:"message,omitempty" maxLength:"2000"`
			}
		}) (*putStatusOutput[AccessRequest], error) {
			r, created, err := s.svc.RequestAccess(ctx, in.WS, in.Body.Message)
			if err != nil {
				return nil, err
			}
			return &putStatusOutput[AccessRequest]{Status: createdOr200(created), Body: toRequest(r)}, nil
		})
	documentPostStatus(api, "/v1/workspaces/{ws}/access-requests", http.StatusOK, "A pending request exists; it is returned")
	huma.Register(api, s.secured(huma.Operation{OperationID: "list-access-requests", Method: http.MethodGet, Path: "/v1/workspaces/{ws}/access-requests",
		Summary: "List a workspace's access requests", Description: "Admins of the workspace. Pending ones unless `status` says otherwise.", Tags: tags}),
		listOf(roster.PrefixAccessRequest, toRequest, func(ctx context.Context, in *struct {
			WS string `path:"ws"`
			PageParams
			Status requestStatus `query:"status"`
		}, p roster.Page) ([]roster.AccessRequest, string, error) {
			status := roster.AccessRequestStatus(in.Status)
			if status == "" {
				status = roster.RequestPending
			}
			return s.svc.ListAccessRequests(ctx, in.WS, status, p)
		}))
	huma.Register(api, s.secured(huma.Operation{OperationID: "approve-access-request", Method: http.MethodPost, Path: "/v1/workspaces/{ws}/access-requests/{id}/approve",
		Summary: "Approve an access request with a role", Description: "Re-checks the approver's authority and the seat cap at decision time.", Tags: tags}),
		func(ctx context.Context, in *struct {
			WS   string `path:"ws"`
			ID   string `path:"id"`
			Body struct {
				Role workspaceRole `json:"role"`
			}
		}) (*struct{ Body AccessRequest }, error) {
			r, err := s.svc.DecideAccessRequest(ctx, in.WS, in.ID, true, string(in.Body.Role))
			if err != nil {
				return nil, err
			}
			return &struct{ Body AccessRequest }{toRequest(r)}, nil
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "deny-access-request", Method: http.MethodPost, Path: "/v1/workspaces/{ws}/access-requests/{id}/deny",
		Summary: "Deny an access request", Tags: tags}),
		func(ctx context.Context, in *struct {
			WS string `path:"ws"`
			ID string `path:"id"`
		}) (*struct{ Body AccessRequest }, error) {
			r, err := s.svc.DecideAccessRequest(ctx, in.WS, in.ID, false, "")
			if err != nil {
				return nil, err
			}
			return &struct{ Body AccessRequest }{toRequest(r)}, nil
		})

	huma.Register(api, s.secured(huma.Operation{OperationID: "preview-seats", Method: http.MethodPost, Path: "/v1/orgs/{org}/seats/preview",
		Summary: "How many new paid seats inviting these emails would take", Tags: []string{"Organisations"}}),
		func(ctx context.Context, in *struct {
			Org  string `path:"org"`
			Body struct {
				Emails []string      `json:"emails" maxItems:"1000"`
				Role   workspaceRole `json:"role"`
			}
		}) (*struct{ Body SeatPreview }, error) {
			p, err := s.svc.PreviewSeats(ctx, in.Org, in.Body.Emails, string(in.Body.Role))
			if err != nil {
				return nil, err
			}
			return &struct{ Body SeatPreview }{SeatPreview{NetNewSeats: p.NetNewSeats, AlreadySeated: p.AlreadySeated, AlreadyPending: p.AlreadyPending}}, nil
		})
}

type SeatPreview struct {
	NetNewSeats    int      `json:"net_new_seats"`
	AlreadySeated  []string `json:"already_seated" nullable:"false"`
	AlreadyPending []string `json:"already_pending" nullable:"false"`
}

// documentPostStatus adds another success status to a POST operation whose
// handler sets it, with the same body as its default one.
func documentPostStatus(api huma.API, path string, status int, description string) {
	op := api.OpenAPI().Paths[path].Post
	created := op.Responses[strconv.Itoa(http.StatusCreated)]
	op.Responses[strconv.Itoa(status)] = &huma.Response{Description: description, Content: created.Content}
}
