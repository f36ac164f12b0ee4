package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
)

// WorkspaceFilter narrows ListWorkspaces and ListUserWorkspaces.
type WorkspaceFilter struct {
	ListOptions
	OrgID           string
	IncludeArchived bool
}

func (f WorkspaceFilter) values() url.Values {
	q := f.query(nil)
	setIf(q, "org_id", f.OrgID)
	setBool(q, "include_archived", f.IncludeArchived)
	return q
}

// CreateWorkspace creates a workspace in an organisation; the caller (or
// OwnerID, for staff and service tokens) owns it.
func (c *Client) CreateWorkspace(ctx context.Context, in NewWorkspace) (Workspace, error) {
	var out Workspace
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/workspaces", body: in, out: &out})
}

// ListWorkspaces lists the workspaces the caller reaches, with their
// effective role in each.
func (c *Client) ListWorkspaces(ctx context.Context, f WorkspaceFilter) iter.Seq2[Workspace, error] {
	return list[Workspace](ctx, c, "/v1/workspaces", f.values())
}

// ListUserWorkspaces lists every workspace a user reaches, with their
// effective role in each.
func (c *Client) ListUserWorkspaces(ctx context.Context, userID string, f WorkspaceFilter) iter.Seq2[Workspace, error] {
	return list[Workspace](ctx, c, pathf("/v1/users/%s/workspaces", userID), f.values())
}

// GetWorkspace returns a workspace, with the caller's role in it.
func (c *Client) GetWorkspace(ctx context.Context, id string) (Workspace, error) {
	var out Workspace
	return out, c.do(ctx, request{method: http.MethodGet, path: pathf("/v1/workspaces/%s", id), out: &out})
}

// UpdateWorkspace changes a workspace's fields that are set in in.
func (c *Client) UpdateWorkspace(ctx context.Context, id string, in WorkspaceUpdate) (Workspace, error) {
	var out Workspace
	return out, c.do(ctx, request{method: http.MethodPatch, path: pathf("/v1/workspaces/%s", id), body: in, out: &out})
}

// DeleteWorkspace deletes a workspace.
func (c *Client) DeleteWorkspace(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: pathf("/v1/workspaces/%s", id)})
}

// ArchiveWorkspace archives a workspace: it is read-only, and checks in it
// are denied, until it is unarchived.
func (c *Client) ArchiveWorkspace(ctx context.Context, id string) (Workspace, error) {
	var out Workspace
	return out, c.do(ctx, request{method: http.MethodPost, path: pathf("/v1/workspaces/%s/archive", id), out: &out})
}

// UnarchiveWorkspace brings an archived workspace back.
func (c *Client) UnarchiveWorkspace(ctx context.Context, id string) (Workspace, error) {
	var out Workspace
	return out, c.do(ctx, request{method: http.MethodPost, path: pathf("/v1/workspaces/%s/unarchive", id), out: &out})
}

// MemberFilter narrows ListMembers.
type MemberFilter struct {
	ListOptions
	IncludeSupport bool // also the vendor's support staff (admins and staff)
}

// ListMembers lists a workspace's members, direct and derived.
func (c *Client) ListMembers(ctx context.Context, workspaceID string, f MemberFilter) iter.Seq2[WorkspaceMember, error] {
	q := f.query(nil)
	if f.IncludeSupport {
		q.Set("include", "support")
	}
	return list[WorkspaceMember](ctx, c, pathf("/v1/workspaces/%s/members", workspaceID), q)
}

// PutMember adds a user to a workspace, or changes their role or expiry.
func (c *Client) PutMember(ctx context.Context, workspaceID, userID string, in MemberUpdate) (WorkspaceMember, error) {
	var out WorkspaceMember
	return out, c.do(ctx, request{method: http.MethodPut, path: pathf("/v1/workspaces/%s/members/%s", workspaceID, userID), body: in, out: &out})
}

// RemoveMember removes a user's direct membership of a workspace.
func (c *Client) RemoveMember(ctx context.Context, workspaceID, userID string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: pathf("/v1/workspaces/%s/members/%s", workspaceID, userID)})
}

// Settings returns a workspace's settings.
func (c *Client) Settings(ctx context.Context, workspaceID string) (Settings, error) {
	var out Settings
	return out, c.do(ctx, request{method: http.MethodGet, path: pathf("/v1/workspaces/%s/settings", workspaceID), out: &out})
}

// UpdateSettings changes a workspace's settings that are set in in.
func (c *Client) UpdateSettings(ctx context.Context, workspaceID string, in SettingsUpdate) (Settings, error) {
	var out Settings
	return out, c.do(ctx, request{method: http.MethodPatch, path: pathf("/v1/workspaces/%s/settings", workspaceID), body: in, out: &out})
}
