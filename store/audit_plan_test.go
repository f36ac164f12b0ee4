package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// TestAuditFiltersUseIndexes: every filter of GET /v1/audit is answered
// through an index on both backends, never a scan of the whole log.
func TestAuditFiltersUseIndexes(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		since, until := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
		page := roster.Page{Limit: 50, After: roster.NewID(roster.PrefixAudit)}
		for _, c := range []struct {
			name    string
			f       roster.AuditFilter
			indexes []string // the plan uses one of these
		}{
			{"org", roster.AuditFilter{OrgID: roster.NewID(roster.PrefixOrg)}, []string{"audit_org"}},
			{"workspace", roster.AuditFilter{WorkspaceID: roster.NewID(roster.PrefixWorkspace)}, []string{"audit_workspace"}},
			{"actor", roster.AuditFilter{ActorID: roster.NewID(roster.PrefixUser)}, []string{"audit_actor"}},
			{"action", roster.AuditFilter{Action: roster.ActionMemberCreated}, []string{"audit_action"}},
			{"since and until", roster.AuditFilter{Since: &since, Until: &until}, []string{"audit_at"}},
			{"org and action", roster.AuditFilter{OrgID: roster.NewID(roster.PrefixOrg), Action: roster.ActionMemberCreated}, []string{"audit_org", "audit_action"}},
		} {
			plan, err := db.ExplainAudit(context.Background(), c.f, page)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			used := false
			for _, ix := range c.indexes {
				used = used || strings.Contains(plan, ix)
			}
			if !used || strings.Contains(plan, "Seq Scan") {
				t.Errorf("%s: the plan uses none of %v:\n%s", c.name, c.indexes, plan)
			}
		}
	})
}
