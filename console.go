package roster

import (
	"context"
	"time"
)

// ID prefixes of the admin console's credentials.
const (
	PrefixConsoleSession = "cns_"
	PrefixLoginLink      = "lnk_"
)

// Secret prefixes: what a browser's cookie and a login link carry.
const (
	consoleSessionSecretPrefix = "rst_cns_"
	loginLinkSecretPrefix      = "rst_lnk_"
)

// Console credentials' lifetimes.
const (
	// ConsoleIdleTimeout ends a console session that has not been used for
	// this long.
	ConsoleIdleTimeout = 12 * time.Hour
	// LoginLinkLifetime is how long a login link may be opened.
	LoginLinkLifetime = 15 * time.Minute
	// ConsoleTouchInterval bounds last_seen_at writes to one per session per
	// interval; idle time is therefore known to within it.
	ConsoleTouchInterval = time.Minute
)

// ErrSessionEnded is the answer to a console session that has ended, or
// never was.
var ErrSessionEnded = Errorf(KindUnauthenticated, CodeSessionEnded, "the console session has ended; sign in again")

// ConsoleSession is one signed-in browser of the admin console. The browser
// holds a random secret; Roster keeps only its hash, so a leaked table signs
// nobody in. The session acts with exactly its user's authority.
type ConsoleSession struct {
	ID         string
	UserID     string
	Hash       string // hex SHA-256 of the secret
	CSRF       string // random; every form of the session carries it
	CreatedAt  time.Time
	LastSeenAt time.Time
	EndedAt    *time.Time
}

// Idle reports whether the session has gone unused for ConsoleIdleTimeout.
func (s ConsoleSession) Idle(now time.Time) bool {
	return !now.Before(s.LastSeenAt.Add(ConsoleIdleTimeout))
}

// LoginLink is a one-time sign-in link for the console, printed by the
// command line. Only the hash of its secret is kept.
type LoginLink struct {
	ID        string
	UserID    string
	Hash      string
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

// ConsoleSignIn is a new console session and the secret its browser keeps.
type ConsoleSignIn struct {
	Session ConsoleSession
	Secret  string
}

// NewConsoleSession starts a session for a user at now and returns it with
// its secret.
func NewConsoleSession(userID string, now time.Time) ConsoleSignIn {
	secret := newSecret(consoleSessionSecretPrefix)
	return ConsoleSignIn{Secret: secret, Session: ConsoleSession{
		ID:         NewID(PrefixConsoleSession),
		UserID:     userID,
		Hash:       HashToken(secret),
		CSRF:       NewCSRFToken(),
		CreatedAt:  now,
		LastSeenAt: now,
	}}
}

// NewCSRFToken is a fresh random token for a form to repeat.
func NewCSRFToken() string { return newSecret("") }

// NewLoginLink mints a login link for a user at now and returns it with its
// secret.
func NewLoginLink(userID string, now time.Time) (LoginLink, string) {
	secret := newSecret(loginLinkSecretPrefix)
	return LoginLink{
		ID:        NewID(PrefixLoginLink),
		UserID:    userID,
		Hash:      HashToken(secret),
		ExpiresAt: now.Add(LoginLinkLifetime),
		CreatedAt: now,
	}, secret
}

// ConsoleActor is the actor of a console session: the user, acting in
// person. The session stands in for a personal token, so every rule that
// holds for the user's own token holds here, and the audit log names the
// session as the credential.
func ConsoleActor(u User, s ConsoleSession) Actor {
	return Actor{User: u, Token: &Token{ID: s.ID, UserID: u.ID, Kind: TokenPersonal, Name: "console", CreatedAt: s.CreatedAt}}
}

// ConsoleService signs people in to the admin console and back out.
type ConsoleService interface {
	// CreateLoginLink mints a login link for the active user with this
	// email (the operator's command line, or a platform admin).
	CreateLoginLink(ctx context.Context, email string) (LoginLink, string, error)
	// SignInWithToken starts a session for the owner of a personal token.
	SignInWithToken(ctx context.Context, bearer string) (ConsoleSignIn, error)
	// SignInWithLink uses a login link, once, and starts a session.
	SignInWithLink(ctx context.Context, secret string) (ConsoleSignIn, error)
	// ResumeSession turns a browser's secret into its session and actor.
	ResumeSession(ctx context.Context, secret string) (Actor, ConsoleSession, error)
	// SignOut ends the session of a secret; an unknown one is no error.
	SignOut(ctx context.Context, secret string) error
}

// ConsoleStore reads console sessions.
type ConsoleStore interface {
	GetConsoleSessionByHash(ctx context.Context, hash string) (ConsoleSession, error)
}

// ConsoleWriter changes console sessions and login links; only inside a
// write transaction.
type ConsoleWriter interface {
	CreateConsoleSession(ctx context.Context, s ConsoleSession) error
	// EndConsoleSession sets ended_at if it is not set yet.
	EndConsoleSession(ctx context.Context, id string, at time.Time) error
	// EndUserConsoleSessions ends every open session of a user.
	EndUserConsoleSessions(ctx context.Context, userID string, at time.Time) error
	CreateLoginLink(ctx context.Context, l LoginLink) error
	// UseLoginLink marks the unused link with this hash used at at and
	// returns it; ErrNotFound when there is none or it was used already.
	UseLoginLink(ctx context.Context, hash string, at time.Time) (LoginLink, error)
}

// ConsoleToucher records console use outside any transaction.
type ConsoleToucher interface {
	// TouchConsoleSession sets last_seen_at to at unless it is already
	// newer than notBefore.
	TouchConsoleSession(ctx context.Context, id string, at, notBefore time.Time) error
}
