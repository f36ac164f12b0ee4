package httpapi_test

// The operations of TestModel: each picks its arguments at random, asks the
// model what Roster should answer, sends the request, and on success applies
// the change to the model.

import (
	"fmt"
	"net/http"
	"time"

	"github.com/roster-dev/roster/internal/rostertest"
)

// modelEmail is the email of the n-th user; invitations may name users who
// do not exist yet, who accept once they are created.
func modelEmail(n int) string { return fmt.Sprintf("u%d@model.example", n) }

func (r *modelRun) createUser() {
	if len(r.m.users) >= modelMaxUsers {
		return
	}
	email := modelEmail(len(r.m.users))
	var u rostertest.User
	r.send(ok(201), rostertest.Req{Method: "POST", Path: "/v1/users", Token: r.env.AdminToken, Body: map[string]any{"email": email}}).JSON(r.t, &u)
	tok := r.env.IssueToken(u.ID, map[string]any{"name": "model"}).Token
	r.m.users = append(r.m.users, &modelUser{id: u.ID, email: email, token: tok})
}

// createOrg has a user create an organisation with a first workspace, or
// the platform admin create one for them.
func (r *modelRun) createOrg() {
	if len(r.m.orgs) >= modelMaxOrgs || len(r.m.workspaces) >= modelMaxWorkspaces {
		return
	}
	owner := r.anyUser()
	slug := fmt.Sprintf("org-%d", r.nextOrg)
	body := map[string]any{"name": slug, "slug": slug, "workspace": map[string]any{"name": "ws-0", "slug": "ws-0"}}
	token, want := owner.token, ok(201)
	if r.chance(0.5) {
		token, body["owner_id"] = r.env.AdminToken, owner.id
		if owner.suspended {
			want = ok(400)
		}
	} else if owner.suspended {
		want = ok(401)
	}
	res := r.send(want, rostertest.Req{Method: "POST", Path: "/v1/orgs", Token: token, Body: body})
	if res.Status != 201 {
		return
	}
	r.nextOrg++
	var out struct {
		ID        string `json:"id"`
		Workspace struct {
			ID string `json:"id"`
		} `json:"workspace"`
	}
	res.JSON(r.t, &out)
	o := &modelOrg{id: out.ID, slug: slug, plan: modelPlan{free: []string{"viewer"}}, members: map[string]string{owner.id: "owner"}, nextWS: 1}
	r.m.orgs = append(r.m.orgs, o)
	r.touched = o
	w := &modelWorkspace{id: out.Workspace.ID, slug: "ws-0", org: o, members: map[string]*modelMembership{owner.id: {role: "owner"}}}
	r.m.workspaces = append(r.m.workspaces, w)
}

// createWorkspace: the platform admin names an owner (an outsider joins the
// organisation, taking a seat), or an org member creates one and owns it.
func (r *modelRun) createWorkspace() {
	// Leave room for the first workspaces of organisations still to come.
	if len(r.m.workspaces) >= modelMaxWorkspaces-(modelMaxOrgs-len(r.m.orgs)) {
		return
	}
	o, owner := r.anyOrg(), r.anyUser()
	r.touched = o
	slug := fmt.Sprintf("ws-%d", o.nextWS)
	body := map[string]any{"org_id": o.id, "name": slug, "slug": slug}
	token, want := owner.token, ok(201)
	if r.chance(0.5) {
		token, body["owner_id"] = r.env.AdminToken, owner.id
		switch {
		case owner.suspended:
			want = ok(400)
		case r.m.takesNewSeat(o, owner.id, "owner", "") && r.m.overCap(o):
			want = expected{status: 402, code: "seat_cap_reached"}
		}
	} else {
		switch o.members[owner.id] {
		case "":
			want = ok(404)
		case "billing":
			want = ok(403)
		}
		if owner.suspended {
			want = ok(401)
		}
	}
	res := r.send(want, rostertest.Req{Method: "POST", Path: "/v1/workspaces", Token: token, Body: body})
	if res.Status != 201 {
		return
	}
	o.nextWS++
	w := &modelWorkspace{id: res.Field("id").(string), slug: slug, org: o, members: map[string]*modelMembership{}}
	r.m.workspaces = append(r.m.workspaces, w)
	r.m.grant(w, owner.id, "owner", nil)
}

