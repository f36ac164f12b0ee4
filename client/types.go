// The API's objects, as Roster's OpenAPI document (GET /v1/openapi.json) describes them.

package client

import (
	"encoding/json"
	"time"
)

// AcceptInvitation names the invitation to accept: by its secret token, or by id as the invited user.
type AcceptInvitation struct {
	InvitationID string `json:"invitation_id,omitempty"`
	Token        string `json:"token,omitempty"`
}

// AccessApproval is the role an approved access request grants.
type AccessApproval struct {
	Role string `json:"role"` // one of owner, admin, member, external, viewer
}

// AccessRequest is a user's request to join a workspace.
type AccessRequest struct {
	CreatedAt   time.Time  `json:"created_at"`
	DecidedAt   *time.Time `json:"decided_at"`
	DecidedBy   *string    `json:"decided_by"`
	ID          string     `json:"id"`
	Message     string     `json:"message"`
	OrgID       string     `json:"org_id,omitempty"` // Left out for a requester outside the organisation
	Role        *string    `json:"role"`             // The role granted on approval; one of owner, admin, member, external, viewer, None
	Status      string     `json:"status"`           // one of pending, approved, denied
	UserID      string     `json:"user_id"`
	WorkspaceID string     `json:"workspace_id"`
}

// AuditEvent is one entry of the audit log.
type AuditEvent struct {
	Action       string          `json:"action"`
	ActorReason  *string         `json:"actor_reason"` // Why the actor acted: the reason a staff member gave for the support session they acted in
	ActorTokenID *string         `json:"actor_token_id"`
	ActorUserID  *string         `json:"actor_user_id"` // The user whose token made the change; null for Roster's command line
	After        json.RawMessage `json:"after"`         // The object after the change; null when it was deleted
	At           time.Time       `json:"at"`
	Before       json.RawMessage `json:"before"` // The object before the change; null when it was created
	Hash         *string         `json:"hash"`   // SHA-256 (hex) of its canonical encoding, its position and prev_hash
	ID           string          `json:"id"`
	IP           string          `json:"ip"`
	Notify       []string        `json:"notify"`       // The users the host application should tell
	OnBehalfOf   *string         `json:"on_behalf_of"` // The user a service token acted for
	OrgID        *string         `json:"org_id"`
	PrevHash     *string         `json:"prev_hash"` // The hash of the event before it in the chain (empty for the first)
	RequestID    string          `json:"request_id"`
	Seq          *int            `json:"seq"` // Its position in the hash chain; null for the moment between its write and its seal
	TargetID     string          `json:"target_id"`
	TargetType   string          `json:"target_type"`
	UserID       *string         `json:"user_id"` // The user the change is about
	Via          string          `json:"via"`     // one of user, service, support, system
	WorkspaceID  *string         `json:"workspace_id"`
}

// AuditVerification is the result of verifying the audit log's hash chain.
type AuditVerification struct {
	Events          int     `json:"events"`             // Events verified
	FirstBadEventID *string `json:"first_bad_event_id"` // The first event that breaks the chain; null when ok, or when the chain's last events are missing
	Head            string  `json:"head"`               // The hash of the last event of the chain: record it to detect a rewrite of the whole chain later
	OK              bool    `json:"ok"`
	Problem         string  `json:"problem,omitempty"` // What is wrong with it
}

// CheckRequest asks whether a user may take an action on one target: a workspace, an organisation or a resource (by id, or by the host application's type and external id).
type CheckRequest struct {
	Action      string       `json:"action"` // A permission (workspace.read, members.manage, …), an organisation permission (org.billing, …) or one of the host application's configured actions
	OrgID       string       `json:"org_id,omitempty"`
	Resource    *ResourceRef `json:"resource,omitempty"` // The resource by the host application's id
	ResourceID  string       `json:"resource_id,omitempty"`
	UserID      string       `json:"user_id"`
	WorkspaceID string       `json:"workspace_id,omitempty"`
}

// CreatedOrg is a new organisation, with its first workspace when one was asked for.
type CreatedOrg struct {
	Org
	Workspace *Workspace `json:"workspace,omitempty"` // The first workspace, when one was asked for
}

