package httpapi_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

func TestErrorsAreProblems(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		big := `{"display_name":"` + strings.Repeat("x", 1<<20) + `"}`
		cases := []struct {
			name   string
			req    rostertest.Req
			status int
			code   string
		}{
			{"unknown route", rostertest.Req{Method: "GET", Path: "/v1/nothing-here", Token: env.AdminToken}, 404, roster.CodeRouteNotFound},
			{"unknown route without token", rostertest.Req{Method: "GET", Path: "/v2/users"}, 404, roster.CodeRouteNotFound},
			{"wrong method", rostertest.Req{Method: "PUT", Path: "/v1/users", Token: env.AdminToken}, 405, roster.CodeMethodNotAllowed},
			{"malformed JSON", rostertest.Req{Method: "POST", Path: "/v1/users", Token: env.AdminToken, Body: `{"email":`}, 400, roster.CodeMalformedJSON},
			{"wrong type", rostertest.Req{Method: "POST", Path: "/v1/users", Token: env.AdminToken, Body: `{"email":42}`}, 400, roster.CodeInvalidRequest},
			{"unknown field", rostertest.Req{Method: "POST", Path: "/v1/users", Token: env.AdminToken, Body: `{"mail":"a@b.c"}`}, 400, roster.CodeInvalidRequest},
			{"not an object", rostertest.Req{Method: "POST", Path: "/v1/users", Token: env.AdminToken, Body: `[1,2]`}, 400, roster.CodeInvalidRequest},
			{"missing body", rostertest.Req{Method: "POST", Path: "/v1/tokens/introspect", Token: env.AdminToken}, 400, roster.CodeInvalidRequest},
			{"body over 1 MiB", rostertest.Req{Method: "POST", Path: "/v1/users", Token: env.AdminToken, Body: big}, 413, roster.CodeBodyTooLarge},
			{"bad query type", rostertest.Req{Method: "GET", Path: "/v1/users?limit=many", Token: env.AdminToken}, 400, roster.CodeInvalidRequest},
			{"bad time", rostertest.Req{Method: "GET", Path: "/v1/audit?since=yesterday", Token: env.AdminToken}, 400, roster.CodeInvalidRequest},
			{"no token", rostertest.Req{Method: "GET", Path: "/v1/me"}, 401, roster.CodeUnauthenticated},
		}
		for _, c := range cases {
			res := env.Do(c.req)
			if res.Status != c.status || res.Code(t) != c.code {
				t.Errorf("%s: %d %s, want %d %s", c.name, res.Status, truncate(res.Body), c.status, c.code)
				continue
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s: content type %q", c.name, ct)
			}
			p := res.Map(t)
			for _, member := range []string{"type", "title", "status", "detail", "code", "request_id"} {
				if p[member] == nil || p[member] == "" {
					t.Errorf("%s: problem lacks %q: %s", c.name, member, res.Body)
				}
			}
		}
		res := env.Do(rostertest.Req{Method: "DELETE", Path: "/v1/me", Token: env.AdminToken})
		if allow := res.Header.Get("Allow"); res.Status != 405 || !strings.Contains(allow, "GET") {
			t.Errorf("405 Allow header %q", allow)
		}
	})
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

func TestRequestID(t *testing.T) {
	env := rostertest.NewEnv(t, rostertest.SQLite)
	res := env.Do(rostertest.Req{Method: "GET", Path: "/v1/me", Token: env.AdminToken, Headers: map[string]string{"X-Request-Id": "client-req.42"}})
	if got := res.Header.Get("X-Request-Id"); got != "client-req.42" {
		t.Errorf("echoed request id %q", got)
	}
	res = env.Do(rostertest.Req{Method: "GET", Path: "/v1/me", Headers: map[string]string{"X-Request-Id": "bad id with spaces"}})
	got := res.Header.Get("X-Request-Id")
	if got == "" || got == "bad id with spaces" {
		t.Errorf("unsafe request id kept: %q", got)
	}
	if res.Map(t)["request_id"] != got {
		t.Errorf("problem request_id %v, header %q", res.Map(t)["request_id"], got)
	}
	a := env.Do(rostertest.Req{Method: "GET", Path: "/healthz"}).Header.Get("X-Request-Id")
	bID := env.Do(rostertest.Req{Method: "GET", Path: "/healthz"}).Header.Get("X-Request-Id")
	if a == "" || a == bID {
		t.Errorf("generated request ids %q and %q", a, bID)
	}
}

