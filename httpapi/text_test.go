package httpapi_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/httpapi"
	"github.com/roster-dev/roster/internal/rostertest"
)

// TestUnstorableInput: text and times that one backend would keep and the
// other refuse get the same 400 on both, and write nothing.
func TestUnstorableInput(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		admin := func(method, path string, body any) *rostertest.Response {
			return env.Do(rostertest.Req{Method: method, Path: path, Token: env.AdminToken, Body: body})
		}
		want := func(r *rostertest.Response, status int, code, what string) {
			t.Helper()
			if r.Status != status || (code != "" && r.Code(t) != code) {
				t.Errorf("%s: %d %s, want %d %s", what, r.Status, r.Body, status, code)
			}
		}
		users := func() int {
			var page struct{ Data []any }
			admin("GET", "/v1/users?limit=500", nil).Want(t, 200).JSON(t, &page)
			return len(page.Data)
		}
		before := users()
		want(admin("POST", "/v1/users", map[string]any{"display_name": "a\x00b"}), 400, roster.CodeInvalidRequest, "a NUL in a name")
		want(admin("POST", "/v1/users", map[string]any{"email": "x@example.com", "external_id": "\x00"}), 400, roster.CodeInvalidRequest, "a NUL in an external id")
		if users() != before {
			t.Error("a refused user was stored")
		}
		// An escaped backslash before u0000 is plain text, not a NUL.
		var made rostertest.User
		admin("POST", "/v1/users", map[string]any{"display_name": `a\u0000b`}).Want(t, 201).JSON(t, &made)
		if made.DisplayName != `a\u0000b` {
			t.Errorf("display name %q", made.DisplayName)
		}

		for _, query := range []string{"/v1/users?q=%00", "/v1/users?email=%ff", "/v1/users?external_id=%00", "/v1/audit?action=%00", "/v1/audit?org_id=%ff"} {
			want(admin("GET", query, nil), 400, roster.CodeInvalidRequest, query)
		}
		for _, bound := range []string{"since=0000-01-01T00:00:00Z", "until=" + url.QueryEscape("9999-12-31T23:59:59-23:00")} {
			want(admin("GET", "/v1/audit?"+bound, nil), 400, roster.CodeInvalidRequest, bound)
		}
		r := env.Do(rostertest.Req{Method: "POST", Path: "/v1/me/tokens", Token: env.AdminToken, Body: map[string]any{"name": "k"},
			Headers: map[string]string{"Idempotency-Key": "k\xff"}})
		want(r, 400, roster.CodeInvalidIdempotencyKey, "a non-ASCII Idempotency-Key")

		_, annToken := env.NewUserWithToken("ann@example.com")
		_, ws := env.CreateOrg(annToken, "acme")
		bob := env.CreateUser(map[string]any{"email": "bob@example.com"}).ID
		want(env.PutMember(annToken, ws.ID, bob, map[string]any{"role": "member", "expires_at": "9999-12-31T23:59:59-23:00"}), 400, roster.CodeInvalidExpiry, "an expiry in the year 10000")
	})
}

// TestMetricsNameEveryAnswer: answers given before the route runs (an
// idempotent replay) are counted under their route, not as unmatched.
func TestMetricsNameEveryAnswer(t *testing.T) {
	env := rostertest.NewEnv(t, rostertest.SQLite)
	key := map[string]string{"Idempotency-Key": "once"}
	for range 2 {
		env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/me/tokens", Token: env.AdminToken, Body: map[string]any{"name": "k"}, Headers: key})
	}
	metrics := string(env.Expect(200, rostertest.Req{Method: "GET", Path: "/metrics"}).Body)
	if !strings.Contains(metrics, `roster_http_requests_total{method="POST",route="POST /v1/me/tokens",status="201"} 2`) ||
		strings.Contains(metrics, `route="unmatched",status="201"`) {
		t.Errorf("metrics of a replayed request:\n%s", grepLines(metrics, "roster_http_requests_total"))
	}
}

