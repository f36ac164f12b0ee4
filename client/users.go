package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
)

// UserFilter narrows ListUsers; empty fields do not filter.
type UserFilter struct {
	ListOptions
	Email      string
	Status     string
	ExternalID string
	Q          string // matches email and display name
}

// CreateUser creates a user (admin and service tokens).
func (c *Client) CreateUser(ctx context.Context, in NewUser) (User, error) {
	var out User
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/users", body: in, out: &out})
}

// ListUsers lists users (admin and service tokens).
func (c *Client) ListUsers(ctx context.Context, f UserFilter) iter.Seq2[User, error] {
	q := f.query(nil)
	setIf(q, "email", f.Email)
	setIf(q, "status", f.Status)
	setIf(q, "external_id", f.ExternalID)
	setIf(q, "q", f.Q)
	return list[User](ctx, c, "/v1/users", q)
}

// GetUser returns a user.
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	var out User
	return out, c.do(ctx, request{method: http.MethodGet, path: pathf("/v1/users/%s", id), out: &out})
}

// UpdateUser changes a user's fields that are set in in.
func (c *Client) UpdateUser(ctx context.Context, id string, in UserUpdate) (User, error) {
	var out User
	return out, c.do(ctx, request{method: http.MethodPatch, path: pathf("/v1/users/%s", id), body: in, out: &out})
}

// DeleteUser deletes a user (admin tokens).
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: pathf("/v1/users/%s", id)})
}

// Me returns the caller (or the user a service token acts for).
func (c *Client) Me(ctx context.Context) (Me, error) {
	var out Me
	return out, c.do(ctx, request{method: http.MethodGet, path: "/v1/me", out: &out})
}

// SetDefaultWorkspace sets the caller's current workspace.
func (c *Client) SetDefaultWorkspace(ctx context.Context, workspaceID string) (User, error) {
	var out User
	return out, c.do(ctx, request{method: http.MethodPut, path: "/v1/me/default-workspace", body: map[string]string{"workspace_id": workspaceID}, out: &out})
}

// CreateMyToken issues the caller a token; its plaintext is in the answer only.
func (c *Client) CreateMyToken(ctx context.Context, in NewToken) (IssuedToken, error) {
	var out IssuedToken
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/me/tokens", body: in, out: &out})
}

// ListMyTokens lists the caller's tokens.
func (c *Client) ListMyTokens(ctx context.Context, o ListOptions) iter.Seq2[Token, error] {
	return list[Token](ctx, c, "/v1/me/tokens", o.query(nil))
}

// RevokeMyToken revokes one of the caller's tokens.
func (c *Client) RevokeMyToken(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: pathf("/v1/me/tokens/%s", id)})
}

// CreateUserToken issues a token to a user (admin tokens); its plaintext
// is in the answer only.
func (c *Client) CreateUserToken(ctx context.Context, userID string, in NewToken) (IssuedToken, error) {
	var out IssuedToken
	return out, c.do(ctx, request{method: http.MethodPost, path: pathf("/v1/users/%s/tokens", userID), body: in, out: &out})
}

// ListUserTokens lists a user's tokens (admin tokens).
func (c *Client) ListUserTokens(ctx context.Context, userID string, o ListOptions) iter.Seq2[Token, error] {
	return list[Token](ctx, c, pathf("/v1/users/%s/tokens", userID), o.query(nil))
}

// RevokeUserToken revokes a user's token (admin tokens).
func (c *Client) RevokeUserToken(ctx context.Context, userID, tokenID string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: pathf("/v1/users/%s/tokens/%s", userID, tokenID)})
}

// IntrospectToken describes a bearer token (service tokens): whether it is
// active, whose it is, its kind and when it expires.
func (c *Client) IntrospectToken(ctx context.Context, token string) (Introspection, error) {
	var out Introspection
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/tokens/introspect", body: map[string]string{"token": token}, out: &out})
}

func setIf(q url.Values, name, value string) {
	if value != "" {
		q.Set(name, value)
	}
}

func setBool(q url.Values, name string, value bool) {
	if value {
		q.Set(name, "true")
	}
}