// memberOf picks, most of the time, someone with a live direct membership in
// w, else anyone.
func (r *modelRun) memberOf(w *modelWorkspace) *modelUser {
	var ids []string
	for _, u := range r.m.users {
		if r.m.direct(w, u.id) != nil {
			ids = append(ids, u.id)
		}
	}
	if len(ids) == 0 || r.chance(0.2) {
		return r.anyUser()
	}
	return r.m.userByID(pickOf(r, ids))
}

func expiryBody(body map[string]any, at *time.Time) {
	if at != nil {
		body["expires_at"] = at.Format(time.RFC3339)
	}
}

// putMember adds a workspace member or changes their role or expiry.
func (r *modelRun) putMember() {
	w := r.anyWorkspace()
	if w == nil {
		return
	}
	r.touched = w.org
	target := r.memberOf(w)
	role := pickOf(r, modelWorkspaceRoles)
	expiresAt := r.futureExpiry()
	token, actor := r.actor()
	body := map[string]any{"role": role}
	expiryBody(body, expiresAt)
	want := r.predictPutMember(actor, w, target, role, expiresAt)
	res := r.send(want, rostertest.Req{Method: http.MethodPut, Path: "/v1/workspaces/" + w.id + "/members/" + target.id, Token: token, Body: body})
	if res.Status < 300 {
		r.m.grant(w, target.id, role, expiresAt)
	}
}

func (r *modelRun) predictPutMember(actor *modelUser, w *modelWorkspace, target *modelUser, role string, expiresAt *time.Time) expected {
	if want, pass := r.gate(actor, w, "admin"); !pass {
		return want
	}
	current := r.m.directRole(w, target.id)
	// Rule 2: only an owner grants or takes away owner.
	if actor != nil && (role == "owner" || current == "owner") && !r.m.can(w, actor.id, "owner") {
		return ok(403)
	}
	// Both are 409s; DOMAIN does not order them, Roster names last_owner first.
	if r.m.lastOwnerOf(w, target.id) && (role != "owner" || expiresAt != nil) {
		return expected{status: 409, code: "last_owner"}
	}
	if role == "external" && w.org.members[target.id] != "" {
		return expected{status: 409, code: "external_invariant"}
	}
	if r.m.takesNewSeat(w.org, target.id, role, "") && r.m.overCap(w.org) {
		return expected{status: 402, code: "seat_cap_reached"}
	}
	if current == "" {
		return ok(201)
	}
	return ok(200)
}

// deleteMember removes a direct workspace membership; anyone may leave.
func (r *modelRun) deleteMember() {
	w := r.anyWorkspace()
	if w == nil {
		return
	}
	r.touched, r.touchedWS = w.org, w
	target := r.memberOf(w)
	token, actor := r.actor()
	if actor != nil && r.chance(0.3) {
		target = actor // leaving
	}
	want := r.predictDeleteMember(actor, w, target)
	res := r.send(want, rostertest.Req{Method: http.MethodDelete, Path: "/v1/workspaces/" + w.id + "/members/" + target.id, Token: token})
	if res.Status == 204 {
		delete(w.members, target.id)
	}
}

