package httpapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/httpapi"
	"github.com/roster-dev/roster/internal/rostertest"
)

// checkFixture is a tenant with a member, a member whose membership
// expires, a resource and a personal token, and the ids of each.
type checkFixture struct {
	env                      *rostertest.Env
	ws, org, user, expiring  string
	resource, personalToken  string
	outsider, otherWorkspace string
}

func newCheckFixture(t testing.TB, b rostertest.Backend) checkFixture {
	env := rostertest.NewEnv(t, b)
	tn := newTenant(t, env, "fast")
	other := newTenant(t, env, "other")
	user := env.CreateUser(map[string]any{"email": "member@fast.example"})
	env.PutMember(tn.aliceToken, tn.ws.ID, user.ID, map[string]any{"role": "member"}).Want(t, 201)
	expiring := env.CreateUser(map[string]any{"email": "expiring@fast.example"})
	env.PutMember(tn.aliceToken, tn.ws.ID, expiring.ID, map[string]any{"role": "admin", "expires_at": env.Clock.Now().Add(time.Hour).Format(time.RFC3339)}).Want(t, 201)
	var res struct{ ID string }
	env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/resources", Token: tn.aliceToken,
		Body: map[string]any{"type": "document", "external_id": "doc-1", "name": "Doc", "workspace_id": tn.ws.ID}}).JSON(t, &res)
	return checkFixture{env: env, ws: tn.ws.ID, org: tn.org.ID, user: user.ID, expiring: expiring.ID, resource: res.ID,
		personalToken: tn.aliceToken, outsider: other.alice.ID, otherWorkspace: other.ws.ID}
}

type checkCase struct {
	name    string
	path    string
	body    string
	headers map[string]string // besides a valid admin token and a fixed request id
	fast    bool              // the short way serves it (else huma does, or the middleware refuses it)
	either  bool              // the short way may serve it or not
}

