package httpapi_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

var tokenShape = regexp.MustCompile(`^rst_(pat|svc|sup)_[A-Za-z0-9_-]{43,}$`)

func TestTokenIssueAndShape(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		ann, annToken := env.NewUserWithToken("ann@example.com")
		create := func(body map[string]any) *rostertest.Response {
			return env.Do(rostertest.Req{Method: "POST", Path: "/v1/me/tokens", Token: annToken, Body: body})
		}
		var tok rostertest.Token
		res := create(map[string]any{"name": "laptop", "expires_in": 3600})
		res.JSON(t, &tok)
		if res.Status != 201 || !tokenShape.MatchString(tok.Token) || !strings.HasPrefix(tok.Token, "rst_pat_") {
			t.Fatalf("personal token: %d %s", res.Status, res.Body)
		}
		if tok.Prefix != tok.Token[:8] || !strings.HasSuffix(tok.Token, tok.Hint) || len(tok.Hint) != 4 || tok.Kind != "personal" || tok.UserID != ann.ID {
			t.Errorf("token fields: %+v", tok)
		}
		if want := env.Clock.Now().Add(time.Hour).Format(time.RFC3339); tok.ExpiresAt == nil || *tok.ExpiresAt != want {
			t.Errorf("expires_at %v, want %s", tok.ExpiresAt, want)
		}
		at := env.Clock.Now().Add(48 * time.Hour).Format(time.RFC3339)
		create(map[string]any{"expires_at": at}).JSON(t, &tok)
		if tok.ExpiresAt == nil || *tok.ExpiresAt != at {
			t.Errorf("expires_at %v, want %s", tok.ExpiresAt, at)
		}

		past := env.Clock.Now().Add(-time.Minute).Format(time.RFC3339)
		for _, c := range []struct {
			body map[string]any
			code string
		}{
			{map[string]any{"expires_in": 60, "expires_at": at}, roster.CodeInvalidExpiry},
			{map[string]any{"expires_in": 0}, roster.CodeInvalidExpiry},
			{map[string]any{"expires_in": -5}, roster.CodeInvalidExpiry},
			{map[string]any{"expires_in": 400 * 365 * 24 * 3600}, roster.CodeInvalidExpiry},
			{map[string]any{"expires_at": past}, roster.CodeInvalidExpiry},
			{map[string]any{"expires_at": "tomorrow"}, roster.CodeInvalidRequest},
			{map[string]any{"kind": "support"}, roster.CodeInvalidTokenKind},
			{map[string]any{"kind": "root"}, roster.CodeInvalidTokenKind},
		} {
			if res := create(c.body); res.Status != 400 || res.Code(t) != c.code {
				t.Errorf("%v: %d %s, want 400 %s", c.body, res.Status, res.Body, c.code)
			}
		}
		if res := create(map[string]any{"kind": "service"}); res.Status != 403 {
			t.Errorf("self-issued service token: %d, want 403", res.Status)
		}
		svc := env.IssueToken(ann.ID, map[string]any{"kind": "service"})
		if !strings.HasPrefix(svc.Token, "rst_svc_") || svc.Kind != "service" {
			t.Errorf("service token: %+v", svc)
		}

		// The plaintext is shown once: lists never carry it.
		res = env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/me/tokens", Token: annToken})
		if strings.Contains(string(res.Body), `"token"`) || strings.Contains(string(res.Body), "rst_pat_") && strings.Contains(string(res.Body), tok.Token) {
			t.Errorf("token list carries plaintext: %s", res.Body)
		}
		var list struct{ Data []rostertest.Token }
		res.JSON(t, &list)
		if len(list.Data) != 4 { // the harness's, laptop, expires_at one, and the admin-issued service token
			t.Errorf("ann has %d tokens, want 4", len(list.Data))
		}
	})
}

