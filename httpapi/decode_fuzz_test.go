package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/rostertest"
)

type decodeTarget struct{ method, path, token string }

// decodeFixture makes the users, tokens and workspace the decoding targets
// act on, and returns the targets with a seed corpus of bad bodies.
func decodeFixture(env *rostertest.Env) ([]decodeTarget, []string) {
	user := env.CreateUser(map[string]any{"email": "fuzz@example.com"})
	bot := env.CreateUser(map[string]any{})
	svc := env.IssueToken(bot.ID, map[string]any{"kind": "service"}).Token
	_, ws := env.CreateOrg(env.IssueToken(user.ID, nil).Token, "fuzz")
	targets := []decodeTarget{
		{"POST", "/v1/users", env.AdminToken},
		{"PATCH", "/v1/users/" + user.ID, env.AdminToken},
		{"POST", "/v1/me/tokens", env.AdminToken},
		{"POST", "/v1/tokens/introspect", svc},
		{"POST", "/v1/orgs", env.AdminToken},
		{"PUT", "/v1/workspaces/" + ws.ID + "/members/" + bot.ID, env.AdminToken},
		{"PATCH", "/v1/workspaces/" + ws.ID + "/settings", env.AdminToken},
		{"POST", "/v1/workspaces/" + ws.ID + "/invitations", env.AdminToken},
		{"POST", "/v1/check", env.AdminToken},
		{"POST", "/v1/check/batch", env.AdminToken},
	}
	seeds := []string{
		``, `{}`, `null`, `[]`, `"x"`, `0`, `{"email":`, `{"email":"a@b.co"}`, `{"email":42}`,
		`{"email":"x@y.z","status":"sleeping"}`, `{"display_name":null}`, `{"unknown":true}`,
		`{"expires_in":1e309}`, `{"expires_in":-1}`, `{"expires_in":18446744074}`, `{"expires_at":"2020-01-01T00:00:00Z"}`,
		`{"role":"member","expires_at":"9999-12-31T23:59:59-23:00"}`, `{"role":"member","expires_at":"0000-01-01T00:00:00Z"}`,
		`{"token":"rst_pat_` + strings.Repeat("a", 43) + `"}`, `{"role":"owner","expires_at":"not a time"}`,
		`{"name":"` + strings.Repeat("é", 300) + `","slug":"ok-slug"}`, `{"values":{"k":null}}`,
		`{"user_id":"usr_x","action":"workspace.read","workspace_id":"` + ws.ID + `"}`,
		`{"checks":[{"user_id":"` + user.ID + `","action":"fly","workspace_id":"` + ws.ID + `"}]}`,
		strings.Repeat(`{"a":`, 200) + strings.Repeat(`}`, 200), "\xff\xfe", `{"email":"\u0000@x.y"}`,
		`{"display_name":"a\u0000b"}`, `{"external_id":"\u0000"}`, `{"name":"x\u0000","slug":"nul-name"}`,
		`{"values":{"k\u0000":"v"}}`, `{"email":"z@example.com","role":"member","expires_in":"\u0000"}`,
		`{"display_name":"` + "\xff\xfe" + `"}`,
	}
	return targets, seeds
}

// decodeOnce sends body to target: whatever arrives, the answer is never a
// 5xx, and every refusal is a problem with a code.
func decodeOnce(t *testing.T, env *rostertest.Env, target decodeTarget, body []byte) {
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
}

// FuzzRequestDecoding fuzzes request bodies on SQLite; its seed corpus runs
// on both backends in TestRequestDecodingSeeds.
func FuzzRequestDecoding(f *testing.F) {
	env := rostertest.NewEnv(f, rostertest.SQLite)
	targets, seeds := decodeFixture(env)
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		decodeOnce(t, env, targets[int(op)%len(targets)], body)
	})
}

// TestRequestDecodingSeeds sends every seed to every target on every
// backend: some bad input (a NUL character, a time out of range) only shows
// on PostgreSQL.
func TestRequestDecodingSeeds(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		targets, seeds := decodeFixture(env)
		for _, target := range targets {
			for _, seed := range seeds {
				decodeOnce(t, env, target, []byte(seed))
			}
		}
	})
}