func (r *modelRun) predictDeleteMember(actor *modelUser, w *modelWorkspace, target *modelUser) expected {
	minimum := "admin"
	if actor != nil && actor.id == target.id {
		minimum = "" // leaving needs no permission: without a membership it is a 404
	}
	if want, pass := r.gate(actor, w, ""); !pass {
		return want
	}
	// The caller's permission comes first: who may not manage members does
	// not learn who is one.
	if !r.allowed(actor, w, minimum) {
		return ok(403)
	}
	current := r.m.directRole(w, target.id)
	if current == "" && w.members[target.id] != nil {
		// An expired membership: 404 once its end task has soft-deleted it,
		// 204 before (DOMAIN is silent; both are accepted).
		return expected{status: 404, or: 204}
	}
	if current == "" && r.m.effective(w, target.id).role == "" {
		return ok(404)
	}
	if current == "" {
		return expected{status: 409, code: "derived_membership"} // the organisation's role, not a row
	}
	if actor != nil && actor.id != target.id && current == "owner" && !r.m.can(w, actor.id, "owner") {
		return ok(403)
	}
	if r.m.lastOwnerOf(w, target.id) {
		return expected{status: 409, code: "last_owner"}
	}
	return ok(204)
}

// orgMemberOf picks, most of the time, an org member of o, else anyone.
func (r *modelRun) orgMemberOf(o *modelOrg) *modelUser {
	var ids []string
	for _, u := range r.m.users {
		if o.members[u.id] != "" {
			ids = append(ids, u.id)
		}
	}
	if len(ids) == 0 || r.chance(0.3) {
		return r.anyUser()
	}
	return r.m.userByID(pickOf(r, ids))
}

// putOrgMember adds an org member or changes their org role.
func (r *modelRun) putOrgMember() {
	o := r.anyOrg()
	r.touched = o
	target := r.orgMemberOf(o)
	role := pickOf(r, modelOrgRoles)
	token, actor := r.actor()
	want := r.predictPutOrgMember(actor, o, target, role)
	res := r.send(want, rostertest.Req{Method: http.MethodPut, Path: "/v1/orgs/" + o.id + "/members/" + target.id, Token: token, Body: map[string]any{"role": role}})
	if res.Status < 300 {
		r.m.joinOrg(o, target.id, role)
	}
}

func (r *modelRun) predictPutOrgMember(actor *modelUser, o *modelOrg, target *modelUser, role string) expected {
	if want, pass := r.orgVisible(actor, o); !pass {
		return want
	}
	current := o.members[target.id]
	if !r.managesOrgMembers(actor, o, role == "owner" || current == "owner") {
		return ok(403)
	}
	if role != "owner" && r.m.lastOrgOwner(o, target.id) {
		return expected{status: 409, code: "last_owner"}
	}
	if r.m.takesNewSeat(o, target.id, "", role) && r.m.overCap(o) {
		return expected{status: 402, code: "seat_cap_reached"}
	}
	if current == "" {
		return ok(201)
	}
	return ok(200)
}

// deleteOrgMember removes someone from an organisation, and so from all of
// its workspaces (rule 7).
func (r *modelRun) deleteOrgMember() {
	o := r.anyOrg()
	r.touched = o
	target := r.orgMemberOf(o)
	token, actor := r.actor()
	if actor != nil && r.chance(0.2) {
		target = actor // leaving
	}
	want := r.predictDeleteOrgMember(actor, o, target)
	res := r.send(want, rostertest.Req{Method: http.MethodDelete, Path: "/v1/orgs/" + o.id + "/members/" + target.id, Token: token})
	if res.Status == 204 {
		r.m.leaveOrg(o, target.id)
	}
}

