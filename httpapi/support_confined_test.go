package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster/internal/rostertest"
)

// confinedTarget is one set of foreign objects the walk points a support
// token at: every path parameter, query filter and body id is filled from it.
type confinedTarget struct {
	name string
	// slug and email name the tenant in the filters that take them.
	slug, email string
	ws, org     string
	user        string // a user id under /users and {user}
	userToken   string // a token id of that user ({tid}, /me/tokens/{id})
	userSecret  string // a token of that user, to introspect
	invitation  string
	request     string
	webhook     string
	task        string
	resource    string
}

// confinedTenant is another customer, with real objects of every kind.
type confinedTenant struct {
	tenant
	slug       string
	tokenID    string
	invitation string
	request    string
	webhook    string
	task       string
	resource   string
}

func newConfinedTenant(t *testing.T, env *rostertest.Env, slug string) confinedTenant {
	t.Helper()
	ct := confinedTenant{tenant: newTenant(t, env, slug), slug: slug}
	env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + ct.ws.ID + "/settings", Token: ct.aliceToken,
		Body: map[string]any{"allow_support_access": true}})
	ct.tokenID = env.IssueToken(ct.alice.ID, map[string]any{"name": "spare"}).ID
	inv := env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + ct.ws.ID + "/invitations", Token: ct.aliceToken,
		Body: map[string]any{"email": "carol@" + slug + ".example", "role": "member"}}).Map(t)
	ct.invitation = inv["id"].(string)
	_, ritaToken := env.NewUserWithToken("rita@" + slug + ".example")
	ct.request = env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + ct.ws.ID + "/access-requests", Token: ritaToken,
		Body: map[string]any{"message": "please"}}).Map(t)["id"].(string)
	ct.webhook = env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/webhooks", Token: env.AdminToken,
		Body: map[string]any{"url": "https://hooks.example.com/" + slug, "event_types": []string{"callback.due"}}}).Map(t)["id"].(string)
	ct.resource = env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/resources", Token: ct.aliceToken,
		Body: map[string]any{"type": "document", "external_id": "doc-" + slug, "name": "Doc", "workspace_id": ct.ws.ID}}).Map(t)["id"].(string)
	all := tasks(t, env, "")
	for _, task := range all {
		if bytes.Contains(task.Payload, []byte(ct.invitation)) { // the invitation's expiry
			ct.task = task.ID
		}
	}
	if ct.task == "" {
		t.Fatalf("no task for invitation %s among %+v", ct.invitation, all)
	}
	return ct
}

func (ct confinedTenant) target(name string) confinedTarget {
	return confinedTarget{name: name, slug: ct.slug, email: *ct.alice.Email, ws: ct.ws.ID, org: ct.org.ID,
		user: ct.alice.ID, userToken: ct.tokenID, userSecret: ct.aliceToken,
		invitation: ct.invitation, request: ct.request, webhook: ct.webhook, task: ct.task, resource: ct.resource}
}

// ids are the identifiers of the tenant's objects: none may appear in an
// answer to a support token of another workspace.
func (ct confinedTenant) ids() []string {
	return []string{ct.ws.ID, ct.org.ID, ct.alice.ID, ct.tokenID, ct.invitation, ct.request, ct.webhook, ct.task, ct.resource}
}

// confinedPath fills an operation's path parameters from tg.
func confinedPath(t *testing.T, path string, tg confinedTarget) string {
	t.Helper()
	out := path
	for _, p := range []struct{ name, value string }{
		{"{ws}", tg.ws}, {"{org}", tg.org}, {"{user}", tg.user}, {"{tid}", tg.userToken}, {"{grantee}", tg.ws},
	} {
		out = strings.ReplaceAll(out, p.name, p.value)
	}
	if strings.Contains(out, "{id}") {
		var id string
		switch {
		case strings.HasPrefix(path, "/v1/users/"):
			id = tg.user
		case strings.HasPrefix(path, "/v1/me/tokens/"):
			id = tg.userToken
		case strings.Contains(path, "/invitations/"):
			id = tg.invitation
		case strings.Contains(path, "/access-requests/"):
			id = tg.request
		case strings.HasPrefix(path, "/v1/webhooks/"):
			id = tg.webhook
		case strings.HasPrefix(path, "/v1/admin/tasks/"):
			id = tg.task
		case strings.HasPrefix(path, "/v1/resources/"):
			id = tg.resource
		default:
			t.Fatalf("%s: no object of the right kind for {id}: teach confinedPath", path)
		}
		out = strings.ReplaceAll(out, "{id}", id)
	}
	if strings.Contains(out, "{") {
		t.Fatalf("%s: a path parameter left unfilled: teach confinedPath", out)
	}
	return out
}

