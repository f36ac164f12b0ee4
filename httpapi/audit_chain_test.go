package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

type verifyAnswer struct {
	OK              bool    `json:"ok"`
	Events          int64   `json:"events"`
	Head            string  `json:"head"`
	FirstBadEventID *string `json:"first_bad_event_id"`
	Problem         string  `json:"problem"`
}

func verifyAudit(t *testing.T, env *rostertest.Env) verifyAnswer {
	t.Helper()
	var v verifyAnswer
	env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit/verify", Token: env.AdminToken}).JSON(t, &v)
	return v
}

// sealAll seals every committed event now (the sealer does it on its own
// within a poll).
func sealAll(t *testing.T, env *rostertest.Env) {
	t.Helper()
	if err := env.Service.SealNow(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// chainOrder lists the sealed events' ids in chain order, as the export has them.
func chainOrder(t *testing.T, env *rostertest.Env) []roster.ExportedEvent {
	t.Helper()
	res := env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit/export", Token: env.AdminToken})
	var out []roster.ExportedEvent
	if len(bytes.TrimSpace(res.Body)) == 0 {
		return nil
	}
	for _, line := range bytes.Split(bytes.TrimSpace(res.Body), []byte("\n")) {
		var e roster.ExportedEvent
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

// tamper runs SQL directly against the database, as someone with access
// to it and not to Roster would.
func tamper(t *testing.T, env *rostertest.Env, stmts ...string) {
	t.Helper()
	pools := env.DB.Pools()
	db := pools["write"]
	if db == nil {
		db = pools["main"]
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// chainWorld writes some history: a tenant, members, a settings change.
func chainWorld(t *testing.T, env *rostertest.Env) []roster.ExportedEvent {
	t.Helper()
	tn := newTenant(t, env, "acme")
	for i := range 3 {
		u := env.CreateUser(map[string]any{"email": fmt.Sprintf("m%d@acme.example", i)})
		env.PutMember(tn.aliceToken, tn.ws.ID, u.ID, map[string]any{"role": "member"}).Want(t, 201)
	}
	env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + tn.ws.ID + "/settings", Token: tn.aliceToken,
		Body: map[string]any{"values": map[string]any{"theme": "dark <&>", "n": "1.50"}}})
	sealAll(t, env)
	events := chainOrder(t, env)
	if len(events) < 15 {
		t.Fatalf("only %d events", len(events))
	}
	return events
}

// TestAuditChainNamesTheFirstBadEvent: a clean log verifies; changing a
// field, deleting, swapping or inserting an event in the database is
// found, and verify names the first event that breaks the chain.
func TestAuditChainNamesTheFirstBadEvent(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		cases := []struct {
			name   string
			tamper func(t *testing.T, env *rostertest.Env, chain []roster.ExportedEvent) (firstBad string)
		}{
			{"clean", func(*testing.T, *rostertest.Env, []roster.ExportedEvent) string { return "" }},
			{"a field changed", func(t *testing.T, env *rostertest.Env, chain []roster.ExportedEvent) string {
				x := chain[7].ID
				tamper(t, env, `UPDATE audit_events SET action = 'membership.deleted' WHERE id = '`+x+`'`)
				return x
			}},
			{"a value inside the object changed", func(t *testing.T, env *rostertest.Env, chain []roster.ExportedEvent) string {
				x := chain[len(chain)-1].ID // the settings change
				edited := `REPLACE(after_json, 'dark', 'lite')`
				if b == rostertest.Postgres {
					edited = `CAST(REPLACE(CAST(after_json AS TEXT), 'dark', 'lite') AS JSONB)`
				}
				tamper(t, env, `UPDATE audit_events SET after_json = `+edited+` WHERE id = '`+x+`'`)
				return x
			}},
			{"one deleted", func(t *testing.T, env *rostertest.Env, chain []roster.ExportedEvent) string {
				tamper(t, env, `DELETE FROM audit_events WHERE id = '`+chain[5].ID+`'`)
				return chain[6].ID
			}},
			{"two swapped", func(t *testing.T, env *rostertest.Env, chain []roster.ExportedEvent) string {
				x, y := chain[4], chain[9]
				tamper(t, env,
					fmt.Sprintf(`UPDATE audit_events SET chain_pos = -1 WHERE id = '%s'`, x.ID),
					fmt.Sprintf(`UPDATE audit_events SET chain_pos = %d WHERE id = '%s'`, x.Pos, y.ID),
					fmt.Sprintf(`UPDATE audit_events SET chain_pos = %d WHERE id = '%s'`, y.Pos, x.ID))
				return y.ID
			}},
			{"one inserted", func(t *testing.T, env *rostertest.Env, chain []roster.ExportedEvent) string {
				forged := roster.NewID(roster.PrefixAudit)
				tamper(t, env, `INSERT INTO audit_events (id, at, actor_user_id, via, action, target_type, target_id, org_id, workspace_id,
					after_json, request_id, ip, txid, seq)
					SELECT '`+forged+`', at, actor_user_id, via, 'membership.created', target_type, target_id, org_id, workspace_id,
					after_json, request_id, ip, txid, -1 FROM audit_events WHERE id = '`+chain[3].ID+`'`)
				return forged
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				env := rostertest.NewEnv(t, b)
				chain := chainWorld(t, env)
				want := c.tamper(t, env, chain)
				v := verifyAudit(t, env)
				if want == "" {
					if !v.OK || v.Events != int64(len(chain)) || v.Head != chain[len(chain)-1].Hash || v.FirstBadEventID != nil {
						t.Fatalf("a clean log: %+v (%d events, head %s)", v, len(chain), chain[len(chain)-1].Hash)
					}
					return
				}
				if v.OK || v.FirstBadEventID == nil || *v.FirstBadEventID != want {
					t.Fatalf("verify: %+v, want the first bad event %s", v, want)
				}
			})
		}
		t.Run("the last events deleted", func(t *testing.T) {
			env := rostertest.NewEnv(t, b)
			chain := chainWorld(t, env)
			tamper(t, env, `DELETE FROM audit_events WHERE id = '`+chain[len(chain)-1].ID+`'`)
			if v := verifyAudit(t, env); v.OK || v.Events != int64(len(chain)-1) {
				t.Fatalf("verify: %+v", v)
			}
		})
	})
}

// TestAuditExportVerifiesOffline: an export verifies without Roster, and
// stops verifying after an edit; a filtered export verifies with gaps.
func TestAuditExportVerifiesOffline(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		chain := chainWorld(t, env)
		res := env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit/export", Token: env.AdminToken})
		if ct := res.Header.Get("Content-Type"); ct != "application/x-ndjson" {
			t.Errorf("content type %q", ct)
		}
		file := res.Body
		v, err := roster.VerifyExport(bytes.NewReader(file), true)
		if err != nil || !v.OK || v.Events != int64(len(chain)) || v.Head != verifyAudit(t, env).Head {
			t.Fatalf("the export: %+v, %v", v, err)
		}

		lines := bytes.Split(bytes.TrimSpace(file), []byte("\n"))
		edited := bytes.Join(append(append([][]byte{}, lines[:6]...), append([][]byte{bytes.Replace(lines[6], []byte(`"ip":"127.0.0.1"`), []byte(`"ip":"10.0.0.1"`), 1)}, lines[7:]...)...), []byte("\n"))
		if bytes.Equal(edited, file) {
			t.Fatal("the edit changed nothing")
		}
		v, _ = roster.VerifyExport(bytes.NewReader(edited), true)
		if v.OK || v.FirstBadID != chain[6].ID || v.FirstBadLine != 7 {
			t.Errorf("an edited line: %+v", v)
		}
		dropped := bytes.Join(append(append([][]byte{}, lines[:6]...), lines[7:]...), []byte("\n"))
		if v, _ = roster.VerifyExport(bytes.NewReader(dropped), true); v.OK || v.FirstBadID != chain[7].ID {
			t.Errorf("a dropped line, complete: %+v", v)
		}
		if v, _ = roster.VerifyExport(bytes.NewReader(dropped), false); !v.OK || v.Gaps != 1 {
			t.Errorf("a dropped line, partial: %+v", v)
		}
		if _, err := roster.VerifyExport(strings.NewReader("<html>"), false); err == nil {
			t.Error("an HTML page verified")
		}

		org := *chain[len(chain)-1].OrgID
		part := env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit/export?org_id=" + org + "&action=membership.created", Token: env.AdminToken}).Body
		v, err = roster.VerifyExport(bytes.NewReader(part), false)
		if err != nil || !v.OK || v.Events != 4 { // alice's own and three members
			t.Errorf("a filtered export: %+v, %v: %s", v, err, part)
		}
	})
}