func (r *modelRun) predictDeleteOrgMember(actor *modelUser, o *modelOrg, target *modelUser) expected {
	if want, pass := r.orgVisible(actor, o); !pass {
		return want
	}
	current := o.members[target.id]
	if current == "" {
		return ok(404) // the directory is visible to org members: no need to hide it
	}
	ownsAWorkspace, lastOwnerSomewhere := false, false
	for _, w := range r.m.workspacesOf(o) {
		ownsAWorkspace = ownsAWorkspace || r.m.directRole(w, target.id) == "owner"
		lastOwnerSomewhere = lastOwnerSomewhere || r.m.lastOwnerOf(w, target.id)
	}
	// Removal takes away workspace roles too, so an org admin may not remove
	// an owner of either kind (rule 2). Anyone may leave.
	leaving := actor != nil && actor.id == target.id
	if !leaving && !r.managesOrgMembers(actor, o, current == "owner" || ownsAWorkspace) {
		return ok(403)
	}
	if r.m.lastOrgOwner(o, target.id) || lastOwnerSomewhere {
		return expected{status: 409, code: "last_owner"}
	}
	return ok(204)
}

// invite creates an invitation to one of the users' emails, existing or
// not yet.
func (r *modelRun) invite() {
	w := r.anyWorkspace()
	if w == nil {
		return
	}
	r.touched = w.org
	email := modelEmail(r.pick(min(len(r.m.users)+2, modelMaxUsers)))
	role := pickOf(r, modelWorkspaceRoles)
	token, actor := r.actor()
	body := map[string]any{"email": email, "role": role}
	expiresIn := pickOf(r, []time.Duration{0, time.Hour, 26 * time.Hour})
	if expiresIn > 0 {
		body["expires_in"] = int64(expiresIn / time.Second)
	} else {
		expiresIn = 7 * 24 * time.Hour
	}
	want, existing := r.predictInvite(actor, w, email, role)
	res := r.send(want, rostertest.Req{Method: http.MethodPost, Path: "/v1/workspaces/" + w.id + "/invitations", Token: token, Body: body})
	switch res.Status {
	case 200:
		if id, _ := res.Field("id").(string); id != existing.id {
			r.failf("a second invitation to %s answered %s, want the pending %s", email, id, existing.id)
		}
	case 201:
		inviter := r.env.AdminID
		if actor != nil {
			inviter = actor.id
		}
		r.m.invitations = append(r.m.invitations, &modelInvitation{id: res.Field("id").(string), token: res.Field("token").(string),
			email: email, role: role, inviter: inviter, ws: w, expiresAt: r.m.now.Add(expiresIn), state: "pending"})
	}
}

func (r *modelRun) predictInvite(actor *modelUser, w *modelWorkspace, email, role string) (expected, *modelInvitation) {
	if want, pass := r.gate(actor, w, "admin"); !pass {
		return want, nil
	}
	if actor != nil && role == "owner" && !r.m.can(w, actor.id, "owner") {
		return ok(403), nil
	}
	// A pending invitation to the email is answered as is, whatever the
	// role asked now and even if its person has become a member since
	// (Roster's order; DOMAIN does not give one).
	for _, inv := range r.m.invitations {
		if inv.ws == w && inv.email == email && r.m.invitationPending(inv) {
			return ok(200), inv
		}
	}
	invitee := r.m.userByEmail(email)
	// A member, direct or derived from the organisation, is not invited
	// (DOMAIN is silent on derived members; Roster counts them).
	if invitee != nil && r.m.effective(w, invitee.id).role != "" {
		return expected{status: 409, code: "already_member"}, nil
	}
	if invitee != nil && role == "external" && w.org.members[invitee.id] != "" {
		return expected{status: 409, code: "external_invariant"}, nil
	}
	o := w.org
	holders := r.m.seatHolders(o)
	newSeat := !o.plan.isFree(role) && (invitee == nil || holders[invitee.id] == "") && !r.m.pendingEmails(o, holders)[email]
	if s := r.m.seats(o); newSeat && o.plan.cap != nil && s.used+s.pending+1 > *o.plan.cap {
		return expected{status: 402, code: "seat_cap_reached"}, nil
	}
	return ok(201), nil
}

