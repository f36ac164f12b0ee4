package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/httpapi"
	"github.com/roster-dev/roster/internal/rostertest"
	"github.com/roster-dev/roster/service"
	"github.com/roster-dev/roster/store"
)

type importResult struct {
	DryRun    bool `json:"dry_run"`
	Created   int  `json:"created"`
	Updated   int  `json:"updated"`
	Unchanged int  `json:"unchanged"`
	Failed    int  `json:"failed"`
	Errors    []struct {
		Line   int    `json:"line"`
		Code   string `json:"code"`
		Detail string `json:"detail"`
	} `json:"errors"`
}

// codes lists the failed lines as "line:code".
func (r importResult) codes() string {
	var out []string
	for _, e := range r.Errors {
		out = append(out, fmt.Sprintf("%d:%s", e.Line, e.Code))
	}
	return strings.Join(out, " ")
}

func (r importResult) counts() string {
	return fmt.Sprintf("created %d, updated %d, unchanged %d, failed %d", r.Created, r.Updated, r.Unchanged, r.Failed)
}

// ndjson renders records one a line.
func ndjson(t testing.TB, records ...map[string]any) string {
	var b strings.Builder
	for _, r := range records {
		line, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func importBody(env *rostertest.Env, token, query, body string) *rostertest.Response {
	return env.Do(rostertest.Req{Method: "POST", Path: "/v1/import" + query, Token: token, Body: body,
		Headers: map[string]string{"Content-Type": "application/x-ndjson"}})
}

func runImport(t *testing.T, env *rostertest.Env, query string, records ...map[string]any) importResult {
	t.Helper()
	var res importResult
	importBody(env, env.AdminToken, query, ndjson(t, records...)).Want(t, 200).JSON(t, &res)
	return res
}

func allAuditCount(t *testing.T, env *rostertest.Env) int {
	t.Helper()
	var page struct{ Data []json.RawMessage }
	env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit?limit=500", Token: env.AdminToken}).JSON(t, &page)
	return len(page.Data)
}

type rec = map[string]any

// acmeImport is a small customer: three users, an organisation, two
// workspaces, memberships of every kind.
func acmeImport(env *rostertest.Env) []rec {
	return []rec{
		{"type": "user", "external_id": "u1", "email": "ann@acme.example", "display_name": "Ann"},
		{"type": "user", "external_id": "u2", "email": "bob@acme.example"},
		{"type": "user", "email": "cat@acme.example"},
		{"type": "org", "slug": "acme", "name": "Acme", "owner": "u1"},
		{"type": "workspace", "org": "acme", "slug": "eng", "name": "Engineering", "owner": "ann@acme.example"},
		{"type": "workspace", "org": "acme", "slug": "ops", "name": "Operations", "owner": "u1"},
		{"type": "org_membership", "org": "acme", "user": "u2", "role": "admin"},
		{"type": "membership", "org": "acme", "workspace": "eng", "user": "u2", "role": "member"},
		{"type": "membership", "org": "acme", "workspace": "ops", "user": "cat@acme.example", "role": "viewer",
			"expires_at": env.Clock.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)},
	}
}

// TestImportCreatesThenChangesNothing: an import creates what it names,
// with the API's outcomes; the same import again writes nothing at all.
func TestImportCreatesThenChangesNothing(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		before := allAuditCount(t, env)
		dry := runImport(t, env, "?dry_run=true", acmeImport(env)...)
		if !dry.DryRun || dry.Created != 9 || dry.Failed != 0 {
			t.Fatalf("dry run: %s (%s)", dry.counts(), dry.codes())
		}
		var orgs struct{ Data []rostertest.Org }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/orgs", Token: env.AdminToken}).JSON(t, &orgs)
		if n := allAuditCount(t, env); len(orgs.Data) != 0 || n != before {
			t.Fatalf("a dry run wrote: %d organisations, %d audit events", len(orgs.Data), n-before)
		}

		res := runImport(t, env, "", acmeImport(env)...)
		if res.DryRun || res.Created != 9 || res.Updated+res.Unchanged+res.Failed != 0 {
			t.Fatalf("import: %s (%s)", res.counts(), res.codes())
		}
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/orgs", Token: env.AdminToken}).JSON(t, &orgs)
		if len(orgs.Data) != 1 || orgs.Data[0].Slug != "acme" {
			t.Fatalf("organisations: %+v", orgs.Data)
		}
		org := orgs.Data[0].ID
		users := map[string]string{}
		for _, email := range []string{"ann", "bob", "cat"} {
			var page struct{ Data []rostertest.User }
			env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/users?email=" + email + "@acme.example", Token: env.AdminToken}).JSON(t, &page)
			if len(page.Data) != 1 {
				t.Fatalf("user %s: %+v", email, page.Data)
			}
			users[email] = page.Data[0].ID
		}
		var wss struct {
			Data []struct {
				ID, Slug string
			}
		}
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces?org_id=" + org, Token: env.AdminToken}).JSON(t, &wss)
		ws := map[string]string{}
		for _, w := range wss.Data {
			ws[w.Slug] = w.ID
		}
		for _, c := range []struct {
			user, action, ws string
			allowed          bool
			role             string
		}{
			{"ann", "workspace.read", "eng", true, "owner"},
			{"bob", "resources.write", "eng", true, "admin"}, // his organisation role outranks his membership
			{"bob", "workspace.read", "ops", true, "admin"},  // derived from the organisation
			{"cat", "workspace.read", "ops", true, "viewer"},
			{"cat", "workspace.read", "eng", false, ""},
		} {
			d := env.Check(users[c.user], c.action, ws[c.ws])
			if d.Allowed != c.allowed || deref(d.Role) != c.role {
				t.Errorf("%s %s on %s: %+v", c.user, c.action, c.ws, d)
			}
		}
		tn := tenant{env: env, org: rostertest.Org{ID: org}, aliceToken: env.AdminToken}
		tn.wantUsed(t, "after the import (ann owner, bob admin; cat a free viewer)", 2)
		written := allAuditCount(t, env)
		if written <= before+9 {
			t.Errorf("the import wrote %d audit events", written)
		}

		again := runImport(t, env, "", acmeImport(env)...)
		if again.Unchanged != 9 || again.Created+again.Updated+again.Failed != 0 {
			t.Fatalf("the same import again: %s (%s)", again.counts(), again.codes())
		}
		if n := allAuditCount(t, env); n != written {
			t.Errorf("an unchanged import wrote %d audit events", n-written)
		}
	})
}

