package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// callers builds every kind of caller the access matrix covers, all acting
// on (or as) the user alice.
type callers struct {
	env             *rostertest.Env
	alice, bob      rostertest.User
	tokens          map[string]string
	onBehalfOf      map[string]string
	aliceSpareToken string
}

const (
	asAdmin     = "admin"
	asService   = "service"
	asOnBehalf  = "service_on_behalf_of_alice"
	asSelf      = "alice_herself"
	asOther     = "another_user"
	asNone      = "no_token"
	asExpired   = "expired_token"
	asRevoked   = "revoked_token"
	asSuspended = "suspended_user"
)

var allCallers = []string{asAdmin, asService, asOnBehalf, asSelf, asOther, asNone, asExpired, asRevoked, asSuspended}

func newCallers(t *testing.T, env *rostertest.Env) *callers {
	c := &callers{env: env, tokens: map[string]string{}, onBehalfOf: map[string]string{}}
	var aliceToken, bobToken string
	c.alice, aliceToken = env.NewUserWithToken("alice@example.com")
	c.bob, bobToken = env.NewUserWithToken("bob@example.com")
	bot := env.CreateUser(map[string]any{"display_name": "host app backend"})
	svc := env.IssueToken(bot.ID, map[string]any{"name": "backend", "kind": "service"}).Token
	c.aliceSpareToken = env.IssueToken(c.alice.ID, map[string]any{"name": "spare"}).ID

	carol, _ := env.NewUserWithToken("carol@example.com")
	expiring := env.IssueToken(carol.ID, map[string]any{"expires_in": 60}).Token
	dave, revoked := env.NewUserWithToken("dave@example.com")
	var daveTokens struct{ Data []rostertest.Token }
	env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/users/" + dave.ID + "/tokens", Token: env.AdminToken}).JSON(t, &daveTokens)
	env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/users/" + dave.ID + "/tokens/" + daveTokens.Data[0].ID, Token: env.AdminToken})
	erin, suspended := env.NewUserWithToken("erin@example.com")
	env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + erin.ID, Token: env.AdminToken, Body: map[string]any{"status": "suspended"}})
	env.Clock.Advance(61 * time.Second) // the expiring token is now expired

	c.tokens = map[string]string{asAdmin: env.AdminToken, asService: svc, asOnBehalf: svc, asSelf: aliceToken,
		asOther: bobToken, asExpired: expiring, asRevoked: revoked, asSuspended: suspended}
	c.onBehalfOf[asOnBehalf] = c.alice.ID
	return c
}

func (c *callers) req(caller string, r rostertest.Req) rostertest.Req {
	r.Token = c.tokens[caller]
	if id := c.onBehalfOf[caller]; id != "" {
		r.Headers = map[string]string{"Roster-On-Behalf-Of": id}
	}
	return r
}

// unauthenticated is what every protected endpoint answers the callers
// without a usable credential.
var unauthenticated = map[string]string{
	asNone: roster.CodeUnauthenticated, asExpired: roster.CodeTokenExpired,
	asRevoked: roster.CodeTokenRevoked, asSuspended: roster.CodeUserInactive,
}