// acceptInvitation has the invited user accept with the token.
func (r *modelRun) acceptInvitation() {
	var candidates []*modelInvitation
	for _, inv := range r.m.invitations {
		if r.m.userByEmail(inv.email) != nil {
			candidates = append(candidates, inv)
		}
	}
	if len(candidates) == 0 {
		return
	}
	inv := pickOf(r, candidates)
	r.touched = inv.ws.org
	u := r.m.userByEmail(inv.email)
	want := r.predictAccept(inv, u)
	res := r.send(want, rostertest.Req{Method: http.MethodPost, Path: "/v1/invitations/accept", Token: u.token, Body: map[string]any{"token": inv.token}})
	if res.Status == 200 && inv.state == "pending" {
		// Someone already a direct member keeps their membership, role and
		// expiry, unless the invitation offers a higher role: then they hold
		// that role, without expiry. An accept never demotes. (DOMAIN only
		// says they are not charged a seat again; this is what Roster does.)
		if modelRank(inv.role) > modelRank(r.m.directRole(inv.ws, u.id)) {
			r.m.grant(inv.ws, u.id, inv.role, nil)
		}
		inv.state = "accepted"
	}
}

func (r *modelRun) predictAccept(inv *modelInvitation, u *modelUser) expected {
	w := inv.ws
	switch {
	case u.suspended:
		return ok(401)
	case inv.state == "revoked":
		return expected{status: 410, code: "invitation_revoked"}
	case inv.state == "accepted" && r.m.direct(w, u.id) != nil:
		return ok(200) // idempotent
	case inv.state == "accepted":
		// The membership it made has ended: removed or expired (rule 9; see
		// TestModelFound_RetriedAcceptAfterExpiry).
		return expected{status: 409, code: "invitation_already_used"}
	case !r.m.now.Before(inv.expiresAt):
		return expected{status: 410, code: "invitation_expired"}
	case w.archived:
		return expected{status: 410, code: "workspace_archived"}
	}
	// Rule 12: the inviter's authority is read again now.
	if inv.inviter != r.env.AdminID {
		minimum := "admin"
		if inv.role == "owner" {
			minimum = "owner"
		}
		if !r.m.can(w, inv.inviter, minimum) {
			return expected{status: 403, code: "inviter_no_longer_authorized"}
		}
	}
	// Already a direct member with at least the offered role: nothing is
	// granted, so no rule about the offered role applies (Roster's answer;
	// DOMAIN is silent). Found by a 100,000-step run: an org member invited
	// as external who is already the workspace's owner.
	if current := r.m.directRole(w, u.id); current != "" && modelRank(current) >= modelRank(inv.role) {
		return ok(200)
	}
	if inv.role == "external" && w.org.members[u.id] != "" {
		return expected{status: 409, code: "external_invariant"}
	}
	if r.m.takesNewSeat(w.org, u.id, inv.role, "") && r.m.overCap(w.org) {
		return expected{status: 402, code: "seat_cap_reached"}
	}
	return ok(200)
}

// revokeInvitation revokes an invitation in any state.
func (r *modelRun) revokeInvitation() {
	if len(r.m.invitations) == 0 {
		return
	}
	inv := pickOf(r, r.m.invitations)
	r.touched = inv.ws.org
	token, actor := r.actor()
	want, pass := r.gate(actor, inv.ws, "admin")
	switch {
	case pass && inv.state == "accepted":
		want = expected{status: 409, code: "invitation_already_used"} // remove the member instead
	case pass:
		want = ok(204) // revoking twice, or an expired one, is fine
	}
	res := r.send(want, rostertest.Req{Method: http.MethodDelete, Path: "/v1/workspaces/" + inv.ws.id + "/invitations/" + inv.id, Token: token})
	if res.Status == 204 && inv.state == "pending" {
		inv.state = "revoked"
	}
}

