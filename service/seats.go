package service

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/roster-dev/roster"
)

type seatKey struct{ orgID, userID string }

// markSeat notes that a user's seat in an organisation may have changed; the
// change settles it before committing.
func (c *change) markSeat(orgID, userID string) {
	if c.dirtySeats == nil {
		c.dirtySeats = map[seatKey]bool{}
	}
	c.dirtySeats[seatKey{orgID, userID}] = true
}

// requireCapacity makes the change take new seats in the organisation only
// within its seat cap (adding a member, accepting an invitation).
func (c *change) requireCapacity(orgID string) {
	if c.capped == nil {
		c.capped = map[string]bool{}
	}
	c.capped[orgID] = true
}

// errSeatCap is 402 with the counts the client needs to explain it.
func errSeatCap(used, pending, seatCap int) error {
	return roster.Errorf(roster.KindPaymentRequired, roster.CodeSeatCapReached,
		"the organisation has no seat left (%d used, %d pending, cap %d)", used, pending, seatCap).
		With("used", used).With("pending", pending).With("cap", seatCap)
}

// settleSeats recomputes every marked seat, keeps the counters in step,
// enforces the cap where the change takes new seats, and audits every change
// of an organisation's counts with the counts before and after.
func (c *change) settleSeats() error {
	byOrg := map[string][]string{}
	for id := range c.priorPlans { // a new plan changes the counts seats are reported under
		byOrg[id] = nil
	}
	for k := range c.dirtySeats {
		byOrg[k.orgID] = append(byOrg[k.orgID], k.userID)
	}
	orgIDs := make([]string, 0, len(byOrg))
	for id := range byOrg {
		orgIDs = append(orgIDs, id)
	}
	slices.Sort(orgIDs)
	for _, orgID := range orgIDs {
		if err := c.settleOrgSeats(orgID, byOrg[orgID]); err != nil {
			return err
		}
	}
	c.dirtySeats = nil
	return nil
}

func (c *change) settleOrgSeats(orgID string, userIDs []string) error {
	// Seats are read and written under the organisation's lock, whatever
	// took the change here (a user's status, say): otherwise a concurrent
	// membership write could be recounted from what it is replacing.
	org, err := c.lockOrg(orgID)
	if errors.Is(err, roster.ErrNotFound) {
		return nil // deleted, by this change or one that committed first
	}
	if err != nil {
		return err
	}
	beforePlan := org.Plan
	if p, ok := c.priorPlans[orgID]; ok {
		beforePlan = p
	}
	newlySeated := 0
	var replaced []roster.Seat // old, new, old, new…
	slices.Sort(userIDs)
	for _, userID := range userIDs {
		old, err := c.tx.GetSeat(c.ctx, orgID, userID)
		if err != nil && !errors.Is(err, roster.ErrNotFound) {
			return err
		}
		seat, err := c.computeSeat(org, userID)
		if err != nil {
			return err
		}
		if !old.Held(c.now) && seat.Held(c.now) {
			newlySeated++
		}
		if !sameSeat(old, seat) {
			if err := c.tx.ReplaceSeat(c.ctx, old, seat); err != nil {
				return err
			}
			replaced = append(replaced, old, seat)
		}
	}
	after, err := c.tx.CountSeats(c.ctx, orgID, c.now)
	if err != nil {
		return err
	}
	// The counts before are the counts after without what this change
	// replaced: CountSeats counts exactly the seats Held at now.
	before := maps.Clone(after)
	for i := 0; i < len(replaced); i += 2 {
		if old := replaced[i]; old.Held(c.now) {
			before[old.Role]++
		}
		if seat := replaced[i+1]; seat.Held(c.now) {
			before[seat.Role]--
		}
	}
	if cap := org.Plan.SeatCap; c.capped[orgID] && newlySeated > 0 && cap != nil && after.Used(org.Plan) > *cap {
		pending, err := c.tx.CountPendingSeats(c.ctx, orgID, paidRoles(org.Plan), c.now)
		if err != nil {
			return err
		}
		return errSeatCap(before.Used(org.Plan), pending, *cap)
	}
	if before.Used(beforePlan) == after.Used(org.Plan) && maps.Equal(breakdown(before), breakdown(after)) {
		return nil
	}
	return c.auditIn(roster.ActionSeatsChanged, roster.TargetSeats, orgID, &orgID, nil, seatAudit(beforePlan, before), seatAudit(org.Plan, after))
}