func TestIdempotencyKey(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		_, annToken := env.NewUserWithToken("ann@example.com")
		post := func(token, key string, body map[string]any) *rostertest.Response {
			return env.Do(rostertest.Req{Method: "POST", Path: "/v1/users", Token: token, Body: body,
				Headers: map[string]string{"Idempotency-Key": key}})
		}
		body := map[string]any{"email": "new@example.com"}
		first := post(env.AdminToken, "k-1", body)
		again := post(env.AdminToken, "k-1", body)
		if first.Status != 201 || again.Status != 201 || string(first.Body) == "" {
			t.Fatalf("statuses %d, %d", first.Status, again.Status)
		}
		var u1, u2 rostertest.User
		first.JSON(t, &u1)
		again.JSON(t, &u2)
		if u1.ID != u2.ID || again.Header.Get("Idempotent-Replayed") != "true" || first.Header.Get("Idempotent-Replayed") != "" {
			t.Errorf("replay: %s vs %s (replayed header %q)", u1.ID, u2.ID, again.Header.Get("Idempotent-Replayed"))
		}
		if res := post(env.AdminToken, "k-1", map[string]any{"email": "other@example.com"}); res.Status != 409 || res.Code(t) != roster.CodeIdempotencyKeyReused {
			t.Errorf("same key, other body: %d %s", res.Status, res.Body)
		}
		// Keys belong to their caller: ann's k-1 is her own (and she may not create users).
		if res := post(annToken, "k-1", body); res.Status != 403 {
			t.Errorf("another caller's key: %d %s", res.Status, res.Body)
		}
		// A refused request is replayed as refused.
		if res := post(annToken, "k-1", body); res.Status != 403 || res.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replayed refusal: %d %q", res.Status, res.Header.Get("Idempotent-Replayed"))
		}
		if res := post(env.AdminToken, strings.Repeat("k", 256), body); res.Status != 400 || res.Code(t) != roster.CodeInvalidIdempotencyKey {
			t.Errorf("overlong key: %d %s", res.Status, res.Body)
		}
		// After 24 hours the key may be used again.
		env.Clock.Advance(24*time.Hour + time.Second)
		if res := post(env.AdminToken, "k-1", map[string]any{"email": "later@example.com"}); res.Status != 201 {
			t.Errorf("key reused after 24h: %d %s", res.Status, res.Body)
		}
		var list struct{ Data []rostertest.User }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/users?email=new@example.com", Token: env.AdminToken}).JSON(t, &list)
		if len(list.Data) != 1 {
			t.Errorf("%d users created for one idempotent request", len(list.Data))
		}
	})
}

