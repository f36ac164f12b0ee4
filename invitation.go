package roster

import (
	"context"
	"time"
)

// ID prefixes of invitations and access requests.
const (
	PrefixInvitation    = "inv_"
	PrefixAccessRequest = "req_"
)

// Invitation limits.
const (
	DefaultInvitationLifetime = 7 * 24 * time.Hour
	MaxInvitationLifetime     = 30 * 24 * time.Hour
	// InviteTokenPrefix marks an invitation's accept secret.
	InviteTokenPrefix = "rst_inv_"
)

// InvitationStatus is where an invitation stands.
type InvitationStatus string

const (
	InvitationPending  InvitationStatus = "pending"
	InvitationAccepted InvitationStatus = "accepted"
	InvitationRevoked  InvitationStatus = "revoked"
	InvitationExpired  InvitationStatus = "expired"
)

// InvitationStatuses lists every status.
var InvitationStatuses = []InvitationStatus{InvitationPending, InvitationAccepted, InvitationRevoked, InvitationExpired}

// ParseInvitationStatus validates a status filter.
func ParseInvitationStatus(s string) (InvitationStatus, error) {
	return parseEnum(s, InvitationStatuses, CodeInvalidStatus, "status")
}

// Invitation is a pending offer of a workspace role to an email.
type Invitation struct {
	ID          string
	OrgID       string
	WorkspaceID string
	Email       string
	Role        WorkspaceRole
	TokenHash   string
	InvitedBy   *string
	ByService   bool // invited by the host application's service token or the command line: stands without re-check
	ExpiresAt   time.Time
	AcceptedAt  *time.Time
	AcceptedBy  *string
	RevokedAt   *time.Time
	Open        bool // not accepted, revoked or superseded
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Status is the invitation's status at now.
func (i Invitation) Status(now time.Time) InvitationStatus {
	switch {
	case i.AcceptedAt != nil:
		return InvitationAccepted
	case i.RevokedAt != nil:
		return InvitationRevoked
	case !now.Before(i.ExpiresAt):
		return InvitationExpired
	}
	return InvitationPending
}

// NewInviteSecret returns a fresh accept secret for an invitation.
func NewInviteSecret() string {
	s := NewTokenSecret(TokenPersonal)
	return InviteTokenPrefix + s[len(TokenPersonal.Prefix()):]
}

// AccessRequestStatus is where an access request stands.
type AccessRequestStatus string

const (
	RequestPending  AccessRequestStatus = "pending"
	RequestApproved AccessRequestStatus = "approved"
	RequestDenied   AccessRequestStatus = "denied"
)

// AccessRequestStatuses lists every status.
var AccessRequestStatuses = []AccessRequestStatus{RequestPending, RequestApproved, RequestDenied}

// ParseAccessRequestStatus validates a status filter.
func ParseAccessRequestStatus(s string) (AccessRequestStatus, error) {
	return parseEnum(s, AccessRequestStatuses, CodeInvalidStatus, "status")
}

// AccessRequest is a user asking to join a workspace.
type AccessRequest struct {
	ID          string
	OrgID       string
	WorkspaceID string
	UserID      string
	Message     string
	Status      AccessRequestStatus
	Role        *WorkspaceRole // granted on approval
	DecidedBy   *string
	DecidedAt   *time.Time
	CreatedAt   time.Time
}

// InvitationFilter narrows an invitation list.
type InvitationFilter struct {
	WorkspaceID string
	EmailKey    string
	OpenOnly    bool
}

// InvitationStore reads invitations and access requests.
type InvitationStore interface {
	GetInvitation(ctx context.Context, id string) (Invitation, error)
	GetInvitationByTokenHash(ctx context.Context, hash string) (Invitation, error)
	// GetOpenInvitation returns the open invitation of an email to a workspace.
	GetOpenInvitation(ctx context.Context, workspaceID, emailKey string) (Invitation, error)
	ListInvitations(ctx context.Context, f InvitationFilter, p Page) ([]Invitation, error)
	// CountPendingSeats counts, by distinct email, the organisation's open
	// invitations unexpired at now whose role is one of paidRoles and whose
	// email belongs to no user holding a seat there.
	CountPendingSeats(ctx context.Context, orgID string, paidRoles []WorkspaceRole, now time.Time) (int, error)
	// PendingEmails returns which of emailKeys have such an invitation.
	PendingEmails(ctx context.Context, orgID string, paidRoles []WorkspaceRole, emailKeys []string, now time.Time) ([]string, error)
	GetAccessRequest(ctx context.Context, id string) (AccessRequest, error)
	GetOpenAccessRequest(ctx context.Context, workspaceID, userID string) (AccessRequest, error)
	ListAccessRequests(ctx context.Context, workspaceID string, status AccessRequestStatus, p Page) ([]AccessRequest, error)
}

// InvitationWriter changes invitations and access requests.
type InvitationWriter interface {
	// CreateInvitation inserts i unless an open one exists for its email and
	// workspace; it reports whether it inserted.
	CreateInvitation(ctx context.Context, i Invitation) (bool, error)
	UpdateInvitation(ctx context.Context, i Invitation) error
	CreateAccessRequest(ctx context.Context, r AccessRequest) (bool, error)
	UpdateAccessRequest(ctx context.Context, r AccessRequest) error
}

// MaxRequestMessageLen bounds an access request's message.
const MaxRequestMessageLen = 2000

// NewInvitation is the input of Invite.
type NewInvitation struct {
	Email     string
	Role      string
	ExpiresIn *int64 // seconds; default 7 days, at most 30
}

// IssuedInvitation is an invitation with its accept secret (shown once) and
// the host application's accept link.
type IssuedInvitation struct {
	Invitation Invitation
	Secret     string // "" when an existing pending invitation was returned
	AcceptURL  string
	Created    bool
}

// Accepted is the result of accepting an invitation.
type Accepted struct {
	Invitation Invitation
	Membership WorkspaceMembership
}