func TestTokenExpiryRevocationAndUse(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		ann, annToken := env.NewUserWithToken("ann@example.com")
		expiring := env.IssueToken(ann.ID, map[string]any{"expires_in": 120})
		me := func(token string) *rostertest.Response {
			return env.Do(rostertest.Req{Method: "GET", Path: "/v1/me", Token: token})
		}
		if res := me(expiring.Token); res.Status != 200 {
			t.Fatalf("fresh token: %d", res.Status)
		}
		env.Clock.Advance(119 * time.Second)
		if res := me(expiring.Token); res.Status != 200 {
			t.Errorf("a second before expiry: %d", res.Status)
		}
		env.Clock.Advance(time.Second)
		if res := me(expiring.Token); res.Status != 401 || res.Code(t) != roster.CodeTokenExpired {
			t.Errorf("at expiry: %d %s", res.Status, res.Body)
		}

		// Revocation takes effect on the very next request, even though the
		// token is cached by then.
		doomed := env.IssueToken(ann.ID, nil)
		me(doomed.Token)
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/me/tokens/" + doomed.ID, Token: annToken})
		if res := me(doomed.Token); res.Status != 401 || res.Code(t) != roster.CodeTokenRevoked {
			t.Errorf("after revoke: %d %s", res.Status, res.Body)
		}
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/me/tokens/" + doomed.ID, Token: annToken}) // idempotent
		_, bobToken := env.NewUserWithToken("bob@example.com")
		if res := env.Do(rostertest.Req{Method: "DELETE", Path: "/v1/me/tokens/" + expiring.ID, Token: bobToken}); res.Status != 404 {
			t.Errorf("revoking another user's token: %d, want 404", res.Status)
		}
		if res := env.Do(rostertest.Req{Method: "DELETE", Path: "/v1/me/tokens/not-an-id", Token: bobToken}); res.Status != 404 {
			t.Errorf("revoking a malformed id: %d, want 404", res.Status)
		}
		if res := me("rst_pat_" + strings.Repeat("x", 43)); res.Status != 401 || res.Code(t) != roster.CodeInvalidToken {
			t.Errorf("unknown token: %d %s", res.Status, res.Body)
		}
		if res := env.Do(rostertest.Req{Method: "GET", Path: "/v1/me", Headers: map[string]string{"Authorization": "Basic abc"}}); res.Status != 401 {
			t.Errorf("basic auth: %d", res.Status)
		}

		// last_used_at is written at most once a minute.
		fresh := env.IssueToken(ann.ID, nil)
		lastUsed := func() *string {
			var list struct{ Data []rostertest.Token }
			env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/users/" + ann.ID + "/tokens?limit=500", Token: env.AdminToken}).JSON(t, &list)
			for _, tok := range list.Data {
				if tok.ID == fresh.ID {
					return tok.LastUsedAt
				}
			}
			t.Fatal("token not listed")
			return nil
		}
		if lastUsed() != nil {
			t.Fatal("unused token has last_used_at")
		}
		first := env.Clock.Now().Format(time.RFC3339)
		me(fresh.Token)
		if got := lastUsed(); got == nil || *got != first {
			t.Fatalf("after first use: %v, want %s", got, first)
		}
		env.Clock.Advance(30 * time.Second)
		me(fresh.Token)
		if got := lastUsed(); *got != first {
			t.Errorf("30 s later: %s, want unchanged %s", *got, first)
		}
		env.Clock.Advance(31 * time.Second)
		me(fresh.Token)
		if got, want := lastUsed(), env.Clock.Now().Format(time.RFC3339); *got != want {
			t.Errorf("61 s later: %s, want %s", *got, want)
		}
	})
}

