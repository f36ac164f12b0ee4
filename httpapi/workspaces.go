package httpapi

import (
	"context"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster"
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

func toWorkspace(v roster.WorkspaceView) Workspace {
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

func toMember(m roster.Member) WorkspaceMember {
	return WorkspaceMember{UserID: m.UserID, Role: workspaceRole(m.Role), Derived: m.Derived, Source: optionalString(membershipSource(m.Source)),
		JoinedAt: m.JoinedAt, InvitedBy: m.InvitedBy, ExpiresAt: m.ExpiresAt}
}

func toDirectMember(m roster.WorkspaceMembership) WorkspaceMember {
	return toMember(roster.Member{UserID: m.UserID, Role: m.Role, Source: m.Source, JoinedAt: m.JoinedAt, InvitedBy: m.InvitedBy, ExpiresAt: m.ExpiresAt})
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

// createWorkspaceInput is an alias for the operation-named body schema (see routes).
type createWorkspaceInput = struct {
	Body struct {
		OrgID   string `json:"org_id"`
		Name    string `json:"name" minLength:"1" maxLength:"200"`
		Slug    string `json:"slug" doc:"Lowercase letters, digits and dashes; unique in the organisation"`
		OwnerID string `json:"owner_id,omitempty" doc:"Staff and service tokens: the user who will own it"`
	}
}

func (s *Server) createWorkspace(ctx context.Context, in *createWorkspaceInput) (*wsOutput, error) {
	w, err := s.svc.CreateWorkspace(ctx, roster.NewWorkspace{OrgID: in.Body.OrgID, Name: in.Body.Name, Slug: in.Body.Slug, OwnerID: in.Body.OwnerID})
	if err != nil {
		return nil, err
	}
	return &wsOutput{toWorkspace(w)}, nil
}

type listWorkspacesInput struct {
	PageParams
	OrgID           string `query:"org_id"`
	IncludeArchived bool   `query:"include_archived"`
}

func (s *Server) listWorkspaces(ctx context.Context, in *listWorkspacesInput, p roster.Page) ([]roster.WorkspaceView, string, error) {
	return s.svc.ListWorkspaces(ctx, roster.WorkspaceFilter{OrgID: in.OrgID, IncludeArchived: in.IncludeArchived}, p)
}

func (s *Server) getWorkspace(ctx context.Context, in *wsPathInput) (*wsOutput, error) {
	v, err := s.svc.GetWorkspace(ctx, in.WS)
	if err != nil {
		return nil, err
	}
	return &wsOutput{toWorkspace(v)}, nil
}

// updateWorkspaceInput is an alias for the operation-named body schema (see routes).
type updateWorkspaceInput = struct {
	WS   string `path:"ws"`
	Body struct {
		Name optional[string] `json:"name,omitempty"`
		Slug optional[string] `json:"slug,omitempty"`
	}
}

func (s *Server) updateWorkspace(ctx context.Context, in *updateWorkspaceInput) (*wsOutput, error) {
	b := in.Body
	if errs := rejectNulls(map[string]bool{"name": b.Name.Null, "slug": b.Slug.Null}); errs != nil {
		return nil, huma.Error400BadRequest("null is not allowed", errs...)
	}
	w, err := s.svc.UpdateWorkspace(ctx, in.WS, roster.WorkspacePatch{
		Name: roster.Patch[string]{Present: b.Name.Sent, Value: b.Name.Value},
		Slug: roster.Patch[string]{Present: b.Slug.Sent, Value: b.Slug.Value},
	})
	if err != nil {
		return nil, err
	}
	return &wsOutput{toWorkspace(w)}, nil
}

func (s *Server) deleteWorkspace(ctx context.Context, in *wsPathInput) (*struct{}, error) {
	return nil, s.svc.DeleteWorkspace(ctx, in.WS)
}

func (s *Server) archiveWorkspace(ctx context.Context, in *wsPathInput) (*wsOutput, error) {
	return s.setArchived(ctx, in.WS, true)
}

func (s *Server) unarchiveWorkspace(ctx context.Context, in *wsPathInput) (*wsOutput, error) {
	return s.setArchived(ctx, in.WS, false)
}

func (s *Server) setArchived(ctx context.Context, ws string, archive bool) (*wsOutput, error) {
	w, err := s.svc.SetArchived(ctx, ws, archive)
	if err != nil {
		return nil, err
	}
	return &wsOutput{toWorkspace(w)}, nil
}

type listWorkspaceMembersInput struct {
	WS string `path:"ws"`
	PageParams
	Include string `query:"include" enum:"support" doc:"support: also list staff support sessions"`
}

func (s *Server) listWorkspaceMembers(ctx context.Context, in *listWorkspaceMembersInput, p roster.Page) ([]roster.Member, string, error) {
	return s.svc.ListWorkspaceMembers(ctx, in.WS, in.Include != "", p)
}

// putWorkspaceMemberInput is an alias for the operation-named body schema (see routes).
type putWorkspaceMemberInput = struct {
	WS   string `path:"ws"`
	User string `path:"user"`
	Body struct {
		Role      workspaceRole `json:"role"`
		ExpiresAt *time.Time    `json:"expires_at,omitempty" doc:"When the membership ends; omit for none"`
	}
}

func (s *Server) putWorkspaceMember(ctx context.Context, in *putWorkspaceMemberInput) (*putStatusOutput[WorkspaceMember], error) {
	m, created, err := s.svc.PutWorkspaceMember(ctx, in.WS, in.User, string(in.Body.Role), in.Body.ExpiresAt)
	if err != nil {
		return nil, err
	}
	return &putStatusOutput[WorkspaceMember]{Status: createdOr200(created), Body: toDirectMember(m)}, nil
}

type wsMemberPathInput struct {
	WS   string `path:"ws"`
	User string `path:"user"`
}

func (s *Server) removeWorkspaceMember(ctx context.Context, in *wsMemberPathInput) (*struct{}, error) {
	return nil, s.svc.RemoveWorkspaceMember(ctx, in.WS, in.User)
}

type settingsOutput struct{ Body Settings }

func (s *Server) getWorkspaceSettings(ctx context.Context, in *wsPathInput) (*settingsOutput, error) {
	w, err := s.svc.GetSettings(ctx, in.WS)
	if err != nil {
		return nil, err
	}
	return &settingsOutput{toSettings(w)}, nil
}

// updateSettingsInput is an alias for the operation-named body schema (see routes).
type updateSettingsInput = struct {
	WS   string `path:"ws"`
	Body struct {
		AllowSupportAccess optional[bool]     `json:"allow_support_access,omitempty"`
		Values             map[string]*string `json:"values,omitempty"`
	}
}

func (s *Server) updateWorkspaceSettings(ctx context.Context, in *updateSettingsInput) (*settingsOutput, error) {
	b := in.Body
	if errs := rejectNulls(map[string]bool{"allow_support_access": b.AllowSupportAccess.Null}); errs != nil {
		return nil, huma.Error400BadRequest("null is not allowed", errs...)
	}
	w, err := s.svc.UpdateSettings(ctx, in.WS, roster.SettingsPatch{
		AllowSupportAccess: roster.Patch[bool]{Present: b.AllowSupportAccess.Sent, Value: b.AllowSupportAccess.Value},
		Values:             b.Values,
	})
	if err != nil {
		return nil, err
	}
	return &settingsOutput{toSettings(w)}, nil
}

// setDefaultWorkspaceInput is an alias for the operation-named body schema (see routes).
type setDefaultWorkspaceInput = struct {
	Body struct {
		WorkspaceID string `json:"workspace_id"`
	}
}

func (s *Server) setDefaultWorkspace(ctx context.Context, in *setDefaultWorkspaceInput) (*userOutput, error) {
	u, err := s.svc.SetDefaultWorkspace(ctx, in.Body.WorkspaceID)
	if err != nil {
		return nil, err
	}
	return &userOutput{Body: toUser(u)}, nil
}

type listUserWorkspacesInput struct {
	ID string `path:"id"`
	PageParams
	OrgID           string `query:"org_id"`
	IncludeArchived bool   `query:"include_archived"`
}

func (s *Server) listUserWorkspaces(ctx context.Context, in *listUserWorkspacesInput, p roster.Page) ([]roster.WorkspaceView, string, error) {
	return s.svc.ListUserWorkspaces(ctx, in.ID, roster.WorkspaceFilter{OrgID: in.OrgID, IncludeArchived: in.IncludeArchived}, p)
}
