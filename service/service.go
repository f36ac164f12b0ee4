// Package service holds Roster's rules. Every decision about who may do what,
// and every invariant of the domain, is made here, once; the store only
// persists and the HTTP layer only translates.
package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/webhook"
)

// Options configure a Service. Zero values take defaults.
type Options struct {
	Clock  roster.Clock
	Logger *slog.Logger
	// AuthCacheSize bounds each authentication cache (tokens, users).
	AuthCacheSize int
	// Actions are the host application's own check actions, each mapped to
	// the lowest workspace role allowed to take it.
	Actions map[string]roster.WorkspaceRole
	// RestrictOrgCreation lets only staff and service tokens create organisations.
	RestrictOrgCreation bool
	// InviteURL is the host application's accept link, with {token} where
	// the invitation's secret goes.
	InviteURL string
	// MaxStaleness bounds how far behind other replicas' changes a cached
	// authentication or decision may be. A replica that cannot show it has
	// heard every invalidation committed that long ago reads the database
	// instead. Default one second.
	MaxStaleness time.Duration
	// StreamBuffer is how many events a stream client may fall behind
	// before it is cut off (to resume with Last-Event-ID). Default 1,024.
	StreamBuffer int
	// StreamPoll is how often the event stream and the webhook dispatcher
	// look for other replicas' events. Default 50 ms.
	StreamPoll time.Duration
	// WebhookClient delivers events (default: webhook.Client's defaults).
	WebhookClient *webhook.Client
	// WebhookSchedule spaces a failing delivery's attempts
	// (default webhook.DefaultSchedule).
	WebhookSchedule webhook.Schedule
	// WebhookDenyPrivate refuses endpoints on loopback and private
	// addresses, at registration and again at delivery.
	WebhookDenyPrivate bool
	// SupportRole is the workspace role a staff support session grants
	// (default admin).
	SupportRole roster.WorkspaceRole
	// ImportChunkTimeout bounds each transaction of a bulk import (one
	// chunk of records): a database that goes silent fails the import
	// within it, whatever the import's own deadline. Default 30 s.
	ImportChunkTimeout time.Duration
	// NoSealer leaves the audit log unchained on this replica: only for
	// measuring what sealing costs (roster loadtest --seal=false).
	NoSealer bool
}

// Service implements Roster's use cases (roster.Services) on top of a
// store.
type Service struct {
	store               roster.Store
	clock               roster.Clock
	log                 *slog.Logger
	auth                *authCache
	actions             map[string]roster.WorkspaceRole
	restrictOrgCreation bool
	inviteURL           string
	origin              string // names this replica on the invalidations it sends
	hearing             *hearing
	hub                 *eventHub
	webhooks            *webhook.Client
	webhookSchedule     webhook.Schedule
	denyPrivate         bool
	deliveries          deliveryCounts
	supportRole         roster.WorkspaceRole
	noSealer            bool
	// importing counts this replica's imports under way: the sealer waits
	// for them, so that a bulk import has the database's writer to itself.
	importing    atomic.Int32
	fills        cacheFills
	chunkTimeout time.Duration
}

var _ roster.Services = (*Service)(nil)