// confinedQuery fills the operation's filters that name a tenant, user or
// object; "" when it has none.
func confinedQuery(op *huma.Operation, tg confinedTarget) string {
	q := url.Values{}
	for _, p := range op.Parameters {
		if p.In != "query" {
			continue
		}
		switch p.Name {
		case "workspace_id":
			q.Set(p.Name, tg.ws)
		case "org_id":
			q.Set(p.Name, tg.org)
		case "user_id", "actor_id":
			q.Set(p.Name, tg.user)
		case "slug", "q":
			q.Set(p.Name, tg.slug)
		case "email":
			q.Set(p.Name, tg.email)
		}
	}
	return q.Encode()
}

// confinedBody is a valid body for a write naming tg's objects, so that an
// answer is about reach and not about the body.
func confinedBody(env *rostertest.Env, method, opID string, tg confinedTarget) any {
	check := map[string]any{"user_id": tg.user, "action": "workspace.read", "workspace_id": tg.ws}
	switch opID {
	case "create-user":
		return map[string]any{"email": "new-" + tg.name + "@confined.example"}
	case "update-user":
		return map[string]any{"display_name": "Changed"}
	case "create-my-token", "create-user-token":
		return map[string]any{"name": "x"}
	case "introspect-token":
		return map[string]any{"token": tg.userSecret}
	case "create-org":
		return map[string]any{"name": "x", "slug": "x-" + tg.name}
	case "update-org", "update-workspace":
		return map[string]any{"name": "Renamed"}
	case "put-org-member", "put-workspace-member", "approve-access-request":
		return map[string]any{"role": "member"}
	case "create-workspace":
		return map[string]any{"org_id": tg.org, "name": "x", "slug": "x-" + tg.name}
	case "update-workspace-settings":
		return map[string]any{"values": map[string]any{"theme": "dark"}, "allow_support_access": false}
	case "set-default-workspace":
		return map[string]any{"workspace_id": tg.ws}
	case "check":
		return check
	case "check-batch":
		return map[string]any{"checks": []any{check}}
	case "set-plan":
		return map[string]any{"seat_cap": 10}
	case "preview-seats":
		return map[string]any{"emails": []string{"someone@" + tg.name + ".example"}, "role": "member"}
	case "create-invitation":
		return map[string]any{"email": "invitee@" + tg.name + ".example", "role": "member"}
	case "accept-invitation":
		return map[string]any{"invitation_id": tg.invitation}
	case "request-access":
		return map[string]any{"message": "please"}
	case "create-webhook":
		return map[string]any{"url": "https://hooks.example.com/" + tg.name, "event_types": []string{"callback.due"}}
	case "create-callback":
		return map[string]any{"run_at": env.Clock.Now().Add(time.Hour).Format(time.RFC3339), "payload": map[string]any{"to": tg.name}}
	case "join-support":
		return map[string]any{"reason": "ticket"}
	case "create-resource":
		return map[string]any{"type": "document", "external_id": "new-" + tg.name, "name": "x", "workspace_id": tg.ws}
	case "rename-resource":
		return map[string]any{"name": "Renamed"}
	case "put-resource-share":
		return map[string]any{"role": "viewer"}
	}
	switch method {
	case "POST", "PUT", "PATCH":
		return map[string]any{}
	}
	return nil
}

// confinedCall is one request of the walk.
type confinedCall struct {
	op     *huma.Operation
	method string
	path   string // the operation's path, with its parameters
	self   bool   // it names the staff member's own user
	req    rostertest.Req
}