func TestSuspendedAndDeletedUsers(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		ann, annToken := env.NewUserWithToken("ann@example.com")
		path := "/v1/users/" + ann.ID
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/me", Token: annToken}) // cached now
		for _, status := range []string{"suspended", "deactivated"} {
			env.Expect(200, rostertest.Req{Method: "PATCH", Path: path, Token: env.AdminToken, Body: map[string]any{"status": status}})
			if res := env.Do(rostertest.Req{Method: "GET", Path: "/v1/me", Token: annToken}); res.Status != 401 || res.Code(t) != roster.CodeUserInactive {
				t.Errorf("%s user: %d %s", status, res.Status, res.Body)
			}
			// Nothing of theirs is deleted: reactivated, the same token works.
			env.Expect(200, rostertest.Req{Method: "PATCH", Path: path, Token: env.AdminToken, Body: map[string]any{"status": "active"}})
			env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/me", Token: annToken})
		}

		env.Expect(204, rostertest.Req{Method: "DELETE", Path: path, Token: env.AdminToken})
		if res := env.Do(rostertest.Req{Method: "GET", Path: "/v1/me", Token: annToken}); res.Status != 401 {
			t.Errorf("deleted user's token: %d", res.Status)
		}
		env.Expect(404, rostertest.Req{Method: "GET", Path: path, Token: env.AdminToken})
		env.Expect(404, rostertest.Req{Method: "DELETE", Path: path, Token: env.AdminToken})
		env.Expect(404, rostertest.Req{Method: "GET", Path: "/v1/users/usr_nonsense", Token: env.AdminToken})
		// The email is free again; the new user is a different user.
		again := env.CreateUser(map[string]any{"email": "ann@example.com"})
		if again.ID == ann.ID {
			t.Error("re-created user reuses the old id")
		}
		var audit struct{ Data []map[string]any }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit?action=user.deleted", Token: env.AdminToken}).JSON(t, &audit)
		if len(audit.Data) != 1 || audit.Data[0]["target_id"] != ann.ID || audit.Data[0]["after"] != nil {
			t.Errorf("user.deleted audit: %v", audit.Data)
		}
	})
}

func TestServiceTokenOnBehalfOf(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		ann, annToken := env.NewUserWithToken("ann@example.com")
		bot := env.CreateUser(map[string]any{"display_name": "backend"})
		svc := env.IssueToken(bot.ID, map[string]any{"kind": "service"})
		as := func(token, user string) map[string]string { return map[string]string{"Roster-On-Behalf-Of": user} }

		var me struct {
			ID        string `json:"id"`
			ActingFor bool   `json:"acting_for"`
			Token     struct{ ID, Kind string }
		}
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/me", Token: svc.Token, Headers: as(svc.Token, ann.ID)}).JSON(t, &me)
		if me.ID != ann.ID || !me.ActingFor || me.Token.ID != svc.ID || me.Token.Kind != "service" {
			t.Errorf("me on behalf of ann: %+v", me)
		}
		// A change made for ann is audited with both the service and ann.
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + ann.ID, Token: svc.Token, Headers: as(svc.Token, ann.ID),
			Body: map[string]any{"display_name": "Ann via app"}})
		var audit struct{ Data []map[string]any }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit?action=user.updated&actor_id=" + ann.ID, Token: env.AdminToken}).JSON(t, &audit)
		if len(audit.Data) != 1 {
			t.Fatalf("audit events for ann: %v", audit.Data)
		}
		e := audit.Data[0]
		if e["actor_user_id"] != bot.ID || e["actor_token_id"] != svc.ID || e["on_behalf_of"] != ann.ID || e["via"] != "service" {
			t.Errorf("audit event: %v", e)
		}
		if before, after := e["before"].(map[string]any), e["after"].(map[string]any); before["display_name"] != "ann@example.com" || after["display_name"] != "Ann via app" {
			t.Errorf("audit before/after: %v / %v", e["before"], e["after"])
		}
		if e["request_id"] == "" || e["ip"] == "" {
			t.Errorf("audit event lacks request id or ip: %v", e)
		}

		cases := []struct {
			name, token, header string
			status              int
			code                string
		}{
			{"malformed user id", svc.Token, "ann", 400, roster.CodeInvalidOnBehalfOf},
			{"unknown user", svc.Token, roster.NewID(roster.PrefixUser), 400, roster.CodeInvalidOnBehalfOf},
			{"personal token", annToken, ann.ID, 403, roster.CodeOnBehalfOfNotAllowed},
		}
		for _, c := range cases {
			res := env.Do(rostertest.Req{Method: "GET", Path: "/v1/me", Token: c.token, Headers: as(c.token, c.header)})
			if res.Status != c.status || res.Code(t) != c.code {
				t.Errorf("%s: %d %s, want %d %s", c.name, res.Status, res.Body, c.status, c.code)
			}
		}
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + ann.ID, Token: env.AdminToken, Body: map[string]any{"status": "suspended"}})
		if res := env.Do(rostertest.Req{Method: "GET", Path: "/v1/me", Token: svc.Token, Headers: as(svc.Token, ann.ID)}); res.Status != 401 || res.Code(t) != roster.CodeUserInactive {
			t.Errorf("acting for a suspended user: %d %s", res.Status, res.Body)
		}
		// Acting for an admin grants no platform powers.
		if res := env.Do(rostertest.Req{Method: "GET", Path: "/v1/audit", Token: svc.Token, Headers: as(svc.Token, env.AdminID)}); res.Status != http.StatusForbidden {
			t.Errorf("service acting for the admin reads the audit log: %d", res.Status)
		}
	})
}