// TestImportRules: each record keeps the API's rules and stands alone.
func TestImportRules(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		runImport(t, env, "", acmeImport(env)...)
		var orgs struct{ Data []rostertest.Org }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/orgs", Token: env.AdminToken}).JSON(t, &orgs)
		tn := tenant{env: env, org: orgs.Data[0], aliceToken: env.AdminToken}
		tn.setPlan(t, map[string]any{"seat_cap": 3})
		joined := func(email string) string {
			var page struct{ Data []map[string]any }
			env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/orgs/" + tn.org.ID + "/members?limit=500", Token: env.AdminToken}).JSON(t, &page)
			var users struct{ Data []rostertest.User }
			env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/users?email=" + email, Token: env.AdminToken}).JSON(t, &users)
			for _, m := range page.Data {
				if m["user_id"] == users.Data[0].ID {
					return fmt.Sprint(m["joined_at"], " ", m["role"])
				}
			}
			return ""
		}
		bobJoined := strings.Fields(joined("bob@acme.example"))[0]

		res := runImport(t, env, "",
			rec{"type": "org_membership", "org": "acme", "user": "u1", "role": "member"},                               // 1: the last owner
			rec{"type": "membership", "org": "acme", "workspace": "ops", "user": "u1", "role": "admin"},                // 2: the workspace's last owner
			rec{"type": "membership", "org": "acme", "workspace": "eng", "user": "u2", "role": "external"},             // 3: an org member is never external
			rec{"type": "org_membership", "org": "acme", "user": "u2", "role": "member"},                               // 4: a changed role keeps joined_at
			rec{"type": "user", "email": "dan@acme.example"},                                                           // 5
			rec{"type": "membership", "org": "acme", "workspace": "eng", "user": "dan@acme.example", "role": "member"}, // 6: the third seat
			rec{"type": "user", "email": "eve@acme.example"},                                                           // 7
			rec{"type": "membership", "org": "acme", "workspace": "eng", "user": "eve@acme.example", "role": "member"}, // 8: over the cap
			rec{"type": "membership", "org": "acme", "workspace": "eng", "user": "eve@acme.example", "role": "viewer"}, // 9: viewers are free
			rec{"type": "membership", "org": "acme", "workspace": "eng", "user": "dan@acme.example", "role": "admin"},  // 10: the later line wins
			rec{"type": "membership", "org": "nope", "workspace": "eng", "user": "u1", "role": "member"},               // 11
			rec{"type": "membership", "org": "acme", "workspace": "nope", "user": "u1", "role": "member"},              // 12
			rec{"type": "membership", "org": "acme", "workspace": "eng", "user": "nobody", "role": "member"},           // 13
			rec{"type": "workspace", "org": "beta", "slug": "main", "name": "Main", "owner": "u2"},                     // 14: beta comes later
			rec{"type": "org", "slug": "beta", "name": "Beta", "owner": "u2"},                                          // 15
			rec{"type": "workspace", "org": "beta", "slug": "main", "name": "Main", "owner": "u2"},                     // 16: now it exists
			rec{"type": "user", "external_id": "u9", "email": "ann@acme.example"},                                      // 17: ann's email, another id
		)
		if got, want := res.codes(), "1:last_owner 2:last_owner 3:external_invariant 8:seat_cap_reached 11:org_not_found 12:workspace_not_found 13:user_not_found 14:org_not_found 17:email_taken"; got != want {
			t.Errorf("errors %s\nwant   %s", got, want)
		}
		if res.Created != 6 || res.Updated != 2 || res.Failed != 9 {
			t.Errorf("%s", res.counts())
		}
		if got := joined("bob@acme.example"); got != bobJoined+" member" {
			t.Errorf("bob after the role change: %q, joined %s", got, bobJoined)
		}
		tn.ws = rostertest.Workspace{ID: workspaceBySlug(t, env, tn.org.ID, "eng")}
		if m := tn.members(t, env.AdminToken); m[userByEmail(t, env, "dan@acme.example")].Role != "admin" {
			t.Errorf("dan in eng after two lines: %+v", m)
		}
		tn.wantUsed(t, "ann, bob and dan hold seats; eve is a free viewer", 3)
	})
}

