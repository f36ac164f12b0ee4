package httpapi_test

import (
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster/internal/rostertest"
)

// emitCall is one request and the status it must get.
type emitCall struct {
	name   string
	status int
	req    rostertest.Req
}

// emitPlan is what one operation is tried with, on a world set up for it.
type emitPlan struct {
	ok      emitCall   // succeeds and writes exactly the entry's events
	rejects []emitCall // sent before ok: each refused (4xx), writing nothing
	repeats []emitCall // sent after ok: each changes nothing, writing nothing
}

// emitCase is one operation of the API: the exact events its successful
// request writes, or none for an operation that only reads.
type emitCase struct {
	events   []string // the exact multiset of event types
	readOnly bool     // a POST that changes nothing: no event at all
	setup    func(w *emitWorld) emitPlan
}

// emitWorld is a fresh tenant of one case: alice owns its organisation and
// workspace; everyone else is made on demand with emails of the case.
type emitWorld struct {
	tenant
	t    *testing.T
	slug string
}

func (w *emitWorld) email(name string) string { return name + "@" + w.slug + ".example" }

func (w *emitWorld) admin() string { return w.env.AdminToken }

// user makes a user outside the tenant, with a personal token.
func (w *emitWorld) user(name string) (rostertest.User, string) {
	return w.env.NewUserWithToken(w.email(name))
}

// member makes a user and gives them role in the tenant's workspace (an
// outsider granted more than external or viewer joins the organisation).
func (w *emitWorld) member(name, role string) (rostertest.User, string) {
	u, token := w.user(name)
	w.env.PutMember(w.aliceToken, w.ws.ID, u.ID, map[string]any{"role": role}).Want(w.t, 201)
	return u, token
}

func (w *emitWorld) wsPath(rest string) string  { return "/v1/workspaces/" + w.ws.ID + rest }
func (w *emitWorld) orgPath(rest string) string { return "/v1/orgs/" + w.org.ID + rest }

// inviteEmail has alice invite email to the workspace and returns the
// invitation's id and accept token.
func (w *emitWorld) inviteEmail(email, role string) (id, token string) {
	m := w.env.Expect(201, emitReq("POST", w.wsPath("/invitations"), w.aliceToken, map[string]any{"email": email, "role": role})).Map(w.t)
	return m["id"].(string), m["token"].(string)
}

// requestAccess has token's user ask to join the workspace.
func (w *emitWorld) requestAccess(token string) string {
	return w.env.Expect(201, emitReq("POST", w.wsPath("/access-requests"), token, map[string]any{"message": "please"})).Map(w.t)["id"].(string)
}

// expiryTask gives a new user a membership ending in an hour and returns
// the scheduled task that will end it.
func (w *emitWorld) expiryTask() string {
	u, _ := w.user("expiring")
	w.env.PutMember(w.aliceToken, w.ws.ID, u.ID, expiringIn(w.env, time.Hour)).Want(w.t, 201)
	for _, task := range tasks(w.t, w.env, "type=membership_expiry&status=scheduled") {
		if strings.Contains(string(task.Payload), u.ID) {
			return task.ID
		}
	}
	w.t.Fatalf("no expiry task for %s", u.ID)
	return ""
}

// hookURL is an endpoint of the case; nothing is delivered to it.
func (w *emitWorld) hookURL() string { return "https://hooks.example.com/" + w.slug }

// resource makes a resource in the case's workspace and returns its id.
func (w *emitWorld) resource() string {
	return w.env.Expect(201, emitReq("POST", "/v1/resources", w.aliceToken,
		map[string]any{"type": "document", "external_id": w.slug, "name": "Doc", "workspace_id": w.ws.ID})).Map(w.t)["id"].(string)
}

// webhook registers an endpoint of the case and returns its id.
func (w *emitWorld) webhook() string {
	return w.env.Expect(201, emitReq("POST", "/v1/webhooks", w.admin(),
		map[string]any{"url": w.hookURL(), "event_types": []string{"callback.due"}})).Map(w.t)["id"].(string)
}

func emitReq(method, path, token string, body any) rostertest.Req {
	return rostertest.Req{Method: method, Path: path, Token: token, Body: body}
}

func emitOK(status int, r rostertest.Req) emitCall {
	return emitCall{name: "success", status: status, req: r}
}

// emitEntry is an audit event as this test reads it.
type emitEntry struct {
	ID     string `json:"id"`
	Action string `json:"action"`
}

// emitAuditSince returns the audit events newer than mark, newest first.
func emitAuditSince(t *testing.T, env *rostertest.Env, mark string) []emitEntry {
	t.Helper()
	var out []emitEntry
	cursor := ""
	for {
		var page struct {
			Data       []emitEntry
			NextCursor *string `json:"next_cursor"`
		}
		env.Expect(200, emitReq("GET", "/v1/audit?limit=10&cursor="+url.QueryEscape(cursor), env.AdminToken, nil)).JSON(t, &page)
		for _, e := range page.Data {
			if e.ID <= mark {
				return out
			}
			out = append(out, e)
		}
		if page.NextCursor == nil {
			t.Fatalf("the audit log does not reach back to %s", mark)
		}
		cursor = *page.NextCursor
	}
}

// emitTypes is the sorted multiset of the events' types.
func emitTypes(events []emitEntry) []string {
	out := []string{}
	for _, e := range events {
		out = append(out, e.Action)
	}
	slices.Sort(out)
	return out
}

// emitStream is an operator's event stream, kept for the whole test: every
// event written must reach it, with the type the audit log has.
type emitStream struct {
	client *sseClient
	seen   map[string]string // id → type
}

// await reads the stream until it has delivered every one of events, and
// reports those it delivered with another type.
func (s *emitStream) await(t *testing.T, events []emitEntry) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for _, e := range events {
		for {
			if typ, ok := s.seen[e.ID]; ok {
				if typ != e.Action {
					t.Errorf("event %s is %s in the audit log but %s on the stream", e.ID, e.Action, typ)
				}
				break
			}
			select {
			case got := <-s.client.events:
				s.seen[got.ID] = got.Type
			case <-deadline:
				t.Errorf("after 10 s the stream has not delivered %s (%s)", e.ID, e.Action)
				return
			}
		}
	}
}

