package client

import (
	"context"
	"iter"
	"net/http"
)

// SupportSessionFilter narrows ListSupportSessions; empty fields do not
// filter.
type SupportSessionFilter struct {
	ListOptions
	WorkspaceID string
	UserID      string // the staff member
}

// JoinSupport opens (or extends) the caller's support session in a
// workspace that allows support access (support staff and platform
// admins). Status is granted, extended or already_member; the session's
// token, on granted and extended, is shown only here.
func (c *Client) JoinSupport(ctx context.Context, workspaceID string, in SupportJoin) (SupportJoined, error) {
	var out SupportJoined
	return out, c.do(ctx, request{method: http.MethodPost, path: pathf("/v1/admin/workspaces/%s/support-session", workspaceID), body: in, out: &out})
}

// GetSupportSession returns the caller's support session in a workspace,
// if one is active.
func (c *Client) GetSupportSession(ctx context.Context, workspaceID string) (SupportState, error) {
	var out SupportState
	return out, c.do(ctx, request{method: http.MethodGet, path: pathf("/v1/admin/workspaces/%s/support-session", workspaceID), out: &out})
}

// LeaveSupport ends the caller's support session in a workspace; ended is
// false when none was active.
func (c *Client) LeaveSupport(ctx context.Context, workspaceID string) (ended bool, err error) {
	var out struct {
		Ended bool `json:"ended"`
	}
	err = c.do(ctx, request{method: http.MethodDelete, path: pathf("/v1/admin/workspaces/%s/support-session", workspaceID), out: &out})
	return out.Ended, err
}

// ListSupportSessions lists active support sessions: every one for
// platform admins, the caller's own for support staff.
func (c *Client) ListSupportSessions(ctx context.Context, f SupportSessionFilter) iter.Seq2[SupportSession, error] {
	q := f.query(nil)
	setIf(q, "workspace_id", f.WorkspaceID)
	setIf(q, "user_id", f.UserID)
	return list[SupportSession](ctx, c, "/v1/admin/support-sessions", q)
}

// ListWorkspaceSupportSessions lists a workspace's support sessions,
// active and of the last 90 days (its owners and admins).
func (c *Client) ListWorkspaceSupportSessions(ctx context.Context, workspaceID string, o ListOptions) iter.Seq2[SupportSession, error] {
	return list[SupportSession](ctx, c, pathf("/v1/workspaces/%s/support-sessions", workspaceID), o.query(nil))
}