func userByEmail(t *testing.T, env *rostertest.Env, email string) string {
	t.Helper()
	var page struct{ Data []rostertest.User }
	env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/users?email=" + email, Token: env.AdminToken}).JSON(t, &page)
	if len(page.Data) != 1 {
		t.Fatalf("user %s: %+v", email, page.Data)
	}
	return page.Data[0].ID
}

func workspaceBySlug(t *testing.T, env *rostertest.Env, orgID, slug string) string {
	t.Helper()
	var page struct{ Data []struct{ ID, Slug string } }
	env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/workspaces?limit=500&org_id=" + orgID, Token: env.AdminToken}).JSON(t, &page)
	for _, w := range page.Data {
		if w.Slug == slug {
			return w.ID
		}
	}
	t.Fatalf("no workspace %s", slug)
	return ""
}

// TestImportBadInput: every bad line is reported by number with a code and
// the others still apply; a bad request as a whole is a clear 4xx.
func TestImportBadInput(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b, rostertest.WithAPI(func(o *httpapi.Options) { o.MaxImportBytes = 4096 }))
		body := strings.Join([]string{
			`{"type":"user","email":"ann@acme.example","external_id":"u1"}`, // 1
			`{"type":"user","email":"ann@acme.example"`,                     // 2: cut short
			`[1, 2]`,                     // 3
			`{"type":"team","slug":"x"}`, // 4
			`{"type":"user","email":"bob@acme.example","nickname":"b"}`, // 5
			`{"type":"user","email":42}`,                                // 6
			`{"type":"user","email":"not an address"}`,                  // 7
			`{"type":"user","display_name":"nobody"}`,                   // 8
			``, // 9: blank lines are skipped
			`{"type":"org","slug":"Bad Slug","name":"X","owner":"u1"}`,                                                             // 10
			`{"type":"org","slug":"acme","name":"Acme"}`,                                                                           // 11
			`{"type":"org","slug":"acme","name":"Acme","owner":"u1"}`,                                                              // 12
			`{"type":"workspace","org":"acme","slug":"eng","name":"Eng","owner":"u1"}`,                                             // 13
			`{"type":"org_membership","org":"acme","user":"u1","role":"emperor"}`,                                                  // 14
			`{"type":"membership","org":"acme","workspace":"eng","user":"u1","role":"member","expires_at":"yesterday"}`,            // 15
			`{"type":"membership","org":"acme","workspace":"eng","user":"u1","role":"member","expires_at":"2001-01-01T00:00:00Z"}`, // 16
			`{"type":"membership","org":"acme","workspace":"eng","user":"u1","role":"member"}`,                                     // 17: the workspace's only owner
			`{"type":"user","email":"c\u0000t@acme.example"}`,                                                                      // 18
			`{"type":"user","email":"cat@acme.example"} {"type":"user","email":"dan@acme.example"}`,                                // 19
		}, "\n")
		var res importResult
		importBody(env, env.AdminToken, "", body).Want(t, 200).JSON(t, &res)
		want := "2:malformed_json 3:malformed_json 4:unknown_record_type 5:invalid_request 6:invalid_request 7:invalid_email 8:invalid_request " +
			"10:invalid_slug 11:invalid_request 14:invalid_role 15:invalid_expiry 16:invalid_expiry 17:last_owner 18:invalid_request 19:malformed_json"
		if got := res.codes(); got != want {
			t.Errorf("errors %s\nwant   %s", got, want)
		}
		if res.Created != 3 || res.Failed != 15 {
			t.Errorf("%s", res.counts())
		}
		for _, e := range res.Errors {
			if e.Detail == "" {
				t.Errorf("line %d: no detail", e.Line)
			}
		}

		importBody(env, env.AdminToken, "", strings.Repeat(`{"type":"user","email":"x@acme.example"}`+"\n", 200)).Want(t, 413)
		importBody(env, env.AdminToken, "", "").Want(t, 400)
		res2 := env.Do(rostertest.Req{Method: "POST", Path: "/v1/import", Token: env.AdminToken, Body: `{"type":"user","email":"eve@acme.example"}`})
		if res2.Want(t, 415); res2.Code(t) != "unsupported_media_type" {
			t.Errorf("JSON instead of NDJSON: %s", res2.Body)
		}
		_, token := env.NewUserWithToken("owner@acme.example")
		if code := importBody(env, token, "", `{"type":"user","email":"eve@acme.example"}`).Want(t, 403).Code(t); code != "forbidden" {
			t.Errorf("a user without platform powers: %s", code)
		}
		importBody(env, "", "", `{"type":"user","email":"eve@acme.example"}`).Want(t, 401)
	})
}

