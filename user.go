package roster

import (
	"context"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// UserStatus says whether a user may act. Only active users may.
type UserStatus string

const (
	UserActive      UserStatus = "active"
	UserSuspended   UserStatus = "suspended"
	UserDeactivated UserStatus = "deactivated"
)

// UserStatuses lists every status, in the order documented.
var UserStatuses = []UserStatus{UserActive, UserSuspended, UserDeactivated}

// ParseUserStatus validates a status from input.
func ParseUserStatus(s string) (UserStatus, error) {
	return parseEnum(s, UserStatuses, CodeInvalidStatus, "status")
}

// PlatformRole is a user's role on the Roster deployment itself (the vendor's
// staff), unrelated to any organisation.
type PlatformRole string

const (
	PlatformNone    PlatformRole = "none"
	PlatformSupport PlatformRole = "support"
	PlatformAdmin   PlatformRole = "admin"
)

// PlatformRoles lists every platform role, lowest first.
var PlatformRoles = []PlatformRole{PlatformNone, PlatformSupport, PlatformAdmin}

// ParsePlatformRole validates a platform role from input.
func ParsePlatformRole(s string) (PlatformRole, error) {
	return parseEnum(s, PlatformRoles, CodeInvalidPlatformRole, "platform_role")
}

// IsStaff reports whether the role belongs to the vendor's staff.
func (r PlatformRole) IsStaff() bool { return r == PlatformAdmin || r == PlatformSupport }

// User is a person or a bot known to Roster.
type User struct {
	ID                 string
	Email              *string // nil for token-only users (bots)
	DisplayName        string
	Status             UserStatus
	PlatformRole       PlatformRole
	ExternalID         *string
	DefaultWorkspaceID *string
	CreatedAt          time.Time
	UpdatedAt          time.Time
	DeletedAt          *time.Time
}

// Active reports whether the user may act at all.
func (u User) Active() bool { return u.Status == UserActive && u.DeletedAt == nil }

// EmailKey is the form of an email that uniqueness and look-ups use:
// case-insensitive, whatever the case the user typed.
func EmailKey(email string) string { return strings.ToLower(email) }

// Field limits for users.
const (
	MaxEmailLen       = 254
	MaxDisplayNameLen = 200
	MaxExternalIDLen  = 255
)

// NormalizeEmail checks an address and returns it trimmed.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	bad := Errorf(KindInvalid, CodeInvalidEmail, "email must be a plain address like name@example.com").With("field", "email")
	if s == "" || len(s) > MaxEmailLen {
		return "", bad
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", bad
	}
	return s, nil
}

// CheckDisplayName validates a display name.
func CheckDisplayName(s string) error {
	if utf8.RuneCountInString(s) > MaxDisplayNameLen || !utf8.ValidString(s) {
		return Errorf(KindInvalid, CodeInvalidRequest, "display_name must be at most %d characters", MaxDisplayNameLen).With("field", "display_name")
	}
	return nil
}

// CheckExternalID validates the host application's identifier for a user.
func CheckExternalID(s string) error {
	if s == "" || len(s) > MaxExternalIDLen || !utf8.ValidString(s) {
		return Errorf(KindInvalid, CodeInvalidRequest, "external_id must be 1 to %d bytes", MaxExternalIDLen).With("field", "external_id")
	}
	return nil
}

// UserFilter narrows a user list. Empty fields do not filter.
type UserFilter struct {
	EmailKey   string
	Status     UserStatus
	ExternalID string
	Query      string // case-insensitive substring of email or display name
}

// UserStore persists users.
type UserStore interface {
	GetUser(ctx context.Context, id string) (User, error)
	GetUserByEmail(ctx context.Context, email string) (User, error)
	GetUserByExternalID(ctx context.Context, externalID string) (User, error)
	ListUsers(ctx context.Context, f UserFilter, p Page) ([]User, error)
	CountActiveAdmins(ctx context.Context) (int, error)
	HasUsers(ctx context.Context) (bool, error)
}

// UserWriter changes users; only available inside a write transaction.
type UserWriter interface {
	// CreateUser inserts u; it returns ErrUniqueViolation when the email or
	// external id is taken.
	CreateUser(ctx context.Context, u User) error
	// UpdateUser stores every mutable field of u.
	UpdateUser(ctx context.Context, u User) error
}

// Me is the caller as GET /v1/me shows them.
type Me struct {
	User             User
	Token            *Token
	OnBehalfOf       bool
	Orgs             []MyOrg
	CurrentWorkspace *WorkspaceView // the default workspace, while reachable
}

// MyOrg is one organisation the caller belongs to or works in, with the
// workspaces they reach there. Role is "" for externals.
type MyOrg struct {
	OrgID      string
	Role       OrgRole
	Workspaces []WorkspaceView
}

// NewUser is the input of CreateUser.
type NewUser struct {
	Email        *string
	DisplayName  string
	ExternalID   *string
	Status       string // default active
	PlatformRole string // default none
}

// UserPatch is the input of UpdateUser: only present fields change.
type UserPatch struct {
	Email              Patch[*string]
	DisplayName        Patch[string]
	Status             Patch[string]
	PlatformRole       Patch[string]
	ExternalID         Patch[*string]
	DefaultWorkspaceID Patch[*string]
}
