package httpapi

import (
	"context"

	"github.com/roster-dev/roster"
)

// Plan is an organisation's plan.
type Plan struct {
	SeatCap       *int            `json:"seat_cap" doc:"null: unlimited"`
	FreeRoles     []workspaceRole `json:"free_roles" nullable:"false"`
	OwnerSeatFree bool            `json:"owner_seat_free"`
}

func toPlan(p roster.Plan) Plan {
	out := Plan{SeatCap: p.SeatCap, FreeRoles: []workspaceRole{}, OwnerSeatFree: p.OwnerSeatFree}
	for _, r := range p.FreeRoles {
		out.FreeRoles = append(out.FreeRoles, workspaceRole(r))
	}
	return out
}

type SeatCounts struct {
	Used      int             `json:"used"`
	Pending   int             `json:"pending" doc:"Seats that pending invitations would take"`
	Cap       *int            `json:"cap" doc:"null: unlimited"`
	Available *int            `json:"available" doc:"cap - used - pending, never below 0; null when unlimited"`
	FreeRoles []workspaceRole `json:"free_roles" nullable:"false"`
	Breakdown map[string]int  `json:"breakdown" nullable:"false" doc:"How many seats each role accounts for (a user's highest paid role)"`
}

type seatCountsOutput struct{ Body SeatCounts }

func (s *Server) getSeats(ctx context.Context, in *orgPathInput) (*seatCountsOutput, error) {
	seats, err := s.svc.GetSeats(ctx, in.Org)
	if err != nil {
		return nil, err
	}
	out := SeatCounts{Used: seats.Used, Pending: seats.Pending, Cap: seats.Cap, Available: seats.Available(),
		FreeRoles: toPlan(roster.Plan{FreeRoles: seats.FreeRoles}).FreeRoles, Breakdown: seats.Breakdown}
	return &seatCountsOutput{out}, nil
}

// setPlanInput is an alias for the operation-named body schema (see routes).
type setPlanInput = struct {
	Org  string `path:"org"`
	Body struct {
		SeatCap       *int            `json:"seat_cap" minimum:"0" doc:"null: unlimited"`
		FreeRoles     []workspaceRole `json:"free_roles,omitempty" doc:"Default [viewer]"`
		OwnerSeatFree bool            `json:"owner_seat_free,omitempty"`
	}
}

type planOutput struct{ Body Plan }

func (s *Server) setPlan(ctx context.Context, in *setPlanInput) (*planOutput, error) {
	b := in.Body
	roles := []string{string(roster.RoleViewer)}
	if b.FreeRoles != nil {
		roles = roles[:0]
		for _, r := range b.FreeRoles {
			roles = append(roles, string(r))
		}
	}
	org, err := s.svc.SetPlan(ctx, in.Org, roster.PlanInput{SeatCap: b.SeatCap, FreeRoles: roles, OwnerSeatFree: b.OwnerSeatFree})
	if err != nil {
		return nil, err
	}
	return &planOutput{toPlan(org.Plan)}, nil
}