func TestIntrospect(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		ann, annToken := env.NewUserWithToken("ann@example.com")
		bot := env.CreateUser(map[string]any{})
		svc := env.IssueToken(bot.ID, map[string]any{"kind": "service"}).Token
		expiring := env.IssueToken(ann.ID, map[string]any{"expires_in": 60})
		revoked := env.IssueToken(ann.ID, nil)
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/users/" + ann.ID + "/tokens/" + revoked.ID, Token: env.AdminToken})
		introspect := func(token string) map[string]any {
			return env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/tokens/introspect", Token: svc, Body: map[string]any{"token": token}}).Map(t)
		}
		got := introspect(expiring.Token)
		if got["active"] != true || got["user_id"] != ann.ID || got["kind"] != "personal" || got["token_id"] != expiring.ID || got["expires_at"] == nil {
			t.Errorf("live token: %v", got)
		}
		env.Clock.Advance(time.Minute)
		for name, token := range map[string]string{"expired": expiring.Token, "revoked": revoked.Token, "garbage": "nope", "unknown": "rst_pat_" + strings.Repeat("a", 43)} {
			if got := introspect(token); got["active"] != false || len(got) != 1 {
				t.Errorf("%s token: %v, want only active=false", name, got)
			}
		}
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + ann.ID, Token: env.AdminToken, Body: map[string]any{"status": "suspended"}})
		if got := introspect(annToken); got["active"] != false {
			t.Errorf("suspended user's token: %v", got)
		}
	})
}

// TestServiceTokensSignUsersUp: the host application's service token
// issues its users personal tokens, and nothing more: not a service token,
// not a staff member's token, not while acting for a user.
func TestServiceTokensSignUsersUp(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		bot := env.CreateUser(map[string]any{"display_name": "Backend"})
		svc := env.IssueToken(bot.ID, map[string]any{"name": "backend", "kind": "service"}).Token
		ann := env.CreateUser(map[string]any{"email": "ann@example.com"})
		staff := env.CreateUser(map[string]any{"email": "staff@example.com", "platform_role": "support"})
		issue := func(userID string, body map[string]any, headers map[string]string) *rostertest.Response {
			return env.Do(rostertest.Req{Method: "POST", Path: "/v1/users/" + userID + "/tokens", Token: svc, Body: body, Headers: headers})
		}
		res := issue(ann.ID, map[string]any{"name": "web"}, nil)
		var tok struct{ Token, Kind string }
		if res.JSON(t, &tok); res.Status != 201 || tok.Kind != "personal" {
			t.Fatalf("a service token issuing ann a token: %d %s", res.Status, res.Body)
		}
		if me := env.Me(tok.Token); me.ID != ann.ID {
			t.Errorf("ann's new token is %s's", me.ID)
		}
		if auditCount(t, env, "token.created") < 2 {
			t.Error("no token.created event")
		}
		for _, c := range []struct {
			userID  string
			body    map[string]any
			headers map[string]string
			code    string
		}{
			{ann.ID, map[string]any{"name": "svc", "kind": "service"}, nil, "forbidden"},
			{staff.ID, map[string]any{"name": "web"}, nil, "forbidden"},
			{ann.ID, map[string]any{"name": "web"}, map[string]string{"Roster-On-Behalf-Of": ann.ID}, "forbidden"},
		} {
			if res := issue(c.userID, c.body, c.headers); res.Status != 403 || res.Code(t) != c.code {
				t.Errorf("%s %v %v: %d %s", c.userID, c.body, c.headers, res.Status, res.Body)
			}
		}
		// A personal token still may not issue tokens to others.
		_, annToken := env.NewUserWithToken("bea@example.com")
		if res := env.Do(rostertest.Req{Method: "POST", Path: "/v1/users/" + ann.ID + "/tokens", Token: annToken, Body: map[string]any{"name": "x"}}); res.Status != 404 {
			t.Errorf("a user issuing another a token: %d", res.Status)
		}
	})
}
