package service

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/roster-dev/roster"
)

// Cached authentication state lives at most this long even if an
// invalidation were somehow lost; invalidations normally arrive at once.
const authCacheTTL = time.Minute

// authCacheRefresh is when an entry still in use is reloaded in the
// background: the request that finds it due is answered from memory, and
// a hot user or workspace never waits for the database when its minute is
// up (on PostgreSQL that wait was four round trips, every minute, for
// every hot key).
const authCacheRefresh = 45 * time.Second

// touchInterval bounds last_used_at writes to one per token per interval.
const touchInterval = time.Minute

// authCache keeps tokens (by hash), users, their memberships, workspaces
// and resources with their shares so that authenticating a request and
// deciding a check need no database query once warm.
//
// Invalidation races with loading: a request may read a row just before a
// revoke commits and try to cache it just after. The cache library settles
// that per key (an invalidation during a load discards what was loaded, and
// concurrent loads of one key are merged); forgetting everything swaps in
// empty caches, so a load still running lands in the discarded ones.
type authCache struct {
	sets  atomic.Pointer[cacheSet]
	size  int
	clock otter.Clock // nil: the wall clock
	// current reports whether cached entries may be used: only while the
	// replica provably hears other replicas' invalidations.
	current func() bool
}

// cacheSet is one generation of the caches.
type cacheSet struct {
	tokens     *otter.Cache[string, *tokenEntry]
	users      *otter.Cache[string, roster.User]
	access     *otter.Cache[string, *userAccess]      // memberships by user id
	workspaces *otter.Cache[string, roster.Workspace] // by workspace id
	resources  *otter.Cache[string, *resourceEntry]   // by resource id
	// resourceIDs maps a host application's (type, external_id) to a
	// resource id. It is never invalidated: a mapping is used only when
	// the resource it names, read through resources, is live and still
	// carries that type and external id.
	resourceIDs *otter.Cache[string, string]
}

// resourceEntry is a live resource and its shares, as checks keep them.
type resourceEntry struct {
	resource roster.Resource
	shares   []roster.ResourceShare
}

type tokenEntry struct {
	token   roster.Token
	touched atomic.Int64 // unix nanoseconds of the last last_used_at write we know of
}

func newAuthCache(size int) *authCache { return newAuthCacheAt(size, nil) }

// newAuthCacheAt is a cache whose entries age by clock (nil: the wall
// clock), so that tests can age them.
func newAuthCacheAt(size int, clock otter.Clock) *authCache {
	c := &authCache{size: size, clock: clock}
	c.sets.Store(c.newSet())
	return c
}

func (c *authCache) newSet() *cacheSet {
	return &cacheSet{
		tokens:      newCache[*tokenEntry](c.size, c.clock),
		users:       newCache[roster.User](c.size, c.clock),
		access:      newCache[*userAccess](c.size, c.clock),
		workspaces:  newCache[roster.Workspace](c.size, c.clock),
		resources:   newCache[*resourceEntry](c.size, c.clock),
		resourceIDs: newCache[string](c.size, c.clock),
	}
}

func newCache[V any](size int, clock otter.Clock) *otter.Cache[string, V] {
	return otter.Must(&otter.Options[string, V]{
		MaximumSize:       size,
		ExpiryCalculator:  otter.ExpiryWriting[string, V](authCacheTTL),
		RefreshCalculator: otter.RefreshWriting[string, V](authCacheRefresh),
		// A refresh that fails leaves the entry to expire and be loaded
		// by a request, which reports the error.
		Logger: &otter.NoopLogger{},
		Clock:  clock,
	})
}

// serviceClock ages cache entries by a service's clock. It gives no ticks:
// entries expire when read, not by a periodic clean-up.
type serviceClock struct{ now roster.Clock }

func (c serviceClock) NowNano() int64                      { return c.now().UnixNano() }
func (c serviceClock) Tick(time.Duration) <-chan time.Time { return nil }

// Invalidation messages: a token (by hash), a user (their status and
// memberships), a workspace, a resource (and its shares); "" drops
// everything.
const (
	tokenMessagePrefix     = "t:"
	userMessagePrefix      = "u:"
	workspaceMessagePrefix = "w:"
	resourceMessagePrefix  = "r:"
)

func tokenMessage(hash string) string   { return tokenMessagePrefix + hash }
func userMessage(id string) string      { return userMessagePrefix + id }
func workspaceMessage(id string) string { return workspaceMessagePrefix + id }
func resourceMessage(id string) string  { return resourceMessagePrefix + id }