func (f checkFixture) cases() []checkCase {
	one := func(fields string) string { return "{" + fields + "}" }
	q := func(k, v string) string { return fmt.Sprintf("%q:%q", k, v) }
	ws := q("user_id", f.user) + "," + q("action", "resources.write") + "," + q("workspace_id", f.ws)
	batchOf := func(n int, check string) string {
		return `{"checks":[` + strings.TrimSuffix(strings.Repeat(check+",", n), ",") + "]}"
	}
	cases := []checkCase{
		// Plain bodies: the short way.
		{name: "allowed", body: one(ws), fast: true},
		{name: "whitespace", body: " \n\t{ " + strings.ReplaceAll(ws, ",", " ,\r\n ") + " }\n ", fast: true},
		{name: "keys in another order", body: one(q("workspace_id", f.ws) + "," + q("action", "members.manage") + "," + q("user_id", f.user)), fast: true},
		{name: "insufficient role", body: one(q("user_id", f.user) + "," + q("action", "members.manage") + "," + q("workspace_id", f.ws)), fast: true},
		{name: "expiring", body: one(q("user_id", f.expiring) + "," + q("action", "members.manage") + "," + q("workspace_id", f.ws)), fast: true},
		{name: "no access", body: one(q("user_id", f.outsider) + "," + q("action", "workspace.read") + "," + q("workspace_id", f.ws)), fast: true},
		{name: "organisation", body: one(q("user_id", f.user) + "," + q("action", "org.billing") + "," + q("org_id", f.org)), fast: true},
		{name: "resource by id", body: one(q("user_id", f.user) + "," + q("action", "resources.read") + "," + q("resource_id", f.resource)), fast: true},
		{name: "resource by external id", body: one(q("user_id", f.user) + "," + q("action", "resources.read") + `,"resource":{"type":"document","external_id":"doc-1"}`), fast: true},
		{name: "unknown resource", body: one(q("user_id", f.user) + "," + q("action", "resources.read") + `,"resource":{"external_id":"nope","type":"document"}`), fast: true},
		{name: "external id too long", body: one(q("user_id", f.user) + "," + q("action", "resources.read") + `,"resource":{"type":"document","external_id":"` + strings.Repeat("x", 1000) + `"}`), fast: true},
		{name: "type too long", body: one(q("user_id", f.user) + "," + q("action", "resources.read") + `,"resource":{"type":"` + strings.Repeat("t", 300) + `","external_id":"x"}`), fast: true},
		{name: "unknown action", body: one(q("user_id", f.user) + "," + q("action", "fly") + "," + q("workspace_id", f.ws)), fast: true},
		{name: "unknown action to escape", body: one(q("user_id", f.user) + "," + q("action", "<fly & dive>") + "," + q("workspace_id", f.ws)), fast: true},
		{name: "unknown action in UTF-8", body: one(q("user_id", f.user) + `,"action":"voler→é` + "\u2028" + `",` + q("workspace_id", f.ws)), fast: true},
		{name: "unknown user", body: one(q("user_id", "usr_nobody") + "," + q("action", "workspace.read") + "," + q("workspace_id", f.ws)), fast: true},
		{name: "unknown workspace", body: one(q("user_id", f.user) + "," + q("action", "workspace.read") + "," + q("workspace_id", "ws_nowhere")), fast: true},
		{name: "empty strings", body: `{"user_id":"","action":"","workspace_id":""}`, fast: true},
		{name: "no target", body: one(q("user_id", f.user) + "," + q("action", "workspace.read")), fast: true},
		{name: "two targets", body: one(ws + "," + q("org_id", f.org)), fast: true},
		{name: "someone else's access, as a user", body: one(ws), headers: map[string]string{"Authorization": "Bearer " + f.personalToken}, fast: true},
		{name: "in another workspace, as a user", body: one(q("user_id", f.outsider) + "," + q("action", "workspace.read") + "," + q("workspace_id", f.otherWorkspace)),
			headers: map[string]string{"Authorization": "Bearer " + f.personalToken}, fast: true},
		{name: "content type with charset", body: one(ws), headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}, fast: true},
		{name: "no content type", body: one(ws), headers: map[string]string{"Content-Type": ""}, fast: true},
		{name: "the client's accept", body: one(ws), headers: map[string]string{"Accept": "application/json, application/problem+json"}, fast: true},
		{name: "any accept", body: one(ws), headers: map[string]string{"Accept": "*/*"}, fast: true},
		{name: "an idempotency key", body: one(ws), headers: map[string]string{"Idempotency-Key": "k1"}, fast: true},
		{name: "a query", path: "/v1/check?x=1", body: one(ws), fast: true},
		{name: "batch", path: "/v1/check/batch", body: batchOf(3, one(ws)), fast: true},
		{name: "batch of every kind", path: "/v1/check/batch", fast: true, body: `{"checks":[` + one(ws) + "," +
			one(q("user_id", f.expiring)+","+q("action", "members.manage")+","+q("workspace_id", f.ws)) + "," +
			one(q("user_id", f.user)+","+q("action", "org.billing")+","+q("org_id", f.org)) + "," +
			one(q("user_id", f.user)+","+q("action", "resources.read")+`,"resource":{"type":"document","external_id":"doc-1"}`) + "]}"},
		{name: "empty batch", path: "/v1/check/batch", body: `{"checks":[]}`, fast: true},
		{name: "batch of 1000", path: "/v1/check/batch", body: batchOf(1000, one(ws)), fast: true},
		{name: "batch with an error", path: "/v1/check/batch", body: `{"checks":[` + one(ws) + "," + one(q("user_id", f.user)+","+q("action", "fly")+","+q("workspace_id", f.ws)) + "]}", fast: true},
		{name: "batch for someone else, as a user", path: "/v1/check/batch", body: batchOf(2, one(ws)), headers: map[string]string{"Authorization": "Bearer " + f.personalToken}, fast: true},

		// Anything else: huma.
		{name: "batch of 1001", path: "/v1/check/batch", body: batchOf(1001, one(ws))},
		{name: "null checks", path: "/v1/check/batch", body: `{"checks":null}`},
		{name: "no checks", path: "/v1/check/batch", body: `{}`},
		{name: "checks twice", path: "/v1/check/batch", body: `{"checks":[],"checks":[]}`},
		{name: "a bad check in a batch", path: "/v1/check/batch", body: `{"checks":[` + one(ws) + `,{"user_id":"x"}]}`},
		{name: "a check as a batch", path: "/v1/check/batch", body: one(ws)},
		{name: "a batch as a check", body: batchOf(1, one(ws))},
		{name: "missing user", body: one(q("action", "workspace.read") + "," + q("workspace_id", f.ws))},
		{name: "missing action", body: one(q("user_id", f.user) + "," + q("workspace_id", f.ws))},
		{name: "unknown field", body: one(ws + `,"extra":"x"`)},
		{name: "field in capitals", body: one(strings.Replace(ws, "user_id", "USER_ID", 1))},
		{name: "repeated field", body: one(ws + "," + q("user_id", f.outsider))},
		{name: "escaped value", body: one(strings.Replace(ws, "resources.write", `resources\u002ewrite`, 1))},
		{name: "escaped key", body: one(strings.Replace(ws, "user_id", `user\u005fid`, 1))},
		{name: "escaped quote", body: one(strings.Replace(ws, "resources.write", `resources\"write`, 1))},
		{name: "NUL escape", body: one(strings.Replace(ws, "resources.write", `resources\u0000write`, 1))},
		{name: "control character", body: one(strings.Replace(ws, "resources.write", "resources\twrite", 1))},
		{name: "invalid UTF-8", body: one(strings.Replace(ws, "resources.write", "resources\xffwrite", 1))},
		{name: "null value", body: one(ws + `,"org_id":null`)},
		{name: "number value", body: one(strings.Replace(ws, `"resources.write"`, "42", 1))},
		{name: "resource null", body: one(q("user_id", f.user) + "," + q("action", "resources.read") + `,"resource":null`)},
		{name: "resource without type", body: one(q("user_id", f.user) + "," + q("action", "resources.read") + `,"resource":{"external_id":"doc-1"}`)},
		{name: "resource with more", body: one(q("user_id", f.user) + "," + q("action", "resources.read") + `,"resource":{"type":"document","external_id":"doc-1","x":"y"}`)},
		{name: "resource as a string", body: one(q("user_id", f.user) + "," + q("action", "resources.read") + `,"resource":"doc-1"`)},
		{name: "trailing garbage", body: one(ws) + "x"},
		{name: "two objects", body: one(ws) + one(ws)},
		{name: "trailing comma", body: "{" + ws + ",}"},
		{name: "truncated", body: "{" + ws},
		{name: "byte order mark", body: "\xef\xbb\xbf" + one(ws)},
		{name: "empty object", body: `{}`},
		{name: "empty body", body: ``},
		{name: "null", body: `null`},
		{name: "array", body: `[]`},
		{name: "too large", body: one(ws + `,"org_id":"` + strings.Repeat("x", 1<<20) + `"`)},
		{name: "at the limit", body: one(ws) + strings.Repeat(" ", 1<<20-len(one(ws)))},
		{name: "text content type", body: one(ws), headers: map[string]string{"Content-Type": "text/plain"}},
		{name: "CBOR content type", body: one(ws), headers: map[string]string{"Content-Type": "application/cbor"}},
		{name: "suffixed content type", body: one(ws), headers: map[string]string{"Content-Type": "application/problem+json"}},
		{name: "accept json", body: one(ws), headers: map[string]string{"Accept": "json"}},
		{name: "accept CBOR", body: one(ws), headers: map[string]string{"Accept": "application/cbor"}, fast: true}, // huma answers JSON too
		{name: "no token", body: one(ws), headers: map[string]string{"Authorization": ""}},
		{name: "bad token", body: one(ws), headers: map[string]string{"Authorization": "Bearer rst_pat_nope"}},
		{name: "not bearer", body: one(ws), headers: map[string]string{"Authorization": "Basic x"}},
		{name: "unclean path", path: "/v1//check", body: one(ws)},
		{name: "trailing slash", path: "/v1/check/", body: one(ws)},
		{name: "escaped path", path: "/v1/%63heck", body: one(ws), fast: true}, // the mux matches it
		{name: "GET", path: "GET /v1/check", body: one(ws)},
	}
	for _, seed := range decodeSeeds {
		cases = append(cases, checkCase{name: "seed " + seed, body: seed, either: true},
			checkCase{name: "batch seed " + seed, path: "/v1/check/batch", body: seed, either: true})
	}
	return cases
}