// TestAccessMatrix checks every endpoint of users and tokens against every
// kind of caller.
func TestAccessMatrix(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		c := newCallers(t, env)
		alice := "/v1/users/" + c.alice.ID
		missingToken := roster.NewID(roster.PrefixToken)

		type row struct {
			name string
			req  func() rostertest.Req // built per caller: some need a fresh target
			want map[string]int        // by caller; callers in unauthenticated get 401
		}
		all := func(status int) map[string]int {
			return map[string]int{asAdmin: status, asService: status, asOnBehalf: status, asSelf: status, asOther: status}
		}
		victim := func() string { return env.CreateUser(map[string]any{}).ID }
		rows := []row{
			{"GET /v1/me", func() rostertest.Req { return rostertest.Req{Method: "GET", Path: "/v1/me"} }, all(200)},
			{"POST /v1/users", func() rostertest.Req {
				return rostertest.Req{Method: "POST", Path: "/v1/users", Body: map[string]any{"display_name": "new"}}
			}, map[string]int{asAdmin: 201, asService: 201, asOnBehalf: 403, asSelf: 403, asOther: 403}},
			{"GET /v1/users", func() rostertest.Req { return rostertest.Req{Method: "GET", Path: "/v1/users"} },
				map[string]int{asAdmin: 200, asService: 200, asOnBehalf: 403, asSelf: 403, asOther: 403}},
			{"GET /v1/users/{alice}", func() rostertest.Req { return rostertest.Req{Method: "GET", Path: alice} },
				map[string]int{asAdmin: 200, asService: 200, asOnBehalf: 200, asSelf: 200, asOther: 404}},
			{"PATCH /v1/users/{alice} display_name", func() rostertest.Req {
				return rostertest.Req{Method: "PATCH", Path: alice, Body: map[string]any{"display_name": "Alice"}}
			}, map[string]int{asAdmin: 200, asService: 200, asOnBehalf: 200, asSelf: 200, asOther: 404}},
			{"PATCH /v1/users/{alice} status", func() rostertest.Req {
				return rostertest.Req{Method: "PATCH", Path: alice, Body: map[string]any{"status": "active"}}
			}, map[string]int{asAdmin: 200, asService: 200, asOnBehalf: 403, asSelf: 403, asOther: 404}},
			{"PATCH /v1/users/{alice} platform_role", func() rostertest.Req {
				return rostertest.Req{Method: "PATCH", Path: alice, Body: map[string]any{"platform_role": "none"}}
			}, map[string]int{asAdmin: 200, asService: 403, asOnBehalf: 403, asSelf: 403, asOther: 404}},
			{"DELETE /v1/users/{other user}", func() rostertest.Req { return rostertest.Req{Method: "DELETE", Path: "/v1/users/" + victim()} },
				map[string]int{asAdmin: 204, asService: 403, asOnBehalf: 404, asSelf: 404, asOther: 404}},
			{"DELETE /v1/users/{alice} by non-admins", func() rostertest.Req { return rostertest.Req{Method: "DELETE", Path: alice} },
				map[string]int{asService: 403, asOnBehalf: 403, asSelf: 403, asOther: 404}},
			// Acting for a user gives no way to mint that user's credentials.
			{"POST /v1/me/tokens", func() rostertest.Req {
				return rostertest.Req{Method: "POST", Path: "/v1/me/tokens", Body: map[string]any{"name": "mine"}}
			}, map[string]int{asAdmin: 201, asService: 201, asOnBehalf: 403, asSelf: 201, asOther: 201}},
			// Staff accounts answer to platform admins, not to service tokens.
			{"PATCH /v1/users/{platform admin} external_id", func() rostertest.Req {
				return rostertest.Req{Method: "PATCH", Path: "/v1/users/" + env.AdminID, Body: map[string]any{"external_id": "staff-1"}}
			}, map[string]int{asAdmin: 200, asService: 403, asOnBehalf: 404, asSelf: 404, asOther: 404}},
			{"GET /v1/me/tokens", func() rostertest.Req { return rostertest.Req{Method: "GET", Path: "/v1/me/tokens"} }, all(200)},
			{"DELETE /v1/me/tokens/{missing}", func() rostertest.Req {
				return rostertest.Req{Method: "DELETE", Path: "/v1/me/tokens/" + missingToken}
			}, all(404)},
			{"POST /v1/users/{alice}/tokens", func() rostertest.Req {
				return rostertest.Req{Method: "POST", Path: alice + "/tokens", Body: map[string]any{"name": "issued"}}
			}, map[string]int{asAdmin: 201, asService: 201, asOnBehalf: 403, asSelf: 403, asOther: 404}}, // the host signs its users up
			{"POST /v1/users/{platform admin}/tokens", func() rostertest.Req {
				return rostertest.Req{Method: "POST", Path: "/v1/users/" + env.AdminID + "/tokens", Body: map[string]any{"name": "issued"}}
			}, map[string]int{asAdmin: 201, asService: 403, asOnBehalf: 404, asSelf: 404, asOther: 404}},
			{"GET /v1/users/{alice}/tokens", func() rostertest.Req { return rostertest.Req{Method: "GET", Path: alice + "/tokens"} },
				map[string]int{asAdmin: 200, asService: 403, asOnBehalf: 403, asSelf: 403, asOther: 404}},
			{"DELETE /v1/users/{alice}/tokens/{tid}", func() rostertest.Req {
				return rostertest.Req{Method: "DELETE", Path: alice + "/tokens/" + c.aliceSpareToken}
			}, map[string]int{asAdmin: 204, asService: 403, asOnBehalf: 403, asSelf: 403, asOther: 404}},
			{"POST /v1/tokens/introspect", func() rostertest.Req {
				return rostertest.Req{Method: "POST", Path: "/v1/tokens/introspect", Body: map[string]any{"token": c.tokens[asSelf]}}
			}, map[string]int{asAdmin: 403, asService: 200, asOnBehalf: 403, asSelf: 403, asOther: 403}},
			{"GET /v1/audit", func() rostertest.Req { return rostertest.Req{Method: "GET", Path: "/v1/audit"} },
				map[string]int{asAdmin: 200, asService: 403, asOnBehalf: 403, asSelf: 403, asOther: 403}},
		}
		for _, r := range rows {
			for _, caller := range allCallers {
				want, ok := r.want[caller]
				wantCode := unauthenticated[caller]
				if wantCode != "" {
					want, ok = http.StatusUnauthorized, true
				}
				if !ok {
					continue
				}
				res := env.Do(c.req(caller, r.req()))
				if res.Status != want {
					t.Errorf("%s as %s: status %d, want %d: %s", r.name, caller, res.Status, want, res.Body)
					continue
				}
				if wantCode != "" {
					if got := res.Code(t); got != wantCode {
						t.Errorf("%s as %s: code %q, want %q", r.name, caller, got, wantCode)
					}
					if res.Header.Get("WWW-Authenticate") == "" {
						t.Errorf("%s as %s: 401 without WWW-Authenticate", r.name, caller)
					}
				}
			}
		}
	})
}
