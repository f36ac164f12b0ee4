package roster

import "slices"

// This file is the role table: the only place that knows the order of roles
// and what each may do. Everything else asks it.

// WorkspaceRole is a user's role in one workspace.
type WorkspaceRole string

const (
	RoleOwner    WorkspaceRole = "owner"
	RoleAdmin    WorkspaceRole = "admin"
	RoleMember   WorkspaceRole = "member"
	RoleExternal WorkspaceRole = "external"
	RoleViewer   WorkspaceRole = "viewer"
)

// WorkspaceRoles lists workspace roles from highest to lowest. A role's
// place in this list is its rank; nothing else encodes the order.
var WorkspaceRoles = []WorkspaceRole{RoleOwner, RoleAdmin, RoleMember, RoleExternal, RoleViewer}

// ParseWorkspaceRole validates a workspace role from input.
func ParseWorkspaceRole(s string) (WorkspaceRole, error) {
	return parseEnum(s, WorkspaceRoles, CodeInvalidRole, "role")
}

// rank is higher for more powerful roles; 0 means no role.
func (r WorkspaceRole) rank() int {
	for i, role := range WorkspaceRoles {
		if role == r {
			return len(WorkspaceRoles) - i
		}
	}
	return 0
}

// AtLeast reports whether r is min or above it.
func (r WorkspaceRole) AtLeast(min WorkspaceRole) bool { return r.rank() > 0 && r.rank() >= min.rank() }

// Max returns the higher of two roles ("" is lower than any role).
func (r WorkspaceRole) Max(o WorkspaceRole) WorkspaceRole {
	if o.rank() > r.rank() {
		return o
	}
	return r
}

// Permission is an action on a workspace or its resources.
type Permission string

const (
	PermWorkspaceRead       Permission = "workspace.read"
	PermMembersRead         Permission = "members.read"
	PermResourcesRead       Permission = "resources.read" // workspace.read, said of one resource
	PermResourcesWrite      Permission = "resources.write"
	PermResourcesDelete     Permission = "resources.delete"
	PermResourcesShare      Permission = "resources.share"
	PermMembersManage       Permission = "members.manage"
	PermWorkspaceSettings   Permission = "workspace.settings.manage"
	PermWorkspaceUpdate     Permission = "workspace.update"
	PermWorkspaceArchive    Permission = "workspace.archive"
	PermMembersManageOwners Permission = "members.manage_owners"
	PermWorkspaceDelete     Permission = "workspace.delete"
	PermResourcesTransfer   Permission = "resources.transfer"
	PermEventsRead          Permission = "events.read" // the workspace's events on the stream
)

// permissionMinimum is DOMAIN §2's permission table: the lowest workspace role
// that holds each permission (every higher role holds it too).
var permissionMinimum = map[Permission]WorkspaceRole{
	PermWorkspaceRead:       RoleViewer,
	PermMembersRead:         RoleExternal,
	PermResourcesRead:       RoleViewer,
	PermResourcesWrite:      RoleExternal,
	PermResourcesDelete:     RoleMember,
	PermResourcesShare:      RoleMember,
	PermMembersManage:       RoleAdmin,
	PermWorkspaceSettings:   RoleAdmin,
	PermWorkspaceUpdate:     RoleAdmin,
	PermWorkspaceArchive:    RoleAdmin,
	PermMembersManageOwners: RoleOwner,
	PermWorkspaceDelete:     RoleOwner,
	PermResourcesTransfer:   RoleOwner,
	PermEventsRead:          RoleAdmin,
}

// Permissions lists every built-in permission in table order.
var Permissions = []Permission{
	PermWorkspaceRead, PermMembersRead, PermResourcesRead, PermResourcesWrite, PermResourcesDelete, PermResourcesShare,
	PermMembersManage, PermWorkspaceSettings, PermWorkspaceUpdate, PermWorkspaceArchive,
	PermMembersManageOwners, PermWorkspaceDelete, PermResourcesTransfer, PermEventsRead,
}

// MinimumRole returns the lowest role holding p, and whether p is known.
func MinimumRole(p Permission) (WorkspaceRole, bool) {
	r, ok := permissionMinimum[p]
	return r, ok
}

