package httpapi_test

// TestModel runs random sequences of operations through the real HTTP API on
// both backends, beside the pure model of model_state_test.go, and after every
// step compares what Roster answers (decisions, member lists, seats) with
// what the model predicts. A mismatch fails with the seed, the step and the
// operations that led there.
//
// Long runs: go test ./httpapi -run 'TestModel$' -model.steps=100000 -model.seed=7

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/rostertest"
)

var (
	modelSteps = flag.Int("model.steps", 2000, "TestModel: random operations per backend")
	modelSeed  = flag.Uint64("model.seed", 20261125, "TestModel: seed of the random operations")
	modelEvery = flag.Int("model.every", 25, "TestModel: compare everything every this many steps (else what the step touched)")
)

// Bounds that keep each step's comparisons cheap.
const (
	modelMaxUsers      = 8
	modelMaxOrgs       = 3
	modelMaxWorkspaces = 6
)

func TestModel(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		r := newModelRun(t, b, *modelSeed)
		start := time.Now()
		var inOps time.Duration
		for r.step = 1; r.step <= *modelSteps; r.step++ {
			r.touched, r.touchedWS, r.touchedAll, r.changed = nil, nil, false, false
			opStart := time.Now()
			r.randomStep()
			inOps += time.Since(opStart)
			r.compare(r.step%*modelEvery == 0)
		}
		r.compare(true)
		if testing.Verbose() {
			t.Logf("outcomes:\n%s", r.outcomeTable())
		}
		t.Logf("%s: %d steps, seed %d, %v (operations %v, comparisons the rest)", b, *modelSteps, *modelSeed, time.Since(start).Round(time.Millisecond), inOps.Round(time.Millisecond))
	})
}

// modelRun is one run: Roster, the model, the random source and the log of
// operations so far.
type modelRun struct {
	t       *testing.T
	env     *rostertest.Env
	m       *model
	rng     *rand.Rand
	seed    uint64
	step    int
	log     []string
	nextOrg int // for unique organisation slugs
	// What the current step changed: one organisation, or (touchedAll)
	// possibly every one.
	touched    *modelOrg
	touchedWS  *modelWorkspace // when only one workspace's decisions can change
	touchedAll bool
	changed    bool // the step's write succeeded
	// outcomes counts answers by operation and status, logged at the end to
	// show what a run covered.
	outcomes map[string]int
}

func newModelRun(t *testing.T, b rostertest.Backend, seed uint64) *modelRun {
	env := rostertest.NewEnv(t, b)
	return &modelRun{outcomes: map[string]int{}, t: t, env: env, m: &model{now: env.Clock.Now()}, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), seed: seed}
}

// failf stops the run with what is needed to reproduce it.
func (r *modelRun) failf(format string, args ...any) {
	r.t.Helper()
	tail := r.log
	if len(tail) > 40 && !testing.Verbose() {
		tail = tail[len(tail)-40:]
	}
	r.t.Fatalf("seed %d, step %d: %s\nlast operations:\n  %s\nmodel:\n%s", r.seed, r.step, fmt.Sprintf(format, args...), strings.Join(tail, "\n  "), r.m.dump())
}

// names replaces ids with the names the log and dump use: u0, org-0,
// org-0/ws-1.
func (m *model) names() *strings.Replacer {
	var pairs []string
	for i, u := range m.users {
		pairs = append(pairs, u.id, fmt.Sprintf("u%d", i))
	}
	for _, o := range m.orgs {
		pairs = append(pairs, o.id, o.slug)
	}
	for _, w := range m.workspaces {
		pairs = append(pairs, w.id, w.org.slug+"/"+w.slug)
	}
	return strings.NewReplacer(pairs...)
}