// New returns a service on store.
func New(store roster.Store, opts Options) *Service {
	var cacheClock otter.Clock // the wall clock, unless the caller set another
	if opts.Clock != nil {
		cacheClock = serviceClock{opts.Clock}
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.AuthCacheSize == 0 {
		opts.AuthCacheSize = 100_000
	}
	if opts.SupportRole == "" {
		opts.SupportRole = roster.RoleAdmin
	}
	if opts.MaxStaleness <= 0 {
		opts.MaxStaleness = time.Second
	}
	if opts.ImportChunkTimeout <= 0 {
		opts.ImportChunkTimeout = 30 * time.Second
	}
	s := &Service{store: store, clock: opts.Clock, log: opts.Logger,
		actions: opts.Actions, restrictOrgCreation: opts.RestrictOrgCreation, inviteURL: opts.InviteURL,
		origin: rand.Text(), supportRole: opts.SupportRole, noSealer: opts.NoSealer, chunkTimeout: opts.ImportChunkTimeout}
	s.auth, s.fills = newAuthCacheAt(opts.AuthCacheSize, cacheClock), newCacheFills(store)
	s.hearing = newHearing(s.origin, s.auth, opts.MaxStaleness, s.log)
	s.auth.current = s.hearing.current
	s.hub = newEventHub(s, opts.StreamBuffer, opts.StreamPoll)
	s.webhooks, s.webhookSchedule, s.denyPrivate = opts.WebhookClient, opts.WebhookSchedule, opts.WebhookDenyPrivate
	if s.webhooks == nil {
		s.webhooks = &webhook.Client{}
	}
	if s.webhookSchedule == nil {
		s.webhookSchedule = webhook.DefaultSchedule
	}
	if s.denyPrivate && s.webhooks.HTTP == nil {
		s.webhooks.HTTP = &http.Client{Transport: &http.Transport{DialContext: webhook.DenyPrivate(&net.Dialer{Timeout: 10 * time.Second})}}
	}
	return s
}

// Run keeps the service's caches in step with other replicas until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	go s.hub.run(ctx)
	go s.dispatch(ctx)
	if !s.noSealer {
		go s.seal(ctx)
	}
	return s.store.Listen(ctx, s.hearing)
}

// Listening is closed once Run first hears other replicas' changes.
func (s *Service) Listening() <-chan struct{} { return s.hearing.first }

// Hearing reports whether this replica's caches are known to be current:
// it hears other replicas' invalidations and has heard all of those
// committed more than MaxStaleness ago. While it does not, it reads the
// database instead of its caches.
func (s *Service) Hearing() error { return s.hearing.err() }

// ListenerDrops counts the times the connection that hears other replicas'
// invalidations was lost.
func (s *Service) ListenerDrops() uint64 { return s.hearing.drops.Load() }

func (s *Service) now() time.Time { return roster.Now(s.clock) }

// actor returns the caller of ctx. Requests reach the service only after
// authentication; the command line attaches the system actor explicitly. A
// call that names no caller is a bug in its caller: it must not run with
// rights no one gave it, so it stops here.
func actor(ctx context.Context) roster.Actor {
	a, ok := roster.ActorFrom(ctx)
	if !ok {
		panic(errUnattributed)
	}
	return a
}

var errUnattributed = errors.New("service called without an actor: attach the caller with roster.WithActor (roster.SystemActor for the operator's command line)")

// change is one write transaction in progress: the mutation, its audit
// events and the cache invalidations that must follow its commit.
type change struct {
	ctx        context.Context
	tx         *trackedTx // notes the cached state each write makes stale
	now        time.Time
	actor      roster.Actor
	origin     string                 // this replica's name on the invalidations it sends
	reason     *string                // the support session's reason, once looked up
	dirtySeats map[seatKey]bool       // seats to recount before committing
	capped     map[string]bool        // organisations where new seats must fit the cap
	priorPlans map[string]roster.Plan // plans this change replaced: seat counts before it are reported under them
	locked     map[string]bool        // organisations whose lock this change holds
	audits     []roster.AuditEvent    // written together before the commit
}