// Can reports whether role r holds permission p.
func (r WorkspaceRole) Can(p Permission) bool {
	min, ok := permissionMinimum[p]
	return ok && r.AtLeast(min)
}

// OrgRole is a user's role in an organisation.
type OrgRole string

const (
	OrgOwner   OrgRole = "owner"
	OrgAdmin   OrgRole = "admin"
	OrgMember  OrgRole = "member"
	OrgBilling OrgRole = "billing"
)

// OrgRoles lists organisation roles, highest first (billing stands apart:
// it sees seats and plan only).
var OrgRoles = []OrgRole{OrgOwner, OrgAdmin, OrgMember, OrgBilling}

// ParseOrgRole validates an organisation role from input.
func ParseOrgRole(s string) (OrgRole, error) {
	return parseEnum(s, OrgRoles, CodeInvalidRole, "role")
}

// DerivedWorkspaceRole is the role an organisation role gives on every
// workspace of the organisation: owners own them, admins administer them,
// members and billing get nothing by themselves.
func (r OrgRole) DerivedWorkspaceRole() WorkspaceRole {
	switch r {
	case OrgOwner:
		return RoleOwner
	case OrgAdmin:
		return RoleAdmin
	}
	return ""
}

// OrgPermission is an action on an organisation itself.
type OrgPermission string

const (
	OrgPermRead             OrgPermission = "org.read"           // see the organisation
	OrgPermDirectory        OrgPermission = "org.members.read"   // see the member directory
	OrgPermUpdate           OrgPermission = "org.update"         // name, slug
	OrgPermDelete           OrgPermission = "org.delete"         // delete the organisation
	OrgPermMembersManage    OrgPermission = "org.members.manage" // add, change, remove non-owners
	OrgPermOwnersManage     OrgPermission = "org.members.manage_owners"
	OrgPermBilling          OrgPermission = "org.billing"           // seats and plan
	OrgPermCreateWorkspaces OrgPermission = "org.workspaces.create" // unless the organisation forbids members
	OrgPermEvents           OrgPermission = "org.events.read"       // the organisation's events on the stream
	OrgPermAudit            OrgPermission = "org.audit.read"        // the organisation's audit log
)

// orgPermissionRoles is DOMAIN §2's organisation table. Billing is not
// below member in any order: it holds billing and nothing else.
var orgPermissionRoles = map[OrgPermission][]OrgRole{
	OrgPermRead:             {OrgOwner, OrgAdmin, OrgMember, OrgBilling},
	OrgPermDirectory:        {OrgOwner, OrgAdmin, OrgMember},
	OrgPermUpdate:           {OrgOwner, OrgAdmin},
	OrgPermDelete:           {OrgOwner},
	OrgPermMembersManage:    {OrgOwner, OrgAdmin},
	OrgPermOwnersManage:     {OrgOwner},
	OrgPermBilling:          {OrgOwner, OrgAdmin, OrgBilling},
	OrgPermCreateWorkspaces: {OrgOwner, OrgAdmin, OrgMember},
	OrgPermEvents:           {OrgOwner, OrgAdmin},
	OrgPermAudit:            {OrgOwner, OrgAdmin},
}

// IsOrgPermission reports whether p is a known organisation permission.
func IsOrgPermission(p OrgPermission) bool {
	_, ok := orgPermissionRoles[p]
	return ok
}

// OrgPermissions lists every organisation permission.
var OrgPermissions = []OrgPermission{OrgPermRead, OrgPermDirectory, OrgPermUpdate, OrgPermDelete,
	OrgPermMembersManage, OrgPermOwnersManage, OrgPermBilling, OrgPermCreateWorkspaces, OrgPermEvents, OrgPermAudit}

// Can reports whether org role r holds permission p.
func (r OrgRole) Can(p OrgPermission) bool {
	return slices.Contains(orgPermissionRoles[p], r)
}

// ExternalAllowed reports whether a user with no membership of a workspace's
// organisation may hold role r there (DOMAIN §2's external invariant):
// outsiders are external or viewer, nothing more.
func ExternalAllowed(r WorkspaceRole) bool { return r == RoleExternal || r == RoleViewer }
