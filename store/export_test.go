package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/roster-dev/roster"
)

// MigrateDownTo rolls back, newest first, every applied migration above
// version (0: all of them) and returns how many it rolled back. Roster never
// migrates down by itself; the tests use it to run every Down section.
func (db *DB) MigrateDownTo(ctx context.Context, version int64) (int, error) {
	p, err := db.migrator()
	if err != nil {
		return 0, err
	}
	res, err := p.DownTo(ctx, version)
	return len(res), err
}

// ExplainAudit returns the database's plan for ListAudit with f: on
// PostgreSQL with sequential scans priced out, so that the plan shows
// whether an index can serve the filter at all (a table of a few rows is
// otherwise scanned whatever its indexes).
func (db *DB) ExplainAudit(ctx context.Context, f roster.AuditFilter, p roster.Page) (string, error) {
	after := &roster.AuditEvent{ID: p.After, At: time.Now()}
	query, args := db.listAuditQuery(f, after, p.Limit)
	return db.explain(ctx, query, args)
}

// ExplainReachableResources returns the database's plan for
// ListReachableResources, as ExplainAudit does.
func (db *DB) ExplainReachableResources(ctx context.Context, workspaceIDs, granteeIDs []string, f roster.ResourceFilter, p roster.Page) (string, error) {
	query, args := reachableResourcesQuery(workspaceIDs, granteeIDs, f, p)
	return db.explain(ctx, query, args)
}

func (db *DB) explain(ctx context.Context, query string, args []any) (string, error) {
	conn, err := db.read.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	prefix := "EXPLAIN QUERY PLAN "
	if db.dialect == Postgres {
		if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
			return "", err
		}
		defer conn.ExecContext(ctx, "RESET enable_seqscan")
		prefix = "EXPLAIN "
	}
	rows, err := conn.QueryContext(ctx, db.rebind(prefix+query), args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		plan = append(plan, fmt.Sprint(vals[len(vals)-1]))
	}
	return strings.Join(plan, "\n"), rows.Err()
}
