package roster

import (
	"context"
	"time"
	"unicode/utf8"
)

// PrefixResource starts every resource id.
const PrefixResource = "res_"

// Bounds of a resource's fields.
const (
	MaxResourceNameLen       = 200
	MaxResourceExternalIDLen = 255
)

// MaxResourceTypeLen bounds a resource type.
const MaxResourceTypeLen = 63

// validResourceType reports whether typ is what a host application's
// resource type may be: a short lower-case word such as "document" or
// "site.page", matching ^[a-z][a-z0-9_.-]{0,62}$ (checked by hand: it is
// on the check path).
func validResourceType(typ string) bool {
	if typ == "" || len(typ) > MaxResourceTypeLen || typ[0] < 'a' || typ[0] > 'z' {
		return false
	}
	for i := 1; i < len(typ); i++ {
		switch c := typ[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}

// Resource is a thing of the host application (a site, a project, a
// document) that one workspace owns.
type Resource struct {
	ID          string
	WorkspaceID string
	OrgID       string
	Type        string
	ExternalID  string // the host application's id, unique per type
	Name        string
	CreatedBy   *string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DeletedAt   *time.Time
}

// CheckResourceFields validates what a host application names a resource by.
func CheckResourceFields(typ, externalID, name string) error {
	if !validResourceType(typ) {
		return Errorf(KindInvalid, CodeInvalidResourceType, "type must be 1 to 63 lower-case letters, digits, '_', '.' or '-', starting with a letter").With("field", "type")
	}
	if externalID == "" || len(externalID) > MaxResourceExternalIDLen || !utf8.ValidString(externalID) {
		return Errorf(KindInvalid, CodeInvalidRequest, "external_id must be 1 to %d bytes", MaxResourceExternalIDLen).With("field", "external_id")
	}
	return CheckResourceName(name)
}

// CheckResourceName validates a resource's name.
func CheckResourceName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > MaxResourceNameLen {
		return Errorf(KindInvalid, CodeInvalidRequest, "name must be 1 to %d characters", MaxResourceNameLen).With("field", "name")
	}
	return nil
}

// ShareRole is what a share gives on one resource.
type ShareRole string

const (
	ShareEditor ShareRole = "editor" // the member-level resource permissions: read, write, delete, share
	ShareViewer ShareRole = "viewer" // read only
)

// ShareRoles lists every share role.
var ShareRoles = []ShareRole{ShareEditor, ShareViewer}

// ParseShareRole validates a share role.
func ParseShareRole(s string) (ShareRole, error) {
	return parseEnum(s, ShareRoles, CodeInvalidRole, "role")
}

// WorkspaceRole is the workspace role whose resource permissions a share
// gives on its one resource.
func (r ShareRole) WorkspaceRole() WorkspaceRole {
	if r == ShareEditor {
		return RoleMember
	}
	return RoleViewer
}

// GranteeKind says whom a share is to.
type GranteeKind string

const (
	GranteeWorkspace GranteeKind = "workspace" // every member of another workspace
	GranteeUser      GranteeKind = "user"      // one guest
)

// ResourceShare gives a workspace's members, or one guest, a role on one resource.
type ResourceShare struct {
	ResourceID  string
	GranteeKind GranteeKind
	GranteeID   string
	Role        ShareRole
	CreatedBy   *string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NewResource is the input of CreateResource.
type NewResource struct {
	Type        string
	ExternalID  string
	Name        string
	WorkspaceID string // optional: the caller's one workspace where they are member or more
}

// ResourceFilter narrows a resource lookup.
type ResourceFilter struct {
	WorkspaceID string
	Type        string
	ExternalID  string
}

// ResourceRef names a resource by the host application's id.
type ResourceRef struct {
	Type       string
	ExternalID string
}

// ResourceStore reads resources and their shares.
type ResourceStore interface {
	GetResource(ctx context.Context, id string) (Resource, error)
	GetResourceByExternalID(ctx context.Context, typ, externalID string) (Resource, error)
	// ListResources lists live resources by id; p.After is a resource id.
	ListResources(ctx context.Context, f ResourceFilter, p Page) ([]Resource, error)
	// ListReachableResources lists, by id, the live resources f selects
	// that one of workspaceIDs owns or that is shared with one of
	// granteeIDs.
	ListReachableResources(ctx context.Context, workspaceIDs, granteeIDs []string, f ResourceFilter, p Page) ([]Resource, error)
	ListShares(ctx context.Context, resourceID string) ([]ResourceShare, error)
}

// ResourceWriter changes resources; only inside a write transaction.
type ResourceWriter interface {
	// CreateResource reports false when a live resource of the same type
	// and external id exists (a concurrent create won).
	CreateResource(ctx context.Context, r Resource) (bool, error)
	UpdateResource(ctx context.Context, r Resource) error
	// PutShare creates or changes a share and reports whether it created it.
	PutShare(ctx context.Context, s ResourceShare) (bool, error)
	// DeleteShare reports whether there was a share to delete.
	DeleteShare(ctx context.Context, resourceID, granteeID string) (bool, error)
}

// ResourceView is a resource with the caller's effective role on it.
type ResourceView struct {
	Resource Resource
	Access   Access
}

// ResourceService manages resources and their shares.
type ResourceService interface {
	CreateResource(ctx context.Context, in NewResource) (Resource, error)
	GetResource(ctx context.Context, id string) (ResourceView, error)
	ListResources(ctx context.Context, f ResourceFilter, p Page) ([]ResourceView, string, error)
	RenameResource(ctx context.Context, id, name string) (Resource, error)
	DeleteResource(ctx context.Context, id string) error
	ListShares(ctx context.Context, id string) ([]ResourceShare, error)
	// PutShare reports whether it created the share.
	PutShare(ctx context.Context, id, granteeID, role string) (ResourceShare, bool, error)
	DeleteShare(ctx context.Context, id, granteeID string) error
	// TransferResource moves a resource to another workspace.
	TransferResource(ctx context.Context, id, toWorkspaceID string) (Resource, error)
	// ListUserResources lists every resource a user reaches, with their role and its source.
	ListUserResources(ctx context.Context, userID string, f ResourceFilter, p Page) ([]ResourceView, string, error)
}
