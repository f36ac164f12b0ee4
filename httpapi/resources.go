package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster"
)

// Resource is one of the host application's things, owned by a workspace.
type Resource struct {
	ID          string         `json:"id" example:"res_06a3sd3tq1gk5r9ecmqhp1l6sg"`
	Type        string         `json:"type" example:"document"`
	ExternalID  string         `json:"external_id" doc:"The host application's id for it; unique per type"`
	Name        string         `json:"name"`
	WorkspaceID string         `json:"workspace_id" doc:"The workspace that owns it"`
	OrgID       string         `json:"org_id"`
	CreatedBy   *string        `json:"created_by"`
	CreatedAt   time.Time      `json:"created_at"`
	Role        *effectiveRole `json:"role,omitempty" doc:"The caller's effective role on it"`
	Via         *accessVia     `json:"via,omitempty" doc:"Where that role comes from"`
}

func toResource(r roster.Resource) Resource {
	return Resource{ID: r.ID, Type: r.Type, ExternalID: r.ExternalID, Name: r.Name, WorkspaceID: r.WorkspaceID, OrgID: r.OrgID,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt}
}

func toResourceView(v roster.ResourceView) Resource {
	out := toResource(v.Resource)
	out.Role, out.Via = optionalString(effectiveRole(v.Access.Role)), optionalString(accessVia(v.Access.Via))
	return out
}

type createResourceInput = struct {
	Body struct {
		Type        string `json:"type" doc:"1 to 63 lower-case letters, digits, '_', '.', '-'; starts with a letter"`
		ExternalID  string `json:"external_id" maxLength:"255"`
		Name        string `json:"name" maxLength:"200"`
		WorkspaceID string `json:"workspace_id,omitempty" doc:"Default: the caller's only workspace where they are member or more; with none, a personal organisation and workspace are made for them"`
	}
}

type resourceOutput struct{ Body Resource }

func (s *Server) createResource(ctx context.Context, in *createResourceInput) (*resourceOutput, error) {
	b := in.Body
	r, err := s.svc.CreateResource(ctx, roster.NewResource{Type: b.Type, ExternalID: b.ExternalID, Name: b.Name, WorkspaceID: b.WorkspaceID})
	if err != nil {
		return nil, err
	}
	return &resourceOutput{toResource(r)}, nil
}

type resourceIDInput struct {
	ID string `path:"id" doc:"Resource id"`
}

