package client

import (
	"context"
	"iter"
	"net/http"
)

// ResourceFilter narrows ListResources; empty fields do not filter.
type ResourceFilter struct {
	ListOptions
	Type        string
	ExternalID  string // the host application's id (with Type, names one resource)
	WorkspaceID string
}

// UserResourceFilter narrows ListUserResources; empty fields do not filter.
type UserResourceFilter struct {
	ListOptions
	Type        string
	WorkspaceID string
}

// CreateResource registers one of the host application's resources in a
// workspace; 409 resource_exists when its type and external id are taken.
func (c *Client) CreateResource(ctx context.Context, in NewResource) (Resource, error) {
	var out Resource
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/resources", body: in, out: &out})
}

// ListResources lists the resources the caller can reach.
func (c *Client) ListResources(ctx context.Context, f ResourceFilter) iter.Seq2[Resource, error] {
	q := f.query(nil)
	setIf(q, "type", f.Type)
	setIf(q, "external_id", f.ExternalID)
	setIf(q, "workspace_id", f.WorkspaceID)
	return list[Resource](ctx, c, "/v1/resources", q)
}

// ListUserResources lists every resource a user can reach, with their
// effective role on each and where it comes from.
func (c *Client) ListUserResources(ctx context.Context, userID string, f UserResourceFilter) iter.Seq2[Resource, error] {
	q := f.query(nil)
	setIf(q, "type", f.Type)
	setIf(q, "workspace_id", f.WorkspaceID)
	return list[Resource](ctx, c, pathf("/v1/users/%s/resources", userID), q)
}

// GetResource returns a resource.
func (c *Client) GetResource(ctx context.Context, id string) (Resource, error) {
	var out Resource
	return out, c.do(ctx, request{method: http.MethodGet, path: pathf("/v1/resources/%s", id), out: &out})
}

// RenameResource sets a resource's name.
func (c *Client) RenameResource(ctx context.Context, id, name string) (Resource, error) {
	var out Resource
	return out, c.do(ctx, request{method: http.MethodPatch, path: pathf("/v1/resources/%s", id), body: ResourceRename{Name: name}, out: &out})
}

// DeleteResource deletes a resource with its shares.
func (c *Client) DeleteResource(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: pathf("/v1/resources/%s", id)})
}

// Shares returns a resource's shares: the workspaces and the guest users
// it is shared with.
func (c *Client) Shares(ctx context.Context, resourceID string) ([]Share, error) {
	var out struct {
		Data []Share `json:"data"`
	}
	err := c.do(ctx, request{method: http.MethodGet, path: pathf("/v1/resources/%s/shares", resourceID), out: &out})
	return out.Data, err
}

// PutShare shares a resource with a workspace (ws_…) or a guest user
// (usr_…) with role (editor or viewer), or changes the share's role;
// created tells whether the share is new.
func (c *Client) PutShare(ctx context.Context, resourceID, granteeID, role string) (share Share, created bool, err error) {
	var status int
	err = c.do(ctx, request{method: http.MethodPut, path: pathf("/v1/resources/%s/shares/%s", resourceID, granteeID),
		body: ShareUpdate{Role: role}, out: &share, status: &status})
	return share, status == http.StatusCreated, err
}

// RemoveShare ends a resource's share with a workspace or a guest user.
func (c *Client) RemoveShare(ctx context.Context, resourceID, granteeID string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: pathf("/v1/resources/%s/shares/%s", resourceID, granteeID)})
}

// TransferResource moves a resource to another workspace.
func (c *Client) TransferResource(ctx context.Context, id, toWorkspaceID string) (Resource, error) {
	var out Resource
	return out, c.do(ctx, request{method: http.MethodPost, path: pathf("/v1/resources/%s/transfer", id), body: ResourceTransfer{ToWorkspaceID: toWorkspaceID}, out: &out})
}
