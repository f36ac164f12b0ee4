package httpapi_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/rostertest"
)

type auditPage struct {
	Data       []map[string]any
	NextCursor *string `json:"next_cursor"`
}

func TestAuditLog(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		get := func(query string) auditPage {
			var p auditPage
			env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit?" + query, Token: env.AdminToken}).JSON(t, &p)
			return p
		}
		bootstrapped := get("")
		// First start: the admin and their token, by the system.
		if len(bootstrapped.Data) != 2 || bootstrapped.Data[0]["action"] != "token.created" || bootstrapped.Data[1]["action"] != "user.bootstrapped" ||
			bootstrapped.Data[1]["via"] != "system" || bootstrapped.Data[1]["actor_user_id"] != nil {
			t.Fatalf("first start audit: %v", bootstrapped.Data)
		}
		startedAt := env.Clock.Now()
		env.Clock.Advance(time.Hour)
		ann, annToken := env.NewUserWithToken("ann@example.com")
		env.Clock.Advance(time.Hour)
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + ann.ID, Token: annToken, Body: map[string]any{"display_name": "Ann"}})

		all := get("limit=500")
		if len(all.Data) != 5 { // + user.created, token.created, user.updated
			t.Fatalf("audit has %d events, want 5: %v", len(all.Data), all.Data)
		}
		for i := 1; i < len(all.Data); i++ {
			if all.Data[i-1]["id"].(string) <= all.Data[i]["id"].(string) {
				t.Errorf("audit is not newest first at %d", i)
			}
		}
		newest := all.Data[0]
		if newest["action"] != "user.updated" || newest["actor_user_id"] != ann.ID || newest["via"] != "user" || newest["target_type"] != "user" {
			t.Errorf("newest event: %v", newest)
		}
		if got := get("actor_id=" + ann.ID); len(got.Data) != 1 {
			t.Errorf("actor filter: %d events", len(got.Data))
		}
		if got := get("action=token.created"); len(got.Data) != 2 {
			t.Errorf("action filter: %d events", len(got.Data))
		}
		since := url.QueryEscape(startedAt.Add(30 * time.Minute).Format(time.RFC3339))
		until := url.QueryEscape(startedAt.Add(90 * time.Minute).Format(time.RFC3339))
		if got := get("since=" + since + "&until=" + until); len(got.Data) != 2 { // ann's creation and her token
			t.Errorf("time window: %d events: %v", len(got.Data), got.Data)
		}
		if got := get("org_id=org_00000000000000000000000000"); len(got.Data) != 0 {
			t.Errorf("org filter: %d events", len(got.Data))
		}
		// Paging two at a time visits every event once.
		seen := map[string]bool{}
		cursor := ""
		for i := 0; i < 10; i++ {
			p := get("limit=2&cursor=" + cursor)
			for _, e := range p.Data {
				seen[e["id"].(string)] = true
			}
			if p.NextCursor == nil {
				break
			}
			cursor = *p.NextCursor
		}
		if len(seen) != 5 {
			t.Errorf("paging saw %d events, want 5", len(seen))
		}
		if res := env.Do(rostertest.Req{Method: "GET", Path: "/v1/audit?cursor=bogus", Token: env.AdminToken}); res.Status != 400 {
			t.Errorf("bad cursor: %d", res.Status)
		}
	})
}
