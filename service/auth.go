package service

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/roster-dev/roster"
)

// Cached authentication state lives at most this long even if an
// invalidation were somehow lost; invalidations normally arrive at once.
const authCacheTTL = time.Minute

// touchInterval bounds last_used_at writes to one per token per interval.
const touchInterval = time.Minute

// authCache keeps tokens (by hash), users, their memberships and workspaces
// so that authenticating a request and deciding a check need no database
// query once warm.
//
// Invalidation races with loading: a request may read a row just before a
// revoke commits and try to cache it just after. Every invalidation bumps gen
// under mu, and a load is cached only if gen did not move while it ran.
type authCache struct {
	tokens     *otter.Cache[string, *tokenEntry]
	users      *otter.Cache[string, roster.User]
	access     *otter.Cache[string, *userAccess]      // memberships by user id
	workspaces *otter.Cache[string, roster.Workspace] // by workspace id
	mu         sync.RWMutex
	gen        atomic.Uint64
	// current reports whether cached entries may be used: only while the
	// replica provably hears other replicas' invalidations.
	current func() bool
}

type tokenEntry struct {
	token   roster.Token
	touched atomic.Int64 // unix nanoseconds of the last last_used_at write we know of
}

func newAuthCache(size int) *authCache {
	return &authCache{
		tokens: otter.Must(&otter.Options[string, *tokenEntry]{
			MaximumSize:      size,
			ExpiryCalculator: otter.ExpiryWriting[string, *tokenEntry](authCacheTTL),
		}),
		users: otter.Must(&otter.Options[string, roster.User]{
			MaximumSize:      size,
			ExpiryCalculator: otter.ExpiryWriting[string, roster.User](authCacheTTL),
		}),
		access: otter.Must(&otter.Options[string, *userAccess]{
			MaximumSize:      size,
			ExpiryCalculator: otter.ExpiryWriting[string, *userAccess](authCacheTTL),
		}),
		workspaces: otter.Must(&otter.Options[string, roster.Workspace]{
			MaximumSize:      size,
			ExpiryCalculator: otter.ExpiryWriting[string, roster.Workspace](authCacheTTL),
		}),
	}
}

// Invalidation messages: a token (by hash), a user (their status and
// memberships), a workspace; "" drops everything.
const (
	tokenMessagePrefix     = "t:"
	userMessagePrefix      = "u:"
	workspaceMessagePrefix = "w:"
)

func tokenMessage(hash string) string   { return tokenMessagePrefix + hash }
func userMessage(id string) string      { return userMessagePrefix + id }
func workspaceMessage(id string) string { return workspaceMessagePrefix + id }

// apply handles one invalidation message; "" means forget everything.
func (c *authCache) apply(msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	switch {
	case strings.HasPrefix(msg, tokenMessagePrefix):
		c.tokens.Invalidate(strings.TrimPrefix(msg, tokenMessagePrefix))
	case strings.HasPrefix(msg, userMessagePrefix):
		id := strings.TrimPrefix(msg, userMessagePrefix)
		c.users.Invalidate(id)
		c.access.Invalidate(id)
	case strings.HasPrefix(msg, workspaceMessagePrefix):
		c.workspaces.Invalidate(strings.TrimPrefix(msg, workspaceMessagePrefix))
	default:
		c.tokens.InvalidateAll()
		c.users.InvalidateAll()
		c.access.InvalidateAll()
		c.workspaces.InvalidateAll()
	}
}

// load returns the cached value for key or loads it, caching the result only
// when no invalidation happened meanwhile. While the replica cannot show it
// hears other replicas, the cache is neither read nor filled.
func load[V any](c *authCache, cache *otter.Cache[string, V], key string, fetch func() (V, error)) (V, error) {
	current := c.current == nil || c.current()
	if !current {
		return fetch()
	}
	if v, ok := cache.GetIfPresent(key); ok {
		return v, nil
	}
	gen := c.gen.Load()
	v, err := fetch()
	if err != nil {
		return v, err
	}
	c.mu.RLock()
	if c.gen.Load() == gen {
		cache.Set(key, v)
	}
	c.mu.RUnlock()
	return v, nil
}

