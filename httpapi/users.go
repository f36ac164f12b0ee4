package httpapi

import (
	"context"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster"
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

func (s *Server) createUser(ctx context.Context, in *createUserInput) (*userOutput, error) {
	u, err := s.svc.CreateUser(ctx, roster.NewUser{Email: in.Body.Email, DisplayName: in.Body.DisplayName,
		ExternalID: in.Body.ExternalID, Status: string(in.Body.Status), PlatformRole: string(in.Body.PlatformRole)})
	if err != nil {
		return nil, err
	}
	return &userOutput{Body: toUser(u)}, nil
}

func (s *Server) listUsers(ctx context.Context, in *listUsersInput, p roster.Page) ([]roster.User, string, error) {
	return s.svc.ListUsers(ctx, roster.UserFilter{EmailKey: in.Email, Status: roster.UserStatus(in.Status),
		ExternalID: in.ExternalID, Query: in.Q}, p)
}

func (s *Server) getUser(ctx context.Context, in *userIDInput) (*userOutput, error) {
	u, err := s.svc.GetUser(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &userOutput{Body: toUser(u)}, nil
}

func (s *Server) updateUser(ctx context.Context, in *updateUserInput) (*userOutput, error) {
	b := in.Body
	u, err := s.svc.UpdateUser(ctx, in.ID, roster.UserPatch{
		Email:              roster.Patch[*string]{Present: b.Email.Sent, Value: b.Email.Value},
		DisplayName:        roster.Patch[string]{Present: b.DisplayName.Sent, Value: b.DisplayName.Value},
		Status:             roster.Patch[string]{Present: b.Status.Sent, Value: string(b.Status.Value)},
		PlatformRole:       roster.Patch[string]{Present: b.PlatformRole.Sent, Value: string(b.PlatformRole.Value)},
		ExternalID:         roster.Patch[*string]{Present: b.ExternalID.Sent, Value: b.ExternalID.Value},
		DefaultWorkspaceID: roster.Patch[*string]{Present: b.DefaultWorkspaceID.Sent, Value: b.DefaultWorkspaceID.Value},
	})
	if err != nil {
		return nil, err
	}
	return &userOutput{Body: toUser(u)}, nil
}

func (s *Server) deleteUser(ctx context.Context, in *userIDInput) (*struct{}, error) {
	return nil, s.svc.DeleteUser(ctx, in.ID)
}