func seatAudit(p roster.Plan, c roster.SeatCounts) map[string]any {
	return map[string]any{"used": c.Used(p), "breakdown": breakdown(c)}
}

func breakdown(c roster.SeatCounts) map[string]int {
	out := map[string]int{}
	for _, r := range roster.SeatRoles {
		if c[r] > 0 {
			out[string(r)] = c[r]
		}
	}
	return out
}

// computeSeat applies the seat rule to a user's memberships in an organisation.
func (c *change) computeSeat(org roster.Org, userID string) (roster.Seat, error) {
	none := roster.Seat{OrgID: org.ID, UserID: userID}
	u, err := c.tx.GetUser(c.ctx, userID)
	if errors.Is(err, roster.ErrNotFound) {
		return none, nil
	}
	if err != nil {
		return none, err
	}
	var orgM *roster.OrgMembership
	if m, err := c.tx.GetOrgMembership(c.ctx, org.ID, userID); err == nil {
		orgM = &m
	} else if !errors.Is(err, roster.ErrNotFound) {
		return none, err
	}
	// Memberships of archived workspaces hold no seat (DOMAIN §4).
	inOrg, err := c.tx.ListUserOrgWorkspaceMemberships(c.ctx, org.ID, userID, false)
	if err != nil {
		return none, err
	}
	seat := roster.SeatFor(org.Plan, u.Active(), orgM, inOrg, c.now)
	seat.OrgID, seat.UserID = org.ID, userID
	return seat, nil
}

// markUserSeats marks a user's seat in every organisation they are part of.
func (c *change) markUserSeats(userID string) error {
	orgs, err := c.tx.ListUserOrgMemberships(c.ctx, userID)
	if err != nil {
		return err
	}
	wss, err := c.tx.ListUserWorkspaceMemberships(c.ctx, userID)
	if err != nil {
		return err
	}
	for _, m := range orgs {
		c.markSeat(m.OrgID, userID)
	}
	for _, m := range wss {
		c.markSeat(m.OrgID, userID)
	}
	return nil
}

// GetSeats reads an organisation's seat counts: owners, admins and billing.
func (s *Service) GetSeats(ctx context.Context, orgID string) (roster.Seats, error) {
	org, oa, err := orgFor(ctx, s.store, orgID, nil)
	if err != nil {
		return roster.Seats{}, err
	}
	if !oa.can(roster.OrgPermBilling) {
		return roster.Seats{}, errForbidden
	}
	now := s.now()
	counts, pending, err := s.store.CountSeatsAndPending(ctx, orgID, paidRoles(org.Plan), now)
	if err != nil {
		return roster.Seats{}, err
	}
	return roster.Seats{Used: counts.Used(org.Plan), Pending: pending, Cap: org.Plan.SeatCap, FreeRoles: org.Plan.FreeRoles, Breakdown: breakdown(counts)}, nil
}

