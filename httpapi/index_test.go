package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// TestWarmChecksNeedNoDatabase proves the check path reads no database once
// warm: with the database closed, warm checks still decide, expiry included.
func TestWarmChecksNeedNoDatabase(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		temp := env.CreateUser(map[string]any{"email": "temp@example.com"})
		// The membership ends before the cached entries are due for a
		// refresh (authCacheRefresh): its end is decided from memory.
		until := env.Clock.Now().Add(30 * time.Second).Format(time.RFC3339)
		env.PutMember(tn.aliceToken, tn.ws.ID, temp.ID, map[string]any{"role": "member", "expires_at": until}).Want(t, 201)
		admin, err := env.Service.Authenticate(context.Background(), env.AdminToken, "")
		if err != nil {
			t.Fatal(err)
		}
		ctx := roster.WithActor(context.Background(), admin)
		req := roster.CheckRequest{UserID: temp.ID, Action: "resources.write", WorkspaceID: tn.ws.ID}
		if d, err := env.Service.Check(ctx, req); err != nil || !d.Allowed {
			t.Fatalf("warm-up: %+v %v", d, err)
		}
		env.DB.Close()
		if d, err := env.Service.Check(ctx, req); err != nil || !d.Allowed {
			t.Errorf("warm check with the database closed: %+v %v", d, err)
		}
		env.Clock.Advance(30 * time.Second)
		if d, err := env.Service.Check(ctx, req); err != nil || d.Allowed {
			t.Errorf("expired membership, database closed: %+v %v", d, err)
		}
	})
}
