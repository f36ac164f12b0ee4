package roster

import (
	"context"
	"slices"
	"time"
)

// Plan is what an organisation's seats are counted against.
type Plan struct {
	SeatCap       *int            // nil: unlimited
	FreeRoles     []WorkspaceRole // workspace roles that take no seat
	OwnerSeatFree bool            // one owner per organisation is not counted
}

// DefaultPlan is the plan of a new organisation: viewers are free, no cap.
func DefaultPlan() Plan { return Plan{FreeRoles: []WorkspaceRole{RoleViewer}} }

// Paid reports whether a workspace role takes a seat under the plan.
func (p Plan) Paid(r WorkspaceRole) bool { return !slices.Contains(p.FreeRoles, r) }

// SeatRole is the role a seat is accounted to: an organisation role or a
// paid workspace role, whichever ranks highest for the user.
type SeatRole string

// SeatRoles lists seat roles from highest to lowest; a user's seat is
// accounted to the first of them they hold.
var SeatRoles = []SeatRole{"owner", "admin", "member", "billing", "external", "viewer"}

func seatRank(r SeatRole) int {
	i := slices.Index(SeatRoles, r)
	if i < 0 {
		return 0
	}
	return len(SeatRoles) - i
}

// SeatOwner is the seat role that owner_seat_free applies to.
const SeatOwner SeatRole = "owner"

// Seat is one user's seat in one organisation.
type Seat struct {
	OrgID  string
	UserID string
	Role   SeatRole
	Until  *time.Time // when the last membership giving the seat expires; nil: it does not
	// Recheck is when the first membership behind the seat expires: from
	// then on the seat may be accounted to a lower role or end, so it is
	// recomputed. nil: no membership behind it expires.
	Recheck *time.Time
}

// Held reports whether the seat counts at now.
func (s Seat) Held(now time.Time) bool {
	return s.Role != "" && (s.Until == nil || now.Before(*s.Until))
}

// SeatFor is DOMAIN §4's seat rule for one user in one organisation: an
// active user holds a seat through a live organisation membership (every
// organisation role is paid) or a live workspace membership with a paid role
// in a workspace that is not archived. Support sessions and derived roles
// never hold seats. ms are the user's memberships in the organisation's
// workspaces that are not archived. The seat returned carries no ids.
func SeatFor(p Plan, active bool, org *OrgMembership, ms []WorkspaceMembership, now time.Time) Seat {
	var seat Seat
	if !active {
		return seat
	}
	forever := false
	consider := func(r SeatRole, expires *time.Time) {
		if seatRank(r) > seatRank(seat.Role) {
			seat.Role = r
		}
		if expires == nil {
			forever = true
			return
		}
		if seat.Until == nil || expires.After(*seat.Until) {
			seat.Until = expires
		}
		if seat.Recheck == nil || expires.Before(*seat.Recheck) {
			seat.Recheck = expires
		}
	}
	if org != nil && org.DeletedAt == nil {
		consider(SeatRole(org.Role), nil)
	}
	for _, m := range ms {
		if m.Source == SourceStaffSupport || !m.Live(now) || !p.Paid(m.Role) {
			continue
		}
		consider(SeatRole(m.Role), m.ExpiresAt)
	}
	if forever {
		seat.Until = nil
	}
	return seat
}

// SeatCounts are an organisation's seat holders by seat role.
type SeatCounts map[SeatRole]int

// Used is the number of seats taken under the plan.
func (c SeatCounts) Used(p Plan) int {
	n := 0
	for _, v := range c {
		n += v
	}
	if p.OwnerSeatFree && c[SeatOwner] > 0 {
		n--
	}
	return n
}

// SeatStore reads seats.
type SeatStore interface {
	GetSeat(ctx context.Context, orgID, userID string) (Seat, error)
	// CountSeats counts the seats held at now by seat role, without scanning
	// the organisation's members.
	CountSeats(ctx context.Context, orgID string, now time.Time) (SeatCounts, error)
	// CountSeatsAndPending is CountSeats and CountPendingSeats in one read.
	CountSeatsAndPending(ctx context.Context, orgID string, paidRoles []WorkspaceRole, now time.Time) (SeatCounts, int, error)
	// ListOrgUserIDs lists every user with a live membership in the
	// organisation or one of its workspaces, or a seat there.
	ListOrgUserIDs(ctx context.Context, orgID string) ([]string, error)
	// ListSeatsDue lists up to limit seats whose recheck time is not after
	// now, earliest first.
	ListSeatsDue(ctx context.Context, now time.Time, limit int) ([]Seat, error)
}

// SeatWriter records seats; counters follow inside the same transaction.
type SeatWriter interface {
	// ReplaceSeat records s in place of old, the user's seat as read in
	// this transaction (no role: none); a seat with no role removes it.
	ReplaceSeat(ctx context.Context, old, s Seat) error
}

// Seats is GET /v1/orgs/{org}/seats.
type Seats struct {
	Used, Pending int
	Cap           *int
	FreeRoles     []WorkspaceRole
	Breakdown     map[string]int
}

// Available is what is left under the cap (nil when unlimited, never below 0).
func (s Seats) Available() *int {
	if s.Cap == nil {
		return nil
	}
	n := max(*s.Cap-s.Used-s.Pending, 0)
	return &n
}

// Preview is what inviting some emails to a role would cost.
type Preview struct {
	NetNewSeats    int
	AlreadySeated  []string
	AlreadyPending []string
}

// PlanInput is the input of SetPlan.
type PlanInput struct {
	SeatCap       *int
	FreeRoles     []string
	OwnerSeatFree bool
}
