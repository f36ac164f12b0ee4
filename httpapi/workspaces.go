package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/service"
)

type Workspace struct {
	ID         string         `json:"id"`
	OrgID      string         `json:"org_id"`
	Name       string         `json:"name"`
	Slug       string         `json:"slug"`
	ArchivedAt *time.Time     `json:"archived_at"`
	Role       *effectiveRole `json:"role" nullable:"true" doc:"The caller's effective role; null for staff and services"`
	Via        *accessVia     `json:"via" nullable:"true" doc:"Where the role comes from"`
	Derived    bool           `json:"derived" doc:"True when the role comes from the organisation"`
	ExpiresAt  *time.Time     `json:"expires_at" doc:"When the caller's direct membership ends"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
}

func toWorkspace(v service.WorkspaceView) Workspace {
	w := v.Workspace
	return Workspace{ID: w.ID, OrgID: w.OrgID, Name: w.Name, Slug: w.Slug, ArchivedAt: w.ArchivedAt,
		Role: optionalString(effectiveRole(v.Access.Role)), Via: optionalString(accessVia(v.Access.Via)),
		Derived: v.Access.Derived(), ExpiresAt: v.Access.ExpiresAt, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

type WorkspaceMember struct {
	UserID    string            `json:"user_id"`
	Role      workspaceRole     `json:"role"`
	Derived   bool              `json:"derived" doc:"True when the role comes from the organisation"`
	Source    *membershipSource `json:"source" nullable:"true" doc:"How the direct membership came to be; null for derived roles"`
	JoinedAt  time.Time         `json:"joined_at"`
	InvitedBy *string           `json:"invited_by"`
	ExpiresAt *time.Time        `json:"expires_at"`
}

func toMember(m service.Member) WorkspaceMember {
	return WorkspaceMember{UserID: m.UserID, Role: workspaceRole(m.Role), Derived: m.Derived, Source: optionalString(membershipSource(m.Source)),
		JoinedAt: m.JoinedAt, InvitedBy: m.InvitedBy, ExpiresAt: m.ExpiresAt}
}

func toDirectMember(m roster.WorkspaceMembership) WorkspaceMember {
	return toMember(service.Member{UserID: m.UserID, Role: m.Role, Source: m.Source, JoinedAt: m.JoinedAt, InvitedBy: m.InvitedBy, ExpiresAt: m.ExpiresAt})
}

type Settings struct {
	AllowSupportAccess bool              `json:"allow_support_access"`
	Values             map[string]string `json:"values" nullable:"false"`
}

func toSettings(w roster.Workspace) Settings {
	return Settings{AllowSupportAccess: w.AllowSupportAccess, Values: w.Values}
}

type wsPathInput struct {
	WS string `path:"ws"`
}

type wsOutput struct{ Body Workspace }

func (s *Server) registerWorkspaces(api huma.API) {
	tags := []string{"Workspaces"}
	huma.Register(api, s.secured(huma.Operation{OperationID: "create-workspace", Method: http.MethodPost, Path: "/v1/workspaces",
		Summary: "Create a workspace", Description: "The creator becomes its owner; staff and service tokens name the owner in `owner_id`.", DefaultStatus: http.StatusCreated, Tags: tags}),
		func(ctx context.Context, in *struct {
			Body struct {
				OrgID   string `json:"org_id"`
				Name    string `json:"name" minLength:"1" maxLength:"200"`
				Slug    string `json:"slug" doc:"Lowercase letters, digits and dashes; unique in the organisation"`
				OwnerID string `json:"owner_id,omitempty" doc:"Staff and service tokens: the user who will own it"`
			}
		}) (*wsOutput, error) {
			w, err := s.svc.CreateWorkspace(ctx, service.NewWorkspace{OrgID: in.Body.OrgID, Name: in.Body.Name, Slug: in.Body.Slug, OwnerID: in.Body.OwnerID})
			if err != nil {
				return nil, err
			}
			return &wsOutput{toWorkspace(w)}, nil
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "list-workspaces", Method: http.MethodGet, Path: "/v1/workspaces",
		Summary: "List workspaces", Description: "The workspaces the caller can reach, with their effective role; platform admins and service tokens see all.", Tags: tags}),
		listOf(roster.PrefixWorkspace, toWorkspace, func(ctx context.Context, in *struct {
			PageParams
			OrgID           string `query:"org_id"`
			IncludeArchived bool   `query:"include_archived"`
		}, p roster.Page) ([]service.WorkspaceView, string, error) {
			return s.svc.ListWorkspaces(ctx, roster.WorkspaceFilter{OrgID: in.OrgID, IncludeArchived: in.IncludeArchived}, p)
		}))
	huma.Register(api, s.secured(huma.Operation{OperationID: "get-workspace", Method: http.MethodGet, Path: "/v1/workspaces/{ws}",
		Summary: "Get a workspace", Tags: tags}),
		func(ctx context.Context, in *wsPathInput) (*wsOutput, error) {
			v, err := s.svc.GetWorkspace(ctx, in.WS)
			if err != nil {
				return nil, err
			}
			return &wsOutput{toWorkspace(v)}, nil
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "update-workspace", Method: http.MethodPatch, Path: "/v1/workspaces/{ws}",
		Summary: "Rename a workspace or change its slug", Description: "Admins and owners.", Tags: tags}),
		func(ctx context.Context, in *struct {
			WS   string `path:"ws"`
			Body struct {
				Name optional[string] `json:"name,omitempty"`
				Slug optional[string] `json:"slug,omitempty"`
			}
		}) (*wsOutput, error) {
			b := in.Body
			if errs := rejectNulls(map[string]bool{"name": b.Name.Null, "slug": b.Slug.Null}); errs != nil {
				return nil, huma.Error400BadRequest("null is not allowed", errs...)
			}
			w, err := s.svc.UpdateWorkspace(ctx, in.WS, service.WorkspacePatch{
				Name: service.Patch[string]{Present: b.Name.Sent, Value: b.Name.Value},
				Slug: service.Patch[string]{Present: b.Slug.Sent, Value: b.Slug.Value},
			})
			if err != nil {
				return nil, err
			}
			return &wsOutput{toWorkspace(w)}, nil
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "delete-workspace", Method: http.MethodDelete, Path: "/v1/workspaces/{ws}",
		Summary: "Delete a workspace", Description: "Owners. Its memberships go with it; history is kept.", DefaultStatus: http.StatusNoContent, Tags: tags}),
		func(ctx context.Context, in *wsPathInput) (*struct{}, error) {
			return nil, s.svc.DeleteWorkspace(ctx, in.WS)
		})
	for _, archive := range []bool{true, false} {
		id, path, summary := "archive-workspace", "/v1/workspaces/{ws}/archive", "Archive a workspace: every scoped access answers 410 until it is restored"
		if !archive {
			id, path, summary = "unarchive-workspace", "/v1/workspaces/{ws}/unarchive", "Restore an archived workspace"
		}
		huma.Register(api, s.secured(huma.Operation{OperationID: id, Method: http.MethodPost, Path: path, Summary: summary,
			Description: "Admins and owners. Idempotent.", Tags: tags}),
			func(ctx context.Context, in *wsPathInput) (*wsOutput, error) {
				w, err := s.svc.SetArchived(ctx, in.WS, archive)
				if err != nil {
					return nil, err
				}
				return &wsOutput{toWorkspace(w)}, nil
			})
	}
	huma.Register(api, s.secured(huma.Operation{OperationID: "list-workspace-members", Method: http.MethodGet, Path: "/v1/workspaces/{ws}/members",
		Summary: "List a workspace's members", Description: "Direct and derived members by user id. `include=support` (admins and staff) adds staff support sessions.", Tags: tags}),
		listOf(roster.PrefixUser, toMember, func(ctx context.Context, in *struct {
			WS string `path:"ws"`
			PageParams
			Include string `query:"include" enum:"support" doc:"support: also list staff support sessions"`
		}, p roster.Page) ([]service.Member, string, error) {
			return s.svc.ListWorkspaceMembers(ctx, in.WS, in.Include != "", p)
		}))
	huma.Register(api, s.secured(huma.Operation{OperationID: "put-workspace-member", Method: http.MethodPut, Path: "/v1/workspaces/{ws}/members/{user}",
		Summary:     "Add a member to a workspace or change their role",
		Description: "201 when the membership was created, 200 otherwise. Granting member, admin or owner to someone outside the organisation also makes them an organisation member.",
		Tags:        tags}),
		func(ctx context.Context, in *struct {
			WS   string `path:"ws"`
			User string `path:"user"`
			Body struct {
				Role      workspaceRole `json:"role"`
				ExpiresAt *time.Time    `json:"expires_at,omitempty" doc:"When the membership ends; omit for none"`
			}
		}) (*putStatusOutput[WorkspaceMember], error) {
			m, created, err := s.svc.PutWorkspaceMember(ctx, in.WS, in.User, string(in.Body.Role), in.Body.ExpiresAt)
			if err != nil {
				return nil, err
			}
			return &putStatusOutput[WorkspaceMember]{Status: createdOr200(created), Body: toDirectMember(m)}, nil
		})
	documentStatus(api, http.MethodPut, "/v1/workspaces/{ws}/members/{user}", http.StatusCreated, "The membership was created")
	huma.Register(api, s.secured(huma.Operation{OperationID: "remove-workspace-member", Method: http.MethodDelete, Path: "/v1/workspaces/{ws}/members/{user}",
		Summary: "Remove a member from a workspace", Description: "Members may leave; admins remove others; only owners remove owners.",
		DefaultStatus: http.StatusNoContent, Tags: tags}),
		func(ctx context.Context, in *struct {
			WS   string `path:"ws"`
			User string `path:"user"`
		}) (*struct{}, error) {
			return nil, s.svc.RemoveWorkspaceMember(ctx, in.WS, in.User)
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "get-workspace-settings", Method: http.MethodGet, Path: "/v1/workspaces/{ws}/settings",
		Summary: "Get a workspace's settings", Tags: tags}),
		func(ctx context.Context, in *wsPathInput) (*struct{ Body Settings }, error) {
			w, err := s.svc.GetSettings(ctx, in.WS)
			if err != nil {
				return nil, err
			}
			return &struct{ Body Settings }{toSettings(w)}, nil
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "update-workspace-settings", Method: http.MethodPatch, Path: "/v1/workspaces/{ws}/settings",
		Summary: "Change a workspace's settings", Description: "Admins and owners. `values` merges: a null value deletes its key.", Tags: tags}),
		func(ctx context.Context, in *struct {
			WS   string `path:"ws"`
			Body struct {
				AllowSupportAccess optional[bool]     `json:"allow_support_access,omitempty"`
				Values             map[string]*string `json:"values,omitempty"`
			}
		}) (*struct{ Body Settings }, error) {
			b := in.Body
			if errs := rejectNulls(map[string]bool{"allow_support_access": b.AllowSupportAccess.Null}); errs != nil {
				return nil, huma.Error400BadRequest("null is not allowed", errs...)
			}
			w, err := s.svc.UpdateSettings(ctx, in.WS, service.SettingsPatch{
				AllowSupportAccess: service.Patch[bool]{Present: b.AllowSupportAccess.Sent, Value: b.AllowSupportAccess.Value},
				Values:             b.Values,
			})
			if err != nil {
				return nil, err
			}
			return &struct{ Body Settings }{toSettings(w)}, nil
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "set-default-workspace", Method: http.MethodPut, Path: "/v1/me/default-workspace",
		Summary: "Set the caller's current workspace", Tags: []string{"Users"}}),
		func(ctx context.Context, in *struct {
			Body struct {
				WorkspaceID string `json:"workspace_id"`
			}
		}) (*userOutput, error) {
			u, err := s.svc.SetDefaultWorkspace(ctx, in.Body.WorkspaceID)
			if err != nil {
				return nil, err
			}
			return &userOutput{Body: toUser(u)}, nil
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "list-user-workspaces", Method: http.MethodGet, Path: "/v1/users/{id}/workspaces",
		Summary: "Every workspace a user can reach", Description: "With their effective role. The user themself, platform admins and service tokens.", Tags: tags}),
		listOf(roster.PrefixWorkspace, toWorkspace, func(ctx context.Context, in *struct {
			ID string `path:"id"`
			PageParams
			OrgID           string `query:"org_id"`
			IncludeArchived bool   `query:"include_archived"`
		}, p roster.Page) ([]service.WorkspaceView, string, error) {
			return s.svc.ListUserWorkspaces(ctx, in.ID, roster.WorkspaceFilter{OrgID: in.OrgID, IncludeArchived: in.IncludeArchived}, p)
		}))
}