// dump describes the model's state, users named u0, u1, … as in the log.
func (m *model) dump() string {
	name := map[string]string{}
	var b strings.Builder
	for i, u := range m.users {
		name[u.id] = fmt.Sprintf("u%d", i)
		fmt.Fprintf(&b, "  u%d = %s suspended=%v\n", i, u.id, u.suspended)
	}
	for _, o := range m.orgs {
		fmt.Fprintf(&b, "  org %s (%s) plan cap=%v free=%v owner_free=%v members:", o.slug, o.id, modelCap(o.plan.cap), o.plan.free, o.plan.ownerSeatFree)
		for id, role := range o.members {
			fmt.Fprintf(&b, " %s:%s", name[id], role)
		}
		b.WriteString("\n")
		for _, w := range m.workspacesOf(o) {
			fmt.Fprintf(&b, "    ws %s (%s) archived=%v members:", w.slug, w.id, w.archived)
			for id, ms := range w.members {
				fmt.Fprintf(&b, " %s:%s", name[id], ms.role)
				if ms.expiresAt != nil {
					fmt.Fprintf(&b, "(until %s, live=%v)", modelTime(ms.expiresAt), m.live(ms))
				}
			}
			b.WriteString("\n")
		}
	}
	for _, inv := range m.invitations {
		fmt.Fprintf(&b, "  invitation %s %s/%s to %s as %s by %s, %s, expires %s\n", inv.id, inv.ws.org.slug, inv.ws.slug, inv.email, inv.role, name[inv.inviter], inv.state, inv.expiresAt.Format(time.RFC3339))
	}
	return b.String()
}

func modelCap(c *int) string {
	if c == nil {
		return "none"
	}
	return fmt.Sprint(*c)
}

func (r *modelRun) logf(format string, args ...any) {
	r.log = append(r.log, fmt.Sprintf("%d: ", r.step)+fmt.Sprintf(format, args...))
}

// expected is an outcome class: a status and, where DOMAIN/API name one, the
// problem code.
type expected struct {
	status int
	code   string
	// or, when set, is another status the model accepts: where the answer
	// depends on whether a background end task has run yet.
	or int
}

func ok(status int) expected { return expected{status: status} }

// send performs a request and fails unless Roster's answer is the predicted one.
func (r *modelRun) send(want expected, req rostertest.Req) *rostertest.Response {
	r.t.Helper()
	res := r.env.Do(req)
	what := r.m.names().Replace(fmt.Sprintf("%s %s %s as %s", req.Method, req.Path, modelJSON(req.Body), r.who(req.Token)))
	r.logf("%s → %d", what, res.Status)
	r.changed = r.changed || res.Status < 300
	r.outcomes[fmt.Sprintf("%s %s → %d %s", req.Method, modelRoute(req.Path), res.Status, res.Field("code"))]++
	if res.Status != want.status && (want.or == 0 || res.Status != want.or) {
		r.failf("%s: status %d, model says %d %s: %s", what, res.Status, want.status, want.code, res.Body)
	}
	if want.code != "" && res.Status == want.status {
		if code, _ := res.Field("code").(string); code != want.code {
			r.failf("%s: code %q, model says %q: %s", what, code, want.code, res.Body)
		}
	}
	return res
}

// who names the caller of a token in the log.
func (r *modelRun) who(token string) string {
	for i, u := range r.m.users {
		if u.token == token {
			return fmt.Sprintf("u%d", i)
		}
	}
	return "admin"
}

func modelJSON(body any) string {
	if body == nil {
		return ""
	}
	b, _ := json.Marshal(body)
	return string(b)
}

// Random picks.

func (r *modelRun) pick(n int) int { return r.rng.IntN(n) }

func pickOf[T any](r *modelRun, xs []T) T { return xs[r.pick(len(xs))] }

func (r *modelRun) chance(p float64) bool { return r.rng.Float64() < p }

func (r *modelRun) anyUser() *modelUser {
	if len(r.m.users) == 0 {
		return nil
	}
	return pickOf(r, r.m.users)
}

func (r *modelRun) anyWorkspace() *modelWorkspace {
	if len(r.m.workspaces) == 0 {
		return nil
	}
	return pickOf(r, r.m.workspaces)
}

func (r *modelRun) anyOrg() *modelOrg {
	if len(r.m.orgs) == 0 {
		return nil
	}
	return pickOf(r, r.m.orgs)
}

// futureExpiry is an expires_at some way ahead, or nil most of the time.
func (r *modelRun) futureExpiry() *time.Time {
	if !r.chance(0.3) {
		return nil
	}
	at := r.m.now.Add(pickOf(r, []time.Duration{30 * time.Minute, 2 * time.Hour, 26 * time.Hour}))
	return &at
}

