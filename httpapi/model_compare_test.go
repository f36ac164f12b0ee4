package httpapi_test

// After every step that changed something, for the organisation it touched: Roster's
// decisions for every (user, workspace) with one action (rotating through
// the five, so the role, via and expiry are compared every step) and the
// organisation's seats. Every few steps, and after steps that touch every
// organisation (the clock, a user's status): everything — all five actions
// for every pair, the seats of every organisation and every member list.

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/roster-dev/roster/internal/rostertest"
)

// compare compares Roster with the model after a step: everything when full
// is set, else what the step touched.
func (r *modelRun) compare(full bool) {
	r.t.Helper()
	if full || r.touchedAll {
		r.compareDecisions(nil, nil, modelActions)
		for _, o := range r.m.orgs {
			r.compareSeats(o)
		}
		for _, w := range r.m.workspaces {
			r.compareMembers(w)
		}
		return
	}
	// A refused write should change nothing: that is left to the next full
	// comparison, which keeps the run fast.
	if o := r.touched; o != nil && r.changed {
		r.compareDecisions(o, r.touchedWS, modelActions[r.step%len(modelActions):][:1])
		r.compareSeats(o)
	}
}

// compareDecisions sends every (user, workspace, action) in one
// POST /v1/check/batch, as the platform admin: the workspaces are only, when
// set, o's or just ws.
func (r *modelRun) compareDecisions(o *modelOrg, ws *modelWorkspace, actions []struct{ action, minimum string }) {
	type key struct {
		u      *modelUser
		w      *modelWorkspace
		action string
		min    string
	}
	var keys []key
	var checks []map[string]any
	for _, u := range r.m.users {
		for _, w := range r.m.workspaces {
			if (o != nil && w.org != o) || (ws != nil && w != ws) {
				continue
			}
			for _, a := range actions {
				keys = append(keys, key{u, w, a.action, a.minimum})
				checks = append(checks, map[string]any{"user_id": u.id, "action": a.action, "workspace_id": w.id})
			}
		}
	}
	if len(checks) == 0 {
		return
	}
	var out struct{ Results []rostertest.Decision }
	r.env.Expect(http.StatusOK, rostertest.Req{Method: http.MethodPost, Path: "/v1/check/batch", Token: r.env.AdminToken, Body: map[string]any{"checks": checks}}).JSON(r.t, &out)
	if len(out.Results) != len(keys) {
		r.failf("%d check results for %d checks", len(out.Results), len(keys))
	}
	for i, k := range keys {
		r.compareDecision(k.u, k.w, k.action, k.min, out.Results[i])
	}
}

// compareDecision compares one decision with the model's: an inactive user
// or an archived workspace is denied whatever the role (rules 5, 8);
// otherwise the effective role (with where it comes from and until when)
// decides through the permission table.
func (r *modelRun) compareDecision(u *modelUser, w *modelWorkspace, action, minimum string, d rostertest.Decision) {
	r.t.Helper()
	where := fmt.Sprintf("check %s (%s) %s in %s (%s/%s)", u.id, u.email, action, w.id, w.org.slug, w.slug)
	switch {
	case u.suspended:
		if d.Allowed || d.Reason != "user_inactive" {
			r.failf("%s: %+v, model says denied, user_inactive", where, d)
		}
		return
	case w.archived:
		if d.Allowed || d.Reason != "workspace_archived" {
			r.failf("%s: %+v, model says denied, workspace_archived", where, d)
		}
		return
	}
	a := r.m.effective(w, u.id)
	allowed := modelRank(a.role) >= modelRank(minimum)
	reason := ""
	switch {
	case a.role == "":
		reason = "no_access"
	case !allowed:
		reason = "insufficient_role"
	}
	if d.Allowed != allowed || d.Reason != reason || deref(d.Role) != a.role || deref(d.Via) != a.via || deref(d.ExpiresAt) != modelTime(a.expiresAt) {
		r.failf("%s: allowed=%v reason=%q role=%q via=%q expires_at=%q; model says allowed=%v reason=%q role=%q via=%q expires_at=%q",
			where, d.Allowed, d.Reason, deref(d.Role), deref(d.Via), deref(d.ExpiresAt), allowed, reason, a.role, a.via, modelTime(a.expiresAt))
	}
}

func modelTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// compareSeats compares GET /v1/orgs/{org}/seats with the model's full
// recount of DOMAIN §4: used (the ledger must equal the recount), pending
// and the breakdown by role.
func (r *modelRun) compareSeats(o *modelOrg) {
	r.t.Helper()
	var got seatCounts
	r.env.Expect(http.StatusOK, rostertest.Req{Method: http.MethodGet, Path: "/v1/orgs/" + o.id + "/seats", Token: r.env.AdminToken}).JSON(r.t, &got)
	want := r.m.seats(o)
	breakdown := maps.Clone(got.Breakdown)
	maps.DeleteFunc(breakdown, func(_ string, n int) bool { return n == 0 })
	if got.Used != want.used || got.Pending != want.pending || !maps.Equal(breakdown, want.breakdown) {
		r.failf("seats of %s: used %d, pending %d, breakdown %v; model says used %d, pending %d, breakdown %v (holders %v)",
			o.slug, got.Used, got.Pending, got.Breakdown, want.used, want.pending, want.breakdown, r.m.seatHolders(o))
	}
}

// modelMember is how one member shows in GET /v1/workspaces/{ws}/members.
type modelMember struct {
	role      string
	derived   bool
	expiresAt string
}

// compareMembers compares the member list (direct + derived) of a
// workspace; an archived one answers 410 (rule 5).
func (r *modelRun) compareMembers(w *modelWorkspace) {
	r.t.Helper()
	path := "/v1/workspaces/" + w.id + "/members?limit=500"
	if w.archived {
		if res := r.env.Do(rostertest.Req{Method: http.MethodGet, Path: path, Token: r.env.AdminToken}); res.Status != http.StatusGone {
			r.failf("members of archived %s: %d %s", w.id, res.Status, res.Body)
		}
		return
	}
	var page struct{ Data []rostertest.Member }
	r.env.Expect(http.StatusOK, rostertest.Req{Method: http.MethodGet, Path: path, Token: r.env.AdminToken}).JSON(r.t, &page)
	got := map[string]modelMember{}
	for _, m := range page.Data {
		got[m.UserID] = modelMember{role: m.Role, derived: m.Derived, expiresAt: deref(m.ExpiresAt)}
	}
	want := r.m.memberList(w)
	if !maps.Equal(got, want) {
		r.failf("members of %s (%s/%s):\n  roster %v\n  model  %v", w.id, w.org.slug, w.slug, sortedMembers(got), sortedMembers(want))
	}
}

// memberList is the model's member list: everyone with a live direct
// membership or a derived role, with the effective role; derived when the
// effective role comes from the organisation (the same tie-break as a
// check). Suspended users stay listed (rule 8: nothing is deleted).
func (m *model) memberList(w *modelWorkspace) map[string]modelMember {
	out := map[string]modelMember{}
	for _, u := range m.users {
		a := m.effective(w, u.id)
		if a.role == "" {
			continue
		}
		derived := a.via != "direct"
		mm := modelMember{role: a.role, derived: derived}
		if !derived {
			mm.expiresAt = modelTime(m.direct(w, u.id).expiresAt)
		}
		out[u.id] = mm
	}
	return out
}

func sortedMembers(ms map[string]modelMember) []string {
	var out []string
	for id, m := range ms {
		out = append(out, fmt.Sprintf("%s:%s/derived=%v/exp=%s", id, m.role, m.derived, m.expiresAt))
	}
	slices.Sort(out)
	return out
}
