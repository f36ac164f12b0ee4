package roster

import (
	"context"
	"regexp"
	"time"
)

// ID prefixes of organisations, workspaces and memberships.
const (
	PrefixOrg        = "org_"
	PrefixWorkspace  = "ws_"
	PrefixMembership = "mbr_"
)

// slugPattern is DOMAIN rule 6.
var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$`)

// CheckSlug validates a slug.
func CheckSlug(s string) error {
	if !slugPattern.MatchString(s) {
		return Errorf(KindInvalid, CodeInvalidSlug, "slug must be 3 to 64 lowercase letters, digits or dashes, not starting or ending with a dash").
			With("field", "slug")
	}
	return nil
}

// MaxNameLen bounds organisation and workspace names.
const MaxNameLen = 200

// Org is an organisation: the billing and directory entity.
type Org struct {
	ID                         string
	Name                       string
	Slug                       string
	MembersCanCreateWorkspaces bool
	Plan                       Plan
	CreatedAt                  time.Time
	UpdatedAt                  time.Time
	DeletedAt                  *time.Time
}

// Workspace is a team inside an organisation.
type Workspace struct {
	ID                 string
	OrgID              string
	Name               string
	Slug               string
	AllowSupportAccess bool
	Values             map[string]string // free key/values of the host application
	ArchivedAt         *time.Time
	CreatedAt          time.Time
	UpdatedAt          time.Time
	DeletedAt          *time.Time
}

// MembershipSource says how a workspace membership came to be.
type MembershipSource string

const (
	SourceDirect        MembershipSource = "direct"
	SourceInvite        MembershipSource = "invite"
	SourceAccessRequest MembershipSource = "access_request"
	SourceStaffSupport  MembershipSource = "staff_support"
)

// MembershipSources lists every source.
var MembershipSources = []MembershipSource{SourceDirect, SourceInvite, SourceAccessRequest, SourceStaffSupport}

// OrgMembership is a user's membership of an organisation.
type OrgMembership struct {
	ID        string
	OrgID     string
	UserID    string
	Role      OrgRole
	JoinedAt  time.Time
	InvitedBy *string
	UpdatedAt time.Time
	DeletedAt *time.Time
}

// WorkspaceMembership is a user's direct membership of a workspace.
type WorkspaceMembership struct {
	ID          string
	WorkspaceID string
	OrgID       string
	UserID      string
	Role        WorkspaceRole
	Source      MembershipSource
	JoinedAt    time.Time
	InvitedBy   *string
	ExpiresAt   *time.Time
	UpdatedAt   time.Time
	DeletedAt   *time.Time
}

// Live reports whether the membership grants anything at now.
func (m WorkspaceMembership) Live(now time.Time) bool {
	return m.DeletedAt == nil && (m.ExpiresAt == nil || now.Before(*m.ExpiresAt))
}

// LiveOwner reports whether the membership makes its user one of the
// workspace's own owners at now: a live owner membership that is not a
// staff support session (staff never own a customer's workspace).
func (m WorkspaceMembership) LiveOwner(now time.Time) bool {
	return m.Live(now) && m.Role == RoleOwner && m.Source != SourceStaffSupport
}

// OrgFilter narrows an organisation list.
type OrgFilter struct {
	MemberID string // only organisations this user belongs to
	Slug     string
	Query    string // case-insensitive substring of name or slug
}

// WorkspaceFilter narrows a workspace list.
type WorkspaceFilter struct {
	OrgID           string
	Slug            string
	MemberID        string // only workspaces of organisations this user belongs to, or where they hold a membership
	IncludeArchived bool
}

// MemberFilter selects a workspace's direct memberships.
type MemberFilter struct {
	IncludeSupport bool      // staff support sessions too
	LiveAt         time.Time // when set, only memberships not expired at this time
}

// OrgStore reads organisations, workspaces and memberships.
type OrgStore interface {
	GetOrg(ctx context.Context, id string) (Org, error)
	ListOrgs(ctx context.Context, f OrgFilter, p Page) ([]Org, error)
	GetWorkspace(ctx context.Context, id string) (Workspace, error)
	ListWorkspaces(ctx context.Context, f WorkspaceFilter, p Page) ([]Workspace, error)
	GetOrgMembership(ctx context.Context, orgID, userID string) (OrgMembership, error)
	// ListOrgMembers pages live memberships by user id; roles, when given,
	// keeps only those roles.
	ListOrgMembers(ctx context.Context, orgID string, roles []OrgRole, p Page) ([]OrgMembership, error)
	// ListUserOrgMemberships returns every live organisation membership of a user.
	ListUserOrgMemberships(ctx context.Context, userID string) ([]OrgMembership, error)
	GetWorkspaceMembership(ctx context.Context, workspaceID, userID string) (WorkspaceMembership, error)
	// ListWorkspaceMembers pages the direct memberships of a workspace that
	// are not deleted, by user id, as the filter says.
	ListWorkspaceMembers(ctx context.Context, workspaceID string, f MemberFilter, p Page) ([]WorkspaceMembership, error)
	// ListUserWorkspaceMemberships returns every live workspace membership of a user.
	ListUserWorkspaceMemberships(ctx context.Context, userID string) ([]WorkspaceMembership, error)
	// ListUserOrgWorkspaceMemberships returns a user's live memberships of
	// the organisation's workspaces that exist, leaving out those of
	// archived workspaces unless includeArchived.
	ListUserOrgWorkspaceMemberships(ctx context.Context, orgID, userID string, includeArchived bool) ([]WorkspaceMembership, error)
	// ListOrgOwners returns the live owner memberships of an organisation.
	ListOrgOwners(ctx context.Context, orgID string) ([]OrgMembership, error)
	// ListWorkspaceOwners returns the live direct owner memberships of a workspace.
	ListWorkspaceOwners(ctx context.Context, workspaceID string) ([]WorkspaceMembership, error)
}

// OrgWriter changes organisations, workspaces and memberships.
type OrgWriter interface {
	// LockOrg serialises writers of one organisation's memberships for the
	// rest of the transaction (only a read where transactions are serial
	// anyway) and returns the organisation as it is now.
	LockOrg(ctx context.Context, orgID string) (Org, error)
	// LockWorkspaceOrg is LockOrg for the organisation of a live workspace;
	// it returns the organisation's id. Read the workspace after it: it
	// may have changed while the lock was awaited.
	LockWorkspaceOrg(ctx context.Context, workspaceID string) (string, error)
	CreateOrg(ctx context.Context, o Org) error
	UpdateOrg(ctx context.Context, o Org) error
	CreateWorkspace(ctx context.Context, w Workspace) error
	UpdateWorkspace(ctx context.Context, w Workspace) error
	// CreateOrgMembership inserts m unless a live one exists for the same
	// organisation and user; it reports whether it inserted.
	CreateOrgMembership(ctx context.Context, m OrgMembership) (bool, error)
	UpdateOrgMembership(ctx context.Context, m OrgMembership) error
	// CreateWorkspaceMembership inserts m unless a live one exists for the same
	// workspace and user; it reports whether it inserted.
	CreateWorkspaceMembership(ctx context.Context, m WorkspaceMembership) (bool, error)
	UpdateWorkspaceMembership(ctx context.Context, m WorkspaceMembership) error
	// DeleteUserOrgWorkspaceMemberships soft-deletes a user's memberships in
	// every workspace of an organisation and returns them as they were.
	DeleteUserOrgWorkspaceMemberships(ctx context.Context, orgID, userID string, at time.Time) ([]WorkspaceMembership, error)
	// DeleteOrg soft-deletes an organisation with its workspaces and all
	// their memberships.
	DeleteOrg(ctx context.Context, orgID string, at time.Time) error
	// DeleteWorkspace soft-deletes a workspace with its memberships.
	DeleteWorkspace(ctx context.Context, workspaceID string, at time.Time) error
}

// NewOrg is the input of CreateOrg.
type NewOrg struct {
	Name    string
	Slug    string
	OwnerID string // staff and service tokens create organisations for a user
	// FirstWorkspace, when set, is created in the same transaction.
	FirstWorkspace *NewWorkspace
}

// OrgPatch is the input of UpdateOrg.
type OrgPatch struct {
	Name                       Patch[string]
	Slug                       Patch[string]
	MembersCanCreateWorkspaces Patch[bool]
}

// Member is one entry of a workspace's member list: a direct membership,
// or a role derived from the organisation (Derived), whichever is higher.
type Member struct {
	UserID    string
	Role      WorkspaceRole
	Derived   bool
	Source    MembershipSource // "" for derived entries
	JoinedAt  time.Time
	InvitedBy *string
	ExpiresAt *time.Time
}

// NewWorkspace is the input of CreateWorkspace.
type NewWorkspace struct {
	OrgID   string
	Name    string
	Slug    string
	OwnerID string // staff and service tokens may create workspaces for a user
}

// WorkspacePatch is the input of UpdateWorkspace.
type WorkspacePatch struct {
	Name Patch[string]
	Slug Patch[string]
}

// SettingsPatch changes workspace settings; a nil value deletes its key.
type SettingsPatch struct {
	AllowSupportAccess Patch[bool]
	Values             map[string]*string
}

// WorkspaceView is a workspace with the caller's effective access to it.
type WorkspaceView struct {
	Workspace Workspace
	Access    Access
}