// Decision answers a check.
type Decision struct {
	Allowed   bool       `json:"allowed"`
	ExpiresAt *time.Time `json:"expires_at"`       // When the access that decided this ends
	Reason    string     `json:"reason,omitempty"` // Why not: no_access, insufficient_role, user_inactive, workspace_archived
	Role      *string    `json:"role"`             // The effective workspace role (or organisation role for organisation targets)
	Via       *string    `json:"via"`              // one of direct, org_owner, org_admin, share, guest, support, None
}

// Delivery is one webhook delivery of an event.
type Delivery struct {
	Attempt        int        `json:"attempt"` // Attempts made so far
	CreatedAt      time.Time  `json:"created_at"`
	Error          *string    `json:"error"`
	EventID        string     `json:"event_id"`
	EventType      string     `json:"event_type"`
	ID             string     `json:"id"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	ResponseBody   string     `json:"response_body"` // The first KiB of the endpoint's last answer
	ResponseStatus *int       `json:"response_status"`
	Status         string     `json:"status"` // one of pending, succeeded, failed
}

// ExportedEvent is one line of an audit export.
type ExportedEvent struct {
	Action       string          `json:"action"`
	ActorReason  *string         `json:"actor_reason"`
	ActorTokenID *string         `json:"actor_token_id"`
	ActorUserID  *string         `json:"actor_user_id"`
	After        json.RawMessage `json:"after"`
	At           time.Time       `json:"at"`
	Before       json.RawMessage `json:"before"`
	Hash         string          `json:"hash"`
	ID           string          `json:"id"`
	IP           string          `json:"ip"`
	Notify       []string        `json:"notify"`
	OnBehalfOf   *string         `json:"on_behalf_of"`
	OrgID        *string         `json:"org_id"`
	PrevHash     string          `json:"prev_hash"`
	RequestID    string          `json:"request_id"`
	Seq          int             `json:"seq"`
	TargetID     string          `json:"target_id"`
	TargetType   string          `json:"target_type"`
	UserID       *string         `json:"user_id"`
	Via          string          `json:"via"`
	WorkspaceID  *string         `json:"workspace_id"`
}

// Introspection describes a bearer token.
type Introspection struct {
	Active      bool      `json:"active"`
	ExpiresAt   time.Time `json:"expires_at,omitempty"`
	Kind        string    `json:"kind,omitempty"` // one of personal, service, support
	TokenID     string    `json:"token_id,omitempty"`
	UserID      string    `json:"user_id,omitempty"`
	WorkspaceID string    `json:"workspace_id,omitempty"` // Set for support tokens: the only workspace they reach
}

// Invitation invites an email address into a workspace.
type Invitation struct {
	AcceptedAt  *time.Time `json:"accepted_at"`
	AcceptedBy  *string    `json:"accepted_by"`
	CreatedAt   time.Time  `json:"created_at"`
	Email       string     `json:"email"`
	ExpiresAt   time.Time  `json:"expires_at"`
	ID          string     `json:"id"`
	InvitedBy   *string    `json:"invited_by"`
	OrgID       string     `json:"org_id"`
	RevokedAt   *time.Time `json:"revoked_at"`
	Role        string     `json:"role"`   // one of owner, admin, member, external, viewer
	Status      string     `json:"status"` // one of pending, accepted, revoked, expired
	WorkspaceID string     `json:"workspace_id"`
}

// IssuedInvitation is an invitation with its accept secret, shown when it is issued.
type IssuedInvitation struct {
	Invitation
	AcceptURL string `json:"accept_url,omitempty"` // The host application's accept link, when one is configured
	Token     string `json:"token,omitempty"`      // The accept secret, shown only when it is issued (create, resend); a replay or an existing invitation omits it
}

// IssuedToken is a new token with its plaintext, shown once.
type IssuedToken struct {
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at"`
	Hint        string     `json:"hint"` // The last 4 characters of the token
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`         // one of personal, service, support
	LastUsedAt  *time.Time `json:"last_used_at"` // Updated at most once a minute
	Name        string     `json:"name"`
	Prefix      string     `json:"prefix"` // The first 8 characters of the token
	RevokedAt   *time.Time `json:"revoked_at"`
	Token       string     `json:"token,omitempty"` // The token itself. Shown only in this response; an idempotent replay omits it.
	UserID      string     `json:"user_id"`
	WorkspaceID *string    `json:"workspace_id"` // The one workspace a support token is restricted to
}

// Me is the caller, with a summary of their memberships.
type Me struct {
	ActingFor          bool                `json:"acting_for"` // True when a service token acts for this user
	CreatedAt          time.Time           `json:"created_at"`
	CurrentWorkspace   *Workspace          `json:"current_workspace,omitempty"` // The default workspace, while the user can reach it
	DefaultWorkspaceID *string             `json:"default_workspace_id"`
	DisplayName        string              `json:"display_name"`
	Email              *string             `json:"email"`
	ExternalID         *string             `json:"external_id"`
	ID                 string              `json:"id"`
	Memberships        []MembershipSummary `json:"memberships"`
	PlatformRole       string              `json:"platform_role"`   // one of none, support, admin
	Status             string              `json:"status"`          // one of active, suspended, deactivated
	Token              *TokenRef           `json:"token,omitempty"` // The token that authenticated this request
	UpdatedAt          time.Time           `json:"updated_at"`
}

// MemberUpdate sets a workspace member's role.
type MemberUpdate struct {
	ExpiresAt *time.Time `json:"expires_at,omitempty"` // When the membership ends; omit for none
	Role      string     `json:"role"`                 // one of owner, admin, member, external, viewer
}

// MembershipSummary is one of the caller's memberships.
type MembershipSummary struct {
	OrgID      string      `json:"org_id"`
	Role       *string     `json:"role"` // The caller's organisation role; null for externals; one of owner, admin, member, billing, None
	Workspaces []Workspace `json:"workspaces"`
}

// NewAccessRequest asks to join a workspace.
type NewAccessRequest struct {
	Message string `json:"message,omitempty"`
}

// NewCallback schedules a callback.due event.
type NewCallback struct {
	Payload   json.RawMessage `json:"payload,omitempty"`    // Any JSON, up to 64 KiB, carried by the event
	RunAt     time.Time       `json:"run_at"`               // When to deliver callback.due; a time past runs at once, at most a year ahead
	WebhookID string          `json:"webhook_id,omitempty"` // Deliver to this endpoint only; otherwise to every endpoint taking callback.due
}

// NewInvitation is the input of CreateInvitation.
type NewInvitation struct {
	Email     string `json:"email"`
	ExpiresIn int    `json:"expires_in,omitempty"` // Seconds; default 7 days, at most 30 days
	Role      string `json:"role"`                 // one of owner, admin, member, external, viewer
}

// NewOrg is the input of CreateOrg.
type NewOrg struct {
	Name      string           `json:"name"`
	OwnerID   string           `json:"owner_id,omitempty"`  // Staff and service tokens: the user who will own it
	Slug      string           `json:"slug"`                // Lowercase letters, digits and dashes; globally unique
	Workspace *NewOrgWorkspace `json:"workspace,omitempty"` // Create a first workspace in the same call
}

// NewOrgWorkspace is an organisation's first workspace, made with it.
type NewOrgWorkspace struct {
	Name string `json:"name"`
	Slug string `json:"slug"` // Lowercase letters, digits and dashes; unique in the organisation
}

// NewResource is the input of CreateResource.
type NewResource struct {
	ExternalID  string `json:"external_id"`
	Name        string `json:"name"`
	Type        string `json:"type"`                   // 1 to 63 lower-case letters, digits, '_', '.', '-'; starts with a letter
	WorkspaceID string `json:"workspace_id,omitempty"` // Default: the caller's only workspace where they are member or more; with none, a personal organisation and workspace are made for them
}

// NewToken is the input of the token-issuing calls.
type NewToken struct {
	ExpiresAt *time.Time `json:"expires_at,omitempty"` // When the token stops working (RFC 3339)
	ExpiresIn int        `json:"expires_in,omitempty"` // Seconds until the token stops working; instead of expires_at
	Kind      string     `json:"kind,omitempty"`       // personal (default) or service; only platform admins issue service tokens; one of personal, service
	Name      string     `json:"name,omitempty"`
}

// NewUser is the input of CreateUser.
type NewUser struct {
	DisplayName  string `json:"display_name,omitempty"`
	Email        string `json:"email,omitempty"`         // Unique, case-insensitively; omit for token-only users
	ExternalID   string `json:"external_id,omitempty"`   // The host application's id; unique when set
	PlatformRole string `json:"platform_role,omitempty"` // Only platform admins may set this; one of none, support, admin
	Status       string `json:"status,omitempty"`        // one of active, suspended, deactivated
}

// NewWebhook is the input of CreateWebhook.
type NewWebhook struct {
	Description string   `json:"description,omitempty"`
	EventTypes  []string `json:"event_types,omitempty"` // Event types to receive; all when absent or empty
	URL         string   `json:"url"`                   // http or https
}

// NewWorkspace is the input of CreateWorkspace.
type NewWorkspace struct {
	Name    string `json:"name"`
	OrgID   string `json:"org_id"`
	OwnerID string `json:"owner_id,omitempty"` // Staff and service tokens: the user who will own it
	Slug    string `json:"slug"`               // Lowercase letters, digits and dashes; unique in the organisation
}

// Org is an organisation: the customer account.
type Org struct {
	CreatedAt                  time.Time `json:"created_at"`
	ID                         string    `json:"id"`
	MembersCanCreateWorkspaces bool      `json:"members_can_create_workspaces"`
	Name                       string    `json:"name"`
	Plan                       Plan      `json:"plan"`
	Slug                       string    `json:"slug"`
	UpdatedAt                  time.Time `json:"updated_at"`
}

// OrgMember is a user's membership of an organisation.
type OrgMember struct {
	InvitedBy *string   `json:"invited_by"`
	JoinedAt  time.Time `json:"joined_at"`
	OrgID     string    `json:"org_id"`
	Role      string    `json:"role"` // one of owner, admin, member, billing
	UserID    string    `json:"user_id"`
}

// OrgMemberUpdate sets an organisation member's role.
type OrgMemberUpdate struct {
	Role string `json:"role"` // one of owner, admin, member, billing
}

// OrgUpdate changes an organisation; nil fields are left as they are.
type OrgUpdate struct {
	MembersCanCreateWorkspaces *bool   `json:"members_can_create_workspaces,omitempty"`
	Name                       *string `json:"name,omitempty"`
	Slug                       *string `json:"slug,omitempty"`
}

// Plan is an organisation's seat plan.
type Plan struct {
	FreeRoles     []string `json:"free_roles"`
	OwnerSeatFree bool     `json:"owner_seat_free"`
	SeatCap       *int     `json:"seat_cap"` // null: unlimited
}

// PlanUpdate sets an organisation's plan.
type PlanUpdate struct {
	FreeRoles     []string `json:"free_roles,omitempty"` // Default [viewer]
	OwnerSeatFree *bool    `json:"owner_seat_free,omitempty"`
	SeatCap       *int     `json:"seat_cap"` // null: unlimited
}

// Resource is a thing of the host application that one workspace owns, with the caller's role on it when listed for them.
type Resource struct {
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   *string   `json:"created_by"`
	ExternalID  string    `json:"external_id"` // The host application's id for it; unique per type
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	OrgID       string    `json:"org_id"`
	Role        string    `json:"role,omitempty"` // The caller's effective role on it; one of owner, admin, member, external, viewer, None
	Type        string    `json:"type"`
	Via         string    `json:"via,omitempty"` // Where that role comes from; one of direct, org_owner, org_admin, share, guest, support, None
	WorkspaceID string    `json:"workspace_id"`  // The workspace that owns it
}

// ResourceRef names a resource by the host application's type and id.
type ResourceRef struct {
	ExternalID string `json:"external_id"`
	Type       string `json:"type"`
}

// ResourceRename is the input of RenameResource.
type ResourceRename struct {
	Name string `json:"name"`
}

// ResourceTransfer is the input of TransferResource.
type ResourceTransfer struct {
	ToWorkspaceID string `json:"to_workspace_id"`
}

// SeatPreview tells how many seats inviting some emails would take.
type SeatPreview struct {
	AlreadyPending []string `json:"already_pending"`
	AlreadySeated  []string `json:"already_seated"`
	NetNewSeats    int      `json:"net_new_seats"`
}

// SeatPreviewRequest is the input of PreviewSeats.
type SeatPreviewRequest struct {
	Emails []string `json:"emails"`
	Role   string   `json:"role"` // one of owner, admin, member, external, viewer
}

// Seats are an organisation's seat counts.
type Seats struct {
	Available *int           `json:"available"` // cap - used - pending, never below 0; null when unlimited
	Breakdown map[string]int `json:"breakdown"` // How many seats each role accounts for (a user's highest paid role)
	Cap       *int           `json:"cap"`       // null: unlimited
	FreeRoles []string       `json:"free_roles"`
	Pending   int            `json:"pending"` // Seats that pending invitations would take
	Used      int            `json:"used"`
}

// Settings are a workspace's settings.
type Settings struct {
	AllowSupportAccess bool              `json:"allow_support_access"`
	Values             map[string]string `json:"values"`
}

// SettingsUpdate changes a workspace's settings; nil fields are left as they are.
type SettingsUpdate struct {
	AllowSupportAccess *bool          `json:"allow_support_access,omitempty"`
	Values             map[string]any `json:"values,omitempty"`
}

// Share gives a workspace or a guest user a role on one resource.
type Share struct {
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   *string   `json:"created_by"`
	GranteeID   string    `json:"grantee_id"`   // The workspace (ws_…) or the guest user (usr_…)
	GranteeKind string    `json:"grantee_kind"` // one of workspace, user
	ResourceID  string    `json:"resource_id"`
	Role        string    `json:"role"` // one of editor, viewer
}

// ShareUpdate sets a share's role.
type ShareUpdate struct {
	Role string `json:"role"` // one of editor, viewer
}

// SupportJoin is the input of JoinSupport: why, and for how long.
type SupportJoin struct {
	Duration int    `json:"duration,omitempty"` // Whole seconds; default 86400 (24 hours), at most 604800 (7 days)
	Reason   string `json:"reason,omitempty"`   // Required: why support needs access (1 to 500 characters). Shown to the customer and kept in the audit log.
}

// SupportJoined is the outcome of JoinSupport.
type SupportJoined struct {
	Session *SupportSession `json:"session"` // Null for already_member
	Status  string          `json:"status"`  // one of granted, extended, already_member
}

// SupportSession is a staff member's consented, time-boxed access to a workspace.
type SupportSession struct {
	Active      bool       `json:"active"`
	EndReason   *string    `json:"end_reason"` // Why it ended; one of left, expired, swept, support_disabled, removed, staff_suspended, staff_demoted, workspace_deleted, None
	EndedAt     *time.Time `json:"ended_at"`   // When it ended; null while it has not
	ExpiresAt   time.Time  `json:"expires_at"` // When access ends, unless it ends earlier
	ID          string     `json:"id"`
	OrgID       string     `json:"org_id"`
	Reason      string     `json:"reason"` // Why the staff member stepped in, in their words
	Role        string     `json:"role"`   // The role the session grants; one of owner, admin, member, external, viewer
	StartedAt   time.Time  `json:"started_at"`
	Token       string     `json:"token,omitempty"` // The support token (rst_sup_…), on granted and extended only: shown once; it reaches only this workspace
	UserID      string     `json:"user_id"`         // The staff member
	WorkspaceID string     `json:"workspace_id"`
}

// SupportState is the caller's support session in a workspace, if any.
type SupportState struct {
	Active  bool            `json:"active"`
	Session *SupportSession `json:"session"` // The caller's active session; null when none is
}

// Task is one of Roster's durable tasks.
type Task struct {
	Attempts    int             `json:"attempts"`
	CreatedAt   time.Time       `json:"created_at"`
	FinishedAt  *time.Time      `json:"finished_at"` // When it completed, failed for good or was cancelled
	ID          string          `json:"id"`
	LastError   *string         `json:"last_error"` // Why the last attempt failed
	MaxAttempts int             `json:"max_attempts"`
	Payload     json.RawMessage `json:"payload"` // What the task was made for
	RunAt       time.Time       `json:"run_at"`  // When it is (or was) due
	Status      string          `json:"status"`  // one of scheduled, processing, completed, failed, cancelled
	Type        string          `json:"type"`    // one of membership_expiry, invitation_expiry, seat_recheck, webhook_delivery, callback, support_session_end, support_sweep
}

// Token is a bearer token (never its plaintext).
type Token struct {
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at"`
	Hint        string     `json:"hint"` // The last 4 characters of the token
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`         // one of personal, service, support
	LastUsedAt  *time.Time `json:"last_used_at"` // Updated at most once a minute
	Name        string     `json:"name"`
	Prefix      string     `json:"prefix"` // The first 8 characters of the token
	RevokedAt   *time.Time `json:"revoked_at"`
	UserID      string     `json:"user_id"`
	WorkspaceID *string    `json:"workspace_id"` // The one workspace a support token is restricted to
}

// TokenRef is the token that authenticated a request.
type TokenRef struct {
	ExpiresAt *time.Time `json:"expires_at"`
	ID        string     `json:"id"`
	Kind      string     `json:"kind"` // one of personal, service, support
}

// User is a user of the host application.
type User struct {
	CreatedAt          time.Time `json:"created_at"`
	DefaultWorkspaceID *string   `json:"default_workspace_id"`
	DisplayName        string    `json:"display_name"`
	Email              *string   `json:"email"`
	ExternalID         *string   `json:"external_id"`
	ID                 string    `json:"id"`
	PlatformRole       string    `json:"platform_role"` // one of none, support, admin
	Status             string    `json:"status"`        // one of active, suspended, deactivated
	UpdatedAt          time.Time `json:"updated_at"`
}

// UserUpdate changes a user; nil fields are left as they are.
type UserUpdate struct {
	DefaultWorkspaceID *string `json:"default_workspace_id,omitempty"`
	DisplayName        *string `json:"display_name,omitempty"`
	Email              *string `json:"email,omitempty"`
	ExternalID         *string `json:"external_id,omitempty"`
	PlatformRole       *string `json:"platform_role,omitempty"` // one of none, support, admin
	Status             *string `json:"status,omitempty"`        // one of active, suspended, deactivated
}

// Webhook is an endpoint that receives events.
type Webhook struct {
	CreatedAt   time.Time  `json:"created_at"`
	Description string     `json:"description"`
	Disabled    bool       `json:"disabled"` // Disabled after failing for 5 days in a row
	DisabledAt  *time.Time `json:"disabled_at"`
	EventTypes  []string   `json:"event_types"` // The event types it receives; empty: all
	ID          string     `json:"id"`
	Secret      string     `json:"secret,omitempty"` // whsec_…: shown once, when created or rotated
	URL         string     `json:"url"`
}

// Workspace is a team inside an organisation, with the caller's effective role when listed for them.
type Workspace struct {
	ArchivedAt *time.Time `json:"archived_at"`
	CreatedAt  time.Time  `json:"created_at"`
	Derived    bool       `json:"derived"`    // True when the role comes from the organisation
	ExpiresAt  *time.Time `json:"expires_at"` // When the caller's direct membership ends
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	OrgID      string     `json:"org_id"`
	Role       *string    `json:"role"` // The caller's effective role; null for staff and services; one of owner, admin, member, external, viewer, None
	Slug       string     `json:"slug"`
	UpdatedAt  time.Time  `json:"updated_at"`
	Via        *string    `json:"via"` // Where the role comes from; one of direct, org_owner, org_admin, share, guest, support, None
}

// WorkspaceMember is a workspace member, direct or derived from an organisation role.
type WorkspaceMember struct {
	Derived   bool       `json:"derived"` // True when the role comes from the organisation
	ExpiresAt *time.Time `json:"expires_at"`
	InvitedBy *string    `json:"invited_by"`
	JoinedAt  time.Time  `json:"joined_at"`
	Role      string     `json:"role"`   // one of owner, admin, member, external, viewer
	Source    *string    `json:"source"` // How the direct membership came to be; null for derived roles; one of direct, invite, access_request, staff_support, None
	UserID    string     `json:"user_id"`
}

// WorkspaceUpdate changes a workspace; nil fields are left as they are.
type WorkspaceUpdate struct {
	Name *string `json:"name,omitempty"`
	Slug *string `json:"slug,omitempty"`
}
