package roster

import "time"

// AccessVia says where an effective workspace role comes from.
type AccessVia string

const (
	AccessDirect   AccessVia = "direct"    // a workspace membership
	AccessOrgOwner AccessVia = "org_owner" // derived: organisation owners own every workspace
	AccessOrgAdmin AccessVia = "org_admin" // derived: organisation admins administer every workspace
	AccessShare    AccessVia = "share"
	AccessGuest    AccessVia = "guest"
	AccessSupport  AccessVia = "support" // a staff support session
)

// AccessVias lists every source of access.
var AccessVias = []AccessVia{AccessDirect, AccessOrgOwner, AccessOrgAdmin, AccessShare, AccessGuest, AccessSupport}

// Access is a user's effective role in one workspace at one instant.
type Access struct {
	Role      WorkspaceRole // "" when the user has no access
	Via       AccessVia
	ExpiresAt *time.Time // when a direct membership ends, if it does
}

// Derived reports whether the role comes from the organisation, not a row.
func (a Access) Derived() bool { return a.Via == AccessOrgOwner || a.Via == AccessOrgAdmin }

// EffectiveAccess is DOMAIN §2's rule: the higher of the direct membership
// (if it has not expired at now) and the role derived from the organisation
// membership. Either may be nil. It is the one place that breaks a tie:
// checks, member lists and authority all answer what it answers.
func EffectiveAccess(direct *WorkspaceMembership, org *OrgMembership, now time.Time) Access {
	var a Access
	if direct != nil && direct.Live(now) {
		a = Access{Role: direct.Role, Via: AccessDirect, ExpiresAt: direct.ExpiresAt}
		if direct.Source == SourceStaffSupport {
			a.Via = AccessSupport
		}
	}
	if org != nil && org.DeletedAt == nil {
		derived := org.Role.DerivedWorkspaceRole()
		// On a tie the source that lasts longer answers: the organisation's
		// role does not expire, so it wins over a direct membership that
		// does; a permanent direct membership is the member's own row.
		if derived != "" && derived.AtLeast(a.Role) && (derived != a.Role || a.ExpiresAt != nil) {
			a = Access{Role: derived, Via: AccessOrgAdmin}
			if org.Role == OrgOwner {
				a.Via = AccessOrgOwner
			}
		}
	}
	return a
}

// CheckRequest asks whether a user may take an action on a target.
type CheckRequest struct {
	UserID      string
	Action      string
	WorkspaceID string
	OrgID       string
	ResourceID  string
	Resource    *ResourceRef // the resource by the host application's id
}

// Decision answers a CheckRequest.
type Decision struct {
	Allowed   bool
	Role      string // the effective workspace role, or the organisation role
	Via       AccessVia
	ExpiresAt *time.Time
	Reason    string // why not, when not allowed and there is a reason to give
}

// Reasons a check is denied beyond "the role is too low".
const (
	ReasonNoAccess          = "no_access"
	ReasonInsufficientRole  = "insufficient_role"
	ReasonUserInactive      = "user_inactive"
	ReasonWorkspaceArchived = "workspace_archived"
)

// MaxCheckBatch bounds POST /v1/check/batch.
const MaxCheckBatch = 1000
