package roster

import (
	"context"
	"iter"
	"time"
)

// Services is everything Roster offers its front ends (the HTTP API, the
// command line). Every call reads its caller from ctx (WithActor) and
// decides what that caller may do; service.Service implements it.
type Services interface {
	Authenticator
	AccessChecker
	UserService
	TokenIssuer
	OrgService
	WorkspaceService
	MemberService
	InvitationService
	SeatService
	AuditService
	TaskService
	EventService
	WebhookService
	SupportService
	ResourceService
	ImportService
	ConsoleService
	Hearing
	Stats
}

// Authenticator turns credentials into callers.
type Authenticator interface {
	// Authenticate turns a bearer token (and, for service tokens, the user
	// it acts for) into an actor.
	Authenticate(ctx context.Context, bearer, onBehalfOf string) (Actor, error)
	// Introspect tells a service whether a token is live and whose it is.
	Introspect(ctx context.Context, plaintext string) (Introspection, error)
}

// AccessChecker answers "may this user do this, here, now?".
type AccessChecker interface {
	Check(ctx context.Context, req CheckRequest) (Decision, error)
	CheckBatch(ctx context.Context, reqs []CheckRequest) ([]Decision, error)
}

// UserService manages users, and tells callers about themselves.
type UserService interface {
	Me(ctx context.Context) (Me, error)
	CreateUser(ctx context.Context, in NewUser) (User, error)
	GetUser(ctx context.Context, id string) (User, error)
	ListUsers(ctx context.Context, f UserFilter, p Page) ([]User, string, error)
	UpdateUser(ctx context.Context, id string, p UserPatch) (User, error)
	DeleteUser(ctx context.Context, id string) error
	SetDefaultWorkspace(ctx context.Context, wsID string) (User, error)
}

// TokenIssuer issues and revokes tokens.
type TokenIssuer interface {
	CreateMyToken(ctx context.Context, in TokenRequest) (CreatedToken, error)
	CreateUserToken(ctx context.Context, userID string, in TokenRequest) (CreatedToken, error)
	ListMyTokens(ctx context.Context, p Page) ([]Token, string, error)
	ListUserTokens(ctx context.Context, userID string, p Page) ([]Token, string, error)
	RevokeMyToken(ctx context.Context, tokenID string) error
	RevokeUserToken(ctx context.Context, userID, tokenID string) error
}

// OrgService manages organisations and their directories.
type OrgService interface {
	// CreateOrg returns the first workspace too when in asks for one.
	CreateOrg(ctx context.Context, in NewOrg) (Org, *WorkspaceView, error)
	GetOrg(ctx context.Context, id string) (Org, error)
	ListOrgs(ctx context.Context, f OrgFilter, p Page) ([]Org, string, error)
	UpdateOrg(ctx context.Context, id string, p OrgPatch) (Org, error)
	DeleteOrg(ctx context.Context, id string) error
}

// WorkspaceService manages workspaces and their settings.
type WorkspaceService interface {
	CreateWorkspace(ctx context.Context, in NewWorkspace) (WorkspaceView, error)
	GetWorkspace(ctx context.Context, id string) (WorkspaceView, error)
	ListWorkspaces(ctx context.Context, f WorkspaceFilter, p Page) ([]WorkspaceView, string, error)
	ListUserWorkspaces(ctx context.Context, userID string, f WorkspaceFilter, p Page) ([]WorkspaceView, string, error)
	UpdateWorkspace(ctx context.Context, id string, p WorkspacePatch) (WorkspaceView, error)
	SetArchived(ctx context.Context, id string, archived bool) (WorkspaceView, error)
	DeleteWorkspace(ctx context.Context, id string) error
	GetSettings(ctx context.Context, id string) (Workspace, error)
	UpdateSettings(ctx context.Context, id string, p SettingsPatch) (Workspace, error)
}

// MemberService manages memberships of organisations and workspaces. The
// Put methods report whether they created the membership.
type MemberService interface {
	ListOrgMembers(ctx context.Context, orgID string, p Page) ([]OrgMembership, string, error)
	PutOrgMember(ctx context.Context, orgID, userID, role string) (OrgMembership, bool, error)
	RemoveOrgMember(ctx context.Context, orgID, userID string) error
	ListWorkspaceMembers(ctx context.Context, wsID string, includeSupport bool, p Page) ([]Member, string, error)
	PutWorkspaceMember(ctx context.Context, wsID, userID, role string, expiresAt *time.Time) (WorkspaceMembership, bool, error)
	RemoveWorkspaceMember(ctx context.Context, wsID, userID string) error
}

