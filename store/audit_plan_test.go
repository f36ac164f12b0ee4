package store_test

import (
	"context"
	"slices"
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

// TestAuditActorFilterPages: the actor filter merges the events the user
// made and those made for them, newest first, page after page, each once.
func TestAuditActorFilterPages(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		ann, svc, other := roster.NewID(roster.PrefixUser), roster.NewID(roster.PrefixUser), roster.NewID(roster.PrefixUser)
		start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		var want []string // newest first
		var events []roster.AuditEvent
		for i := range 12 {
			e := auditAt(roster.ActionUserUpdated, start.Add(time.Duration(i)*time.Minute))
			switch i % 3 {
			case 0: // ann acted
				e.ActorUserID = &ann
			case 1: // a service acted for ann
				e.ActorUserID, e.OnBehalfOf = &svc, &ann
			case 2: // someone else
				e.ActorUserID = &other
			}
			if i%3 != 2 {
				want = append([]string{e.ID}, want...)
			}
			events = append(events, e)
		}
		if err := db.Update(ctx, func(tx roster.Tx) error { return tx.InsertAudit(ctx, events...) }); err != nil {
			t.Fatal(err)
		}
		var got []string
		p := roster.Page{Limit: 3}
		for {
			page, err := db.ListAudit(ctx, roster.AuditFilter{ActorID: ann}, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page[:min(len(page), p.Limit)] {
				got = append(got, e.ID)
			}
			if len(page) <= p.Limit {
				break
			}
			p.After = page[p.Limit-1].ID
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages of ann's events:\n got %v\nwant %v", got, want)
		}
	})
}

// TestUserResourcesUseIndexes: a user's resources are read from the owning
// workspaces' index and the grantees' shares index, in id order, never by
// reading every resource.
func TestUserResourcesUseIndexes(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ws := []string{roster.NewID(roster.PrefixWorkspace), roster.NewID(roster.PrefixWorkspace)}
		grantees := append(slices.Clone(ws), roster.NewID(roster.PrefixUser))
		for _, f := range []roster.ResourceFilter{{}, {Type: "document"}, {WorkspaceID: ws[0]}} {
			plan, err := db.ExplainReachableResources(context.Background(), ws, grantees, f, roster.Page{Limit: 50, After: roster.NewID(roster.PrefixResource)})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v:\n%s", f, plan)
			if !strings.Contains(plan, "resources_workspace") || strings.Contains(plan, "Seq Scan") || scansTable(plan) {
				t.Errorf("%+v: the plan reads more than the user's resources:\n%s", f, plan)
			}
		}
	})
}

// scansTable reports whether an SQLite plan reads a whole table (a SCAN of
// a table rather than of a subquery's rows).
func scansTable(plan string) bool {
	for line := range strings.Lines(plan) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "SCAN" && (f[1] == "r" || f[1] == "s" || f[1] == "resources" || f[1] == "resource_shares") {
			return true
		}
	}
	return false
}
