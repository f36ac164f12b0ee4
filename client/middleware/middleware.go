// Package middleware guards a host application's net/http routes with
// Roster: Authenticate turns a bearer token into the user it belongs to,
// and Require lets a request through only when Roster allows its user the
// action on the request's target. Refusals are problem+json answers shaped
// like Roster's own (401, 403, 404, 410).
package middleware

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roster-dev/roster/client"
)

// Guard authenticates and authorizes requests through one Roster client,
// which should carry a service token (introspection needs one).
type Guard struct {
	roster *client.Client
	now    func() time.Time
	// ttl is how long an introspection is trusted while the event stream is
	// connected (revocations then arrive as events); shortTTL while not.
	ttl, shortTTL time.Duration

	mu        sync.RWMutex
	tokens    map[[sha256.Size]byte]cached
	listening atomic.Bool
	// forgets counts what the stream made the guard forget: an
	// introspection that began before one is used but not cached, since
	// Roster may have answered it before the revocation it missed.
	forgets atomic.Uint64
	// onListening hears when the guard starts or stops hearing Roster's
	// revocations (err says why it stopped).
	onListening func(listening bool, err error)
}

type cached struct {
	identity Identity
	active   bool
	at       time.Time
}

// Option configures a Guard.
type Option func(*Guard)

// WithCacheTTL sets how long an introspection is trusted while the event
// stream is connected (default 1 minute) and while it is not (default 1 s).
func WithCacheTTL(connected, disconnected time.Duration) Option {
	return func(g *Guard) { g.ttl, g.shortTTL = connected, disconnected }
}

// WithListeningHook calls fn whenever Watch connects to Roster's event
// stream (true) or loses it (false, with the reason): for logs and health
// checks.
func WithListeningHook(fn func(listening bool, err error)) Option {
	return func(g *Guard) { g.onListening = fn }
}

// WithClock sets the guard's clock (for tests).
func WithClock(now func() time.Time) Option { return func(g *Guard) { g.now = now } }

// New returns a guard that asks Roster through c.
func New(c *client.Client, opts ...Option) *Guard {
	g := &Guard{roster: c, now: time.Now, ttl: time.Minute, shortTTL: time.Second, tokens: map[[sha256.Size]byte]cached{}}
	for _, o := range opts {
		o(g)
	}
	return g
}

// Identity is who a request's token belongs to.
type Identity struct {
	UserID      string
	TokenID     string
	Kind        string    // personal, service or support
	WorkspaceID string    // a support token's one workspace
	ExpiresAt   time.Time // zero when the token does not expire
	Token       string    // the bearer token, to call Roster as the user
}

type identityKey struct{}

// IdentityFrom returns the identity Authenticate put in ctx.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// Authenticate lets a request through only with a bearer token that Roster
// says is active, and puts its Identity in the request's context. A
// missing, malformed, expired or revoked token is a 401, and next is not
// called.
func (g *Guard) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r)
		if !ok {
			writeProblem(w, http.StatusUnauthorized, "unauthenticated", "a bearer token is required")
			return
		}
		id, err := g.identify(r.Context(), token)
		if err != nil {
			writeError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, id)))
	})
}

// bearer reads a Roster token from the Authorization header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(token, "rst_") || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

var (
	errInvalidToken = &refusal{http.StatusUnauthorized, "invalid_token", "the bearer token is not valid"}
	errTokenExpired = &refusal{http.StatusUnauthorized, "token_expired", "the bearer token has expired"}
)

// identify introspects token, through the cache.
func (g *Guard) identify(ctx context.Context, token string) (Identity, error) {
	key := key(token)
	now := g.now()
	c, ok := g.cachedToken(key, now)
	if !ok {
		forgets := g.forgets.Load()
		in, err := g.roster.IntrospectToken(ctx, token)
		if err != nil {
			return Identity{}, err
		}
		c = cached{active: in.Active, at: now, identity: Identity{UserID: in.UserID, TokenID: in.TokenID, Kind: in.Kind,
			WorkspaceID: in.WorkspaceID, ExpiresAt: in.ExpiresAt, Token: token}}
		if g.forgets.Load() == forgets {
			g.remember(key, c)
		}
	}
	switch {
	case !c.active:
		return Identity{}, errInvalidToken
	case !c.identity.ExpiresAt.IsZero() && !now.Before(c.identity.ExpiresAt):
		return Identity{}, errTokenExpired
	}
	return c.identity, nil
}

