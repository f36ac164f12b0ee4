package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// TestErrorsNameTheirQuery: an unexpected failure says which query failed;
// the outcomes the service expects (a missing row) stay plain.
func TestErrorsNameTheirQuery(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		if _, err := db.GetUser(ctx, roster.NewID(roster.PrefixUser)); !errors.Is(err, roster.ErrNotFound) || err != roster.ErrNotFound {
			t.Errorf("a missing user: %v, want roster.ErrNotFound itself", err)
		}
		db.Close()
		_, err := db.GetUser(ctx, roster.NewID(roster.PrefixUser))
		if err == nil || !strings.Contains(err.Error(), "SELECT … FROM users") {
			t.Errorf("a read on a closed store: %v, want it to name its query", err)
		}
		_, err = db.ListUserOrgMemberships(ctx, roster.NewID(roster.PrefixUser))
		if err == nil || !strings.Contains(err.Error(), "FROM org_memberships") {
			t.Errorf("a list on a closed store: %v, want it to name its query", err)
		}
	})
}