// TestIdempotencyKeyConcurrent fires the same request with the same key at
// once: one user is created, and every answer is that user or a 409 asking to
// retry.
// TestReadsAreNotReplayed: a check repeated with its Idempotency-Key is
// decided again, not answered from the first time: a replayed allow could
// outlive the access behind it. The other read-only POSTs are not
// replayed either.
func TestReadsAreNotReplayed(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		acme := newTenant(t, env, "acme")
		bob, _ := env.NewUserWithToken("bob@example.com")
		env.PutMember(acme.aliceToken, acme.ws.ID, bob.ID, map[string]any{"role": "member"}).Want(t, 201)
		check := func() *rostertest.Response {
			return env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/check", Token: env.AdminToken, Headers: map[string]string{"Idempotency-Key": "check-1"},
				Body: map[string]any{"user_id": bob.ID, "action": "workspace.read", "workspace_id": acme.ws.ID}})
		}
		var d rostertest.Decision
		if check().JSON(t, &d); !d.Allowed {
			t.Fatalf("bob before his removal: %+v", d)
		}
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + acme.ws.ID + "/members/" + bob.ID, Token: acme.aliceToken})
		res := check()
		if res.JSON(t, &d); d.Allowed || res.Header.Get("Idempotent-Replayed") != "" {
			t.Errorf("the repeated check was answered from the first: %+v", d)
		}
		for _, path := range []string{"/v1/check/batch", "/v1/tokens/introspect", "/v1/orgs/" + acme.org.ID + "/seats/preview"} {
			for range 2 {
				res := env.Do(rostertest.Req{Method: "POST", Path: path, Token: env.AdminToken, Headers: map[string]string{"Idempotency-Key": "read-1"}, Body: map[string]any{}})
				if res.Header.Get("Idempotent-Replayed") != "" {
					t.Errorf("%s was replayed", path)
				}
			}
		}
	})
}

func TestIdempotencyKeyConcurrent(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		const n = 12
		var wg sync.WaitGroup
		start := make(chan struct{})
		results := make([]*rostertest.Response, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i] = env.Do(rostertest.Req{Method: "POST", Path: "/v1/users", Token: env.AdminToken,
					Body: map[string]any{"email": "race@example.com"}, Headers: map[string]string{"Idempotency-Key": "same"}})
			}()
		}
		close(start)
		wg.Wait()
		ids := map[string]bool{}
		for _, res := range results {
			switch res.Status {
			case 201:
				var u rostertest.User
				json.Unmarshal(res.Body, &u)
				ids[u.ID] = true
			case 409:
				if res.Code(t) != roster.CodeIdempotencyInProgress {
					t.Errorf("409 with code %q", res.Code(t))
				}
			default:
				t.Errorf("status %d: %s", res.Status, res.Body)
			}
		}
		if len(ids) != 1 {
			t.Errorf("%d distinct users answered, want 1", len(ids))
		}
	})
}

func TestOpenAPIAndOps(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		res := env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/openapi.json"})
		var doc struct {
			OpenAPI string                    `json:"openapi"`
			Paths   map[string]map[string]any `json:"paths"`
		}
		res.JSON(t, &doc)
		if !strings.HasPrefix(doc.OpenAPI, "3.1") {
			t.Errorf("openapi version %q", doc.OpenAPI)
		}
		want := map[string][]string{
			"/v1/users": {"get", "post"}, "/v1/users/{id}": {"get", "patch", "delete"}, "/v1/me": {"get"},
			"/v1/me/tokens": {"get", "post"}, "/v1/me/tokens/{id}": {"delete"}, "/v1/users/{id}/tokens": {"get", "post"},
			"/v1/users/{id}/tokens/{tid}": {"delete"}, "/v1/tokens/introspect": {"post"}, "/v1/audit": {"get"},
		}
		for path, methods := range want {
			for _, m := range methods {
				if doc.Paths[path][m] == nil {
					t.Errorf("openapi.json lacks %s %s", m, path)
				}
			}
		}
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/healthz"})
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/readyz"})
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/me", Token: env.AdminToken})
		metrics := string(env.Expect(200, rostertest.Req{Method: "GET", Path: "/metrics"}).Body)
		for _, series := range []string{
			`roster_http_requests_total{method="GET",route="GET /v1/me",status="200"}`,
			`roster_http_request_duration_seconds_bucket{method="GET",route="GET /v1/me"`,
			`go_sql_open_connections`,
		} {
			if !strings.Contains(metrics, series) {
				t.Errorf("/metrics lacks %s", series)
			}
		}
	})
}
