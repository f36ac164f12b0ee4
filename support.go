package roster

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// PrefixSupportSession starts every support session id.
const PrefixSupportSession = "ses_"

// Bounds of a support session (DOMAIN §5).
const (
	DefaultSupportDuration = 24 * time.Hour
	MaxSupportDuration     = 7 * 24 * time.Hour
	MaxSupportReasonLen    = 500
	// SupportHistory is how far back a workspace's own list of support
	// sessions reaches.
	SupportHistory = 90 * 24 * time.Hour
	// SupportSweepEvery is how often one replica ends the sessions whose
	// end task has not (yet) run.
	SupportSweepEvery = 15 * time.Minute
)

// SupportEndReason says why a support session ended.
type SupportEndReason string

const (
	SupportLeft             SupportEndReason = "left"              // the staff member left
	SupportExpired          SupportEndReason = "expired"           // its end task ran at expires_at
	SupportSwept            SupportEndReason = "swept"             // the periodic sweep found it past expires_at
	SupportDisabled         SupportEndReason = "support_disabled"  // the customer turned allow_support_access off
	SupportRemoved          SupportEndReason = "removed"           // the customer removed it, or it became a real membership
	SupportStaffSuspended   SupportEndReason = "staff_suspended"   // the staff user was suspended, deactivated or deleted
	SupportStaffDemoted     SupportEndReason = "staff_demoted"     // the staff user is no longer staff
	SupportWorkspaceDeleted SupportEndReason = "workspace_deleted" // the workspace or its organisation was deleted
)

// SupportEndReasons lists every reason a session ends.
var SupportEndReasons = []SupportEndReason{SupportLeft, SupportExpired, SupportSwept, SupportDisabled,
	SupportRemoved, SupportStaffSuspended, SupportStaffDemoted, SupportWorkspaceDeleted}

// SupportSession is a staff member's consented, time-boxed presence in a
// customer's workspace: a staff_support membership, the support token that
// reaches only that workspace, and the task that ends both at ExpiresAt.
type SupportSession struct {
	ID           string
	WorkspaceID  string
	OrgID        string
	UserID       string
	Role         WorkspaceRole
	Reason       string
	MembershipID string // the staff_support membership it granted
	TokenID      string // the support token now valid; older ones are revoked
	EndTaskID    string // the task that ends it at ExpiresAt
	StartedAt    time.Time
	ExpiresAt    time.Time
	EndedAt      *time.Time
	EndReason    SupportEndReason // set once ended
	UpdatedAt    time.Time
}

// Active reports whether the session grants access at now: not ended and
// not expired, whether or not its end task has run (rule 9).
func (s SupportSession) Active(now time.Time) bool {
	return s.EndedAt == nil && now.Before(s.ExpiresAt)
}

// SupportRequest asks to join a workspace as support.
type SupportRequest struct {
	Reason   string
	Duration *int64 // whole seconds; nil takes DefaultSupportDuration
}

// SupportDuration validates a requested duration.
func SupportDuration(seconds *int64) (time.Duration, error) {
	if seconds == nil {
		return DefaultSupportDuration, nil
	}
	if *seconds < 1 || *seconds > int64(MaxSupportDuration/time.Second) {
		return 0, Errorf(KindInvalid, CodeInvalidDuration, "duration must be a whole number of seconds from 1 to %d", int64(MaxSupportDuration/time.Second)).
			With("field", "duration")
	}
	return time.Duration(*seconds) * time.Second, nil
}

// CheckSupportReason validates the reason a staff member gives.
func CheckSupportReason(reason string) error {
	if strings.TrimSpace(reason) == "" || utf8.RuneCountInString(reason) > MaxSupportReasonLen {
		return Errorf(KindInvalid, CodeInvalidReason, "reason is required: 1 to %d characters saying why support needs access", MaxSupportReasonLen).
			With("field", "reason")
	}
	return nil
}

// SupportStatus says what a join did.
type SupportStatus string

const (
	SupportGranted       SupportStatus = "granted"
	SupportExtended      SupportStatus = "extended"
	SupportAlreadyMember SupportStatus = "already_member" // a real member: nothing was created
)

// SupportStatuses lists every outcome of a join.
var SupportStatuses = []SupportStatus{SupportGranted, SupportExtended, SupportAlreadyMember}

// SupportJoin is the answer to a join: the session (nil for already_member)
// and, when granted or extended, the plaintext of its fresh support token.
type SupportJoin struct {
	Status  SupportStatus
	Session *SupportSession
	Token   string
}

// SupportFilter narrows a list of support sessions.
type SupportFilter struct {
	WorkspaceID    string
	OrgID          string
	UserID         string
	Open           bool      // only sessions not ended (they may have expired)
	ActiveAt       time.Time // when set, only sessions active at this time
	NotEndedBefore time.Time // when set, only sessions not ended, or ended at or after this time
	ExpiredAt      time.Time // when set, only sessions not ended whose expiry is at or before this time
}

// SupportStore reads support sessions.
type SupportStore interface {
	GetSupportSession(ctx context.Context, id string) (SupportSession, error)
	// GetOpenSupportSession returns the session of a staff member in a
	// workspace that has not ended (it may have expired).
	GetOpenSupportSession(ctx context.Context, workspaceID, userID string) (SupportSession, error)
	// ListSupportSessions lists newest first; p.After is a session id.
	ListSupportSessions(ctx context.Context, f SupportFilter, p Page) ([]SupportSession, error)
}

// SupportWriter changes support sessions; only inside a write transaction.
type SupportWriter interface {
	// CreateSupportSession reports false when the staff member already has
	// an open session in the workspace (a concurrent join won).
	CreateSupportSession(ctx context.Context, s SupportSession) (bool, error)
	UpdateSupportSession(ctx context.Context, s SupportSession) error
}

// SupportService lets the vendor's staff step into a customer's workspace,
// with the customer's consent, for a bounded time, and lets the customer
// see who did.
type SupportService interface {
	JoinSupport(ctx context.Context, wsID string, in SupportRequest) (SupportJoin, error)
	// MySupportSession returns the caller's active session in a workspace, or nil.
	MySupportSession(ctx context.Context, wsID string) (*SupportSession, error)
	// LeaveSupport reports whether there was an active session to end.
	LeaveSupport(ctx context.Context, wsID string) (bool, error)
	// ListSupportSessions lists active sessions: all for platform admins,
	// the caller's own for support staff.
	ListSupportSessions(ctx context.Context, f SupportFilter, p Page) ([]SupportSession, string, error)
	// ListWorkspaceSupportSessions is the customer's view: active sessions
	// and those of the last SupportHistory.
	ListWorkspaceSupportSessions(ctx context.Context, wsID string, p Page) ([]SupportSession, string, error)
}