// TestOrganisationsReadTheirOwnAudit: an organisation's owners and admins
// read its audit log (and export it), naming it; another's is 404; a
// support session's actions show the staff member and their reason.
func TestOrganisationsReadTheirOwnAudit(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		w := newSupportWorld(t, env, "acme")
		other := newTenant(t, env, "beta")
		bob, bobToken := env.NewUserWithToken("bob@acme.example")
		env.PutMember(w.aliceToken, w.ws.ID, bob.ID, map[string]any{"role": "member"}).Want(t, 201)
		s := w.joined(t, time.Hour, 201).Session
		carol := env.CreateUser(map[string]any{"email": "carol@acme.example"})
		env.PutMember(s.Token, w.ws.ID, carol.ID, map[string]any{"role": "viewer"}).Want(t, 201)

		read := func(token, query string, want int) []map[string]any {
			var page struct{ Data []map[string]any }
			env.Expect(want, rostertest.Req{Method: "GET", Path: "/v1/audit?limit=500&" + query, Token: token}).JSON(t, &page)
			return page.Data
		}
		own := read(w.aliceToken, "org_id="+w.org.ID, 200)
		if len(own) == 0 {
			t.Fatal("the owner reads nothing")
		}
		found := false
		for _, e := range own {
			if e["org_id"] != w.org.ID {
				t.Fatalf("another organisation's event: %v", e)
			}
			if e["action"] == "membership.created" && e["target_type"] == "membership" && e["via"] == "support" {
				found = true
				if e["actor_user_id"] != w.staff.ID || e["actor_reason"] != s.Reason {
					t.Errorf("the support session's change: %v", e)
				}
			}
		}
		if !found {
			t.Error("the support session's change is not in the organisation's audit")
		}
		read(w.aliceToken, "org_id="+other.org.ID, 404)
		read(w.aliceToken, "", 403)
		read(bobToken, "org_id="+w.org.ID, 403)
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit/export?org_id=" + w.org.ID, Token: w.aliceToken})
		env.Expect(404, rostertest.Req{Method: "GET", Path: "/v1/audit/export?org_id=" + other.org.ID, Token: w.aliceToken})
		env.Expect(403, rostertest.Req{Method: "GET", Path: "/v1/audit/verify", Token: w.aliceToken})

		for _, bad := range []struct{ query, code string }{
			{"org_id=nope", "invalid_id"},
			{"workspace_id=org_x", "invalid_id"},
			{"actor_id=ws_1", "invalid_id"},
			{"since=" + url.QueryEscape("2026-01-02T00:00:00Z") + "&until=" + url.QueryEscape("2026-01-01T00:00:00Z"), "invalid_range"},
			{"since=yesterday", ""},
		} {
			res := env.Expect(400, rostertest.Req{Method: "GET", Path: "/v1/audit?" + bad.query, Token: env.AdminToken})
			if bad.code != "" && res.Code(t) != bad.code {
				t.Errorf("%s: %s", bad.query, res.Code(t))
			}
			env.Expect(400, rostertest.Req{Method: "GET", Path: "/v1/audit/export?" + bad.query, Token: env.AdminToken})
		}
	})
}

// TestSealingDoesNotSerialiseOrganisations: a transaction holding one
// organisation does not hold up a write in another; the sealer chains that
// write once the held transaction ends. (SQLite has one writer for every
// organisation by design; this is PostgreSQL's question.)
func TestSealingDoesNotSerialiseOrganisations(t *testing.T) {
	env := rostertest.NewEnv(t, rostertest.Postgres)
	acme, beta := newTenant(t, env, "acme"), newTenant(t, env, "beta")
	sealAll(t, env)
	held, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- env.DB.Update(context.Background(), func(tx roster.Tx) error {
			if _, err := tx.LockOrg(context.Background(), acme.org.ID); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	u := env.CreateUser(map[string]any{"email": "u@beta.example"})
	start := time.Now()
	env.PutMember(beta.aliceToken, beta.ws.ID, u.ID, map[string]any{"role": "member"}).Want(t, 201)
	t.Logf("a write in another organisation took %v while one was held", time.Since(start))
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sealAll(t, env)
	if v := verifyAudit(t, env); !v.OK || v.Events != int64(len(chainOrder(t, env))) {
		t.Fatalf("verify: %+v", v)
	}
}
