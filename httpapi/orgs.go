package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/service"
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

func (s *Server) registerOrgs(api huma.API) {
	tags := []string{"Organisations"}
	huma.Register(api, s.secured(huma.Operation{OperationID: "create-org", Method: http.MethodPost, Path: "/v1/orgs",
		Summary: "Create an organisation", Description: "The caller becomes its owner; staff and service tokens may name the owner instead.",
		DefaultStatus: http.StatusCreated, Tags: tags}),
		func(ctx context.Context, in *createOrgInput) (*struct{ Body CreatedOrg }, error) {
			b := in.Body
			req := service.NewOrg{Name: b.Name, Slug: b.Slug, OwnerID: b.OwnerID}
			if b.Workspace != nil {
				req.FirstWorkspace = &service.NewWorkspace{Name: b.Workspace.Name, Slug: b.Workspace.Slug}
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
			return &struct{ Body CreatedOrg }{out}, nil
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "list-orgs", Method: http.MethodGet, Path: "/v1/orgs",
		Summary: "List organisations", Description: "The caller's organisations; platform admins and service tokens see all.", Tags: tags}),
		listOf(roster.PrefixOrg, toOrg, func(ctx context.Context, in *struct {
			PageParams
			Slug string `query:"slug"`
			Q    string `query:"q" doc:"Case-insensitive substring of name or slug"`
		}, p roster.Page) ([]roster.Org, string, error) {
			return s.svc.ListOrgs(ctx, roster.OrgFilter{Slug: in.Slug, Query: in.Q}, p)
		}))
	huma.Register(api, s.secured(huma.Operation{OperationID: "get-org", Method: http.MethodGet, Path: "/v1/orgs/{org}",
		Summary: "Get an organisation", Tags: tags}),
		func(ctx context.Context, in *orgPathInput) (*orgOutput, error) {
			org, err := s.svc.GetOrg(ctx, in.Org)
			if err != nil {
				return nil, err
			}
			return &orgOutput{toOrg(org)}, nil
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "update-org", Method: http.MethodPatch, Path: "/v1/orgs/{org}",
		Summary: "Update an organisation", Description: "Owners and admins of the organisation.", Tags: tags}),
		func(ctx context.Context, in *struct {
			Org  string `path:"org"`
			Body struct {
				Name                       optional[string] `json:"name,omitempty"`
				Slug                       optional[string] `json:"slug,omitempty"`
				MembersCanCreateWorkspaces optional[bool]   `json:"members_can_create_workspaces,omitempty"`
			}
		}) (*orgOutput, error) {
			b := in.Body
			if errs := rejectNulls(map[string]bool{"name": b.Name.Null, "slug": b.Slug.Null, "members_can_create_workspaces": b.MembersCanCreateWorkspaces.Null}); errs != nil {
				return nil, huma.Error400BadRequest("null is not allowed", errs...)
			}
			org, err := s.svc.UpdateOrg(ctx, in.Org, service.OrgPatch{
				Name:                       service.Patch[string]{Present: b.Name.Sent, Value: b.Name.Value},
				Slug:                       service.Patch[string]{Present: b.Slug.Sent, Value: b.Slug.Value},
				MembersCanCreateWorkspaces: service.Patch[bool]{Present: b.MembersCanCreateWorkspaces.Sent, Value: b.MembersCanCreateWorkspaces.Value},
			})
			if err != nil {
				return nil, err
			}
			return &orgOutput{toOrg(org)}, nil
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "delete-org", Method: http.MethodDelete, Path: "/v1/orgs/{org}",
		Summary: "Delete an organisation", Description: "Owners of the organisation. Its workspaces and memberships go with it; history is kept.",
		DefaultStatus: http.StatusNoContent, Tags: tags}),
		func(ctx context.Context, in *orgPathInput) (*struct{}, error) {
			return nil, s.svc.DeleteOrg(ctx, in.Org)
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "list-org-members", Method: http.MethodGet, Path: "/v1/orgs/{org}/members",
		Summary: "List an organisation's members", Description: "The directory: owners, admins and members of the organisation see it.", Tags: tags}),
		listOf(roster.PrefixUser, toOrgMember, func(ctx context.Context, in *struct {
			Org string `path:"org"`
			PageParams
		}, p roster.Page) ([]roster.OrgMembership, string, error) {
			return s.svc.ListOrgMembers(ctx, in.Org, p)
		}))
	huma.Register(api, s.secured(huma.Operation{OperationID: "put-org-member", Method: http.MethodPut, Path: "/v1/orgs/{org}/members/{user}",
		Summary:     "Add a member to an organisation or change their role",
		Description: "201 when the membership was created, 200 otherwise. Their external workspace memberships in the organisation become member.",
		Tags:        tags}),
		func(ctx context.Context, in *struct {
			Org  string `path:"org"`
			User string `path:"user"`
			Body struct {
				Role orgRole `json:"role"`
			}
		}) (*putStatusOutput[OrgMember], error) {
			m, created, err := s.svc.PutOrgMember(ctx, in.Org, in.User, string(in.Body.Role))
			if err != nil {
				return nil, err
			}
			return &putStatusOutput[OrgMember]{Status: createdOr200(created), Body: toOrgMember(m)}, nil
		})
	documentStatus(api, http.MethodPut, "/v1/orgs/{org}/members/{user}", http.StatusCreated, "The membership was created")
	huma.Register(api, s.secured(huma.Operation{OperationID: "remove-org-member", Method: http.MethodDelete, Path: "/v1/orgs/{org}/members/{user}",
		Summary: "Remove a member from an organisation", Description: "Also ends their memberships in every workspace of the organisation.",
		DefaultStatus: http.StatusNoContent, Tags: tags}),
		func(ctx context.Context, in *orgMemberPathInput) (*struct{}, error) {
			return nil, s.svc.RemoveOrgMember(ctx, in.Org, in.User)
		})
}
