package httpapi

import (
	"context"
	"time"
)

type tokenRef struct {
	ID        string     `json:"id"`
	Kind      tokenKind  `json:"kind"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// membershipSummary is one organisation the caller belongs to or works in,
// with the workspaces they reach there.
type membershipSummary struct {
	OrgID      string         `json:"org_id"`
	Role       *orgRoleOrNull `json:"role" nullable:"true" doc:"The caller's organisation role; null for externals"`
	Workspaces []Workspace    `json:"workspaces" nullable:"false"`
}

type Me struct {
	User
	Token            *tokenRef           `json:"token,omitempty" doc:"The token that authenticated this request"`
	ActingFor        bool                `json:"acting_for" doc:"True when a service token acts for this user"`
	Memberships      []membershipSummary `json:"memberships" nullable:"false"`
	CurrentWorkspace *Workspace          `json:"current_workspace,omitempty" doc:"The default workspace, while the user can reach it"`
}

type meOutput struct{ Body Me }

func (s *Server) getMe(ctx context.Context, _ *struct{}) (*meOutput, error) {
	me, err := s.svc.Me(ctx)
	if err != nil {
		return nil, err
	}
	out := Me{User: toUser(me.User), ActingFor: me.OnBehalfOf, Memberships: []membershipSummary{}}
	for _, o := range me.Orgs {
		out.Memberships = append(out.Memberships, membershipSummary{OrgID: o.OrgID, Role: optionalString(orgRoleOrNull(o.Role)),
			Workspaces: newList(o.Workspaces, "", toWorkspace).Data})
	}
	if me.CurrentWorkspace != nil {
		w := toWorkspace(*me.CurrentWorkspace)
		out.CurrentWorkspace = &w
	}
	if t := me.Token; t != nil {
		out.Token = &tokenRef{ID: t.ID, Kind: tokenKind(t.Kind), ExpiresAt: t.ExpiresAt}
	}
	return &meOutput{out}, nil
}
