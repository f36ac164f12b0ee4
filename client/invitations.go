package client

import (
	"context"
	"iter"
	"net/http"
)

// StatusFilter narrows a list by status ("" for the default: pending).
type StatusFilter struct {
	ListOptions
	Status string
}

// CreateInvitation invites an email address into a workspace. The answer
// carries the accept token, once; 402 seat_cap_reached when no seat is left.
func (c *Client) CreateInvitation(ctx context.Context, workspaceID string, in NewInvitation) (IssuedInvitation, error) {
	var out IssuedInvitation
	return out, c.do(ctx, request{method: http.MethodPost, path: pathf("/v1/workspaces/%s/invitations", workspaceID), body: in, out: &out})
}

// ListInvitations lists a workspace's invitations.
func (c *Client) ListInvitations(ctx context.Context, workspaceID string, f StatusFilter) iter.Seq2[Invitation, error] {
	q := f.query(nil)
	setIf(q, "status", f.Status)
	return list[Invitation](ctx, c, pathf("/v1/workspaces/%s/invitations", workspaceID), q)
}

// RevokeInvitation revokes an invitation.
func (c *Client) RevokeInvitation(ctx context.Context, workspaceID, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: pathf("/v1/workspaces/%s/invitations/%s", workspaceID, id)})
}

// ResendInvitation issues an invitation a new accept token; the old one
// stops working.
func (c *Client) ResendInvitation(ctx context.Context, workspaceID, id string) (IssuedInvitation, error) {
	var out IssuedInvitation
	return out, c.do(ctx, request{method: http.MethodPost, path: pathf("/v1/workspaces/%s/invitations/%s/resend", workspaceID, id), out: &out})
}

// MyInvitations lists the invitations to the caller's email address.
func (c *Client) MyInvitations(ctx context.Context, o ListOptions) iter.Seq2[Invitation, error] {
	return list[Invitation](ctx, c, "/v1/me/invitations", o.query(nil))
}

// AcceptedInvitation is an accepted invitation and the membership it made.
type AcceptedInvitation struct {
	Invitation Invitation      `json:"invitation"`
	Membership WorkspaceMember `json:"membership"`
}

// AcceptInvitation accepts an invitation as the caller; accepting it again
// answers the same.
func (c *Client) AcceptInvitation(ctx context.Context, in AcceptInvitation) (AcceptedInvitation, error) {
	var out AcceptedInvitation
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/invitations/accept", body: in, out: &out})
}

// RequestAccess asks, as the caller, to join a workspace.
func (c *Client) RequestAccess(ctx context.Context, workspaceID string, in NewAccessRequest) (AccessRequest, error) {
	var out AccessRequest
	return out, c.do(ctx, request{method: http.MethodPost, path: pathf("/v1/workspaces/%s/access-requests", workspaceID), body: in, out: &out})
}

// ListAccessRequests lists a workspace's access requests (its admins).
func (c *Client) ListAccessRequests(ctx context.Context, workspaceID string, f StatusFilter) iter.Seq2[AccessRequest, error] {
	q := f.query(nil)
	setIf(q, "status", f.Status)
	return list[AccessRequest](ctx, c, pathf("/v1/workspaces/%s/access-requests", workspaceID), q)
}

// ApproveAccessRequest approves an access request with role.
func (c *Client) ApproveAccessRequest(ctx context.Context, workspaceID, id, role string) (AccessRequest, error) {
	var out AccessRequest
	return out, c.do(ctx, request{method: http.MethodPost, path: pathf("/v1/workspaces/%s/access-requests/%s/approve", workspaceID, id), body: AccessApproval{Role: role}, out: &out})
}

// DenyAccessRequest denies an access request.
func (c *Client) DenyAccessRequest(ctx context.Context, workspaceID, id string) (AccessRequest, error) {
	var out AccessRequest
	return out, c.do(ctx, request{method: http.MethodPost, path: pathf("/v1/workspaces/%s/access-requests/%s/deny", workspaceID, id), out: &out})
}
