package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

func TestUserCreateAndConflicts(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		post := func(body map[string]any) *rostertest.Response {
			return env.Do(rostertest.Req{Method: "POST", Path: "/v1/users", Token: env.AdminToken, Body: body})
		}
		res := post(map[string]any{"email": "Ann@Example.com", "display_name": "Ann", "external_id": "host-1"})
		if res.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		var ann rostertest.User
		res.JSON(t, &ann)
		if !roster.ValidID(roster.PrefixUser, ann.ID) || *ann.Email != "Ann@Example.com" || ann.Status != "active" || ann.PlatformRole != "none" {
			t.Fatalf("created user: %+v", ann)
		}

		cases := []struct {
			name   string
			body   map[string]any
			status int
			code   string
		}{
			{"email in another case", map[string]any{"email": "ann@EXAMPLE.com"}, 409, roster.CodeEmailTaken},
			{"same external_id", map[string]any{"external_id": "host-1"}, 409, roster.CodeExternalIDTaken},
			{"bad email", map[string]any{"email": "not an email"}, 400, roster.CodeInvalidEmail},
			{"email with a name part", map[string]any{"email": "Ann <x@example.com>"}, 400, roster.CodeInvalidEmail},
			{"unknown status", map[string]any{"status": "sleeping"}, 400, roster.CodeInvalidStatus},
			{"unknown platform role", map[string]any{"platform_role": "root"}, 400, roster.CodeInvalidPlatformRole},
			{"empty external_id", map[string]any{"external_id": ""}, 400, roster.CodeInvalidRequest},
		}
		for _, c := range cases {
			res := post(c.body)
			if res.Status != c.status || res.Code(t) != c.code {
				t.Errorf("%s: %d %s, want %d %s", c.name, res.Status, res.Body, c.status, c.code)
			}
		}
		// An enum error lists the allowed values.
		res = post(map[string]any{"status": "sleeping"})
		for _, v := range roster.UserStatuses {
			if !contains(res.Body, string(v)) {
				t.Errorf("invalid status problem does not list %q: %s", v, res.Body)
			}
		}
		// Bots have no email, and any number of them may exist.
		post(map[string]any{"display_name": "bot 1"})
		if res := post(map[string]any{"display_name": "bot 2"}); res.Status != http.StatusCreated {
			t.Errorf("second user without email: %d %s", res.Status, res.Body)
		}
		// The duplicate attempts wrote nothing: one user with that email, one audit event.
		var list struct{ Data []rostertest.User }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/users?email=ANN@example.com", Token: env.AdminToken}).JSON(t, &list)
		if len(list.Data) != 1 || list.Data[0].ID != ann.ID {
			t.Errorf("users with ann's email: %+v", list.Data)
		}
		var audit struct{ Data []map[string]any }
		env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit?action=user.created", Token: env.AdminToken}).JSON(t, &audit)
		if len(audit.Data) != 3 { // ann and two bots
			t.Errorf("user.created events: %d, want 3", len(audit.Data))
		}
	})
}

func contains(body []byte, s string) bool { return strings.Contains(string(body), s) }

func TestUserListFiltersAndPages(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		for _, e := range []string{"a1@example.com", "a2@example.com", "b1@example.org", "under_score@example.com"} {
			env.CreateUser(map[string]any{"email": e, "display_name": "Name " + e})
		}
		ext := env.CreateUser(map[string]any{"external_id": "ext-9", "status": "suspended"})
		get := func(query string) []rostertest.User {
			var list struct{ Data []rostertest.User }
			env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/users?" + query, Token: env.AdminToken}).JSON(t, &list)
			return list.Data
		}
		if got := get("q=EXAMPLE.COM"); len(got) != 4 { // three .com users and the admin
			t.Errorf("q=example.com: %d users", len(got))
		}
		if got := get("q=_"); len(got) != 1 {
			t.Errorf("q=_ must match the underscore literally: %d users", len(got))
		}
		if got := get("status=suspended"); len(got) != 1 || got[0].ID != ext.ID {
			t.Errorf("status=suspended: %+v", got)
		}
		if got := get("external_id=ext-9"); len(got) != 1 || got[0].ID != ext.ID {
			t.Errorf("external_id: %+v", got)
		}
		if res := env.Do(rostertest.Req{Method: "GET", Path: "/v1/users?status=bogus", Token: env.AdminToken}); res.Status != 400 || res.Code(t) != roster.CodeInvalidStatus {
			t.Errorf("status=bogus: %d %s", res.Status, res.Body)
		}

		// Walk all six users two at a time.
		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			var page struct {
				Data       []rostertest.User
				NextCursor *string `json:"next_cursor"`
			}
			env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/users?limit=2&cursor=" + cursor, Token: env.AdminToken}).JSON(t, &page)
			for _, u := range page.Data {
				seen = append(seen, u.ID)
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
		}
		if len(seen) != 6 || !slices.IsSorted(seen) {
			t.Errorf("paged through %d users (sorted: %v), want 6", len(seen), slices.IsSorted(seen))
		}
		for _, bad := range []string{"cursor=garbage", "cursor=" + "YzE6dG9rXzA", "limit=0", "limit=501", "limit=x"} {
			if res := env.Do(rostertest.Req{Method: "GET", Path: "/v1/users?" + bad, Token: env.AdminToken}); res.Status != 400 {
				t.Errorf("%s: %d, want 400", bad, res.Status)
			}
		}
	})
}

