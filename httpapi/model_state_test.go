package httpapi_test

// A small, pure model of DOMAIN.md (§2 roles, §3 rules, §4 seats), written
// from the document and not from the service package, so that the random
// operations of model_test.go are checked against an independent reading of
// the rules. Nothing here talks to Roster.

import (
	"slices"
	"time"
)

// modelWorkspaceRoles is DOMAIN §2's order of workspace roles, lowest first:
// the only place the model knows it.
var modelWorkspaceRoles = []string{"viewer", "external", "member", "admin", "owner"}

// modelOrgRoles are the organisation roles; every one of them holds a seat.
var modelOrgRoles = []string{"owner", "admin", "member", "billing"}

// modelActions maps the checked actions to the lowest role that holds them
// (DOMAIN §2's permission table).
var modelActions = []struct{ action, minimum string }{
	{"workspace.read", "viewer"},
	{"members.read", "external"},
	{"resources.write", "external"},
	{"members.manage", "admin"},
	{"members.manage_owners", "owner"},
}

// modelRank is a role's place in the hierarchy; 0 for no role.
func modelRank(role string) int { return slices.Index(modelWorkspaceRoles, role) + 1 }

// modelSeatRank orders the roles a seat can be accounted to ("the user's
// highest paid role"): the workspace roles, with billing between external
// and member. DOMAIN is silent on where billing sits; this is Roster's order.
func modelSeatRank(role string) int {
	return slices.Index([]string{"viewer", "external", "billing", "member", "admin", "owner"}, role) + 1
}

type modelUser struct {
	id, email, token string
	suspended        bool
}

type modelPlan struct {
	cap           *int
	free          []string // free_roles
	ownerSeatFree bool
}

func (p modelPlan) isFree(role string) bool { return slices.Contains(p.free, role) }

type modelOrg struct {
	id, slug string
	plan     modelPlan
	members  map[string]string // user id → org role (org memberships do not expire)
	nextWS   int
}

// modelMembership is a direct workspace membership.
type modelMembership struct {
	role      string
	expiresAt *time.Time
}

type modelWorkspace struct {
	id, slug string
	org      *modelOrg
	archived bool
	members  map[string]*modelMembership // user id → direct membership, possibly expired
}

type modelInvitation struct {
	id, token, email, role, inviter string
	ws                              *modelWorkspace
	expiresAt                       time.Time
	state                           string // pending, accepted, revoked
}

// model is the whole state Roster should be in.
type model struct {
	now         time.Time
	users       []*modelUser
	orgs        []*modelOrg
	workspaces  []*modelWorkspace
	invitations []*modelInvitation
}

func (m *model) userByID(id string) *modelUser {
	for _, u := range m.users {
		if u.id == id {
			return u
		}
	}
	return nil
}

func (m *model) userByEmail(email string) *modelUser {
	for _, u := range m.users {
		if u.email == email {
			return u
		}
	}
	return nil
}

func (m *model) workspacesOf(o *modelOrg) []*modelWorkspace {
	var out []*modelWorkspace
	for _, w := range m.workspaces {
		if w.org == o {
			out = append(out, w)
		}
	}
	return out
}

// live reports whether a membership grants anything now (rule 9: expiry is
// enforced at access time).
func (m *model) live(ms *modelMembership) bool {
	return ms != nil && (ms.expiresAt == nil || m.now.Before(*ms.expiresAt))
}

// direct is the user's live direct membership in w, or nil.
func (m *model) direct(w *modelWorkspace, userID string) *modelMembership {
	if ms := w.members[userID]; m.live(ms) {
		return ms
	}
	return nil
}

func (m *model) directRole(w *modelWorkspace, userID string) string {
	if ms := m.direct(w, userID); ms != nil {
		return ms.role
	}
	return ""
}

// derivedRole is the workspace role an org role gives: org owner → owner,
// org admin → admin, nothing else.
func derivedRole(orgRole string) string {
	if orgRole == "owner" || orgRole == "admin" {
		return orgRole
	}
	return ""
}

// access is a user's effective role in a workspace and where it comes from.
type access struct {
	role, via string
	expiresAt *time.Time
}

// effective = max(direct role, derived role). On a tie the source that
// lasts answers (Roster's choice; DOMAIN is silent): the organisation's role
// over an expiring direct membership, a permanent direct membership over
// the organisation's role.
func (m *model) effective(w *modelWorkspace, userID string) access {
	orgRole := w.org.members[userID]
	derived := derivedRole(orgRole)
	ms := m.direct(w, userID)
	if ms != nil && (modelRank(ms.role) > modelRank(derived) || modelRank(ms.role) == modelRank(derived) && ms.expiresAt == nil) {
		return access{role: ms.role, via: "direct", expiresAt: ms.expiresAt}
	}
	if derived != "" {
		return access{role: derived, via: "org_" + orgRole}
	}
	return access{}
}

// can reports whether the user may take action in w now (rules 5, 8, 9).
func (m *model) can(w *modelWorkspace, userID, minimum string) bool {
	u := m.userByID(userID)
	if u == nil || u.suspended || w.archived {
		return false
	}
	return modelRank(m.effective(w, userID).role) >= modelRank(minimum)
}

// permanentOwners are the active direct owners without an expiry: rule 1
// counts only those (an owner on their way out keeps nothing owned).
// Derived owners do not count. Suspended owners do not either: Roster keeps
// one *active* owner, refusing to suspend the last one (DOMAIN names
// deactivation; Roster treats suspension alike).
func (m *model) permanentOwners(w *modelWorkspace) []string {
	var out []string
	for id, ms := range w.members {
		if m.live(ms) && ms.role == "owner" && ms.expiresAt == nil && !m.userByID(id).suspended {
			out = append(out, id)
		}
	}
	return out
}