// decodeSeeds are decode_fuzz_test's bodies that do not depend on its
// fixture.
var decodeSeeds = []string{
	``, `{}`, `null`, `[]`, `"x"`, `0`, `{"email":`, `{"email":"a@b.co"}`, `{"email":42}`, `{"unknown":true}`,
	strings.Repeat(`{"a":`, 200) + strings.Repeat(`}`, 200), "\xff\xfe", `{"email":"\u0000@x.y"}`,
	`{"user_id":"usr_x","action":"workspace.read","workspace_id":"ws_x"}`,
	`{"checks":[{"user_id":"usr_x","action":"fly","workspace_id":"ws_x"}]}`,
}

// request makes the request of one case.
func (f checkFixture) request(c checkCase) *http.Request {
	method, path := "POST", c.path
	if m, p, ok := strings.Cut(path, " "); ok {
		method, path = m, p
	}
	if path == "" {
		path = "/v1/check"
	}
	req := httptest.NewRequest(method, path, strings.NewReader(c.body))
	req.Header.Set("Authorization", "Bearer "+f.env.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", "fixed-id")
	for k, v := range c.headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return req
}

// serve sends one case to the server and returns the response.
func (f checkFixture) serve(c checkCase) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.env.API.ServeHTTP(rec, f.request(c))
	return rec
}