// apply handles one invalidation message; "" means forget everything.
func (c *authCache) apply(msg string) {
	set := c.sets.Load()
	switch {
	case strings.HasPrefix(msg, tokenMessagePrefix):
		set.tokens.Invalidate(strings.TrimPrefix(msg, tokenMessagePrefix))
	case strings.HasPrefix(msg, userMessagePrefix):
		id := strings.TrimPrefix(msg, userMessagePrefix)
		set.users.Invalidate(id)
		set.access.Invalidate(id)
	case strings.HasPrefix(msg, workspaceMessagePrefix):
		set.workspaces.Invalidate(strings.TrimPrefix(msg, workspaceMessagePrefix))
	case strings.HasPrefix(msg, resourceMessagePrefix):
		set.resources.Invalidate(strings.TrimPrefix(msg, resourceMessagePrefix))
	default:
		c.sets.Store(c.newSet())
	}
}

// loadTimeout bounds one load into the caches. A load may be shared by
// several requests, so it does not end with the one that started it.
const loadTimeout = 5 * time.Second

// cacheFill is how one of the caches is read and filled. It is built once
// per service, so that a hit allocates nothing.
type cacheFill[V any] struct {
	pick   func(*cacheSet) *otter.Cache[string, V]
	fetch  func(ctx context.Context, key string) (V, error)
	loader otter.Loader[string, V] // fetch under loadTimeout
}

func newCacheFill[V any](pick func(*cacheSet) *otter.Cache[string, V], fetch func(ctx context.Context, key string) (V, error)) *cacheFill[V] {
	return &cacheFill[V]{pick: pick, fetch: fetch, loader: otter.LoaderFunc[string, V](func(ctx context.Context, key string) (V, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
		defer cancel()
		return fetch(ctx, key)
	})}
}

// get returns the cached value for key or loads it. While the replica
// cannot show it hears other replicas, the cache is neither read nor filled.
func (f *cacheFill[V]) get(ctx context.Context, c *authCache, key string) (V, error) {
	if c.current != nil && !c.current() {
		return f.fetch(ctx, key)
	}
	return f.pick(c.sets.Load()).Get(ctx, key, f.loader)
}

// cacheFills are the service's ways into its caches.
type cacheFills struct {
	tokens      *cacheFill[*tokenEntry]
	users       *cacheFill[roster.User]
	access      *cacheFill[*userAccess]
	workspaces  *cacheFill[roster.Workspace]
	resources   *cacheFill[*resourceEntry]
	resourceIDs *cacheFill[string] // by "type:external_id"
}

func newCacheFills(store roster.Store) cacheFills {
	return cacheFills{
		tokens: newCacheFill(func(c *cacheSet) *otter.Cache[string, *tokenEntry] { return c.tokens }, func(ctx context.Context, hash string) (*tokenEntry, error) {
			t, err := store.GetTokenByHash(ctx, hash)
			if err != nil {
				return nil, err
			}
			e := &tokenEntry{token: t}
			if t.LastUsedAt != nil {
				e.touched.Store(t.LastUsedAt.UnixNano())
			}
			return e, nil
		}),
		users: newCacheFill(func(c *cacheSet) *otter.Cache[string, roster.User] { return c.users }, func(ctx context.Context, id string) (roster.User, error) {
			return store.GetUser(ctx, id)
		}),
		access: newCacheFill(func(c *cacheSet) *otter.Cache[string, *userAccess] { return c.access }, func(ctx context.Context, userID string) (*userAccess, error) {
			return loadUserAccess(ctx, store, userID)
		}),
		workspaces: newCacheFill(func(c *cacheSet) *otter.Cache[string, roster.Workspace] { return c.workspaces }, func(ctx context.Context, id string) (roster.Workspace, error) {
			return store.GetWorkspace(ctx, id)
		}),
		resources: newCacheFill(func(c *cacheSet) *otter.Cache[string, *resourceEntry] { return c.resources }, func(ctx context.Context, id string) (*resourceEntry, error) {
			return loadResourceEntry(ctx, store, id)
		}),
		resourceIDs: newCacheFill(func(c *cacheSet) *otter.Cache[string, string] { return c.resourceIDs }, func(ctx context.Context, key string) (string, error) {
			typ, externalID, _ := strings.Cut(key, ":") // a type has no ':'
			r, err := store.GetResourceByExternalID(ctx, typ, externalID)
			return r.ID, err
		}),
	}
}

func (s *Service) cachedToken(ctx context.Context, hash string) (*tokenEntry, error) {
	return s.fills.tokens.get(ctx, s.auth, hash)
}

func (s *Service) cachedUser(ctx context.Context, id string) (roster.User, error) {
	return s.fills.users.get(ctx, s.auth, id)
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