// lastOwnerOf reports whether userID is the only permanent owner of w.
func (m *model) lastOwnerOf(w *modelWorkspace, userID string) bool {
	owners := m.permanentOwners(w)
	return len(owners) == 1 && owners[0] == userID
}

// orgOwners counts the active owners of an organisation.
func (m *model) orgOwners(o *modelOrg) int {
	n := 0
	for id, r := range o.members {
		if r == "owner" && !m.userByID(id).suspended {
			n++
		}
	}
	return n
}

// seatHolders is DOMAIN §4's full recount: user id → the role the seat is
// accounted to (their highest paid role). Suspended users hold no seat.
func (m *model) seatHolders(o *modelOrg) map[string]string {
	out := map[string]string{}
	for _, u := range m.users {
		if u.suspended {
			continue
		}
		best := o.members[u.id]
		for _, w := range m.workspacesOf(o) {
			ms := m.direct(w, u.id)
			if w.archived || ms == nil || o.plan.isFree(ms.role) {
				continue
			}
			if modelSeatRank(ms.role) > modelSeatRank(best) {
				best = ms.role
			}
		}
		if best != "" {
			out[u.id] = best
		}
	}
	return out
}

// seats is what GET /v1/orgs/{org}/seats should answer.
type modelSeats struct {
	used, pending int
	breakdown     map[string]int
}

func (m *model) seats(o *modelOrg) modelSeats {
	s := modelSeats{breakdown: map[string]int{}}
	holders := m.seatHolders(o)
	for _, role := range holders {
		s.breakdown[role]++
	}
	s.used = len(holders)
	// One owner is free under owner_seat_free. The breakdown still shows
	// where every holder is accounted (DOMAIN is silent; Roster does this).
	if o.plan.ownerSeatFree && s.breakdown["owner"] > 0 {
		s.used--
	}
	s.pending = len(m.pendingEmails(o, holders))
	return s
}

// pendingEmails are the emails of live invitations to paid roles whose
// people do not hold a seat yet, deduplicated.
func (m *model) pendingEmails(o *modelOrg, holders map[string]string) map[string]bool {
	out := map[string]bool{}
	for _, inv := range m.invitations {
		if inv.ws.org != o || !m.invitationPending(inv) || o.plan.isFree(inv.role) {
			continue
		}
		if u := m.userByEmail(inv.email); u != nil && holders[u.id] != "" {
			continue
		}
		out[inv.email] = true
	}
	return out
}

func (m *model) invitationPending(inv *modelInvitation) bool {
	return inv.state == "pending" && m.now.Before(inv.expiresAt)
}

// takesNewSeat reports whether giving userID a workspace role (or, with
// orgRole set, an org role) in o makes them a seat holder who was not one.
func (m *model) takesNewSeat(o *modelOrg, userID, wsRole, orgRole string) bool {
	u := m.userByID(userID)
	if u == nil || u.suspended || m.seatHolders(o)[userID] != "" {
		return false
	}
	if orgRole != "" {
		return true
	}
	return !o.plan.isFree(wsRole) || (modelRank(wsRole) >= modelRank("member") && o.members[userID] == "")
}

// overCap reports whether one more seat would pass the cap (used + 1 > cap).
func (m *model) overCap(o *modelOrg) bool {
	return o.plan.cap != nil && m.seats(o).used+1 > *o.plan.cap
}

// joinOrg gives a user an org membership and promotes their external
// memberships in the org's workspaces to member (DOMAIN §2's invariant).
func (m *model) joinOrg(o *modelOrg, userID, role string) {
	o.members[userID] = role
	for _, w := range m.workspacesOf(o) {
		if ms := m.direct(w, userID); ms != nil && ms.role == "external" {
			ms.role = "member"
		}
	}
}

// grant sets a direct workspace role; member or higher brings an org
// membership for an outsider.
func (m *model) grant(w *modelWorkspace, userID, role string, expiresAt *time.Time) {
	if modelRank(role) >= modelRank("member") && w.org.members[userID] == "" {
		m.joinOrg(w.org, userID, "member")
	}
	w.members[userID] = &modelMembership{role: role, expiresAt: expiresAt}
}

// leaveOrg ends an org membership and, rule 7, every workspace membership
// in the organisation.
func (m *model) leaveOrg(o *modelOrg, userID string) {
	delete(o.members, userID)
	for _, w := range m.workspacesOf(o) {
		delete(w.members, userID)
	}
}

// visible reports whether a user may know that a workspace exists: they
// reach it, or they belong to its organisation (any org role). Others get
// 404, never 403.
func (m *model) visible(w *modelWorkspace, userID string) bool {
	return m.effective(w, userID).role != "" || w.org.members[userID] != ""
}

// lastOrgOwner reports whether userID is the only active owner of o.
func (m *model) lastOrgOwner(o *modelOrg, userID string) bool {
	return o.members[userID] == "owner" && !m.userByID(userID).suspended && m.orgOwners(o) == 1
}

// lastActiveOwner reports whether suspending userID would leave an
// organisation or a workspace without an active owner.
func (m *model) lastActiveOwner(userID string) bool {
	for _, o := range m.orgs {
		if m.lastOrgOwner(o, userID) {
			return true
		}
	}
	for _, w := range m.workspaces {
		if m.lastOwnerOf(w, userID) {
			return true
		}
	}
	return false
}

// formerMember reports whether the user has an expired membership in w.
func (m *model) formerMember(w *modelWorkspace, userID string) bool {
	ms := w.members[userID]
	return ms != nil && !m.live(ms)
}