func grepLines(text, substr string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// TestUnstorableIDsInPathsAreNotFound: a path id with a NUL or an invalid
// UTF-8 byte names nothing, on both backends alike.
func TestUnstorableIDsInPathsAreNotFound(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		for _, id := range []string{"usr_%00abc", "usr_%FFabc", "usr_%C3%28"} {
			for _, path := range []string{"/v1/workspaces/" + tn.ws.ID + "/members/" + id, "/v1/orgs/" + tn.org.ID + "/members/" + id} {
				res := env.Do(rostertest.Req{Method: "DELETE", Path: path, Token: tn.aliceToken})
				if res.Status != 404 || res.Code(t) != "membership_not_found" {
					t.Errorf("DELETE %s: %d %s", path, res.Status, res.Body)
				}
			}
		}
	})
}

// TestBadPathIDsAnswerAlikeOnBothBackends sends every operation with path
// parameters with one id at a time holding a NUL or an invalid UTF-8 byte
// (the others naming real objects): the answer is a 4xx, and the same on
// SQLite and PostgreSQL.
func TestBadPathIDsAnswerAlikeOnBothBackends(t *testing.T) {
	param := regexp.MustCompile(`\{[^}]+\}`)
	answers := map[rostertest.Backend]map[string]int{}
	for _, b := range rostertest.Backends {
		t.Run(string(b), func(t *testing.T) {
			env := rostertest.NewEnv(t, b)
			tn := newTenant(t, env, "acme")
			real := map[string]string{"{ws}": tn.ws.ID, "{org}": tn.org.ID, "{user}": tn.alice.ID, "{id}": tn.alice.ID}
			got := map[string]int{}
			for path, item := range env.API.OpenAPI().Paths {
				params := param.FindAllString(path, -1)
				for method, op := range map[string]*huma.Operation{"GET": item.Get, "POST": item.Post, "PUT": item.Put, "PATCH": item.Patch, "DELETE": item.Delete} {
					if op == nil {
						continue
					}
					for i := range params {
						for _, bad := range []string{"%00", "%FF"} {
							n := -1
							concrete := param.ReplaceAllStringFunc(path, func(p string) string {
								n++
								if id, ok := real[p]; ok && n != i {
									return id
								}
								return "x" + bad + "y"
							})
							req := rostertest.Req{Method: method, Path: concrete, Token: env.AdminToken}
							if method != "GET" && method != "DELETE" {
								req.Body = map[string]any{}
							}
							res := env.Do(req)
							if res.Status >= 500 || res.Status < 400 {
								t.Errorf("%s %s: %d %s", method, concrete, res.Status, res.Body)
							}
							got[method+" "+path+" with a bad "+params[i]+" ("+bad+")"] = res.Status
						}
					}
				}
			}
			answers[b] = got
		})
	}
	sqlite, postgres := answers[rostertest.SQLite], answers[rostertest.Postgres]
	if sqlite == nil || postgres == nil {
		return
	}
	for req, status := range sqlite {
		if postgres[req] != status {
			t.Errorf("%s: %d on SQLite, %d on PostgreSQL", req, status, postgres[req])
		}
	}
}

// TestReadAllBeyondTheDeclaredLength: the body reader sized by the
// declared length reads what arrives, whether the declaration was right,
// short, long or absent.
func TestReadAllBeyondTheDeclaredLength(t *testing.T) {
	body := strings.Repeat("0123456789", 200)
	for _, declared := range []int64{2000, 0, 1, 1999, 2001, 5000, -1} {
		got, err := httpapi.ReadAll(iotest.OneByteReader(strings.NewReader(body)), declared)
		if err != nil || string(got) != body {
			t.Errorf("declared %d: read %d bytes, %v", declared, len(got), err)
		}
	}
	if _, err := httpapi.ReadAll(iotest.TimeoutReader(strings.NewReader(body)), 2000); err == nil {
		t.Error("a failed read is not reported")
	}
}
