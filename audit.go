package roster

import (
	"context"
	"encoding/json"
	"time"
)

// Via says through which kind of credential a change was made.
type Via string

const (
	ViaUser    Via = "user"    // a person's own token
	ViaService Via = "service" // the host application's service token
	ViaSupport Via = "support" // a staff member's support token
	ViaSystem  Via = "system"  // Roster itself or its operator's command line
)

// Audit actions written by the user and token services.
const (
	ActionUserCreated      = "user.created"
	ActionUserUpdated      = "user.updated"
	ActionUserDeleted      = "user.deleted"
	ActionUserBootstrapped = "user.bootstrapped"
	ActionTokenCreated     = "token.created"
	ActionTokenRevoked     = "token.revoked"
)

// Audit target types.
const (
	TargetUser  = "user"
	TargetToken = "token"
)

// AuditEvent is an append-only record of one mutation.
type AuditEvent struct {
	ID           string
	At           time.Time
	ActorUserID  *string
	ActorTokenID *string
	Via          Via
	OnBehalfOf   *string
	Action       string
	TargetType   string
	TargetID     string
	OrgID        *string
	WorkspaceID  *string
	Before       json.RawMessage // nil when the object did not exist
	After        json.RawMessage // nil when the object no longer exists
	RequestID    string
	IP           string
}

// AuditFilter narrows the audit log. Empty fields do not filter.
type AuditFilter struct {
	OrgID       string
	WorkspaceID string
	ActorID     string // the acting user or the user acted for
	Action      string
	Since       *time.Time
	Until       *time.Time
}

// AuditStore reads the audit log, newest first.
type AuditStore interface {
	ListAudit(ctx context.Context, f AuditFilter, p Page) ([]AuditEvent, error)
}

// AuditWriter appends to the audit log inside the mutation's transaction.
type AuditWriter interface {
	InsertAudit(ctx context.Context, events ...AuditEvent) error
}

// Audit actions of invitations and access requests.
const (
	ActionInvitationCreated  = "invitation.created"
	ActionInvitationRevoked  = "invitation.revoked"
	ActionInvitationResent   = "invitation.resent"
	ActionInvitationAccepted = "invitation.accepted"
	ActionInvitationExpired  = "invitation.expired"
	ActionRequestCreated     = "access_request.created"
	ActionRequestApproved    = "access_request.approved"
	ActionRequestDenied      = "access_request.denied"
	TargetInvitation         = "invitation"
	TargetAccessRequest      = "access_request"
)

// Audit actions and targets of memberships.
const (
	ActionOrgMemberCreated = "org_membership.created"
	ActionOrgMemberUpdated = "org_membership.updated"
	ActionOrgMemberDeleted = "org_membership.deleted"
	ActionMemberCreated    = "membership.created"
	ActionMemberUpdated    = "membership.updated"
	ActionMemberDeleted    = "membership.deleted"
	ActionMemberExpired    = "membership.expired"
	TargetOrgMembership    = "org_membership"
	TargetMembership       = "membership"
)

// Audit actions of organisations and workspaces.
const (
	ActionOrgCreated        = "org.created"
	ActionOrgUpdated        = "org.updated"
	ActionOrgDeleted        = "org.deleted"
	ActionWorkspaceCreated  = "workspace.created"
	ActionWorkspaceUpdated  = "workspace.updated"
	ActionWorkspaceDeleted  = "workspace.deleted"
	ActionWorkspaceArchived = "workspace.archived"
	ActionWorkspaceRestored = "workspace.unarchived"
	ActionWorkspaceSettings = "workspace.settings_updated"
	TargetOrg               = "org"
	TargetWorkspace         = "workspace"
)

// Audit action of seat count changes.
const (
	ActionSeatsChanged = "seats.changed"
	ActionPlanUpdated  = "org.plan_updated"
	TargetSeats        = "seats"
)

// Audit actions of tasks staff act on.
const (
	ActionTaskCancelled = "task.cancelled"
	ActionTaskRetried   = "task.retried"
	TargetTask          = "task"
)