// PreviewSeats counts the new paid seats that giving role to emails would
// take: emails already holding a seat or a pending paid invitation cost
// nothing, nor does a free role.
func (s *Service) PreviewSeats(ctx context.Context, orgID string, emails []string, role string) (roster.Preview, error) {
	r, err := roster.ParseWorkspaceRole(role)
	if err != nil {
		return roster.Preview{}, err
	}
	var keys []string
	for _, e := range emails {
		addr, err := roster.NormalizeEmail(e)
		if err != nil {
			return roster.Preview{}, err.(*roster.Error).With("email", e)
		}
		if k := roster.EmailKey(addr); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	out := roster.Preview{AlreadySeated: []string{}, AlreadyPending: []string{}}
	org, oa, err := orgFor(ctx, s.store, orgID, nil)
	if err != nil {
		return out, err
	}
	if !oa.can(roster.OrgPermBilling) {
		return out, errForbidden
	}
	seated, pending, err := seatStatusOf(ctx, s.store, org, keys, s.now())
	for _, k := range keys {
		switch {
		case slices.Contains(seated, k):
			out.AlreadySeated = append(out.AlreadySeated, k)
		case slices.Contains(pending, k):
			out.AlreadyPending = append(out.AlreadyPending, k)
		case org.Plan.Paid(r):
			out.NetNewSeats++
		}
	}
	return out, err
}

// SetPlan sets an organisation's plan (platform admins and service tokens)
// and recounts its seats under it.
func (s *Service) SetPlan(ctx context.Context, orgID string, in roster.PlanInput) (roster.Org, error) {
	if !operator(actor(ctx)) {
		if _, _, err := orgFor(ctx, s.store, orgID, nil); err != nil {
			return roster.Org{}, err
		}
		return roster.Org{}, errForbidden
	}
	plan := roster.Plan{SeatCap: in.SeatCap, OwnerSeatFree: in.OwnerSeatFree, FreeRoles: []roster.WorkspaceRole{}}
	if in.SeatCap != nil && *in.SeatCap < 0 {
		return roster.Org{}, roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "seat_cap must be 0 or more, or null").With("field", "seat_cap")
	}
	for _, r := range in.FreeRoles {
		role, err := roster.ParseWorkspaceRole(r)
		if err != nil {
			return roster.Org{}, err
		}
		if !slices.Contains(plan.FreeRoles, role) {
			plan.FreeRoles = append(plan.FreeRoles, role)
		}
	}
	var org roster.Org
	err := s.update(ctx, func(c *change) error {
		before, _, err := c.org(orgID)
		if err != nil {
			return err
		}
		org = before
		org.Plan, org.UpdatedAt = plan, c.now
		c.priorPlans = map[string]roster.Plan{orgID: before.Plan}
		if err := c.tx.UpdateOrg(ctx, org); err != nil {
			return err
		}
		// Which roles are free is the only part of a plan a seat depends
		// on: the cap and the free owner seat change what the counts mean,
		// not the seats, so only then is every seat recomputed.
		if !sameRoles(before.Plan.FreeRoles, plan.FreeRoles) {
			users, err := c.tx.ListOrgUserIDs(ctx, orgID)
			if err != nil {
				return err
			}
			for _, id := range users {
				c.markSeat(orgID, id)
			}
		}
		return c.auditIn(roster.ActionPlanUpdated, roster.TargetOrg, orgID, &orgID, nil, planAudit(before.Plan), planAudit(plan))
	})
	return org, err
}

// sameRoles reports whether two role lists hold the same roles.
func sameRoles(a, b []roster.WorkspaceRole) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func planAudit(p roster.Plan) map[string]any {
	return map[string]any{"seat_cap": p.SeatCap, "free_roles": p.FreeRoles, "owner_seat_free": p.OwnerSeatFree}
}

// RecheckBatch is how many due seats RecheckSeats recomputes at most.
const RecheckBatch = 500

// RecheckSeats recomputes up to RecheckBatch seats whose memberships have
// started to expire. Seat counts are exact without it (an expired seat is
// never counted), but it keeps the expired rows that reading counts must
// subtract few, and accounts each seat to the role its holder still has.
// It returns how many seats it recomputed; RecheckBatch means more may be due.
func (s *Service) RecheckSeats(ctx context.Context) (int, error) {
	due, err := s.store.ListSeatsDue(ctx, s.now(), RecheckBatch)
	if err != nil {
		return 0, err
	}
	byOrg := map[string][]string{}
	for _, seat := range due {
		byOrg[seat.OrgID] = append(byOrg[seat.OrgID], seat.UserID)
	}
	for _, orgID := range slices.Sorted(maps.Keys(byOrg)) {
		err := s.update(ctx, func(c *change) error { // settling takes the organisation's lock
			for _, userID := range byOrg[orgID] {
				c.markSeat(orgID, userID)
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return len(due), nil
}
