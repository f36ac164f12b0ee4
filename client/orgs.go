package client

import (
	"context"
	"iter"
	"net/http"
)

// OrgFilter narrows ListOrgs.
type OrgFilter struct {
	ListOptions
	Slug string
	Q    string
}

// CreateOrg creates an organisation; the caller (or OwnerID, for staff and
// service tokens) owns it.
func (c *Client) CreateOrg(ctx context.Context, in NewOrg) (CreatedOrg, error) {
	var out CreatedOrg
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/orgs", body: in, out: &out})
}

// ListOrgs lists the caller's organisations (all of them for admin and
// service tokens).
func (c *Client) ListOrgs(ctx context.Context, f OrgFilter) iter.Seq2[Org, error] {
	q := f.query(nil)
	setIf(q, "slug", f.Slug)
	setIf(q, "q", f.Q)
	return list[Org](ctx, c, "/v1/orgs", q)
}

// GetOrg returns an organisation.
func (c *Client) GetOrg(ctx context.Context, id string) (Org, error) {
	var out Org
	return out, c.do(ctx, request{method: http.MethodGet, path: pathf("/v1/orgs/%s", id), out: &out})
}

// UpdateOrg changes an organisation's fields that are set in in.
func (c *Client) UpdateOrg(ctx context.Context, id string, in OrgUpdate) (Org, error) {
	var out Org
	return out, c.do(ctx, request{method: http.MethodPatch, path: pathf("/v1/orgs/%s", id), body: in, out: &out})
}

// DeleteOrg deletes an organisation with its workspaces (its owners).
func (c *Client) DeleteOrg(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: pathf("/v1/orgs/%s", id)})
}

// ListOrgMembers lists an organisation's members with their roles.
func (c *Client) ListOrgMembers(ctx context.Context, orgID string, o ListOptions) iter.Seq2[OrgMember, error] {
	return list[OrgMember](ctx, c, pathf("/v1/orgs/%s/members", orgID), o.query(nil))
}

// PutOrgMember adds a user to an organisation with role, or changes their role.
func (c *Client) PutOrgMember(ctx context.Context, orgID, userID, role string) (OrgMember, error) {
	var out OrgMember
	return out, c.do(ctx, request{method: http.MethodPut, path: pathf("/v1/orgs/%s/members/%s", orgID, userID), body: OrgMemberUpdate{Role: role}, out: &out})
}

// RemoveOrgMember removes a user from an organisation and its workspaces.
func (c *Client) RemoveOrgMember(ctx context.Context, orgID, userID string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: pathf("/v1/orgs/%s/members/%s", orgID, userID)})
}

// Seats returns an organisation's seat counts.
func (c *Client) Seats(ctx context.Context, orgID string) (Seats, error) {
	var out Seats
	return out, c.do(ctx, request{method: http.MethodGet, path: pathf("/v1/orgs/%s/seats", orgID), out: &out})
}

// PreviewSeats tells how many new seats inviting emails with role would take.
func (c *Client) PreviewSeats(ctx context.Context, orgID string, in SeatPreviewRequest) (SeatPreview, error) {
	var out SeatPreview
	return out, c.do(ctx, request{method: http.MethodPost, path: pathf("/v1/orgs/%s/seats/preview", orgID), body: in, out: &out})
}

// SetPlan sets an organisation's plan (admin and service tokens).
func (c *Client) SetPlan(ctx context.Context, orgID string, in PlanUpdate) (Plan, error) {
	var out Plan
	return out, c.do(ctx, request{method: http.MethodPut, path: pathf("/v1/orgs/%s/plan", orgID), body: in, out: &out})
}