// InvitationService invites people and handles their requests to join.
type InvitationService interface {
	Invite(ctx context.Context, wsID string, in NewInvitation) (IssuedInvitation, error)
	ListInvitations(ctx context.Context, wsID string, status InvitationStatus, p Page) ([]Invitation, string, error)
	MyInvitations(ctx context.Context, p Page) ([]Invitation, string, error)
	RevokeInvitation(ctx context.Context, wsID, id string) error
	ResendInvitation(ctx context.Context, wsID, id string) (IssuedInvitation, error)
	// AcceptInvitation accepts by the invitation's secret or by its id.
	AcceptInvitation(ctx context.Context, secret, id string) (Accepted, error)
	// RequestAccess reports whether it created the request.
	RequestAccess(ctx context.Context, wsID, message string) (AccessRequest, bool, error)
	ListAccessRequests(ctx context.Context, wsID string, status AccessRequestStatus, p Page) ([]AccessRequest, string, error)
	DecideAccessRequest(ctx context.Context, wsID, id string, approve bool, role string) (AccessRequest, error)
}

// SeatService counts seats and sets plans.
type SeatService interface {
	GetSeats(ctx context.Context, orgID string) (Seats, error)
	PreviewSeats(ctx context.Context, orgID string, emails []string, role string) (Preview, error)
	SetPlan(ctx context.Context, orgID string, in PlanInput) (Org, error)
}

// AuditService reads the audit log.
type AuditService interface {
	ListAudit(ctx context.Context, f AuditFilter, p Page) ([]AuditEvent, string, error)
	// ExportAudit decides whether the caller may read what f selects and
	// returns every sealed event it selects, oldest first, with its seal.
	ExportAudit(ctx context.Context, f AuditFilter) (iter.Seq2[AuditEvent, error], error)
	// VerifyAudit walks the whole chain (platform admins).
	VerifyAudit(ctx context.Context) (Verification, error)
}

// TaskService shows operators Roster's durable work and lets them cancel
// and retry it.
type TaskService interface {
	ListTasks(ctx context.Context, f TaskFilter, p Page) ([]Task, string, error)
	GetTask(ctx context.Context, id string) (Task, error)
	CancelTask(ctx context.Context, id string) (Task, error)
	RetryTask(ctx context.Context, id string) (Task, error)
}

// EventService streams changes to those who may see them.
type EventService interface {
	// WatchEvents starts a watch after the event lastEventID (from now when
	// empty) of the given types (all when none).
	WatchEvents(ctx context.Context, lastEventID string, types []string) (EventWatch, error)
}

// EventWatch is one caller's view of the event stream.
type EventWatch interface {
	// Next returns the next event the caller may see; false when none came
	// within wait.
	Next(ctx context.Context, wait time.Duration) (Event, bool, error)
	Close()
}

// WebhookService manages the host application's endpoints and callbacks.
type WebhookService interface {
	CreateWebhook(ctx context.Context, in NewWebhook) (Webhook, error)
	ListWebhooks(ctx context.Context, p Page) ([]Webhook, string, error)
	GetWebhook(ctx context.Context, id string) (Webhook, error)
	DeleteWebhook(ctx context.Context, id string) error
	RotateWebhookSecret(ctx context.Context, id string) (Webhook, error)
	ListDeliveries(ctx context.Context, webhookID string, p Page) ([]Delivery, string, error)
	CreateCallback(ctx context.Context, in NewCallback) (Task, error)
}

// Stats are what a replica reports in its metrics.
type Stats interface {
	// StreamClients counts the event streams this replica serves.
	StreamClients() int
	// Deliveries counts this replica's webhook delivery attempts by
	// outcome: succeeded, retried, failed.
	Deliveries() map[string]uint64
	// CountTasks counts every replica's tasks by type and status.
	CountTasks(ctx context.Context) (map[TaskType]map[TaskStatus]int, error)
}

// Hearing tells whether a replica hears the others' cache invalidations.
type Hearing interface {
	// Hearing is nil while the replica's caches are known to be current.
	Hearing() error
	// ListenerDrops counts the times the listening connection was lost.
	ListenerDrops() uint64
}
