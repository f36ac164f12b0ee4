package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster"
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

func (s *Server) issued(ctx context.Context, in roster.IssuedInvitation) IssuedInvitation {
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

// createInvitationInput is an alias for the operation-named body schema (see routes).
type createInvitationInput = struct {
	WS   string `path:"ws"`
	Body struct {
		Email     string        `json:"email" maxLength:"254"`
		Role      workspaceRole `json:"role"`
		ExpiresIn *int64        `json:"expires_in,omitempty" doc:"Seconds; default 7 days, at most 30 days"`
	}
}

func (s *Server) createInvitation(ctx context.Context, in *createInvitationInput) (*putStatusOutput[IssuedInvitation], error) {
	inv, err := s.svc.Invite(ctx, in.WS, roster.NewInvitation{Email: in.Body.Email, Role: string(in.Body.Role), ExpiresIn: in.Body.ExpiresIn})
	if err != nil {
		return nil, err
	}
	return &putStatusOutput[IssuedInvitation]{Status: createdOr200(inv.Created), Body: s.issued(ctx, inv)}, nil
}

type listInvitationsInput struct {
	WS string `path:"ws"`
	PageParams
	Status invitationStatus `query:"status" doc:"pending (default), accepted, revoked or expired"`
}

func (s *Server) listInvitations(ctx context.Context, in *listInvitationsInput, p roster.Page) ([]roster.Invitation, string, error) {
	status := roster.InvitationStatus(in.Status)
	if status == "" {
		status = roster.InvitationPending
	}
	return s.svc.ListInvitations(ctx, in.WS, status, p)
}

func (s *Server) revokeInvitation(ctx context.Context, in *invitationPathInput) (*struct{}, error) {
	return nil, s.svc.RevokeInvitation(ctx, in.WS, in.ID)
}

type issuedInvitationOutput struct{ Body IssuedInvitation }

func (s *Server) resendInvitation(ctx context.Context, in *invitationPathInput) (*issuedInvitationOutput, error) {
	inv, err := s.svc.ResendInvitation(ctx, in.WS, in.ID)
	if err != nil {
		return nil, err
	}
	return &issuedInvitationOutput{s.issued(ctx, inv)}, nil
}

type myInvitationsInput struct{ PageParams }

func (s *Server) myInvitations(ctx context.Context, _ *myInvitationsInput, p roster.Page) ([]roster.Invitation, string, error) {
	return s.svc.MyInvitations(ctx, p)
}

// acceptInvitationInput and acceptInvitationOutput are aliases for the
// operation-named body schemas (see routes).
type acceptInvitationInput = struct {
	Body struct {
		Token        string `json:"token,omitempty" maxLength:"200"`
		InvitationID string `json:"invitation_id,omitempty"`
	}
}

type acceptInvitationOutput = struct {
	Body struct {
		Invitation Invitation      `json:"invitation"`
		Membership WorkspaceMember `json:"membership"`
	}
}

func (s *Server) acceptInvitation(ctx context.Context, in *acceptInvitationInput) (*acceptInvitationOutput, error) {
	res, err := s.svc.AcceptInvitation(ctx, in.Body.Token, in.Body.InvitationID)
	if err != nil {
		return nil, err
	}
	out := &acceptInvitationOutput{}
	out.Body.Invitation, out.Body.Membership = s.toInvitation(res.Invitation), toDirectMember(res.Membership)
	return out, nil
}

// requestAccessInput is an alias for the operation-named body schema (see routes).
type requestAccessInput = struct {
	WS   string `path:"ws"`
	Body struct {
		Message string `json:"message,omitempty" maxLength:"2000"`
	}
}

func (s *Server) requestAccess(ctx context.Context, in *requestAccessInput) (*putStatusOutput[AccessRequest], error) {
	r, created, err := s.svc.RequestAccess(ctx, in.WS, in.Body.Message)
	if err != nil {
		return nil, err
	}
	return &putStatusOutput[AccessRequest]{Status: createdOr200(created), Body: toRequest(r)}, nil
}

type listAccessRequestsInput struct {
	WS string `path:"ws"`
	PageParams
	Status requestStatus `query:"status"`
}

func (s *Server) listAccessRequests(ctx context.Context, in *listAccessRequestsInput, p roster.Page) ([]roster.AccessRequest, string, error) {
	status := roster.AccessRequestStatus(in.Status)
	if status == "" {
		status = roster.RequestPending
	}
	return s.svc.ListAccessRequests(ctx, in.WS, status, p)
}

// approveAccessRequestInput is an alias for the operation-named body schema (see routes).
type approveAccessRequestInput = struct {
	WS   string `path:"ws"`
	ID   string `path:"id"`
	Body struct {
		Role workspaceRole `json:"role"`
	}
}

type accessRequestOutput struct{ Body AccessRequest }

func (s *Server) approveAccessRequest(ctx context.Context, in *approveAccessRequestInput) (*accessRequestOutput, error) {
	r, err := s.svc.DecideAccessRequest(ctx, in.WS, in.ID, true, string(in.Body.Role))
	if err != nil {
		return nil, err
	}
	return &accessRequestOutput{toRequest(r)}, nil
}

type accessRequestPathInput struct {
	WS string `path:"ws"`
	ID string `path:"id"`
}

func (s *Server) denyAccessRequest(ctx context.Context, in *accessRequestPathInput) (*accessRequestOutput, error) {
	r, err := s.svc.DecideAccessRequest(ctx, in.WS, in.ID, false, "")
	if err != nil {
		return nil, err
	}
	return &accessRequestOutput{toRequest(r)}, nil
}

// previewSeatsInput is an alias for the operation-named body schema (see routes).
type previewSeatsInput = struct {
	Org  string `path:"org"`
	Body struct {
		Emails []string      `json:"emails" maxItems:"1000"`
		Role   workspaceRole `json:"role"`
	}
}

type seatPreviewOutput struct{ Body SeatPreview }

func (s *Server) previewSeats(ctx context.Context, in *previewSeatsInput) (*seatPreviewOutput, error) {
	p, err := s.svc.PreviewSeats(ctx, in.Org, in.Body.Emails, string(in.Body.Role))
	if err != nil {
		return nil, err
	}
	return &seatPreviewOutput{SeatPreview{NetNewSeats: p.NetNewSeats, AlreadySeated: p.AlreadySeated, AlreadyPending: p.AlreadyPending}}, nil
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
