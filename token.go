package roster

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

// TokenKind says what a bearer token stands for.
type TokenKind string

const (
	TokenPersonal TokenKind = "personal" // a person's own credential
	TokenService  TokenKind = "service"  // the host application's backend
	TokenSupport  TokenKind = "support"  // a staff member inside one workspace, for one session
)

// TokenKinds lists every kind.
var TokenKinds = []TokenKind{TokenPersonal, TokenService, TokenSupport}

// IssuableTokenKinds are the kinds a client may ask for; support tokens are
// only ever minted by a support session.
var IssuableTokenKinds = []TokenKind{TokenPersonal, TokenService}

// ParseIssuableTokenKind validates a kind a client asked for.
func ParseIssuableTokenKind(s string) (TokenKind, error) {
	return parseEnum(s, IssuableTokenKinds, CodeInvalidTokenKind, "kind")
}

// tokenPrefixes are the visible markers in front of every token's secret.
var tokenPrefixes = map[TokenKind]string{
	TokenPersonal: "rst_pat_",
	TokenService:  "rst_svc_",
	TokenSupport:  "rst_sup_",
}

// Prefix is the visible marker of tokens of this kind.
func (k TokenKind) Prefix() string { return tokenPrefixes[k] }

const (
	tokenSecretBytes      = 32
	TokenDisplayPrefixLen = 8 // characters of the token shown to identify it
	tokenHintLen          = 4 // trailing characters shown to tell tokens apart
	MaxTokenNameLen       = 200
)

// Token is a bearer credential. Only the SHA-256 of the whole token is kept.
type Token struct {
	ID          string
	UserID      string
	Kind        TokenKind
	Name        string
	Prefix      string // first TokenDisplayPrefixLen characters of the token
	Hint        string // last few characters of the token
	Hash        string // hex SHA-256 of the whole token
	WorkspaceID *string
	ExpiresAt   *time.Time
	LastUsedAt  *time.Time
	RevokedAt   *time.Time
	CreatedAt   time.Time
}

// Usable reports whether the token may authenticate a request at now.
func (t Token) Usable(now time.Time) error {
	if t.RevokedAt != nil {
		return Errorf(KindUnauthenticated, CodeTokenRevoked, "the token has been revoked")
	}
	if t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) {
		return Errorf(KindUnauthenticated, CodeTokenExpired, "the token expired at %s", t.ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

// NewTokenSecret returns a fresh plaintext token of the kind: its visible
// prefix followed by 32 random bytes in the URL-safe base64 alphabet.
func NewTokenSecret(kind TokenKind) string { return newSecret(kind.Prefix()) }

// newSecret is prefix followed by 32 random bytes in the URL-safe base64
// alphabet.
func newSecret(prefix string) string {
	b := make([]byte, tokenSecretBytes)
	rand.Read(b) // never fails; see crypto/rand
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the stored form of a token: its hex SHA-256.
func HashToken(plaintext string) string {
	sum := sha256.Sum256([]byte(plaintext))
	return hex.EncodeToString(sum[:])
}

// TokenKindOf returns the kind a plaintext token claims by its prefix.
func TokenKindOf(plaintext string) (TokenKind, bool) {
	for _, k := range TokenKinds {
		if strings.HasPrefix(plaintext, k.Prefix()) {
			return k, true
		}
	}
	return "", false
}

// DisplayPrefix returns the first n characters (not bytes) of s.
func DisplayPrefix(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

// displaySuffix returns the last n characters (not bytes) of s.
func displaySuffix(s string, n int) string {
	end := len(s)
	for i := 0; i < n && end > 0; i++ {
		_, size := utf8.DecodeLastRuneInString(s[:end])
		end -= size
	}
	return s[end:]
}

// NewToken mints a token for a user and returns it with its plaintext, which
// the caller shows once and never stores.
func NewToken(userID string, kind TokenKind, name string, expiresAt *time.Time, now time.Time) (Token, string) {
	plain := NewTokenSecret(kind)
	return Token{
		ID:        NewID(PrefixToken),
		UserID:    userID,
		Kind:      kind,
		Name:      name,
		Prefix:    DisplayPrefix(plain, TokenDisplayPrefixLen),
		Hint:      displaySuffix(plain, tokenHintLen),
		Hash:      HashToken(plain),
		ExpiresAt: expiresAt,
		CreatedAt: now,
	}, plain
}

// TokenStore reads tokens.
type TokenStore interface {
	GetToken(ctx context.Context, id string) (Token, error)
	GetTokenByHash(ctx context.Context, hash string) (Token, error)
	ListTokens(ctx context.Context, userID string, p Page) ([]Token, error)
}

// TokenWriter changes tokens; only inside a write transaction.
type TokenWriter interface {
	CreateToken(ctx context.Context, t Token) error
	// RevokeToken sets revoked_at if it is not set yet; it reports whether it did.
	RevokeToken(ctx context.Context, id string, at time.Time) (bool, error)
	// RevokeUserTokens revokes every live token of a user and returns their hashes.
	RevokeUserTokens(ctx context.Context, userID string, at time.Time) ([]string, error)
}

// TokenToucher records token use outside any transaction.
type TokenToucher interface {
	// TouchToken sets last_used_at to at unless it is already newer than notBefore.
	TouchToken(ctx context.Context, id string, at, notBefore time.Time) error
}

// MaxTokenLifetime bounds expires_in and expires_at.
const MaxTokenLifetime = 10 * 365 * 24 * time.Hour

// TokenRequest is the input of CreateToken.
type TokenRequest struct {
	Name      string
	Kind      string // default personal
	ExpiresAt *time.Time
	ExpiresIn *int64 // seconds
}

// CreatedToken is a new token with its plaintext, which is shown only once.
type CreatedToken struct {
	Token     Token
	Plaintext string
}

// Introspection is what a service learns about a presented token.
type Introspection struct {
	Active bool
	Token  Token
	User   User
}