// compareWays sends c both ways and fails unless the answers are the same
// to the byte.
func (f checkFixture) compareWays(t *testing.T, c checkCase) {
	t.Helper()
	httpapi.SetSlowChecks(f.env.API, true)
	slow := f.serve(c)
	httpapi.SetSlowChecks(f.env.API, false)
	fast := f.serve(c)
	if fast.Code != slow.Code || !reflect.DeepEqual(fast.Header(), slow.Header()) || !bytes.Equal(schemaOrder(fast.Body.Bytes()), schemaOrder(slow.Body.Bytes())) {
		t.Errorf("%s: the short way answered\n%d %v %s\nhuma answered\n%d %v %s", c.name,
			fast.Code, fast.Header(), clip(fast.Body.String()), slow.Code, slow.Header(), clip(slow.Body.String()))
	}
}

// schemaOrder sorts the schema violations of a problem: huma lists a
// body's unexpected properties in map order, which varies from one request
// to the next. Only huma reports them, on either way.
func schemaOrder(body []byte) []byte {
	var p map[string]any
	if json.Unmarshal(body, &p) != nil || p["errors"] == nil {
		return body
	}
	errs, _ := p["errors"].([]any)
	slices.SortFunc(errs, func(a, b any) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	if detail, ok := p["detail"].(string); ok {
		prefix, list, _ := strings.Cut(detail, ": ")
		parts := strings.Split(list, "; ")
		slices.Sort(parts)
		p["detail"] = prefix + ": " + strings.Join(parts, "; ")
	}
	out, _ := json.Marshal(p)
	return out
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// TestFastChecksAnswerAsHuma: POST /v1/check and /v1/check/batch answer
// every body (plain, unusual and bad) exactly as huma does, and the short
// way serves the plain ones.
func TestFastChecksAnswerAsHuma(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		f := newCheckFixture(t, b)
		served := 0
		for _, c := range f.cases() {
			f.compareWays(t, c)
			rec := httptest.NewRecorder()
			took := httpapi.ServeFastChecksOnly(f.env.API, rec, f.request(c))
			if took != c.fast && !c.either {
				t.Errorf("%s: served the short way: %v, want %v (%d %s)", c.name, took, c.fast, rec.Code, clip(rec.Body.String()))
			}
			if took {
				served++
			}
		}
		if served == 0 {
			t.Error("the short way served nothing")
		}
	})
}

// FuzzFastChecks compares the two ways on any body the short way serves,
// on SQLite; one it declines must find nothing written. (Answers huma gives
// both ways are not compared: with some unexpected keys, such as ones with
// dots, huma's own error locations vary from one request to the next.)
func FuzzFastChecks(f *testing.F) {
	fx := newCheckFixture(f, rostertest.SQLite)
	for _, c := range fx.cases() {
		if len(c.body) < 4096 && c.headers == nil && !strings.Contains(c.path, "?") && !strings.Contains(c.path, " ") {
			f.Add(c.path == "/v1/check/batch", c.body)
		}
	}
	f.Fuzz(func(t *testing.T, batch bool, body string) {
		c := checkCase{name: fmt.Sprintf("%q", body), body: body}
		if batch {
			c.path = "/v1/check/batch"
		}
		rec := httptest.NewRecorder()
		if httpapi.ServeFastChecksOnly(fx.env.API, rec, fx.request(c)) {
			fx.compareWays(t, c)
		} else if rec.Body.Len() == 0 && len(rec.Header()) != 1 {
			t.Errorf("%s: declined, but wrote %d %v", c.name, rec.Code, rec.Header())
		}
	})
}