func TestUserUpdateRules(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		ann, annToken := env.NewUserWithToken("ann@example.com")
		env.CreateUser(map[string]any{"email": "taken@example.com", "external_id": "taken"})
		path := "/v1/users/" + ann.ID
		patch := func(token string, body any) *rostertest.Response {
			return env.Do(rostertest.Req{Method: "PATCH", Path: path, Token: token, Body: body})
		}

		var u rostertest.User
		res := patch(annToken, map[string]any{"display_name": "Ann A."})
		res.JSON(t, &u)
		if res.Status != 200 || u.DisplayName != "Ann A." {
			t.Fatalf("self display_name: %d %s", res.Status, res.Body)
		}
		for _, body := range []map[string]any{{"email": "new@example.com"}, {"status": "suspended"}, {"external_id": "x"}, {"platform_role": "admin"}} {
			if res := patch(annToken, body); res.Status != 403 {
				t.Errorf("self %v: %d, want 403", body, res.Status)
			}
		}
		cases := []struct {
			body   any
			status int
			code   string
		}{
			{map[string]any{"email": "TAKEN@example.com"}, 409, roster.CodeEmailTaken},
			{map[string]any{"external_id": "taken"}, 409, roster.CodeExternalIDTaken},
			{map[string]any{"status": "asleep"}, 400, roster.CodeInvalidStatus},
			{map[string]any{"status": nil}, 400, roster.CodeInvalidStatus},
			{map[string]any{"display_name": nil}, 400, roster.CodeInvalidRequest},
			{map[string]any{"default_workspace_id": "ws_missing"}, 404, roster.CodeWorkspaceNotFound},
			{map[string]any{"nickname": "x"}, 400, roster.CodeInvalidRequest},
		}
		for _, c := range cases {
			res := patch(env.AdminToken, c.body)
			if res.Status != c.status || res.Code(t) != c.code {
				t.Errorf("admin %v: %d %s, want %d %s", c.body, res.Status, res.Body, c.status, c.code)
			}
		}
		// Absent fields stay, null clears a nullable field.
		patch(env.AdminToken, map[string]any{"external_id": "ann-1", "email": "Ann@New.example"}).JSON(t, &u)
		if u.ExternalID == nil || *u.ExternalID != "ann-1" || *u.Email != "Ann@New.example" || u.DisplayName != "Ann A." {
			t.Errorf("after patch: %+v", u)
		}
		patch(env.AdminToken, map[string]any{"external_id": nil, "email": nil}).JSON(t, &u)
		if u.ExternalID != nil || u.Email != nil || u.DisplayName != "Ann A." {
			t.Errorf("after clearing: %+v", u)
		}
		// Only admins grant platform roles, at create time too.
		bot := env.CreateUser(map[string]any{})
		svc := env.IssueToken(bot.ID, map[string]any{"kind": "service"}).Token
		if res := env.Do(rostertest.Req{Method: "POST", Path: "/v1/users", Token: svc, Body: map[string]any{"platform_role": "support"}}); res.Status != 403 {
			t.Errorf("service creating staff: %d, want 403", res.Status)
		}
		if res := patch(svc, map[string]any{"platform_role": "admin"}); res.Status != 403 {
			t.Errorf("service granting admin: %d, want 403", res.Status)
		}
		if res := patch(env.AdminToken, map[string]any{"platform_role": "support"}); res.Status != 200 {
			t.Errorf("admin granting support: %d %s", res.Status, res.Body)
		}
	})
}

func TestLastPlatformAdminStays(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		self := "/v1/users/" + env.AdminID
		for _, body := range []map[string]any{{"platform_role": "none"}, {"status": "suspended"}, {"status": "deactivated"}} {
			res := env.Do(rostertest.Req{Method: "PATCH", Path: self, Token: env.AdminToken, Body: body})
			if res.Status != 409 || res.Code(t) != roster.CodeLastAdmin {
				t.Errorf("last admin %v: %d %s", body, res.Status, res.Body)
			}
		}
		if res := env.Do(rostertest.Req{Method: "DELETE", Path: self, Token: env.AdminToken}); res.Status != 409 || res.Code(t) != roster.CodeLastAdmin {
			t.Errorf("deleting the last admin: %d %s", res.Status, res.Body)
		}
		// With a second admin, the first may step down.
		second := env.CreateUser(map[string]any{"email": "second@example.com", "platform_role": "admin"})
		secondToken := env.IssueToken(second.ID, nil).Token
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: self, Token: env.AdminToken, Body: map[string]any{"platform_role": "none"}})
		if res := env.Do(rostertest.Req{Method: "POST", Path: "/v1/users/" + env.AdminID + "/tokens", Token: env.AdminToken, Body: map[string]any{}}); res.Status != 403 {
			t.Errorf("a demoted admin issuing tokens: %d, want 403", res.Status)
		}
		if res := env.Do(rostertest.Req{Method: "GET", Path: "/v1/users/" + env.AdminID, Token: secondToken}); res.Status != 200 {
			t.Errorf("the remaining admin: %d", res.Status)
		}
		// Now the second admin is the last one.
		if res := env.Do(rostertest.Req{Method: "DELETE", Path: "/v1/users/" + second.ID, Token: secondToken}); res.Status != 409 {
			t.Errorf("deleting the new last admin: %d, want 409", res.Status)
		}
	})
}
