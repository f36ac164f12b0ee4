package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster"
)

type Org struct {
	ID                         string    `json:"id"`
	Name                       string    `json:"name"`
	Slug                       string    `json:"slug"`
	MembersCanCreateWorkspaces bool      `json:"members_can_create_workspaces"`
	Plan                       Plan      `json:"plan"`
	CreatedAt                  time.Time `json:"created_at"`
	UpdatedAt                  time.Time `json:"updated_at"`
}

func toOrg(o roster.Org) Org {
	return Org{ID: o.ID, Name: o.Name, Slug: o.Slug, MembersCanCreateWorkspaces: o.MembersCanCreateWorkspaces, Plan: toPlan(o.Plan), CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

type CreatedOrg struct {
	Org
	Workspace *Workspace `json:"workspace,omitempty" doc:"The first workspace, when one was asked for"`
}

type OrgMember struct {
	UserID    string    `json:"user_id"`
	OrgID     string    `json:"org_id"`
	Role      orgRole   `json:"role"`
	JoinedAt  time.Time `json:"joined_at"`
	InvitedBy *string   `json:"invited_by"`
}

func toOrgMember(m roster.OrgMembership) OrgMember {
	return OrgMember{UserID: m.UserID, OrgID: m.OrgID, Role: orgRole(m.Role), JoinedAt: m.JoinedAt, InvitedBy: m.InvitedBy}
}

type newWorkspaceBody struct {
	Name string `json:"name" minLength:"1" maxLength:"200"`
	Slug string `json:"slug" doc:"Lowercase letters, digits and dashes; unique in the organisation"`
}

type createOrgInput struct {
	Body struct {
		Name      string            `json:"name" minLength:"1" maxLength:"200"`
		Slug      string            `json:"slug" doc:"Lowercase letters, digits and dashes; globally unique"`
		OwnerID   string            `json:"owner_id,omitempty" doc:"Staff and service tokens: the user who will own it"`
		Workspace *newWorkspaceBody `json:"workspace,omitempty" doc:"Create a first workspace in the same call"`
	}
}

type orgPathInput struct {
	Org string `path:"org"`
}

type orgMemberPathInput struct {
	Org  string `path:"org"`
	User string `path:"user"`
}

type orgOutput struct{ Body Org }

type putStatusOutput[T any] struct {
	Status int
	Body   T
}

func createdOr200(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}

type createdOrgOutput struct{ Body CreatedOrg }

func (s *Server) createOrg(ctx context.Context, in *createOrgInput) (*createdOrgOutput, error) {
	b := in.Body
	req := roster.NewOrg{Name: b.Name, Slug: b.Slug, OwnerID: b.OwnerID}
	if b.Workspace != nil {
		req.FirstWorkspace = &roster.NewWorkspace{Name: b.Workspace.Name, Slug: b.Workspace.Slug}
	}
	org, first, err := s.svc.CreateOrg(ctx, req)
	if err != nil {
		return nil, err
	}
	out := CreatedOrg{Org: toOrg(org)}
	if first != nil {
		w := toWorkspace(*first)
		out.Workspace = &w
	}
	return &createdOrgOutput{out}, nil
}

type listOrgsInput struct {
	PageParams
	Slug string `query:"slug"`
	Q    string `query:"q" doc:"Case-insensitive substring of name or slug"`
}

func (s *Server) listOrgs(ctx context.Context, in *listOrgsInput, p roster.Page) ([]roster.Org, string, error) {
	return s.svc.ListOrgs(ctx, roster.OrgFilter{Slug: in.Slug, Query: in.Q}, p)
}

func (s *Server) getOrg(ctx context.Context, in *orgPathInput) (*orgOutput, error) {
	org, err := s.svc.GetOrg(ctx, in.Org)
	if err != nil {
		return nil, err
	}
	return &orgOutput{toOrg(org)}, nil
}

// updateOrgInput is an alias for the operation-named body schema (see routes).
type updateOrgInput = struct {
	Org  string `path:"org"`
	Body struct {
		Name                       optional[string] `json:"name,omitempty"`
		Slug                       optional[string] `json:"slug,omitempty"`
		MembersCanCreateWorkspaces optional[bool]   `json:"members_can_create_workspaces,omitempty"`
	}
}

func (s *Server) updateOrg(ctx context.Context, in *updateOrgInput) (*orgOutput, error) {
	b := in.Body
	if errs := rejectNulls(map[string]bool{"name": b.Name.Null, "slug": b.Slug.Null, "members_can_create_workspaces": b.MembersCanCreateWorkspaces.Null}); errs != nil {
		return nil, huma.Error400BadRequest("null is not allowed", errs...)
	}
	org, err := s.svc.UpdateOrg(ctx, in.Org, roster.OrgPatch{
		Name:                       roster.Patch[string]{Present: b.Name.Sent, Value: b.Name.Value},
		Slug:                       roster.Patch[string]{Present: b.Slug.Sent, Value: b.Slug.Value},
		MembersCanCreateWorkspaces: roster.Patch[bool]{Present: b.MembersCanCreateWorkspaces.Sent, Value: b.MembersCanCreateWorkspaces.Value},
	})
	if err != nil {
		return nil, err
	}
	return &orgOutput{toOrg(org)}, nil
}

func (s *Server) deleteOrg(ctx context.Context, in *orgPathInput) (*struct{}, error) {
	return nil, s.svc.DeleteOrg(ctx, in.Org)
}

type listOrgMembersInput struct {
	Org string `path:"org"`
	PageParams
}

func (s *Server) listOrgMembers(ctx context.Context, in *listOrgMembersInput, p roster.Page) ([]roster.OrgMembership, string, error) {
	return s.svc.ListOrgMembers(ctx, in.Org, p)
}

// putOrgMemberInput is an alias for the operation-named body schema (see routes).
type putOrgMemberInput = struct {
	Org  string `path:"org"`
	User string `path:"user"`
	Body struct {
		Role orgRole `json:"role"`
	}
}

func (s *Server) putOrgMember(ctx context.Context, in *putOrgMemberInput) (*putStatusOutput[OrgMember], error) {
	m, created, err := s.svc.PutOrgMember(ctx, in.Org, in.User, string(in.Body.Role))
	if err != nil {
		return nil, err
	}
	return &putStatusOutput[OrgMember]{Status: createdOr200(created), Body: toOrgMember(m)}, nil
}

func (s *Server) removeOrgMember(ctx context.Context, in *orgMemberPathInput) (*struct{}, error) {
	return nil, s.svc.RemoveOrgMember(ctx, in.Org, in.User)
}