// TestImportRacesWrites: an import and ordinary API writes on the same
// organisation, at once, leave its seat ledger equal to a recount of its
// memberships.
func TestImportRacesWrites(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		var records []rec
		var apiUsers []string
		for i := range 40 {
			email := fmt.Sprintf("i%d@acme.example", i)
			records = append(records, rec{"type": "user", "email": email},
				rec{"type": "membership", "org": "acme", "workspace": tn.ws.Slug, "user": email, "role": []string{"member", "viewer", "admin"}[i%3]})
			apiUsers = append(apiUsers, env.CreateUser(map[string]any{"email": fmt.Sprintf("a%d@acme.example", i)}).ID)
		}
		concurrently(3, func(i int) {
			switch i {
			case 0:
				var res importResult
				importBody(env, env.AdminToken, "", ndjson(t, records...)).Want(t, 200).JSON(t, &res)
				if res.Failed != 0 {
					t.Errorf("import: %s", res.codes())
				}
			default:
				for j := i - 1; j < len(apiUsers); j += 2 {
					env.PutMember(tn.aliceToken, tn.ws.ID, apiUsers[j], map[string]any{"role": "member"}).Want(t, 201)
					if j%4 == 1 {
						env.PutOrgMember(tn.aliceToken, tn.org.ID, apiUsers[j], "admin").Want(t, 200)
					}
				}
			}
		})
		// The recount: org members, and direct members with a paid role
		// (viewers are free), each once.
		holders := map[string]bool{}
		var org struct{ Data []map[string]any }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/orgs/" + tn.org.ID + "/members?limit=500", Token: env.AdminToken}).JSON(t, &org)
		for _, m := range org.Data {
			holders[m["user_id"].(string)] = true
		}
		for id, m := range tn.members(t, env.AdminToken) {
			if !m.Derived && m.Role != "viewer" {
				holders[id] = true
			}
		}
		if len(holders) != 1+27+40 {
			t.Errorf("%d seat holders, want alice, 27 imported non-viewers and 40 API members", len(holders))
		}
		tn.wantUsed(t, "the recount", len(holders))
	})
}

