package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/service"
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

func (b newTokenBody) toService() service.NewToken {
	return service.NewToken{Name: b.Name, Kind: string(b.Kind), ExpiresAt: b.ExpiresAt, ExpiresIn: b.ExpiresIn}
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

func (s *Server) created(ctx context.Context, t service.CreatedToken) *createdTokenOutput {
	redactOnReplay(ctx, secretField)
	return &createdTokenOutput{Body: CreatedToken{Token: toToken(t.Token), Secret: t.Plaintext}}
}

func (s *Server) registerTokens(api huma.API) {
	tags := []string{"Tokens"}
	huma.Register(api, s.secured(huma.Operation{OperationID: "create-my-token", Method: http.MethodPost, Path: "/v1/me/tokens",
		Summary: "Create a personal token for the caller", DefaultStatus: http.StatusCreated, Tags: tags}),
		func(ctx context.Context, in *struct{ Body newTokenBody }) (*createdTokenOutput, error) {
			t, err := s.svc.CreateMyToken(ctx, in.Body.toService())
			if err != nil {
				return nil, err
			}
			return s.created(ctx, t), nil
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "list-my-tokens", Method: http.MethodGet, Path: "/v1/me/tokens",
		Summary: "List the caller's tokens", Tags: tags}),
		listOf(roster.PrefixToken, toToken, func(ctx context.Context, in *tokenListInput, p roster.Page) ([]roster.Token, string, error) {
			return s.svc.ListMyTokens(ctx, p)
		}))
	huma.Register(api, s.secured(huma.Operation{OperationID: "revoke-my-token", Method: http.MethodDelete, Path: "/v1/me/tokens/{id}",
		Summary: "Revoke one of the caller's tokens", DefaultStatus: http.StatusNoContent, Tags: tags}),
		func(ctx context.Context, in *struct {
			ID string `path:"id"`
		}) (*struct{}, error) {
			return nil, s.svc.RevokeMyToken(ctx, in.ID)
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "create-user-token", Method: http.MethodPost, Path: "/v1/users/{id}/tokens",
		Summary: "Create a token for a user", Description: "Platform admins. Service tokens usually belong to a bot user.",
		DefaultStatus: http.StatusCreated, Tags: tags}),
		func(ctx context.Context, in *struct {
			ID   string `path:"id"`
			Body newTokenBody
		}) (*createdTokenOutput, error) {
			t, err := s.svc.CreateUserToken(ctx, in.ID, in.Body.toService())
			if err != nil {
				return nil, err
			}
			return s.created(ctx, t), nil
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "list-user-tokens", Method: http.MethodGet, Path: "/v1/users/{id}/tokens",
		Summary: "List a user's tokens", Description: "Platform admins.", Tags: tags}),
		listOf(roster.PrefixToken, toToken, func(ctx context.Context, in *userTokensInput, p roster.Page) ([]roster.Token, string, error) {
			return s.svc.ListUserTokens(ctx, in.ID, p)
		}))
	huma.Register(api, s.secured(huma.Operation{OperationID: "revoke-user-token", Method: http.MethodDelete, Path: "/v1/users/{id}/tokens/{tid}",
		Summary: "Revoke a user's token", Description: "Platform admins.", DefaultStatus: http.StatusNoContent, Tags: tags}),
		func(ctx context.Context, in *struct {
			ID  string `path:"id"`
			TID string `path:"tid"`
		}) (*struct{}, error) {
			return nil, s.svc.RevokeUserToken(ctx, in.ID, in.TID)
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "introspect-token", Method: http.MethodPost, Path: "/v1/tokens/introspect",
		Summary: "Introspect a token", Description: "Service tokens. Anything that would not authenticate is reported as inactive.", Tags: tags}),
		func(ctx context.Context, in *struct {
			Body struct {
				Token string `json:"token" maxLength:"512"`
			}
		}) (*struct{ Body Introspection }, error) {
			res, err := s.svc.Introspect(ctx, in.Body.Token)
			if err != nil {
				return nil, err
			}
			out := Introspection{Active: res.Active}
			if res.Active {
				t := res.Token
				out.TokenID, out.UserID, out.Kind, out.WorkspaceID, out.ExpiresAt = t.ID, t.UserID, tokenKind(t.Kind), t.WorkspaceID, t.ExpiresAt
			}
			return &struct{ Body Introspection }{out}, nil
		})
}