// randomStep runs one operation chosen by weight; operations that cannot
// run yet (no users, no organisation) fall back to creating what is missing.
func (r *modelRun) randomStep() {
	if len(r.m.users) < 2 {
		r.createUser()
		return
	}
	if len(r.m.orgs) == 0 {
		r.createOrg()
		return
	}
	ops := []struct {
		weight int
		run    func()
	}{
		{2, r.createUser},
		{1, r.createOrg},
		{2, r.createWorkspace},
		{14, r.putMember},
		{5, r.deleteMember},
		{8, r.putOrgMember},
		{3, r.deleteOrgMember},
		{6, r.invite},
		{6, r.acceptInvitation},
		{2, r.revokeInvitation},
		{2, r.setPlan},
		{3, r.setUserStatus},
		{2, r.archive},
		{3, r.advanceClock},
		{2, r.selfCheck},
	}
	total := 0
	for _, op := range ops {
		total += op.weight
	}
	n := r.pick(total)
	for _, op := range ops {
		if n < op.weight {
			op.run()
			return
		}
		n -= op.weight
	}
}

// actor picks who sends a write: the platform admin most of the time, else a
// random user with their own token, so that authorization rules are tried.
// It returns the token and the acting user (nil for the admin).
func (r *modelRun) actor() (string, *modelUser) {
	if r.chance(0.65) {
		return r.env.AdminToken, nil
	}
	u := r.anyUser()
	if u.suspended && r.chance(0.7) {
		u = r.anyUser() // mostly active callers: a suspended one only tries the 401
	}
	return u.token, u
}

// gate predicts the answer to a workspace-scoped write by a user before the
// rules of the write itself: 401 for a suspended caller, 404 when the
// workspace is not visible to them, 410 when archived, 403 without the
// permission. ok is false when one of them applies.
func (r *modelRun) gate(actor *modelUser, w *modelWorkspace, minimum string) (expected, bool) {
	if actor == nil {
		if w.archived {
			return expected{status: 410, code: "workspace_archived"}, false
		}
		return expected{}, true
	}
	if actor.suspended {
		return ok(401), false
	}
	if !r.m.visible(w, actor.id) {
		return ok(404), false
	}
	if w.archived {
		return expected{status: 410, code: "workspace_archived"}, false
	}
	if !r.m.can(w, actor.id, minimum) {
		return ok(403), false
	}
	return expected{}, true
}

// allowed reports whether the caller (nil: the platform admin, who may do
// anything) holds minimum in w.
func (r *modelRun) allowed(actor *modelUser, w *modelWorkspace, minimum string) bool {
	return actor == nil || r.m.can(w, actor.id, minimum)
}

// orgVisible is the first gate of organisation-scoped writes by a user: 401
// for a suspended caller, 404 for an outsider (externals included).
func (r *modelRun) orgVisible(actor *modelUser, o *modelOrg) (expected, bool) {
	switch {
	case actor == nil:
		return expected{}, true
	case actor.suspended:
		return ok(401), false
	case o.members[actor.id] == "":
		return ok(404), false
	}
	return expected{}, true
}

// managesOrgMembers: the platform admin, org owners and org admins; with
// owners set, only org owners (rule 2).
func (r *modelRun) managesOrgMembers(actor *modelUser, o *modelOrg, owners bool) bool {
	if actor == nil {
		return true
	}
	role := o.members[actor.id]
	return role == "owner" || (role == "admin" && !owners)
}

// afterClock keeps the model's clock with Roster's and has Roster recompute
// the seats whose memberships expired (what `serve` does every 30 s), so that
// the breakdown by role is settled when it is compared.
func (r *modelRun) afterClock() {
	r.m.now = r.env.Clock.Now()
	if _, err := r.env.Service.RecheckSeats(rostertest.System()); err != nil {
		r.failf("recheck seats: %v", err)
	}
}

// modelRoute is a request path with its ids replaced by their kind.
func modelRoute(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if prefix, _, found := strings.Cut(p, "_"); found && len(p) > 20 {
			parts[i] = "{" + prefix + "}"
		}
	}
	return strings.Join(parts, "/")
}

func (r *modelRun) outcomeTable() string {
	var lines []string
	for k, n := range r.outcomes {
		lines = append(lines, fmt.Sprintf("  %5d  %s", n, strings.TrimSuffix(k, " %!s(<nil>)")))
	}
	slices.SortFunc(lines, func(a, b string) int { return strings.Compare(a[7:], b[7:]) })
	return strings.Join(lines, "\n")
}