// TestImportReplaysByIdempotencyKey: an import sent again with the same
// Idempotency-Key gets the first answer, however large its body (past the
// 1 MiB of other requests).
func TestImportReplaysByIdempotencyKey(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		body := strings.Repeat(" \n", 600_000) + `{"type":"user","email":"ann@acme.example"}` + "\n"
		send := func() importResult {
			var res importResult
			env.Do(rostertest.Req{Method: "POST", Path: "/v1/import", Token: env.AdminToken, Body: body,
				Headers: map[string]string{"Content-Type": "application/x-ndjson", "Idempotency-Key": "import-1"}}).Want(t, 200).JSON(t, &res)
			return res
		}
		if first := send(); first.Created != 1 {
			t.Fatalf("first: %s (%s)", first.counts(), first.codes())
		}
		if again := send(); again.Created != 1 || again.Unchanged != 0 {
			t.Errorf("the same key again: %s, want the first answer replayed", again.counts())
		}
	})
}

// TestImportAgainstAFailingDatabase: an import to a replica whose database
// goes silent is a 503 within the deadline and writes nothing; one cut
// short by reset connections leaves whole chunks only, and the same import
// sent again finishes it.
func TestImportAgainstAFailingDatabase(t *testing.T) {
	t.Parallel()
	const chunkDeadline = 3 * time.Second // a chunk of 2,000 records takes a while under the race detector
	a := rostertest.NewEnv(t, rostertest.Postgres)
	proxied, proxy := rostertest.ProxyPostgres(t, a.DSN)
	b := rostertest.NewReplica(t, rostertest.Postgres, proxied, a.Clock,
		rostertest.WithService(func(o *service.Options) { o.ImportChunkTimeout = chunkDeadline }),
		rostertest.WithStore(func(o *store.Options) { o.Timeout = deadline }))
	records := []rec{{"type": "user", "email": "owner@acme.example"}, {"type": "org", "slug": "acme", "name": "Acme", "owner": "owner@acme.example"},
		{"type": "workspace", "org": "acme", "slug": "main", "name": "Main", "owner": "owner@acme.example"}}
	for i := range 2500 { // three chunks
		email := fmt.Sprintf("u%d@acme.example", i)
		records = append(records, rec{"type": "user", "email": email}, rec{"type": "membership", "org": "acme", "workspace": "main", "user": email, "role": "member"})
	}
	body := ndjson(t, records...)
	send := func() *rostertest.Response {
		return b.TryWith(patient, rostertest.Req{Method: "POST", Path: "/v1/import", Token: a.AdminToken, Body: body,
			Headers: map[string]string{"Content-Type": "application/x-ndjson"}})
	}

	b.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/orgs", Token: a.AdminToken}) // the replica knows the token
	proxy.Blackhole()
	start := time.Now()
	if res := send(); res.Status != 503 || res.Code(t) != "database_unavailable" {
		t.Errorf("an import against a silent database: %d %s", res.Status, res.Body)
	}
	if took := time.Since(start); took > chunkDeadline+2*time.Second {
		t.Errorf("the refusal took %v, a chunk's deadline is %v", took, chunkDeadline)
	}
	proxy.Restore()
	var users struct{ Data []rostertest.User }
	a.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/users?q=acme.example", Token: a.AdminToken}).JSON(t, &users)
	if len(users.Data) != 0 {
		t.Fatalf("a refused import wrote %d users", len(users.Data))
	}

	done := make(chan *rostertest.Response)
	go func() { done <- send() }()
	for range 3 { // connections reset under the import
		time.Sleep(50 * time.Millisecond)
		proxy.Reset()
	}
	if res := <-done; res.Status != 200 && res.Status != 503 {
		t.Errorf("an import whose connections were reset: %d %s", res.Status, res.Body)
	}
	var res importResult
	for deadline := time.Now().Add(30 * time.Second); ; {
		r := send()
		if r.Status == 200 {
			r.JSON(t, &res)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import did not go through once the resets stopped: %d %s", r.Status, r.Body)
		}
	}
	if res.Failed != 0 || res.Created+res.Unchanged != len(records) {
		t.Errorf("the import sent again: %s (%s)", res.counts(), res.codes())
	}
	var orgs struct{ Data []rostertest.Org }
	a.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/orgs", Token: a.AdminToken}).JSON(t, &orgs)
	tn := tenant{env: a, org: orgs.Data[0], aliceToken: a.AdminToken}
	tn.wantUsed(t, "the owner and every member, once each", 2501)
}
