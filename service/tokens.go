package service

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/roster-dev/roster"
)

var errTokenNotFound = roster.Errorf(roster.KindNotFound, roster.CodeTokenNotFound, "no such token")

// CreateMyToken issues a personal token to the caller.
func (s *Service) CreateMyToken(ctx context.Context, in roster.TokenRequest) (roster.CreatedToken, error) {
	a := actor(ctx)
	if err := refuseConfined(a); err != nil {
		return roster.CreatedToken{}, err
	}
	if a.Delegated() {
		// A token minted for the user would carry powers delegation withholds
		// (a platform admin's, for one).
		return roster.CreatedToken{}, forbidden("a service token acting for a user may not issue that user tokens")
	}
	if in.Kind != "" && in.Kind != string(roster.TokenPersonal) {
		if _, err := roster.ParseIssuableTokenKind(in.Kind); err != nil {
			return roster.CreatedToken{}, err
		}
		return roster.CreatedToken{}, forbidden("only a platform admin may issue service tokens")
	}
	return s.createToken(ctx, a.Subject().ID, in)
}

// CreateUserToken issues a token to a user: platform admins issue any
// issuable kind; the host application's service tokens issue personal
// tokens to users without platform powers (the host signs its users up).
// A service token acts for any such user already, so their token gives it
// nothing more; a staff member's would.
func (s *Service) CreateUserToken(ctx context.Context, userID string, in roster.TokenRequest) (roster.CreatedToken, error) {
	a := actor(ctx)
	switch {
	case a.IsPlatformAdmin():
		return s.createToken(ctx, userID, in)
	case a.IsService():
		if in.Kind != "" && in.Kind != string(roster.TokenPersonal) {
			if _, err := roster.ParseIssuableTokenKind(in.Kind); err != nil {
				return roster.CreatedToken{}, err
			}
			return roster.CreatedToken{}, forbidden("a service token issues personal tokens only")
		}
		return s.createToken(ctx, userID, in, func(u roster.User) error {
			if u.PlatformRole.IsStaff() {
				return forbidden("only a platform admin may issue a staff member a token")
			}
			return nil
		})
	}
	return roster.CreatedToken{}, denyUser(a, userID)
}

// createToken issues userID a token, once each of mayIssue allows it for
// the user as the transaction reads them.
func (s *Service) createToken(ctx context.Context, userID string, in roster.TokenRequest, mayIssue ...func(roster.User) error) (roster.CreatedToken, error) {
	kind := roster.TokenPersonal
	if in.Kind != "" {
		var err error
		if kind, err = roster.ParseIssuableTokenKind(in.Kind); err != nil {
			return roster.CreatedToken{}, err
		}
	}
	if utf8.RuneCountInString(in.Name) > roster.MaxTokenNameLen {
		return roster.CreatedToken{}, roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "name must be at most %d characters", roster.MaxTokenNameLen).With("field", "name")
	}
	var out roster.CreatedToken
	err := s.update(ctx, func(c *change) error {
		expiresAt, err := tokenExpiry(in, c.now)
		if err != nil {
			return err
		}
		u, err := s.getUser(ctx, c.tx, userID)
		if err != nil {
			return err
		}
		for _, may := range mayIssue {
			if err := may(u); err != nil {
				return err
			}
		}
		tok, plain := roster.NewToken(userID, kind, in.Name, expiresAt, c.now)
		if err := c.tx.CreateToken(ctx, tok); err != nil {
			return err
		}
		out = roster.CreatedToken{Token: tok, Plaintext: plain}
		return c.audit(roster.ActionTokenCreated, roster.TargetToken, tok.ID, nil, tokenAudit(tok))
	})
	return out, err
}

// tokenExpiry turns expires_at or expires_in (never both) into a time.
func tokenExpiry(in roster.TokenRequest, now time.Time) (*time.Time, error) {
	bad := func(msg string) error {
		return roster.Errorf(roster.KindInvalid, roster.CodeInvalidExpiry, "%s", msg)
	}
	switch {
	case in.ExpiresAt != nil && in.ExpiresIn != nil:
		return nil, bad("give expires_at or expires_in, not both")
	case in.ExpiresIn != nil:
		secs := *in.ExpiresIn
		if secs < 1 || secs > int64(roster.MaxTokenLifetime/time.Second) {
			return nil, bad("expires_in must be between 1 second and 10 years")
		}
		t := now.Add(time.Duration(secs) * time.Second)
		return &t, nil
	case in.ExpiresAt != nil:
		t := in.ExpiresAt.UTC().Truncate(time.Microsecond)
		if !t.After(now) || t.Sub(now) > roster.MaxTokenLifetime {
			return nil, bad("expires_at must be in the future and within 10 years")
		}
		return &t, nil
	}
	return nil, nil
}