// timings are the parts of a log line that differ from one request to the
// next.
var timings = regexp.MustCompile(`(time|http.duration_ms)=\S+`)

// TestFastChecksAnswerOddDecisionsAsHuma compares the two ways on answers
// no real decision gives but the encoder must still write as huma does:
// strings to escape, times in other zones and beyond what JSON can carry,
// and errors of every kind, from a stub service. The errors' log lines
// carry the request id.
func TestFastChecksAnswerOddDecisionsAsHuma(t *testing.T) {
	t.Parallel()
	odd := "a\"b\\c<d>&e\u2028f\x01g\xffh"
	zone := time.FixedZone("", -(9*3600 + 30*60))
	at := time.Date(2030, 1, 2, 3, 4, 5, 600, zone)
	beyond := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		d    roster.Decision
		err  error
	}{
		{name: "odd strings", d: roster.Decision{Role: odd, Via: roster.AccessVia(odd), Reason: odd}},
		{name: "odd strings allowed", d: roster.Decision{Allowed: true, Role: odd, Via: roster.AccessVia(odd), Reason: odd}},
		{name: "a zone and nanoseconds", d: roster.Decision{Allowed: true, Role: "member", Via: roster.AccessDirect, ExpiresAt: &at}},
		{name: "a time JSON cannot carry", d: roster.Decision{Allowed: true, Role: "member", Via: roster.AccessDirect, ExpiresAt: &beyond}},
		{name: "unexpected error", err: errors.New("pq: something <secret> & odd")},
		{name: "unavailable", err: roster.Errorf(roster.KindUnavailable, roster.CodeDatabaseUnavailable, "the database did not answer in time")},
		{name: "with details", err: roster.Errorf(roster.KindInvalid, roster.CodeUnknownAction, "unknown action %q", "<x>").With("action", "<x>")},
		{name: "an HTTP status", err: fmt.Errorf("wrapped: %w", &httpapi.Problem{Status: 418, Code: "teapot", Detail: "<short & stout>"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			svc := &stubServices{check: func(roster.CheckRequest) (roster.Decision, error) { return tc.d, tc.err }}
			api := httpapi.New(svc, nil, httpapi.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), QuietRequests: true})
			for _, path := range []string{"/v1/check", "/v1/check/batch"} {
				body := stubCheck
				if path == "/v1/check/batch" {
					body = `{"checks":[` + stubCheck + "," + stubCheck + "]}"
				}
				answer := func(slow bool) (*httptest.ResponseRecorder, string) {
					httpapi.SetSlowChecks(api, slow)
					logs.Reset()
					req := httptest.NewRequest("POST", path, strings.NewReader(body))
					req.Header.Set("Authorization", "Bearer rst_svc_stub")
					req.Header.Set("X-Request-Id", "fixed-id")
					rec := httptest.NewRecorder()
					api.ServeHTTP(rec, req)
					return rec, logs.String()
				}
				slow, slowLog := answer(true)
				fast, fastLog := answer(false)
				if fast.Code != slow.Code || !reflect.DeepEqual(fast.Header(), slow.Header()) || !bytes.Equal(fast.Body.Bytes(), slow.Body.Bytes()) {
					t.Errorf("%s: the short way answered\n%d %v %s\nhuma answered\n%d %v %s", path,
						fast.Code, fast.Header(), fast.Body, slow.Code, slow.Header(), slow.Body)
				}
				if timings.ReplaceAllString(fastLog, "") != timings.ReplaceAllString(slowLog, "") {
					t.Errorf("%s: the short way logged\n%s\nhuma logged\n%s", path, fastLog, slowLog)
				}
				if slowLog != "" && !strings.Contains(slowLog, "request_id=fixed-id") {
					t.Errorf("%s: the log lacks the request id: %s", path, slowLog)
				}
			}
		})
	}
}