// TestEveryMutationEmitsItsEvent: every operation of the API that can
// change something is in the table below, with the exact events its
// success writes (in the audit log and on the event stream); its refusals
// and its idempotent repeats write none; the POSTs that only read write
// none. An operation added without an entry fails the test.
func TestEveryMutationEmitsItsEvent(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		cases := emitCases()

		var mutating []string
		for path, item := range env.API.OpenAPI().Paths {
			for method, op := range map[string]*huma.Operation{"POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
				if op == nil {
					continue
				}
				mutating = append(mutating, op.OperationID)
				if _, ok := cases[op.OperationID]; !ok {
					t.Errorf("%s %s (%s) may change state but has no entry: add the events it writes (or mark it read-only)", method, path, op.OperationID)
				}
			}
		}
		for _, id := range slices.Sorted(maps.Keys(cases)) {
			if !slices.Contains(mutating, id) {
				t.Errorf("the table names %s, which is no POST, PUT, PATCH or DELETE of the API any more", id)
			}
			if c := cases[id]; (len(c.events) == 0) != c.readOnly {
				t.Errorf("%s: an entry either lists the events it writes or is read-only", id)
			}
		}

		start := lastEventID(t, env)
		stream := &emitStream{client: openStream(t, env, env.AdminToken, "", start), seen: map[string]string{}}
		for _, id := range slices.Sorted(maps.Keys(cases)) {
			if !slices.Contains(mutating, id) {
				continue
			}
			c := cases[id]
			t.Run(id, func(t *testing.T) {
				caseEnv := *env // the same replica, failing this subtest
				caseEnv.T = t
				w := &emitWorld{t: t, slug: id}
				w.tenant = newTenant(t, &caseEnv, id)
				plan := c.setup(w)

				// send sends one request and returns the events written since
				// the previous one, newest first.
				mark := lastEventID(t, &caseEnv)
				send := func(call emitCall) (*rostertest.Response, []emitEntry) {
					t.Helper()
					res := caseEnv.Do(call.req)
					if res.Status != call.status {
						t.Errorf("%s: %s %s: status %d, want %d: %s", call.name, call.req.Method, call.req.Path, res.Status, call.status, res.Body)
					}
					got := emitAuditSince(t, &caseEnv, mark)
					if len(got) > 0 {
						mark = got[0].ID
					}
					return res, got
				}
				quiet := func(calls []emitCall) {
					t.Helper()
					for _, call := range calls {
						if res, got := send(call); len(got) > 0 {
							t.Errorf("%s (%d): wrote %v, want no event", call.name, res.Status, emitTypes(got))
						}
					}
				}
				quiet(plan.rejects)

				res, got := send(plan.ok)
				if res.Status != plan.ok.status {
					t.FailNow()
				}
				want := slices.Sorted(slices.Values(c.events))
				if want == nil {
					want = []string{}
				}
				if !slices.Equal(emitTypes(got), want) {
					t.Errorf("%s %s wrote %v, want %v", plan.ok.req.Method, plan.ok.req.Path, emitTypes(got), want)
				}
				stream.await(t, got)

				quiet(plan.repeats)
			})
		}
		// Everything the log holds since the start reached the stream, and
		// nothing else did.
		all := emitAuditSince(t, env, start)
		stream.await(t, all)
		if len(stream.seen) != len(all) {
			t.Errorf("the stream delivered %d events, the audit log holds %d", len(stream.seen), len(all))
		}
	})
}