// maxCached bounds the cache: past it, stale entries are swept, and if
// none are, the cache starts afresh.
const maxCached = 100_000

func (g *Guard) remember(key [sha256.Size]byte, c cached) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.tokens) >= maxCached {
		for k, old := range g.tokens {
			if c.at.Sub(old.at) >= g.ttl {
				delete(g.tokens, k)
			}
		}
		if len(g.tokens) >= maxCached {
			clear(g.tokens)
		}
	}
	g.tokens[key] = c
}

// key is what the cache knows a token by: not the token itself.
func key(token string) [sha256.Size]byte { return sha256.Sum256([]byte(token)) }

func (g *Guard) cachedToken(key [sha256.Size]byte, now time.Time) (cached, bool) {
	ttl := g.shortTTL
	if g.listening.Load() {
		ttl = g.ttl
	}
	g.mu.RLock()
	c, ok := g.tokens[key]
	g.mu.RUnlock()
	return c, ok && now.Sub(c.at) < ttl
}

// Target is what a request acts on: one of a workspace, an organisation
// or a resource (by Roster's id or the host application's).
type Target struct {
	WorkspaceID string
	OrgID       string
	ResourceID  string
	Resource    *client.ResourceRef
}

// Require lets a request through only when Roster allows its user action
// on target(r); it must run after Authenticate. Roster decides every
// request afresh, so an expired membership is refused at once. A user who
// does not reach the target gets a 404, as from Roster; one who reaches it
// with too low a role a 403; an archived workspace a 410.
func (g *Guard) Require(action string, target func(*http.Request) Target) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, ok := IdentityFrom(r.Context())
			if !ok {
				writeProblem(w, http.StatusUnauthorized, "unauthenticated", "a bearer token is required")
				return
			}
			t := target(r)
			d, err := g.roster.Check(r.Context(), client.CheckRequest{UserID: id.UserID, Action: action,
				WorkspaceID: t.WorkspaceID, OrgID: t.OrgID, ResourceID: t.ResourceID, Resource: t.Resource})
			if err != nil {
				writeError(w, err)
				return
			}
			if !d.Allowed {
				writeError(w, denial(d))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// denial is the answer Roster itself gives for a decision's reason.
func denial(d client.Decision) *refusal {
	switch d.Reason {
	case "insufficient_role":
		return &refusal{http.StatusForbidden, "forbidden", "your role here does not allow this"}
	case "workspace_archived":
		return &refusal{http.StatusGone, "workspace_archived", "the workspace is archived"}
	case "user_inactive":
		return &refusal{http.StatusUnauthorized, "user_inactive", "the user is not active"}
	}
	return &refusal{http.StatusNotFound, "not_found", "not found"}
}

// refusal is an answer the guard gives itself.
type refusal struct {
	status int
	code   string
	detail string
}

func (r *refusal) Error() string { return r.code + ": " + r.detail }

// writeError answers with a refusal, or for a call to Roster that failed:
// a target Roster does not know is a 404; Roster refusing the guard itself
// (a bad action name, or the guard's token) is the host application's bug,
// a 500; Roster being unreachable or failing is a 503.
func writeError(w http.ResponseWriter, err error) {
	var ref *refusal
	var p *client.Problem
	switch {
	case errors.As(err, &ref):
		writeProblem(w, ref.status, ref.code, ref.detail)
	case errors.As(err, &p) && p.Status == http.StatusNotFound:
		writeProblem(w, http.StatusNotFound, "not_found", "not found")
	case errors.As(err, &p) && p.Status >= 400 && p.Status < 500 && p.Status != http.StatusTooManyRequests:
		writeProblem(w, http.StatusInternalServerError, "authorization_misconfigured", "Roster refused the authorization call: "+p.Code)
	default:
		w.Header().Set("Retry-After", "1")
		writeProblem(w, http.StatusServiceUnavailable, "authorization_unavailable", "authorization is unavailable; try again")
	}
}
