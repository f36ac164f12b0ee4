package httpapi

import (
	"context"
	"time"

	"github.com/roster-dev/roster"
)

type Token struct {
	ID          string     `json:"id"`
	UserID      string     `json:"user_id"`
	Kind        tokenKind  `json:"kind"`
	Name        string     `json:"name"`
	Prefix      string     `json:"prefix" doc:"The first 8 characters of the token"`
	Hint        string     `json:"hint" doc:"The last 4 characters of the token"`
	WorkspaceID *string    `json:"workspace_id" doc:"The one workspace a support token is restricted to"`
	ExpiresAt   *time.Time `json:"expires_at"`
	LastUsedAt  *time.Time `json:"last_used_at" doc:"Updated at most once a minute"`
	RevokedAt   *time.Time `json:"revoked_at"`
	CreatedAt   time.Time  `json:"created_at"`
}

func toToken(t roster.Token) Token {
	return Token{ID: t.ID, UserID: t.UserID, Kind: tokenKind(t.Kind), Name: t.Name, Prefix: t.Prefix, Hint: t.Hint,
		WorkspaceID: t.WorkspaceID, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt, RevokedAt: t.RevokedAt, CreatedAt: t.CreatedAt}
}

// secretField is the response member holding a one-time token plaintext.
const secretField = "token"

type CreatedToken struct {
	Token
	Secret string `json:"token,omitempty" doc:"The token itself. Shown only in this response; an idempotent replay omits it."`
}

type createdTokenOutput struct {
	Body CreatedToken
}

type newTokenBody struct {
	Name      string       `json:"name,omitempty" maxLength:"200"`
	Kind      issuableKind `json:"kind,omitempty" doc:"personal (default) or service; only platform admins issue service tokens"`
	ExpiresAt *time.Time   `json:"expires_at,omitempty" doc:"When the token stops working (RFC 3339)"`
	ExpiresIn *int64       `json:"expires_in,omitempty" doc:"Seconds until the token stops working; instead of expires_at"`
}

func (b newTokenBody) toService() roster.TokenRequest {
	return roster.TokenRequest{Name: b.Name, Kind: string(b.Kind), ExpiresAt: b.ExpiresAt, ExpiresIn: b.ExpiresIn}
}

type tokenListInput struct {
	PageParams
}

type userTokensInput struct {
	ID string `path:"id"`
	PageParams
}

type Introspection struct {
	Active      bool       `json:"active"`
	TokenID     string     `json:"token_id,omitempty"`
	UserID      string     `json:"user_id,omitempty"`
	Kind        tokenKind  `json:"kind,omitempty"`
	WorkspaceID *string    `json:"workspace_id,omitempty" doc:"Set for support tokens: the only workspace they reach"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
}

func (s *Server) created(ctx context.Context, t roster.CreatedToken) *createdTokenOutput {
	redactOnReplay(ctx, secretField)
	return &createdTokenOutput{Body: CreatedToken{Token: toToken(t.Token), Secret: t.Plaintext}}
}

type createMyTokenInput struct {
	Body newTokenBody
}

func (s *Server) createMyToken(ctx context.Context, in *createMyTokenInput) (*createdTokenOutput, error) {
	t, err := s.svc.CreateMyToken(ctx, in.Body.toService())
	if err != nil {
		return nil, err
	}
	return s.created(ctx, t), nil
}

func (s *Server) listMyTokens(ctx context.Context, _ *tokenListInput, p roster.Page) ([]roster.Token, string, error) {
	return s.svc.ListMyTokens(ctx, p)
}

type myTokenInput struct {
	ID string `path:"id"`
}

func (s *Server) revokeMyToken(ctx context.Context, in *myTokenInput) (*struct{}, error) {
	return nil, s.svc.RevokeMyToken(ctx, in.ID)
}

type createUserTokenInput struct {
	ID   string `path:"id"`
	Body newTokenBody
}

func (s *Server) createUserToken(ctx context.Context, in *createUserTokenInput) (*createdTokenOutput, error) {
	t, err := s.svc.CreateUserToken(ctx, in.ID, in.Body.toService())
	if err != nil {
		return nil, err
	}
	return s.created(ctx, t), nil
}

func (s *Server) listUserTokens(ctx context.Context, in *userTokensInput, p roster.Page) ([]roster.Token, string, error) {
	return s.svc.ListUserTokens(ctx, in.ID, p)
}

type userTokenInput struct {
	ID  string `path:"id"`
	TID string `path:"tid"`
}

func (s *Server) revokeUserToken(ctx context.Context, in *userTokenInput) (*struct{}, error) {
	return nil, s.svc.RevokeUserToken(ctx, in.ID, in.TID)
}

// introspectTokenInput is an alias for the operation-named body schema (see routes).
type introspectTokenInput = struct {
	Body struct {
		Token string `json:"token" maxLength:"512"`
	}
}

type introspectionOutput struct{ Body Introspection }

func (s *Server) introspectToken(ctx context.Context, in *introspectTokenInput) (*introspectionOutput, error) {
	res, err := s.svc.Introspect(ctx, in.Body.Token)
	if err != nil {
		return nil, err
	}
	out := Introspection{Active: res.Active}
	if res.Active {
		t := res.Token
		out.TokenID, out.UserID, out.Kind, out.WorkspaceID, out.ExpiresAt = t.ID, t.UserID, tokenKind(t.Kind), t.WorkspaceID, t.ExpiresAt
	}
	return &introspectionOutput{out}, nil
}
