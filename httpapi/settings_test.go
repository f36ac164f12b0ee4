package httpapi_test

import (
	"testing"

	"github.com/roster-dev/roster/internal/rostertest"
)

func TestWorkspaceSettings(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		viewer, viewerToken := env.NewUserWithToken("viewer@example.com")
		env.PutMember(tn.aliceToken, tn.ws.ID, viewer.ID, map[string]any{"role": "viewer"}).Want(t, 201)
		path := "/v1/workspaces/" + tn.ws.ID + "/settings"
		type settings struct {
			AllowSupportAccess bool              `json:"allow_support_access"`
			Values             map[string]string `json:"values"`
		}
		var s settings
		env.Expect(200, rostertest.Req{Method: "GET", Path: path, Token: viewerToken}).JSON(t, &s)
		if s.AllowSupportAccess || len(s.Values) != 0 {
			t.Errorf("defaults: %+v", s)
		}
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: path, Token: tn.aliceToken,
			Body: map[string]any{"allow_support_access": true, "values": map[string]any{"theme": "dark", "plan": "pro"}}}).JSON(t, &s)
		if !s.AllowSupportAccess || s.Values["theme"] != "dark" || s.Values["plan"] != "pro" {
			t.Errorf("after patch: %+v", s)
		}
		s = settings{} // decoding into a used map would merge keys
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: path, Token: tn.aliceToken,
			Body: map[string]any{"values": map[string]any{"theme": nil}}}).JSON(t, &s)
		if _, ok := s.Values["theme"]; ok || s.Values["plan"] != "pro" || !s.AllowSupportAccess {
			t.Errorf("after deleting a key: %+v", s)
		}
		env.Expect(403, rostertest.Req{Method: "PATCH", Path: path, Token: viewerToken, Body: map[string]any{"allow_support_access": false}})
		env.Expect(400, rostertest.Req{Method: "PATCH", Path: path, Token: tn.aliceToken, Body: map[string]any{"allow_support_access": nil}})
		env.Expect(400, rostertest.Req{Method: "PATCH", Path: path, Token: tn.aliceToken, Body: map[string]any{"values": map[string]any{"": "x"}}})
		var audit struct{ Data []map[string]any }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit?action=workspace.settings_updated&workspace_id=" + tn.ws.ID, Token: env.AdminToken}).JSON(t, &audit)
		if len(audit.Data) != 2 {
			t.Errorf("settings audit events: %d, want 2", len(audit.Data))
		}
	})
}
