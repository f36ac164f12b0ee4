package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/rostertest"
)

// FuzzRequestDecoding sends arbitrary bodies to the operations that decode
// JSON: whatever arrives, the answer is never a 5xx, and every refusal is a
// problem with a code.
func FuzzRequestDecoding(f *testing.F) {
	env := rostertest.NewEnv(f, rostertest.SQLite)
	user := env.CreateUser(map[string]any{"email": "fuzz@example.com"})
	bot := env.CreateUser(map[string]any{})
	svc := env.IssueToken(bot.ID, map[string]any{"kind": "service"}).Token
	_, ws := env.CreateOrg(env.IssueToken(user.ID, nil).Token, "fuzz")
	targets := []struct{ method, path, token string }{
		{"POST", "/v1/users", env.AdminToken},
		{"PATCH", "/v1/users/" + user.ID, env.AdminToken},
		{"POST", "/v1/me/tokens", env.AdminToken},
		{"POST", "/v1/tokens/introspect", svc},
		{"POST", "/v1/orgs", env.AdminToken},
		{"PUT", "/v1/workspaces/" + ws.ID + "/members/" + bot.ID, env.AdminToken},
		{"PATCH", "/v1/workspaces/" + ws.ID + "/settings", env.AdminToken},
		{"POST", "/v1/check", env.AdminToken},
		{"POST", "/v1/check/batch", env.AdminToken},
	}
	seeds := []string{
		``, `{}`, `null`, `[]`, `"x"`, `0`, `{"email":`, `{"email":"a@b.co"}`, `{"email":42}`,
		`{"email":"x@y.z","status":"sleeping"}`, `{"display_name":null}`, `{"unknown":true}`,
		`{"expires_in":1e309}`, `{"expires_in":-1}`, `{"expires_at":"2020-01-01T00:00:00Z"}`,
		`{"token":"rst_pat_` + strings.Repeat("a", 43) + `"}`, `{"role":"owner","expires_at":"not a time"}`,
		`{"name":"` + strings.Repeat("é", 300) + `","slug":"ok-slug"}`, `{"values":{"k":null}}`,
		`{"user_id":"usr_x","action":"workspace.read","workspace_id":"` + ws.ID + `"}`,
		`{"checks":[{"user_id":"` + user.ID + `","action":"fly","workspace_id":"` + ws.ID + `"}]}`,
		strings.Repeat(`{"a":`, 200) + strings.Repeat(`}`, 200), "\xff\xfe", `{"email":"\u0000@x.y"}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		target := targets[int(op)%len(targets)]
		req := httptest.NewRequest(target.method, target.path, strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+target.token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		env.API.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s with %q: %d %s", target.method, target.path, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var p struct{ Code string }
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Code == "" {
				t.Fatalf("%s %s with %q: %d is not a coded problem: %s", target.method, target.path, body, rec.Code, rec.Body)
			}
		}
		if rec.Code == http.StatusOK || rec.Code == http.StatusCreated || rec.Code == http.StatusNoContent || rec.Code >= 400 {
			return
		}
		t.Fatalf("unexpected status %d", rec.Code)
	})
}