// ListMyTokens lists the caller's tokens.
func (s *Service) ListMyTokens(ctx context.Context, p roster.Page) ([]roster.Token, string, error) {
	if err := refuseConfined(actor(ctx)); err != nil {
		return nil, "", err
	}
	return s.listTokens(ctx, actor(ctx).Subject().ID, p)
}

// ListUserTokens lists a user's tokens (admins only).
func (s *Service) ListUserTokens(ctx context.Context, userID string, p roster.Page) ([]roster.Token, string, error) {
	if a := actor(ctx); !a.IsPlatformAdmin() {
		return nil, "", denyUser(a, userID)
	}
	if _, err := s.getUser(ctx, s.store, userID); err != nil {
		return nil, "", err
	}
	return s.listTokens(ctx, userID, p)
}

func (s *Service) listTokens(ctx context.Context, userID string, p roster.Page) ([]roster.Token, string, error) {
	toks, err := s.store.ListTokens(ctx, userID, p)
	if err != nil {
		return nil, "", err
	}
	toks, next := roster.NextCursor(toks, p.Limit, func(t roster.Token) string { return t.ID })
	return toks, next, nil
}

// RevokeMyToken revokes one of the caller's tokens.
func (s *Service) RevokeMyToken(ctx context.Context, tokenID string) error {
	if err := refuseConfined(actor(ctx)); err != nil {
		return err
	}
	return s.revokeToken(ctx, actor(ctx).Subject().ID, tokenID)
}

// RevokeUserToken revokes one of a user's tokens (admins only).
func (s *Service) RevokeUserToken(ctx context.Context, userID, tokenID string) error {
	if a := actor(ctx); !a.IsPlatformAdmin() {
		return denyUser(a, userID)
	}
	return s.revokeToken(ctx, userID, tokenID)
}

// revokeToken ends a token at once, on this replica and every other. Revoking
// a revoked token changes nothing and succeeds.
func (s *Service) revokeToken(ctx context.Context, userID, tokenID string) error {
	return s.update(ctx, func(c *change) error {
		if !roster.ValidID(roster.PrefixToken, tokenID) {
			return errTokenNotFound
		}
		tok, err := c.tx.GetToken(ctx, tokenID)
		if errors.Is(err, roster.ErrNotFound) || (err == nil && tok.UserID != userID) {
			return errTokenNotFound
		}
		if err != nil {
			return err
		}
		revoked, err := c.tx.RevokeToken(ctx, tokenID, c.now)
		if err != nil || !revoked {
			return err
		}
		after := tok
		after.RevokedAt = &c.now
		return c.audit(roster.ActionTokenRevoked, roster.TargetToken, tok.ID, tokenAudit(tok), tokenAudit(after))
	})
}

// Introspect tells the host application's backend whether a token is live and
// whose it is. Anything that would not authenticate is simply inactive.
func (s *Service) Introspect(ctx context.Context, plaintext string) (roster.Introspection, error) {
	if !actor(ctx).IsService() {
		return roster.Introspection{}, errForbidden
	}
	if _, ok := roster.TokenKindOf(plaintext); !ok {
		return roster.Introspection{}, nil
	}
	tok, err := s.store.GetTokenByHash(ctx, roster.HashToken(plaintext))
	if errors.Is(err, roster.ErrNotFound) {
		return roster.Introspection{}, nil
	}
	if err != nil {
		return roster.Introspection{}, err
	}
	if tok.Usable(s.now()) != nil {
		return roster.Introspection{}, nil
	}
	u, err := s.store.GetUser(ctx, tok.UserID)
	if errors.Is(err, roster.ErrNotFound) || (err == nil && !u.Active()) {
		return roster.Introspection{}, nil
	}
	if err != nil {
		return roster.Introspection{}, err
	}
	return roster.Introspection{Active: true, Token: tok, User: u}, nil
}

// tokenAudit is the audited form of a token: never its hash or plaintext.
func tokenAudit(t roster.Token) map[string]any {
	return map[string]any{
		"id": t.ID, "user_id": t.UserID, "kind": t.Kind, "name": t.Name, "prefix": t.Prefix,
		"expires_at": t.ExpiresAt, "revoked_at": t.RevokedAt,
	}
}
