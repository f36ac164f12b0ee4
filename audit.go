package roster

import (
	"context"
	"encoding/json"
	"slices"
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

// Vias lists every kind of credential a change may come through.
var Vias = []Via{ViaUser, ViaService, ViaSupport, ViaSystem}

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
	// UserID is the user the change is about, when it is about one: the
	// event stream shows it to them.
	UserID *string
	// Notify names the users the host application should tell of the change
	// (DOMAIN §7): all owners, never one of them, never support staff.
	Notify []string
	// ActorReason is why the actor acted, when they gave a reason: a staff
	// member's support session.
	ActorReason *string
	// Cursor is the event's place in the log, set when it is read.
	Cursor EventCursor
	// Pos, PrevHash and Hash are its seal in the chain; Pos is 0 until
	// the sealer reaches it.
	Pos      int64
	PrevHash string
	Hash     string
}

// EventCursor is a place in the event log. Events are read in cursor
// order, and an event never commits behind a cursor already handed out.
type EventCursor struct {
	TxID uint64 // the writing transaction, on PostgreSQL; 0 on SQLite
	Seq  int64
}

// Before reports whether c comes before d in the log.
func (c EventCursor) Before(d EventCursor) bool {
	return c.TxID < d.TxID || (c.TxID == d.TxID && c.Seq < d.Seq)
}

// Event is one change as the event stream and webhooks carry it: the audit
// event under its public shape, which is its JSON.
type Event struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	CreatedAt   time.Time       `json:"created_at"`
	OrgID       *string         `json:"org_id"`
	WorkspaceID *string         `json:"workspace_id"`
	ActorID     *string         `json:"actor_id"` // the user who made the change, or whom a service token acted for
	Data        json.RawMessage `json:"data"`     // the object after the change (before, when deleted), what changed, user_id, notify
	Cursor      EventCursor     `json:"-"`
}

// EventLog reads the audit log as a stream of events, oldest first.
type EventLog interface {
	// EventsAfter returns up to limit events after cur: only those no
	// transaction still running can precede.
	EventsAfter(ctx context.Context, cur EventCursor, limit int) ([]AuditEvent, error)
	// GetEvent returns one event (ErrNotFound).
	GetEvent(ctx context.Context, id string) (AuditEvent, error)
	// EventCursorOf returns the place of the event with id (ErrNotFound).
	EventCursorOf(ctx context.Context, id string) (EventCursor, error)
	// EventsNow returns where a stream that starts now begins.
	EventsNow(ctx context.Context) (EventStart, error)
}

// EventStart is where a stream that starts now begins: after Cursor,
// leaving out the events of transactions that had already committed (on
// PostgreSQL, such events may still lie after Cursor: transactions commit
// out of order).
type EventStart struct {
	Cursor EventCursor
	// Events of transactions below Xmax and not Running had committed.
	Xmax    uint64
	Running []uint64
}

// Past reports whether an event at c had committed when the stream started.
func (s EventStart) Past(c EventCursor) bool {
	return c.TxID < s.Xmax && !slices.Contains(s.Running, c.TxID)
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

// AuditStore reads the audit log: newest first, or as events.
type AuditStore interface {
	ListAudit(ctx context.Context, f AuditFilter, p Page) ([]AuditEvent, error)
	EventLog
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

// Audit actions of tasks staff act on, and of the host application's
// callbacks.
const (
	ActionTaskCancelled     = "task.cancelled"
	ActionTaskRetried       = "task.retried"
	ActionCallbackScheduled = "callback.scheduled"
	ActionCallbackDue       = "callback.due"
	TargetTask              = "task"
)

// Audit actions of webhook endpoints.
const (
	ActionWebhookCreated  = "webhook.created"
	ActionWebhookDeleted  = "webhook.deleted"
	ActionWebhookRotated  = "webhook.secret_rotated"
	ActionWebhookDisabled = "webhook.disabled"
	TargetWebhook         = "webhook"
)

// Support session actions.
const (
	ActionSupportStarted  = "support_session.started"
	ActionSupportExtended = "support_session.extended"
	ActionSupportEnded    = "support_session.ended"
	TargetSupportSession  = "support_session"
)

// Resource actions.
const (
	ActionResourceCreated     = "resource.created"
	ActionResourceUpdated     = "resource.updated"
	ActionResourceDeleted     = "resource.deleted"
	ActionResourceShared      = "resource.shared"
	ActionResourceUnshared    = "resource.unshared"
	ActionResourceTransferred = "resource.transferred"
	TargetResource            = "resource"
)

// EventTypes lists every event type: every audit action.
var EventTypes = []string{
	ActionUserCreated, ActionUserUpdated, ActionUserDeleted, ActionUserBootstrapped, ActionTokenCreated, ActionTokenRevoked,
	ActionInvitationCreated, ActionInvitationRevoked, ActionInvitationResent, ActionInvitationAccepted, ActionInvitationExpired,
	ActionRequestCreated, ActionRequestApproved, ActionRequestDenied,
	ActionOrgMemberCreated, ActionOrgMemberUpdated, ActionOrgMemberDeleted,
	ActionMemberCreated, ActionMemberUpdated, ActionMemberDeleted, ActionMemberExpired,
	ActionOrgCreated, ActionOrgUpdated, ActionOrgDeleted, ActionPlanUpdated,
	ActionWorkspaceCreated, ActionWorkspaceUpdated, ActionWorkspaceDeleted, ActionWorkspaceArchived, ActionWorkspaceRestored, ActionWorkspaceSettings,
	ActionSeatsChanged, ActionTaskCancelled, ActionTaskRetried, ActionCallbackScheduled, ActionCallbackDue,
	ActionWebhookCreated, ActionWebhookDeleted, ActionWebhookRotated, ActionWebhookDisabled,
	ActionSupportStarted, ActionSupportExtended, ActionSupportEnded,
	ActionResourceCreated, ActionResourceUpdated, ActionResourceDeleted, ActionResourceShared, ActionResourceUnshared, ActionResourceTransferred,
}

// IsEventType reports whether t is an event type.
func IsEventType(t string) bool { return slices.Contains(EventTypes, t) }