// TestSupportTokenReachesOnlyItsWorkspace walks every operation of the API
// with a support token, pointed at the objects of other tenants: one where
// the staff member is a real admin (the token must not carry that), one
// where they are nobody, and the staff member's own user and tokens. Any
// path naming another workspace or organisation is 404; nothing else is
// 2xx but a few reads that show only the token's workspace; nothing is 5xx
// and nothing is written.
func TestSupportTokenReachesOnlyItsWorkspace(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		a := newSupportWorld(t, env, "acme")
		home := newConfinedTenant(t, env, "beta") // the staff member is a real admin here
		env.PutMember(home.aliceToken, home.ws.ID, a.staff.ID, map[string]any{"role": "admin"}).Want(t, 201)
		stranger := newConfinedTenant(t, env, "gamma") // and nobody here
		var staffTokens struct{ Data []rostertest.Token }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/users/" + a.staff.ID + "/tokens", Token: env.AdminToken}).JSON(t, &staffTokens)
		if len(staffTokens.Data) != 1 {
			t.Fatalf("the staff member's tokens: %+v", staffTokens.Data)
		}
		tok := a.joined(t, time.Hour, 201).Session.Token

		// The staff member themself: their user, their personal token; the
		// tenant's objects are home's.
		self := home.target("self")
		self.user, self.userToken, self.userSecret, self.email = a.staff.ID, staffTokens.Data[0].ID, a.staffToken, *a.staff.Email
		targets := []confinedTarget{home.target("home"), stranger.target("stranger"), self}
		foreignIDs := slices.Concat(home.ids(), stranger.ids())

		reaches := func(when string) {
			t.Helper()
			for _, path := range []string{"", "/members", "/settings"} {
				if res := env.Do(rostertest.Req{Method: "GET", Path: "/v1/workspaces/" + a.ws.ID + path, Token: tok}); res.Status != 200 {
					t.Fatalf("%s: the support token's own workspace%s: %d %s", when, path, res.Status, res.Body)
				}
			}
		}
		reaches("before the walk")

		// dataIDs are the ids of the objects a list answer holds.
		dataIDs := func(res *rostertest.Response) []string {
			var page struct{ Data []struct{ ID string } }
			res.JSON(t, &page)
			var out []string
			for _, d := range page.Data {
				out = append(out, d.ID)
			}
			return out
		}
		onlyOwn := func(res *rostertest.Response) error {
			for _, id := range dataIDs(res) {
				if id != a.ws.ID {
					return fmt.Errorf("lists workspace %s", id)
				}
			}
			return nil
		}
		// allowed are the operations a support token may be answered 2xx
		// even when pointed elsewhere, with what the answer must hold.
		allowed := map[string]func(res *rostertest.Response) error{
			// The caller: its workspace only (an admin elsewhere, it must
			// not show that membership).
			"get-me": func(res *rostertest.Response) error {
				if !bytes.Contains(res.Body, []byte(a.ws.ID)) {
					return fmt.Errorf("does not show its own workspace")
				}
				return nil
			},
			// Lists of what the caller reaches: its workspace, or nothing
			// when filtered to another organisation.
			"list-workspaces": onlyOwn,
			// It reaches no organisation.
			"list-orgs": func(res *rostertest.Response) error {
				if ids := dataIDs(res); len(ids) != 0 {
					return fmt.Errorf("lists organisations %v", ids)
				}
				return nil
			},
			// The staff member's own profile and what it reaches (only when
			// they name themself: the foreign ids check catches the rest).
			"get-user":             func(*rostertest.Response) error { return nil },
			"list-user-workspaces": onlyOwn,
			// The staff member's resources, as far as the token reaches:
			// its workspace's only.
			"list-user-resources": func(res *rostertest.Response) error {
				var page struct {
					Data []struct {
						WorkspaceID string `json:"workspace_id"`
					}
				}
				if err := json.Unmarshal(res.Body, &page); err != nil {
					return err
				}
				for _, r := range page.Data {
					if r.WorkspaceID != a.ws.ID {
						return fmt.Errorf("lists a resource of %s", r.WorkspaceID)
					}
				}
				return nil
			},
		}

		// refused are the requests with no object to hide: the caller's own
		// tokens, profile, invitations and organisations are 403, not 404.
		refused := map[string]bool{"create-my-token": true, "list-my-tokens": true, "revoke-my-token": true, "create-org": true,
			"accept-invitation": true, "my-invitations": true, "set-default-workspace": true}
		refusedSelf := map[string]bool{"update-user": true, "create-user-token": true, "list-user-tokens": true, "revoke-user-token": true}

		var calls []confinedCall
		seen := map[string]bool{}
		ops := 0
		for path, item := range env.API.OpenAPI().Paths {
			if path == "/v1/events/stream" { // TestSupportTokenIsConfined reads the stream
				continue
			}
			for _, mo := range []struct {
				method string
				op     *huma.Operation
			}{{"GET", item.Get}, {"POST", item.Post}, {"PUT", item.Put}, {"PATCH", item.Patch}, {"DELETE", item.Delete}} {
				if mo.op == nil {
					continue
				}
				ops++
				for _, tg := range targets {
					p := confinedPath(t, path, tg)
					body := confinedBody(env, mo.method, mo.op.OperationID, tg)
					for _, q := range []string{"", confinedQuery(mo.op, tg)} {
						full := p
						if q != "" {
							full += "?" + q
						}
						raw, _ := json.Marshal(body)
						key := mo.method + " " + full + " " + string(raw)
						if seen[key] {
							continue
						}
						seen[key] = true
						calls = append(calls, confinedCall{op: mo.op, method: mo.method, path: path, self: tg.name == "self",
							req: rostertest.Req{Method: mo.method, Path: full, Token: tok, Body: body}})
					}
				}
			}
		}
		// Deletions last, so that a leaking one spoils no other answer.
		slices.SortStableFunc(calls, func(x, y confinedCall) int {
			if dx, dy := x.method == "DELETE", y.method == "DELETE"; dx != dy {
				if dx {
					return 1
				}
				return -1
			}
			return strings.Compare(x.method+" "+x.req.Path, y.method+" "+y.req.Path)
		})
		if ops < 60 {
			t.Fatalf("the walk found only %d operations", ops)
		}

		mark := lastEventID(t, env)
		got2xx := map[string]bool{}
		for _, c := range calls {
			id := c.op.OperationID
			res := env.Do(c.req)
			where := fmt.Sprintf("%s %s (%s)", c.method, c.req.Path, id)
			switch {
			case res.Status >= 500 || res.Status == 0:
				t.Errorf("%s: %d %s", where, res.Status, res.Body)
			case strings.Contains(c.path, "{ws}") || strings.Contains(c.path, "{org}"):
				if res.Status != 404 {
					t.Errorf("%s names another tenant: %d, want 404: %s", where, res.Status, res.Body)
				}
			case refused[id] || (c.self && refusedSelf[id]):
				if res.Status != 403 {
					t.Errorf("%s: %d, want 403: %s", where, res.Status, res.Body)
				}
			case res.Status < 300:
				check, ok := allowed[id]
				if !ok {
					t.Errorf("%s: %d for a support token pointed elsewhere: %s", where, res.Status, res.Body)
					continue
				}
				got2xx[id] = true
				for _, foreign := range foreignIDs {
					if bytes.Contains(res.Body, []byte(foreign)) {
						t.Errorf("%s: the answer shows %s of another tenant: %s", where, foreign, res.Body)
					}
				}
				if err := check(res); err != nil {
					t.Errorf("%s: %v: %s", where, err, res.Body)
				}
			case res.Status < 400:
				t.Errorf("%s: %d: %s", where, res.Status, res.Body)
			}
		}
		t.Logf("walked %d operations in %d requests", ops, len(calls))
		// The allow-list holds nothing the walk does not need.
		for id := range allowed {
			if !got2xx[id] {
				t.Errorf("%s is allowed a 2xx but never got one: drop it from the list", id)
			}
		}

		// The walk wrote nothing, anywhere.
		if now := lastEventID(t, env); now != mark {
			t.Errorf("the walk wrote events: %v", emitTypes(emitAuditSince(t, env, mark)))
		}
		// The token still reaches its workspace: the refusals were about
		// reach, not a token gone dead along the way.
		reaches("after the walk")
	})
}