func (s *Service) cachedToken(ctx context.Context, hash string) (*tokenEntry, error) {
	return load(s.auth, s.auth.tokens, hash, func() (*tokenEntry, error) {
		t, err := s.store.GetTokenByHash(ctx, hash)
		if err != nil {
			return nil, err
		}
		e := &tokenEntry{token: t}
		if t.LastUsedAt != nil {
			e.touched.Store(t.LastUsedAt.UnixNano())
		}
		return e, nil
	})
}

func (s *Service) cachedUser(ctx context.Context, id string) (roster.User, error) {
	return load(s.auth, s.auth.users, id, func() (roster.User, error) {
		return s.store.GetUser(ctx, id)
	})
}

var errInvalidToken = roster.Errorf(roster.KindUnauthenticated, roster.CodeInvalidToken, "the bearer token is not valid")

// Authenticate turns a bearer token (and, for service tokens, the user it
// acts for) into an actor. Expiry and revocation are checked against the
// clock on every call; a suspended or deactivated user is refused.
func (s *Service) Authenticate(ctx context.Context, bearer, onBehalfOf string) (roster.Actor, error) {
	if _, ok := roster.TokenKindOf(bearer); !ok {
		return roster.Actor{}, errInvalidToken
	}
	entry, err := s.cachedToken(ctx, roster.HashToken(bearer))
	if errors.Is(err, roster.ErrNotFound) {
		return roster.Actor{}, errInvalidToken
	}
	if err != nil {
		return roster.Actor{}, err
	}
	now := s.now()
	tok := entry.token
	if err := tok.Usable(now); err != nil {
		return roster.Actor{}, err
	}
	owner, err := s.actingUser(ctx, tok.UserID, errInvalidToken)
	if err != nil {
		return roster.Actor{}, err
	}
	s.touch(ctx, entry, now)
	a := roster.Actor{User: owner, Token: &tok}
	if onBehalfOf == "" {
		return a, nil
	}
	if tok.Kind != roster.TokenService {
		return roster.Actor{}, roster.Errorf(roster.KindForbidden, roster.CodeOnBehalfOfNotAllowed,
			"only service tokens may act on behalf of a user")
	}
	badSubject := roster.Errorf(roster.KindInvalid, roster.CodeInvalidOnBehalfOf, "Roster-On-Behalf-Of must name an existing user")
	if !roster.ValidID(roster.PrefixUser, onBehalfOf) {
		return roster.Actor{}, badSubject
	}
	subject, err := s.actingUser(ctx, onBehalfOf, badSubject)
	if err != nil {
		return roster.Actor{}, err
	}
	a.OnBehalfOf = &subject
	return a, nil
}

// actingUser loads, through the cache, a user who may act now; missing is
// returned when there is none.
func (s *Service) actingUser(ctx context.Context, id string, missing error) (roster.User, error) {
	u, err := s.cachedUser(ctx, id)
	if errors.Is(err, roster.ErrNotFound) {
		return roster.User{}, missing
	}
	if err != nil {
		return roster.User{}, err
	}
	if !u.Active() {
		return roster.User{}, roster.Errorf(roster.KindUnauthenticated, roster.CodeUserInactive, "the user is %s", u.Status)
	}
	return u, nil
}

// touch records that a token was used, at most once per touchInterval.
func (s *Service) touch(ctx context.Context, e *tokenEntry, now time.Time) {
	last := e.touched.Load()
	if now.UnixNano()-last < int64(touchInterval) || !e.touched.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	if err := s.store.TouchToken(ctx, e.token.ID, now, now.Add(-touchInterval)); err != nil {
		s.log.WarnContext(ctx, "recording token use", "token_id", e.token.ID, "error", err)
	}
}