// update runs fn in one write transaction. Audit events written through the
// change commit with it; local caches are invalidated after the commit, and
// other replicas hear of it through the same commit.
func (s *Service) update(ctx context.Context, fn func(c *change) error) error {
	var done *change
	err := s.store.Update(ctx, func(tx roster.Tx) error {
		c := &change{ctx: ctx, tx: newTrackedTx(tx), now: s.now(), actor: actor(ctx), origin: s.origin}
		if err := fn(c); err != nil {
			return err
		}
		if err := c.settleSeats(); err != nil {
			return err
		}
		if err := c.flush(); err != nil {
			return err
		}
		done = c
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range done.tx.stale {
		s.auth.apply(m)
	}
	if len(done.audits) > 0 {
		s.hub.poke()
	}
	return nil
}

// audit appends an audit event describing this change by its actor.
func (c *change) audit(action, targetType, targetID string, before, after any) error {
	return c.auditIn(action, targetType, targetID, nil, nil, before, after)
}

// auditIn appends an audit event about an object of an organisation or workspace.
func (c *change) auditIn(action, targetType, targetID string, orgID, workspaceID *string, before, after any) error {
	a := c.actor
	e := roster.AuditEvent{
		ID:          roster.NewID(roster.PrefixAudit),
		At:          c.now,
		Via:         a.Via(),
		Action:      action,
		TargetType:  targetType,
		TargetID:    targetID,
		OrgID:       orgID,
		WorkspaceID: workspaceID,
		RequestID:   a.RequestID,
		IP:          a.IP,
	}
	if !a.IsSystem() {
		e.ActorUserID = &a.User.ID
		e.ActorTokenID = &a.Token.ID
	}
	if a.OnBehalfOf != nil {
		e.OnBehalfOf = &a.OnBehalfOf.ID
	}
	var err error
	if e.ActorReason, err = c.actorReason(); err != nil {
		return err
	}
	if e.Before, err = auditJSON(before); err != nil {
		return err
	}
	if e.After, err = auditJSON(after); err != nil {
		return err
	}
	if e.Before != nil && bytes.Equal(e.Before, e.After) {
		return nil // nothing changed: no event
	}
	e.UserID = subjectOf(targetType, targetID, before, after)
	c.audits = append(c.audits, e)
	return nil
}

// actorReason is the reason a support token's staff member gave for their
// session: the audit log shows who acted, and why they were there.
func (c *change) actorReason() (*string, error) {
	a := c.actor
	if !a.Confined() || a.Token.WorkspaceID == nil {
		return nil, nil
	}
	if c.reason == nil {
		// The newest session is the token's (a token that outlived its
		// session could not act); it may have just ended, by this change.
		latest, err := c.tx.ListSupportSessions(c.ctx, roster.SupportFilter{WorkspaceID: *a.Token.WorkspaceID, UserID: a.User.ID}, roster.Page{Limit: 1})
		if err != nil {
			return nil, err
		}
		reason := ""
		if len(latest) > 0 && latest[0].TokenID == a.Token.ID {
			reason = latest[0].Reason
		}
		c.reason = &reason
	}
	if *c.reason == "" {
		return nil, nil
	}
	return c.reason, nil
}

// flush writes the change's audit events and its invalidations for other
// replicas, each in one statement: a write's time is mostly round trips.
func (c *change) flush() error {
	if err := c.addNotify(); err != nil {
		return err
	}
	if err := c.tx.InsertAudit(c.ctx, c.audits...); err != nil {
		return err
	}
	for _, payload := range notifyPayloads(c.origin, c.tx.stale) {
		if err := c.tx.Notify(c.ctx, payload); err != nil {
			return err
		}
	}
	return nil
}

// maxNotifyPayload keeps a notification under PostgreSQL's 8,000 bytes.
const maxNotifyPayload = 7000

// notifyPayloads packs invalidation messages into as few notifications as
// fit: the origin, then the messages one a line.
func notifyPayloads(origin string, msgs []string) []string {
	var out []string
	var b strings.Builder
	for _, m := range msgs {
		if b.Len() > 0 && b.Len()+1+len(m) > maxNotifyPayload {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() == 0 {
			b.WriteString(origin + originSeparator)
		} else {
			b.WriteByte(messageSeparator)
		}
		b.WriteString(m)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

func auditJSON(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return b, nil
}

// originSeparator ends the sending replica's name in an invalidation
// notification; messageSeparator separates its messages.
const (
	originSeparator  = "|"
	messageSeparator = '\n'
)