func emitCases() map[string]emitCase {
	none := func(setup func(w *emitWorld) emitPlan) emitCase { return emitCase{readOnly: true, setup: setup} }
	events := func(types ...string) []string { return types }
	// A new member of the organisation takes a seat.
	joins := events("org_membership.created", "membership.created", "seats.changed")
	return map[string]emitCase{
		// Users
		"create-user": {events: events("user.created"), setup: func(w *emitWorld) emitPlan {
			return emitPlan{
				ok: emitOK(201, emitReq("POST", "/v1/users", w.admin(), map[string]any{"email": w.email("new")})),
				rejects: []emitCall{
					{"a plain user", 403, emitReq("POST", "/v1/users", w.aliceToken, map[string]any{"email": w.email("other")})},
					{"an email taken", 409, emitReq("POST", "/v1/users", w.admin(), map[string]any{"email": *w.alice.Email})},
					{"a bad email", 400, emitReq("POST", "/v1/users", w.admin(), map[string]any{"email": "nope"})},
				},
			}
		}},
		"update-user": {events: events("user.updated"), setup: func(w *emitWorld) emitPlan {
			bob, bobToken := w.user("bob")
			path := "/v1/users/" + bob.ID
			return emitPlan{
				ok: emitOK(200, emitReq("PATCH", path, w.admin(), map[string]any{"display_name": "Bob Two"})),
				rejects: []emitCall{
					{"suspending oneself", 403, emitReq("PATCH", path, bobToken, map[string]any{"status": "suspended"})},
					{"another user", 404, emitReq("PATCH", path, w.aliceToken, map[string]any{"display_name": "mine"})},
					{"a bad email", 400, emitReq("PATCH", path, w.admin(), map[string]any{"email": "nope"})},
				},
			}
		}},
		// Deleting a user ends their memberships: each is an event, and so
		// is the seat they free. Their tokens are revoked with the user, as
		// the organisation's contents go with it: no token.revoked each.
		"delete-user": {events: events("org_membership.deleted", "membership.deleted", "seats.changed", "user.deleted"), setup: func(w *emitWorld) emitPlan {
			bob, bobToken := w.member("bob", "member")
			path := "/v1/users/" + bob.ID
			return emitPlan{
				ok: emitOK(204, emitReq("DELETE", path, w.admin(), nil)),
				rejects: []emitCall{
					{"another user", 404, emitReq("DELETE", path, w.aliceToken, nil)},
					{"oneself", 403, emitReq("DELETE", path, bobToken, nil)},
					{"a sole owner", 409, emitReq("DELETE", "/v1/users/"+w.alice.ID, w.admin(), nil)},
				},
				repeats: []emitCall{{"deleting again", 404, emitReq("DELETE", path, w.admin(), nil)}},
			}
		}},

		// Tokens
		"create-my-token": {events: events("token.created"), setup: func(w *emitWorld) emitPlan {
			return emitPlan{
				ok: emitOK(201, emitReq("POST", "/v1/me/tokens", w.aliceToken, map[string]any{"name": "laptop"})),
				rejects: []emitCall{
					{"a service token", 403, emitReq("POST", "/v1/me/tokens", w.aliceToken, map[string]any{"kind": "service"})},
					{"a bad expiry", 400, emitReq("POST", "/v1/me/tokens", w.aliceToken, map[string]any{"expires_in": 0})},
				},
			}
		}},
		"revoke-my-token": {events: events("token.revoked"), setup: func(w *emitWorld) emitPlan {
			spare := w.env.IssueToken(w.alice.ID, map[string]any{"name": "spare"})
			_, bobToken := w.user("bob")
			path := "/v1/me/tokens/" + spare.ID
			return emitPlan{
				ok:      emitOK(204, emitReq("DELETE", path, w.aliceToken, nil)),
				rejects: []emitCall{{"another user's token", 404, emitReq("DELETE", path, bobToken, nil)}},
				repeats: []emitCall{{"revoking again", 204, emitReq("DELETE", path, w.aliceToken, nil)}},
			}
		}},
		"create-user-token": {events: events("token.created"), setup: func(w *emitWorld) emitPlan {
			bob, bobToken := w.user("bob")
			path := "/v1/users/" + bob.ID + "/tokens"
			return emitPlan{
				ok: emitOK(201, emitReq("POST", path, w.admin(), map[string]any{"name": "ci", "kind": "service"})),
				rejects: []emitCall{
					{"another user", 404, emitReq("POST", path, w.aliceToken, map[string]any{})},
					{"the user themself", 403, emitReq("POST", path, bobToken, map[string]any{})},
					{"a bad kind", 400, emitReq("POST", path, w.admin(), map[string]any{"kind": "root"})},
				},
			}
		}},
		"revoke-user-token": {events: events("token.revoked"), setup: func(w *emitWorld) emitPlan {
			bob, _ := w.user("bob")
			tok := w.env.IssueToken(bob.ID, map[string]any{"name": "spare"})
			path := "/v1/users/" + bob.ID + "/tokens/" + tok.ID
			return emitPlan{
				ok: emitOK(204, emitReq("DELETE", path, w.admin(), nil)),
				rejects: []emitCall{
					{"another user", 404, emitReq("DELETE", path, w.aliceToken, nil)},
					{"under the wrong user", 404, emitReq("DELETE", "/v1/users/"+w.alice.ID+"/tokens/"+tok.ID, w.admin(), nil)},
				},
				repeats: []emitCall{{"revoking again", 204, emitReq("DELETE", path, w.admin(), nil)}},
			}
		}},
		"introspect-token": none(func(w *emitWorld) emitPlan {
			bot, _ := w.user("bot")
			svc := w.env.IssueToken(bot.ID, map[string]any{"kind": "service"}).Token
			return emitPlan{
				ok:      emitOK(200, emitReq("POST", "/v1/tokens/introspect", svc, map[string]any{"token": w.aliceToken})),
				rejects: []emitCall{{"a personal token", 403, emitReq("POST", "/v1/tokens/introspect", w.aliceToken, map[string]any{"token": w.aliceToken})}},
			}
		}),

		// Organisations
		"create-org": {events: events("org.created", "org_membership.created", "workspace.created", "membership.created", "seats.changed"), setup: func(w *emitWorld) emitPlan {
			_, bobToken := w.user("bob")
			body := func(slug string, extra map[string]any) map[string]any {
				b := map[string]any{"name": "Bob's", "slug": slug, "workspace": map[string]any{"name": "Main", "slug": "main"}}
				maps.Copy(b, extra)
				return b
			}
			return emitPlan{
				ok: emitOK(201, emitReq("POST", "/v1/orgs", bobToken, body(w.slug+"-bob", nil))),
				rejects: []emitCall{
					{"a slug taken", 409, emitReq("POST", "/v1/orgs", bobToken, body(w.org.Slug, nil))},
					{"a bad slug", 400, emitReq("POST", "/v1/orgs", bobToken, body("Bad Slug", nil))},
					{"for someone else", 403, emitReq("POST", "/v1/orgs", bobToken, body(w.slug+"-x", map[string]any{"owner_id": w.alice.ID}))},
				},
			}
		}},
		"import": {events: events("user.created", "org_membership.created", "membership.created", "seats.changed"), setup: func(w *emitWorld) emitPlan {
			body := ndjson(w.t, rec{"type": "user", "email": w.email("bob")},
				rec{"type": "membership", "org": w.org.Slug, "workspace": w.ws.Slug, "user": w.email("bob"), "role": "member"})
			call := func(token, query, contentType string) rostertest.Req {
				return rostertest.Req{Method: "POST", Path: "/v1/import" + query, Token: token, Body: body, Headers: map[string]string{"Content-Type": contentType}}
			}
			return emitPlan{
				ok: emitOK(200, call(w.admin(), "", "application/x-ndjson")),
				rejects: []emitCall{
					{"an organisation owner", 403, call(w.aliceToken, "", "application/x-ndjson")},
					{"not NDJSON", 415, call(w.admin(), "", "application/json")},
				},
				repeats: []emitCall{
					{"a dry run", 200, call(w.admin(), "?dry_run=true", "application/x-ndjson")},
					{"the same import", 200, call(w.admin(), "", "application/x-ndjson")},
				},
			}
		}},
		"update-org": {events: events("org.updated"), setup: func(w *emitWorld) emitPlan {
			_, bobToken := w.user("bob")
			carol, carolToken := w.user("carol")
			w.env.PutOrgMember(w.aliceToken, w.org.ID, carol.ID, "member").Want(w.t, 201)
			return emitPlan{
				ok: emitOK(200, emitReq("PATCH", w.orgPath(""), w.aliceToken, map[string]any{"name": "Renamed"})),
				rejects: []emitCall{
					{"an outsider", 404, emitReq("PATCH", w.orgPath(""), bobToken, map[string]any{"name": "mine"})},
					{"a member", 403, emitReq("PATCH", w.orgPath(""), carolToken, map[string]any{"name": "mine"})},
					{"a bad slug", 400, emitReq("PATCH", w.orgPath(""), w.aliceToken, map[string]any{"slug": "Bad Slug"})},
				},
			}
		}},
		// The organisation's workspaces and memberships go with it, as
		// history: the one event is the organisation's.
		"delete-org": {events: events("org.deleted"), setup: func(w *emitWorld) emitPlan {
			_, bobToken := w.user("bob")
			carol, carolToken := w.user("carol")
			w.env.PutOrgMember(w.aliceToken, w.org.ID, carol.ID, "admin").Want(w.t, 201)
			return emitPlan{
				ok: emitOK(204, emitReq("DELETE", w.orgPath(""), w.aliceToken, nil)),
				rejects: []emitCall{
					{"an admin", 403, emitReq("DELETE", w.orgPath(""), carolToken, nil)},
					{"an outsider", 404, emitReq("DELETE", w.orgPath(""), bobToken, nil)},
				},
				repeats: []emitCall{{"deleting again", 404, emitReq("DELETE", w.orgPath(""), w.aliceToken, nil)}},
			}
		}},
		"put-org-member": {events: events("org_membership.created", "seats.changed"), setup: func(w *emitWorld) emitPlan {
			bob, bobToken := w.user("bob")
			carol, carolToken := w.user("carol")
			w.env.PutOrgMember(w.aliceToken, w.org.ID, carol.ID, "admin").Want(w.t, 201)
			path := w.orgPath("/members/" + bob.ID)
			return emitPlan{
				ok: emitOK(201, emitReq("PUT", path, w.aliceToken, map[string]any{"role": "member"})),
				rejects: []emitCall{
					{"a bad role", 400, emitReq("PUT", path, w.aliceToken, map[string]any{"role": "king"})},
					{"an outsider", 404, emitReq("PUT", path, bobToken, map[string]any{"role": "member"})},
					{"an admin granting owner", 403, emitReq("PUT", path, carolToken, map[string]any{"role": "owner"})},
				},
			}
		}},
		// Rule 7: leaving the organisation ends the workspace memberships too.
		"remove-org-member": {events: events("org_membership.deleted", "membership.deleted", "seats.changed"), setup: func(w *emitWorld) emitPlan {
			bob, bobToken := w.member("bob", "member")
			path := w.orgPath("/members/" + bob.ID)
			return emitPlan{
				ok: emitOK(204, emitReq("DELETE", path, w.aliceToken, nil)),
				rejects: []emitCall{
					{"the last owner", 409, emitReq("DELETE", w.orgPath("/members/"+w.alice.ID), w.aliceToken, nil)},
					{"a member removing the owner", 403, emitReq("DELETE", w.orgPath("/members/"+w.alice.ID), bobToken, nil)},
				},
				repeats: []emitCall{{"removing again", 404, emitReq("DELETE", path, w.aliceToken, nil)}},
			}
		}},
		"set-plan": {events: events("org.plan_updated", "seats.changed"), setup: func(w *emitWorld) emitPlan {
			path := w.orgPath("/plan")
			return emitPlan{
				// A free owner seat changes the count: 1 used, then 0.
				ok: emitOK(200, emitReq("PUT", path, w.admin(), map[string]any{"seat_cap": 10, "owner_seat_free": true})),
				rejects: []emitCall{
					{"an owner", 403, emitReq("PUT", path, w.aliceToken, map[string]any{"seat_cap": 100})},
					{"a negative cap", 400, emitReq("PUT", path, w.admin(), map[string]any{"seat_cap": -1})},
					{"a bad role", 400, emitReq("PUT", path, w.admin(), map[string]any{"seat_cap": 10, "free_roles": []string{"king"}})},
				},
			}
		}},
		"preview-seats": none(func(w *emitWorld) emitPlan {
			_, bobToken := w.user("bob")
			path := w.orgPath("/seats/preview")
			return emitPlan{
				ok: emitOK(200, emitReq("POST", path, w.aliceToken, map[string]any{"emails": []string{w.email("x"), *w.alice.Email}, "role": "member"})),
				rejects: []emitCall{
					{"a bad email", 400, emitReq("POST", path, w.aliceToken, map[string]any{"emails": []string{"nope"}, "role": "member"})},
					{"an outsider", 404, emitReq("POST", path, bobToken, map[string]any{"emails": []string{w.email("x")}, "role": "member"})},
				},
			}
		}),

		// Workspaces. The owner's seat is already theirs through the
		// organisation: a second workspace changes no count.
		"create-workspace": {events: events("workspace.created", "membership.created"), setup: func(w *emitWorld) emitPlan {
			_, bobToken := w.user("bob")
			body := func(slug string) map[string]any {
				return map[string]any{"org_id": w.org.ID, "name": "Second", "slug": slug}
			}
			return emitPlan{
				ok: emitOK(201, emitReq("POST", "/v1/workspaces", w.aliceToken, body("second"))),
				rejects: []emitCall{
					{"a slug taken", 409, emitReq("POST", "/v1/workspaces", w.aliceToken, body(w.ws.Slug))},
					{"a bad slug", 400, emitReq("POST", "/v1/workspaces", w.aliceToken, body("Bad Slug"))},
					{"an outsider", 404, emitReq("POST", "/v1/workspaces", bobToken, body("bobs"))},
				},
			}
		}},
		"update-workspace": {events: events("workspace.updated"), setup: func(w *emitWorld) emitPlan {
			_, bobToken := w.member("bob", "member")
			return emitPlan{
				ok: emitOK(200, emitReq("PATCH", w.wsPath(""), w.aliceToken, map[string]any{"name": "Renamed"})),
				rejects: []emitCall{
					{"a member", 403, emitReq("PATCH", w.wsPath(""), bobToken, map[string]any{"name": "mine"})},
					{"a bad slug", 400, emitReq("PATCH", w.wsPath(""), w.aliceToken, map[string]any{"slug": "Bad Slug"})},
				},
			}
		}},
		// Memberships go with the workspace, as history (no
		// membership.deleted each); an external's only seat goes too.
		"delete-workspace": {events: events("workspace.deleted", "seats.changed"), setup: func(w *emitWorld) emitPlan {
			w.member("ext", "external")
			_, carolToken := w.member("carol", "admin")
			return emitPlan{
				ok:      emitOK(204, emitReq("DELETE", w.wsPath(""), w.aliceToken, nil)),
				rejects: []emitCall{{"an admin", 403, emitReq("DELETE", w.wsPath(""), carolToken, nil)}},
				repeats: []emitCall{{"deleting again", 404, emitReq("DELETE", w.wsPath(""), w.aliceToken, nil)}},
			}
		}},
		// Memberships of an archived workspace hold no seat.
		"archive-workspace": {events: events("workspace.archived", "seats.changed"), setup: func(w *emitWorld) emitPlan {
			w.member("ext", "external")
			_, bobToken := w.member("bob", "member")
			return emitPlan{
				ok:      emitOK(200, emitReq("POST", w.wsPath("/archive"), w.aliceToken, nil)),
				rejects: []emitCall{{"a member", 403, emitReq("POST", w.wsPath("/archive"), bobToken, nil)}},
				repeats: []emitCall{{"archiving again", 200, emitReq("POST", w.wsPath("/archive"), w.aliceToken, nil)}},
			}
		}},
		"unarchive-workspace": {events: events("workspace.unarchived", "seats.changed"), setup: func(w *emitWorld) emitPlan {
			w.member("ext", "external")
			_, bobToken := w.member("bob", "member")
			w.env.Expect(200, emitReq("POST", w.wsPath("/archive"), w.aliceToken, nil))
			return emitPlan{
				ok:      emitOK(200, emitReq("POST", w.wsPath("/unarchive"), w.aliceToken, nil)),
				rejects: []emitCall{{"a member", 403, emitReq("POST", w.wsPath("/unarchive"), bobToken, nil)}},
				repeats: []emitCall{{"restoring again", 200, emitReq("POST", w.wsPath("/unarchive"), w.aliceToken, nil)}},
			}
		}},
		// Granting member to an outsider makes them an organisation member.
		"put-workspace-member": {events: joins, setup: func(w *emitWorld) emitPlan {
			bob, _ := w.user("bob")
			_, carolToken := w.member("carol", "admin")
			path := w.wsPath("/members/" + bob.ID)
			past := w.env.Clock.Now().Add(-time.Hour).Format(time.RFC3339)
			return emitPlan{
				ok: emitOK(201, emitReq("PUT", path, w.aliceToken, map[string]any{"role": "member"})),
				rejects: []emitCall{
					{"an admin granting owner", 403, emitReq("PUT", path, carolToken, map[string]any{"role": "owner"})},
					{"an expiry past", 400, emitReq("PUT", path, w.aliceToken, map[string]any{"role": "member", "expires_at": past})},
					{"a bad role", 400, emitReq("PUT", path, w.aliceToken, map[string]any{"role": "king"})},
					{"no such user", 404, emitReq("PUT", w.wsPath("/members/usr_00000000000000000000000000"), w.aliceToken, map[string]any{"role": "member"})},
				},
			}
		}},
		"remove-workspace-member": {events: events("membership.deleted", "seats.changed"), setup: func(w *emitWorld) emitPlan {
			ext, _ := w.member("ext", "external")
			_, viewerToken := w.member("viewer", "viewer")
			path := w.wsPath("/members/" + ext.ID)
			return emitPlan{
				ok: emitOK(204, emitReq("DELETE", path, w.aliceToken, nil)),
				rejects: []emitCall{
					{"a viewer", 403, emitReq("DELETE", path, viewerToken, nil)},
					{"the last owner leaving", 409, emitReq("DELETE", w.wsPath("/members/"+w.alice.ID), w.aliceToken, nil)},
				},
				repeats: []emitCall{{"removing again", 404, emitReq("DELETE", path, w.aliceToken, nil)}},
			}
		}},
		"update-workspace-settings": {events: events("workspace.settings_updated"), setup: func(w *emitWorld) emitPlan {
			_, bobToken := w.member("bob", "member")
			path := w.wsPath("/settings")
			return emitPlan{
				ok: emitOK(200, emitReq("PATCH", path, w.aliceToken, map[string]any{"values": map[string]any{"theme": "dark"}, "allow_support_access": true})),
				rejects: []emitCall{
					{"a member", 403, emitReq("PATCH", path, bobToken, map[string]any{"values": map[string]any{"theme": "light"}})},
					{"a key too long", 400, emitReq("PATCH", path, w.aliceToken, map[string]any{"values": map[string]any{strings.Repeat("k", 101): "v"}})},
				},
			}
		}},
		"set-default-workspace": {events: events("user.updated"), setup: func(w *emitWorld) emitPlan {
			_, bobToken := w.user("bob")
			body := map[string]any{"workspace_id": w.ws.ID}
			return emitPlan{
				ok: emitOK(200, emitReq("PUT", "/v1/me/default-workspace", w.aliceToken, body)),
				rejects: []emitCall{
					{"a workspace out of reach", 404, emitReq("PUT", "/v1/me/default-workspace", bobToken, body)},
					{"no such workspace", 404, emitReq("PUT", "/v1/me/default-workspace", w.aliceToken, map[string]any{"workspace_id": "ws_nope"})},
				},
			}
		}},

		// Checks
		"check": none(func(w *emitWorld) emitPlan {
			_, bobToken := w.user("bob")
			body := map[string]any{"user_id": w.alice.ID, "action": "workspace.read", "workspace_id": w.ws.ID}
			return emitPlan{
				ok: emitOK(200, emitReq("POST", "/v1/check", w.admin(), body)),
				rejects: []emitCall{
					{"for someone else", 403, emitReq("POST", "/v1/check", bobToken, body)},
					{"an unknown action", 400, emitReq("POST", "/v1/check", w.admin(), map[string]any{"user_id": w.alice.ID, "action": "fly", "workspace_id": w.ws.ID})},
				},
			}
		}),
		"check-batch": none(func(w *emitWorld) emitPlan {
			_, bobToken := w.user("bob")
			body := map[string]any{"checks": []map[string]any{
				{"user_id": w.alice.ID, "action": "workspace.read", "workspace_id": w.ws.ID},
				{"user_id": w.alice.ID, "action": "members.manage", "workspace_id": w.ws.ID},
			}}
			return emitPlan{
				ok:      emitOK(200, emitReq("POST", "/v1/check/batch", w.admin(), body)),
				rejects: []emitCall{{"for someone else", 403, emitReq("POST", "/v1/check/batch", bobToken, body)}},
			}
		}),

		// Invitations and access requests
		"create-invitation": {events: events("invitation.created"), setup: func(w *emitWorld) emitPlan {
			bob, bobToken := w.member("bob", "member")
			invite := func(token, email string) rostertest.Req {
				return emitReq("POST", w.wsPath("/invitations"), token, map[string]any{"email": email, "role": "member"})
			}
			return emitPlan{
				ok: emitOK(201, invite(w.aliceToken, w.email("new"))),
				rejects: []emitCall{
					{"a member", 403, invite(bobToken, w.email("new"))},
					{"a bad email", 400, invite(w.aliceToken, "nope")},
					{"a member already", 409, invite(w.aliceToken, *bob.Email)},
				},
				repeats: []emitCall{{"inviting again", 200, invite(w.aliceToken, w.email("new"))}},
			}
		}},
		"revoke-invitation": {events: events("invitation.revoked"), setup: func(w *emitWorld) emitPlan {
			id, _ := w.inviteEmail(w.email("new"), "member")
			_, bobToken := w.member("bob", "member")
			path := w.wsPath("/invitations/" + id)
			return emitPlan{
				ok:      emitOK(204, emitReq("DELETE", path, w.aliceToken, nil)),
				rejects: []emitCall{{"a member", 403, emitReq("DELETE", path, bobToken, nil)}},
				repeats: []emitCall{{"revoking again", 204, emitReq("DELETE", path, w.aliceToken, nil)}},
			}
		}},
		"resend-invitation": {events: events("invitation.resent"), setup: func(w *emitWorld) emitPlan {
			id, _ := w.inviteEmail(w.email("new"), "member")
			_, bobToken := w.member("bob", "member")
			return emitPlan{
				ok: emitOK(200, emitReq("POST", w.wsPath("/invitations/"+id+"/resend"), w.aliceToken, nil)),
				rejects: []emitCall{
					{"a member", 403, emitReq("POST", w.wsPath("/invitations/"+id+"/resend"), bobToken, nil)},
					{"no such invitation", 404, emitReq("POST", w.wsPath("/invitations/inv_00000000000000000000000000/resend"), w.aliceToken, nil)},
				},
			}
		}},
		// Accepting makes the invitee a member of the workspace and, for a
		// paid role, of the organisation.
		"accept-invitation": {events: append(slices.Clone(joins), "invitation.accepted"), setup: func(w *emitWorld) emitPlan {
			bob, bobToken := w.user("bob")
			_, carolToken := w.user("carol")
			_, secret := w.inviteEmail(*bob.Email, "member")
			return emitPlan{
				ok: emitOK(200, emitReq("POST", "/v1/invitations/accept", bobToken, map[string]any{"token": secret})),
				rejects: []emitCall{
					{"another email", 403, emitReq("POST", "/v1/invitations/accept", carolToken, map[string]any{"token": secret})},
					{"a wrong token", 404, emitReq("POST", "/v1/invitations/accept", bobToken, map[string]any{"token": secret + "x"})},
					{"no token", 400, emitReq("POST", "/v1/invitations/accept", bobToken, map[string]any{})},
				},
				repeats: []emitCall{{"accepting again", 200, emitReq("POST", "/v1/invitations/accept", bobToken, map[string]any{"token": secret})}},
			}
		}},
		"request-access": {events: events("access_request.created"), setup: func(w *emitWorld) emitPlan {
			_, bobToken := w.user("bob")
			path := w.wsPath("/access-requests")
			return emitPlan{
				ok: emitOK(201, emitReq("POST", path, bobToken, map[string]any{"message": "please"})),
				rejects: []emitCall{
					{"a member already", 409, emitReq("POST", path, w.aliceToken, map[string]any{})},
					{"a message too long", 400, emitReq("POST", path, bobToken, map[string]any{"message": strings.Repeat("x", 2001)})},
				},
				repeats: []emitCall{{"asking again", 200, emitReq("POST", path, bobToken, map[string]any{"message": "please"})}},
			}
		}},
		"approve-access-request": {events: append(slices.Clone(joins), "access_request.approved"), setup: func(w *emitWorld) emitPlan {
			_, bobToken := w.user("bob")
			id := w.requestAccess(bobToken)
			_, carolToken := w.member("carol", "member")
			path := w.wsPath("/access-requests/" + id + "/approve")
			return emitPlan{
				ok: emitOK(200, emitReq("POST", path, w.aliceToken, map[string]any{"role": "member"})),
				rejects: []emitCall{
					{"a member", 403, emitReq("POST", path, carolToken, map[string]any{"role": "member"})},
					{"a bad role", 400, emitReq("POST", path, w.aliceToken, map[string]any{"role": "king"})},
				},
				repeats: []emitCall{{"approving again", 409, emitReq("POST", path, w.aliceToken, map[string]any{"role": "member"})}},
			}
		}},
		"deny-access-request": {events: events("access_request.denied"), setup: func(w *emitWorld) emitPlan {
			_, bobToken := w.user("bob")
			id := w.requestAccess(bobToken)
			_, carolToken := w.member("carol", "member")
			path := w.wsPath("/access-requests/" + id + "/deny")
			return emitPlan{
				ok: emitOK(200, emitReq("POST", path, w.aliceToken, nil)),
				rejects: []emitCall{
					{"a member", 403, emitReq("POST", path, carolToken, nil)},
					{"the requester", 404, emitReq("POST", path, bobToken, nil)},
				},
				repeats: []emitCall{{"denying again", 409, emitReq("POST", path, w.aliceToken, nil)}},
			}
		}},

		// Webhooks and callbacks. The endpoints made here take only
		// callback.due, so that the events of the other cases are
		// delivered nowhere.
		"create-webhook": {events: events("webhook.created"), setup: func(w *emitWorld) emitPlan {
			body := func(url string, types ...string) map[string]any {
				return map[string]any{"url": url, "event_types": types, "description": w.slug}
			}
			return emitPlan{
				ok: emitOK(201, emitReq("POST", "/v1/webhooks", w.admin(), body(w.hookURL(), "callback.due"))),
				rejects: []emitCall{
					{"an org owner", 403, emitReq("POST", "/v1/webhooks", w.aliceToken, body(w.hookURL(), "callback.due"))},
					{"a bad URL", 400, emitReq("POST", "/v1/webhooks", w.admin(), body("ftp://hooks.example.com/", "callback.due"))},
					{"an unknown event type", 400, emitReq("POST", "/v1/webhooks", w.admin(), body(w.hookURL(), "weather.changed"))},
				},
			}
		}},
		"delete-webhook": {events: events("webhook.deleted"), setup: func(w *emitWorld) emitPlan {
			path := "/v1/webhooks/" + w.webhook()
			return emitPlan{
				ok:      emitOK(204, emitReq("DELETE", path, w.admin(), nil)),
				rejects: []emitCall{{"an org owner", 404, emitReq("DELETE", path, w.aliceToken, nil)}},
				repeats: []emitCall{{"deleting again", 404, emitReq("DELETE", path, w.admin(), nil)}},
			}
		}},
		"create-resource": {events: events("resource.created"), setup: func(w *emitWorld) emitPlan {
			_, bobToken := w.user("bob")
			body := func(typ string) map[string]any {
				return map[string]any{"type": typ, "external_id": "doc-1", "name": "Doc", "workspace_id": w.ws.ID}
			}
			return emitPlan{
				ok: emitOK(201, emitReq("POST", "/v1/resources", w.aliceToken, body("document"))),
				rejects: []emitCall{
					{"a bad type", 400, emitReq("POST", "/v1/resources", w.aliceToken, body("Doc!"))},
					{"an outsider", 404, emitReq("POST", "/v1/resources", bobToken, body("document"))},
				},
				repeats: []emitCall{{"the same again", 409, emitReq("POST", "/v1/resources", w.aliceToken, body("document"))}},
			}
		}},
		"rename-resource": {events: events("resource.updated"), setup: func(w *emitWorld) emitPlan {
			_, viewerToken := w.member("vera", "viewer")
			path := "/v1/resources/" + w.resource()
			return emitPlan{
				ok:      emitOK(200, emitReq("PATCH", path, w.aliceToken, map[string]any{"name": "Renamed"})),
				rejects: []emitCall{{"a viewer", 403, emitReq("PATCH", path, viewerToken, map[string]any{"name": "Mine"})}},
				repeats: []emitCall{{"the same name", 200, emitReq("PATCH", path, w.aliceToken, map[string]any{"name": "Renamed"})}},
			}
		}},
		"delete-resource": {events: events("resource.deleted"), setup: func(w *emitWorld) emitPlan {
			_, viewerToken := w.member("vera", "viewer")
			path := "/v1/resources/" + w.resource()
			return emitPlan{
				ok:      emitOK(204, emitReq("DELETE", path, w.aliceToken, nil)),
				rejects: []emitCall{{"a viewer", 403, emitReq("DELETE", path, viewerToken, nil)}},
				repeats: []emitCall{{"gone", 404, emitReq("DELETE", path, w.aliceToken, nil)}},
			}
		}},
		"put-resource-share": {events: events("resource.shared"), setup: func(w *emitWorld) emitPlan {
			guest, _ := w.user("gus")
			path := "/v1/resources/" + w.resource() + "/shares/" + guest.ID
			return emitPlan{
				ok:      emitOK(201, emitReq("PUT", path, w.aliceToken, map[string]any{"role": "viewer"})),
				rejects: []emitCall{{"a role outside editor and viewer", 400, emitReq("PUT", path, w.aliceToken, map[string]any{"role": "owner"})}},
				repeats: []emitCall{{"the same role", 200, emitReq("PUT", path, w.aliceToken, map[string]any{"role": "viewer"})}},
			}
		}},
		"delete-resource-share": {events: events("resource.unshared"), setup: func(w *emitWorld) emitPlan {
			guest, _ := w.user("gus")
			path := "/v1/resources/" + w.resource() + "/shares/" + guest.ID
			w.env.Expect(201, emitReq("PUT", path, w.aliceToken, map[string]any{"role": "viewer"}))
			return emitPlan{
				ok:      emitOK(204, emitReq("DELETE", path, w.aliceToken, nil)),
				repeats: []emitCall{{"gone", 404, emitReq("DELETE", path, w.aliceToken, nil)}},
			}
		}},
		// A transfer keeps the source's owners who do not reach the target
		// as guest editors: a share each.
		"transfer-resource": {events: events("resource.transferred", "resource.shared"), setup: func(w *emitWorld) emitPlan {
			other := newTenant(w.t, w.env, w.slug+"-to")
			w.env.PutMember(other.aliceToken, other.ws.ID, w.alice.ID, map[string]any{"role": "admin"}).Want(w.t, 201)
			w.member("olga", "owner") // a source owner outside the target
			path := "/v1/resources/" + w.resource() + "/transfer"
			return emitPlan{
				ok: emitOK(200, emitReq("POST", path, w.aliceToken, map[string]any{"to_workspace_id": other.ws.ID})),
				rejects: []emitCall{
					{"the same workspace", 400, emitReq("POST", path, w.aliceToken, map[string]any{"to_workspace_id": w.ws.ID})},
					{"the target's owner, not the source's", 404, emitReq("POST", path, other.aliceToken, map[string]any{"to_workspace_id": other.ws.ID})},
				},
			}
		}},
		// A support session is one event of its own: its membership and
		// token are parts of it, not members or tokens of the customer's.
		"join-support": {events: events("support_session.started"), setup: func(w *emitWorld) emitPlan {
			_, staffToken := newStaff(w.t, w.env, w.email("sam"), "support")
			path := supportPath(w.ws.ID)
			w.env.Expect(200, emitReq("PATCH", w.wsPath("/settings"), w.aliceToken, map[string]any{"allow_support_access": true}))
			return emitPlan{
				ok: emitOK(201, emitReq("POST", path, staffToken, map[string]any{"reason": "ticket", "duration": 3600})),
				rejects: []emitCall{
					{"a customer", 403, emitReq("POST", path, w.aliceToken, map[string]any{"reason": "ticket"})},
					{"no reason", 400, emitReq("POST", path, staffToken, map[string]any{"duration": 3600})},
					{"too long", 400, emitReq("POST", path, staffToken, map[string]any{"reason": "ticket", "duration": 604801})},
				},
			}
		}},
		"leave-support": {events: events("support_session.ended"), setup: func(w *emitWorld) emitPlan {
			_, staffToken := newStaff(w.t, w.env, w.email("sam"), "support")
			w.env.Expect(200, emitReq("PATCH", w.wsPath("/settings"), w.aliceToken, map[string]any{"allow_support_access": true}))
			path := supportPath(w.ws.ID)
			w.env.Expect(201, emitReq("POST", path, staffToken, map[string]any{"reason": "ticket"}))
			return emitPlan{
				ok:      emitOK(200, emitReq("DELETE", path, staffToken, nil)),
				rejects: []emitCall{{"a customer", 403, emitReq("DELETE", path, w.aliceToken, nil)}},
				repeats: []emitCall{{"nothing left to end", 200, emitReq("DELETE", path, staffToken, nil)}},
			}
		}},
		"rotate-webhook-secret": {events: events("webhook.secret_rotated"), setup: func(w *emitWorld) emitPlan {
			path := "/v1/webhooks/" + w.webhook() + "/rotate-secret"
			return emitPlan{
				ok: emitOK(200, emitReq("POST", path, w.admin(), nil)),
				rejects: []emitCall{
					{"an org owner", 404, emitReq("POST", path, w.aliceToken, nil)},
					{"no such webhook", 404, emitReq("POST", "/v1/webhooks/whk_00000000000000000000000000/rotate-secret", w.admin(), nil)},
				},
			}
		}},
		// A callback is a task now and a callback.due event at its time
		// (written by the task, not by this request).
		"create-callback": {events: events("callback.scheduled"), setup: func(w *emitWorld) emitPlan {
			body := func(in time.Duration, extra map[string]any) map[string]any {
				b := map[string]any{"run_at": w.env.Clock.Now().Add(in).Format(time.RFC3339), "payload": map[string]any{"case": w.slug}}
				maps.Copy(b, extra)
				return b
			}
			return emitPlan{
				ok: emitOK(201, emitReq("POST", "/v1/tasks/callbacks", w.admin(), body(time.Hour, nil))),
				rejects: []emitCall{
					{"an org owner", 403, emitReq("POST", "/v1/tasks/callbacks", w.aliceToken, body(time.Hour, nil))},
					{"two years ahead", 400, emitReq("POST", "/v1/tasks/callbacks", w.admin(), body(2*366*24*time.Hour, nil))},
					{"no such webhook", 400, emitReq("POST", "/v1/tasks/callbacks", w.admin(), body(time.Hour, map[string]any{"webhook_id": "whk_00000000000000000000000000"}))},
				},
			}
		}},

		// Tasks
		"cancel-task": {events: events("task.cancelled"), setup: func(w *emitWorld) emitPlan {
			path := "/v1/admin/tasks/" + w.expiryTask() + "/cancel"
			return emitPlan{
				ok: emitOK(200, emitReq("POST", path, w.admin(), nil)),
				rejects: []emitCall{
					{"an org owner", 404, emitReq("POST", path, w.aliceToken, nil)},
					{"no such task", 404, emitReq("POST", "/v1/admin/tasks/task_0000000000000fff/cancel", w.admin(), nil)},
				},
				repeats: []emitCall{{"cancelling again", 409, emitReq("POST", path, w.admin(), nil)}},
			}
		}},
		"retry-task": {events: events("task.retried"), setup: func(w *emitWorld) emitPlan {
			id := w.expiryTask()
			w.env.Expect(200, emitReq("POST", "/v1/admin/tasks/"+id+"/cancel", w.admin(), nil))
			path := "/v1/admin/tasks/" + id + "/retry"
			return emitPlan{
				ok:      emitOK(200, emitReq("POST", path, w.admin(), nil)),
				rejects: []emitCall{{"an org owner", 404, emitReq("POST", path, w.aliceToken, nil)}},
				repeats: []emitCall{{"retrying a scheduled task", 409, emitReq("POST", path, w.admin(), nil)}},
			}
		}},
	}
}