// setPlan sets a seat cap near the current use, free roles and the owner flag.
func (r *modelRun) setPlan() {
	o := r.anyOrg()
	r.touched = o
	plan := modelPlan{free: pickOf(r, [][]string{{"viewer"}, {}, {"viewer", "external"}, {"external"}})}
	if r.chance(0.7) {
		c := max(0, r.m.seats(o).used+r.pick(4)-1)
		plan.cap = &c
	}
	plan.ownerSeatFree = r.chance(0.3)
	r.send(ok(200), rostertest.Req{Method: http.MethodPut, Path: "/v1/orgs/" + o.id + "/plan", Token: r.env.AdminToken,
		Body: map[string]any{"seat_cap": plan.cap, "free_roles": plan.free, "owner_seat_free": plan.ownerSeatFree}})
	o.plan = plan
}

// setUserStatus suspends an active user or reactivates a suspended one.
func (r *modelRun) setUserStatus() {
	u := r.anyUser()
	if !u.suspended && r.chance(0.5) {
		u = r.anyUser() // lean towards reactivating, so that most users stay active
	}
	r.touchedAll = true // a user's seats and decisions in every organisation
	status := "suspended"
	if u.suspended {
		status = "active"
	}
	want := ok(200)
	if !u.suspended && r.m.lastActiveOwner(u.id) {
		want = expected{status: 409, code: "last_owner"}
	}
	if r.send(want, rostertest.Req{Method: http.MethodPatch, Path: "/v1/users/" + u.id, Token: r.env.AdminToken, Body: map[string]any{"status": status}}).Status == 200 {
		u.suspended = status == "suspended"
	}
}

// archive archives a workspace (the admin, or a user with workspace.archive)
// or has the admin unarchive it.
func (r *modelRun) archive() {
	w := r.anyWorkspace()
	if w == nil {
		return
	}
	if !w.archived && r.chance(0.5) {
		w = r.anyWorkspace() // lean towards unarchiving: most workspaces stay in use
	}
	r.touched, r.touchedWS = w.org, w
	if w.archived {
		r.send(ok(200), rostertest.Req{Method: http.MethodPost, Path: "/v1/workspaces/" + w.id + "/unarchive", Token: r.env.AdminToken})
		w.archived = false
		return
	}
	token, actor := r.actor()
	want, pass := r.gate(actor, w, "admin")
	if pass {
		want = ok(200)
	}
	if r.send(want, rostertest.Req{Method: http.MethodPost, Path: "/v1/workspaces/" + w.id + "/archive", Token: token}).Status == 200 {
		w.archived = true
	}
}

// advanceClock moves time on so that expiries pass.
func (r *modelRun) advanceClock() {
	d := pickOf(r, []time.Duration{10 * time.Minute, 45 * time.Minute, 3 * time.Hour, 25 * time.Hour})
	r.env.Clock.Advance(d)
	r.touchedAll = true
	r.logf("clock +%v", d)
	r.afterClock()
}

// selfCheck has a user ask POST /v1/check about themselves, with their own
// token: allowed for workspaces they may know of, 404 for the others.
func (r *modelRun) selfCheck() {
	w, u := r.anyWorkspace(), r.anyUser()
	if w == nil {
		return
	}
	a := pickOf(r, modelActions)
	want := ok(200)
	switch {
	case u.suspended:
		want = ok(401)
	case !r.m.visible(w, u.id) && r.m.formerMember(w, u.id):
		// Someone whose membership expired gets a denial (200) from Roster,
		// at least until the end task removes the row; DOMAIN only asks
		// not to reveal other tenants' objects, so both are accepted.
		want = expected{status: 404, code: "workspace_not_found", or: 200}
	case !r.m.visible(w, u.id):
		want = expected{status: 404, code: "workspace_not_found"}
	}
	res := r.send(want, rostertest.Req{Method: http.MethodPost, Path: "/v1/check", Token: u.token,
		Body: map[string]any{"user_id": u.id, "action": a.action, "workspace_id": w.id}})
	if res.Status == 200 {
		var d rostertest.Decision
		res.JSON(r.t, &d)
		r.compareDecision(u, w, a.action, a.minimum, d)
	}
}