func (s *Server) getResource(ctx context.Context, in *resourceIDInput) (*resourceOutput, error) {
	v, err := s.svc.GetResource(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &resourceOutput{toResourceView(v)}, nil
}

type listResourcesInput struct {
	PageParams
	WorkspaceID string `query:"workspace_id"`
	Type        string `query:"type"`
	ExternalID  string `query:"external_id"`
}

func (s *Server) listResources(ctx context.Context, in *listResourcesInput, p roster.Page) ([]roster.ResourceView, string, error) {
	return s.svc.ListResources(ctx, roster.ResourceFilter{WorkspaceID: in.WorkspaceID, Type: in.Type, ExternalID: in.ExternalID}, p)
}

type renameResourceInput = struct {
	ID   string `path:"id"`
	Body struct {
		Name string `json:"name" maxLength:"200"`
	}
}

func (s *Server) renameResource(ctx context.Context, in *renameResourceInput) (*resourceOutput, error) {
	r, err := s.svc.RenameResource(ctx, in.ID, in.Body.Name)
	if err != nil {
		return nil, err
	}
	return &resourceOutput{toResource(r)}, nil
}

func (s *Server) deleteResource(ctx context.Context, in *resourceIDInput) (*struct{}, error) {
	return nil, s.svc.DeleteResource(ctx, in.ID)
}

type shareRole string

func (shareRole) Schema(huma.Registry) *huma.Schema { return enumSchema(roster.ShareRoles) }

type granteeKind string

func (granteeKind) Schema(huma.Registry) *huma.Schema {
	return enumSchema([]roster.GranteeKind{roster.GranteeWorkspace, roster.GranteeUser})
}

// Share gives another workspace's members, or one guest, a role on a resource.
type Share struct {
	ResourceID  string      `json:"resource_id"`
	GranteeKind granteeKind `json:"grantee_kind"`
	GranteeID   string      `json:"grantee_id" doc:"The workspace (ws_…) or the guest user (usr_…)"`
	Role        shareRole   `json:"role"`
	CreatedBy   *string     `json:"created_by"`
	CreatedAt   time.Time   `json:"created_at"`
}

func toShare(s roster.ResourceShare) Share {
	return Share{ResourceID: s.ResourceID, GranteeKind: granteeKind(s.GranteeKind), GranteeID: s.GranteeID, Role: shareRole(s.Role),
		CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt}
}

type sharesOutput struct {
	Body struct {
		Data []Share `json:"data"`
	}
}

func (s *Server) listShares(ctx context.Context, in *resourceIDInput) (*sharesOutput, error) {
	shares, err := s.svc.ListShares(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	out := &sharesOutput{}
	out.Body.Data = make([]Share, len(shares))
	for i, sh := range shares {
		out.Body.Data[i] = toShare(sh)
	}
	return out, nil
}

type putShareInput = struct {
	ID      string `path:"id"`
	Grantee string `path:"grantee" doc:"A workspace (ws_…) or a user (usr_…)"`
	Body    struct {
		Role shareRole `json:"role"`
	}
}

func (s *Server) putShare(ctx context.Context, in *putShareInput) (*putStatusOutput[Share], error) {
	sh, created, err := s.svc.PutShare(ctx, in.ID, in.Grantee, string(in.Body.Role))
	if err != nil {
		return nil, err
	}
	return &putStatusOutput[Share]{Status: createdOr200(created), Body: toShare(sh)}, nil
}

type shareInput struct {
	ID      string `path:"id"`
	Grantee string `path:"grantee"`
}

func (s *Server) deleteShare(ctx context.Context, in *shareInput) (*struct{}, error) {
	return nil, s.svc.DeleteShare(ctx, in.ID, in.Grantee)
}

type transferResourceInput = struct {
	ID   string `path:"id"`
	Body struct {
		ToWorkspaceID string `json:"to_workspace_id"`
	}
}

func (s *Server) transferResource(ctx context.Context, in *transferResourceInput) (*resourceOutput, error) {
	r, err := s.svc.TransferResource(ctx, in.ID, in.Body.ToWorkspaceID)
	if err != nil {
		return nil, err
	}
	return &resourceOutput{toResource(r)}, nil
}

type userResourcesInput struct {
	PageParams
	ID          string `path:"id"`
	Type        string `query:"type"`
	WorkspaceID string `query:"workspace_id"`
}

func (s *Server) listUserResources(ctx context.Context, in *userResourcesInput, p roster.Page) ([]roster.ResourceView, string, error) {
	return s.svc.ListUserResources(ctx, in.ID, roster.ResourceFilter{Type: in.Type, WorkspaceID: in.WorkspaceID}, p)
}

// registerResources adds the resource endpoints.
func (s *Server) registerResources(api huma.API) {
	tags := []string{"Resources"}
	huma.Register(api, s.op("create-resource", http.MethodPost, "/v1/resources", http.StatusCreated, tags, "Create a resource",
		"Needs resources.write in the owning workspace. `(type, external_id)` is unique: a duplicate is 409 `resource_exists` naming the existing `resource_id`."), s.createResource)
	huma.Register(api, s.op("list-resources", http.MethodGet, "/v1/resources", byBody, tags, "Find resources",
		"By the host application's `type` and `external_id`, or a `workspace_id`'s: those the caller reaches, with their role."), listOf(roster.PrefixResource, toResourceView, s.listResources))
	huma.Register(api, s.op("get-resource", http.MethodGet, "/v1/resources/{id}", byBody, tags, "Get a resource", "With the caller's effective role and where it comes from."), s.getResource)
	huma.Register(api, s.op("rename-resource", http.MethodPatch, "/v1/resources/{id}", byBody, tags, "Rename a resource", "Needs resources.write on it."), s.renameResource)
	huma.Register(api, s.op("delete-resource", http.MethodDelete, "/v1/resources/{id}", http.StatusNoContent, tags, "Delete a resource", "Needs resources.delete on it; its shares go with it."), s.deleteResource)
	huma.Register(api, s.op("list-resource-shares", http.MethodGet, "/v1/resources/{id}/shares", byBody, tags, "A resource's shares and guests", "Needs resources.share on it."), s.listShares)
	huma.Register(api, s.op("put-resource-share", http.MethodPut, "/v1/resources/{id}/shares/{grantee}", byBody, tags, "Share a resource",
		"With another workspace (its members get the role on this one resource) or one guest user. `editor` gives read, write, delete and share; `viewer` read. 201 new, 200 changed."), s.putShare)
	documentStatus(api, http.MethodPut, "/v1/resources/{id}/shares/{grantee}", http.StatusCreated, "The share was created")
	huma.Register(api, s.op("delete-resource-share", http.MethodDelete, "/v1/resources/{id}/shares/{grantee}", http.StatusNoContent, tags, "Remove a share or a guest", ""), s.deleteShare)
	huma.Register(api, s.op("transfer-resource", http.MethodPost, "/v1/resources/{id}/transfer", byBody, tags, "Move a resource to another workspace",
		"Owner of its workspace and admin or more in the target. The source's owners who do not reach the target become guest editors of it."), s.transferResource)
	huma.Register(api, s.op("list-user-resources", http.MethodGet, "/v1/users/{id}/resources", byBody, tags, "Every resource a user reaches",
		"With their effective role and `via`: their workspaces' resources, those shared with a workspace they reach, and their guest grants. The user themself, platform admins and service tokens."),
		listOf(roster.PrefixResource, toResourceView, s.listUserResources))
}
