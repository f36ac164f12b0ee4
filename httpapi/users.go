package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/service"
)

type User struct {
	ID                 string       `json:"id" example:"usr_068bqs8m1cn7r1l3f0n2m4c7gg"`
	Email              *string      `json:"email" format:"email"`
	DisplayName        string       `json:"display_name"`
	Status             userStatus   `json:"status"`
	PlatformRole       platformRole `json:"platform_role"`
	ExternalID         *string      `json:"external_id"`
	DefaultWorkspaceID *string      `json:"default_workspace_id"`
	CreatedAt          time.Time    `json:"created_at"`
	UpdatedAt          time.Time    `json:"updated_at"`
}

func toUser(u roster.User) User {
	return User{ID: u.ID, Email: u.Email, DisplayName: u.DisplayName, Status: userStatus(u.Status),
		PlatformRole: platformRole(u.PlatformRole), ExternalID: u.ExternalID, DefaultWorkspaceID: u.DefaultWorkspaceID,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

type userOutput struct {
	Body User
}

type createUserInput struct {
	Body struct {
		Email        *string      `json:"email,omitempty" maxLength:"254" doc:"Unique, case-insensitively; omit for token-only users"`
		DisplayName  string       `json:"display_name,omitempty" maxLength:"200"`
		ExternalID   *string      `json:"external_id,omitempty" minLength:"1" maxLength:"255" doc:"The host application's id; unique when set"`
		Status       userStatus   `json:"status,omitempty"`
		PlatformRole platformRole `json:"platform_role,omitempty" doc:"Only platform admins may set this"`
	}
}

type userIDInput struct {
	ID string `path:"id" doc:"User id"`
}

type listUsersInput struct {
	PageParams
	Email      string     `query:"email" doc:"Exact email, case-insensitive"`
	Status     userStatus `query:"status"`
	ExternalID string     `query:"external_id"`
	Q          string     `query:"q" doc:"Case-insensitive substring of email or display name"`
}

type updateUserInput struct {
	ID   string `path:"id"`
	Body struct {
		Email              nullable[string]       `json:"email,omitempty"`
		DisplayName        optional[string]       `json:"display_name,omitempty"`
		Status             optional[userStatus]   `json:"status,omitempty"`
		PlatformRole       optional[platformRole] `json:"platform_role,omitempty"`
		ExternalID         nullable[string]       `json:"external_id,omitempty"`
		DefaultWorkspaceID nullable[string]       `json:"default_workspace_id,omitempty"`
	}
}

// Resolve rejects nulls for fields that cannot be cleared.
func (in *updateUserInput) Resolve(huma.Context) []error {
	b := in.Body
	return rejectNulls(map[string]bool{"display_name": b.DisplayName.Null, "status": b.Status.Null, "platform_role": b.PlatformRole.Null})
}

func (s *Server) registerUsers(api huma.API) {
	huma.Register(api, s.secured(huma.Operation{OperationID: "create-user", Method: http.MethodPost, Path: "/v1/users",
		Summary: "Create a user", Description: "Platform admins and service tokens.", DefaultStatus: http.StatusCreated, Tags: []string{"Users"}}),
		func(ctx context.Context, in *createUserInput) (*userOutput, error) {
			u, err := s.svc.CreateUser(ctx, service.NewUser{Email: in.Body.Email, DisplayName: in.Body.DisplayName,
				ExternalID: in.Body.ExternalID, Status: string(in.Body.Status), PlatformRole: string(in.Body.PlatformRole)})
			if err != nil {
				return nil, err
			}
			return &userOutput{Body: toUser(u)}, nil
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "list-users", Method: http.MethodGet, Path: "/v1/users",
		Summary: "List users", Description: "Platform admins and service tokens.", Tags: []string{"Users"}}),
		listOf(roster.PrefixUser, toUser, func(ctx context.Context, in *listUsersInput, p roster.Page) ([]roster.User, string, error) {
			return s.svc.ListUsers(ctx, roster.UserFilter{EmailKey: in.Email, Status: roster.UserStatus(in.Status),
				ExternalID: in.ExternalID, Query: in.Q}, p)
		}))
	huma.Register(api, s.secured(huma.Operation{OperationID: "get-user", Method: http.MethodGet, Path: "/v1/users/{id}",
		Summary: "Get a user", Description: "Platform admins, service tokens, and the user themself.", Tags: []string{"Users"}}),
		func(ctx context.Context, in *userIDInput) (*userOutput, error) {
			u, err := s.svc.GetUser(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &userOutput{Body: toUser(u)}, nil
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "update-user", Method: http.MethodPatch, Path: "/v1/users/{id}",
		Summary: "Update a user", Description: "Users may change their own display_name; platform admins and service tokens change status, email and external_id; only platform admins change platform_role.",
		Tags: []string{"Users"}}),
		func(ctx context.Context, in *updateUserInput) (*userOutput, error) {
			b := in.Body
			u, err := s.svc.UpdateUser(ctx, in.ID, service.UserPatch{
				Email:              service.Patch[*string]{Present: b.Email.Sent, Value: b.Email.Value},
				DisplayName:        service.Patch[string]{Present: b.DisplayName.Sent, Value: b.DisplayName.Value},
				Status:             service.Patch[string]{Present: b.Status.Sent, Value: string(b.Status.Value)},
				PlatformRole:       service.Patch[string]{Present: b.PlatformRole.Sent, Value: string(b.PlatformRole.Value)},
				ExternalID:         service.Patch[*string]{Present: b.ExternalID.Sent, Value: b.ExternalID.Value},
				DefaultWorkspaceID: service.Patch[*string]{Present: b.DefaultWorkspaceID.Sent, Value: b.DefaultWorkspaceID.Value},
			})
			if err != nil {
				return nil, err
			}
			return &userOutput{Body: toUser(u)}, nil
		})
	huma.Register(api, s.secured(huma.Operation{OperationID: "delete-user", Method: http.MethodDelete, Path: "/v1/users/{id}",
		Summary: "Delete a user", Description: "Platform admins. The user's tokens are revoked; history is kept.",
		DefaultStatus: http.StatusNoContent, Tags: []string{"Users"}}),
		func(ctx context.Context, in *userIDInput) (*struct{}, error) {
			return nil, s.svc.DeleteUser(ctx, in.ID)
		})
}
