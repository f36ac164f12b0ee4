package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/roster-dev/roster"
)

const resourceColumns = `id, workspace_id, org_id, type, external_id, name, created_by, created_at, updated_at, deleted_at`

func scanResource(s interface{ Scan(...any) error }) (roster.Resource, error) {
	var r roster.Resource
	var createdBy sql.NullString
	err := s.Scan(&r.ID, &r.WorkspaceID, &r.OrgID, &r.Type, &r.ExternalID, &r.Name, &createdBy,
		timeDest{&r.CreatedAt}, timeDest{&r.UpdatedAt}, nullTimeDest{&r.DeletedAt})
	r.CreatedBy = nullString(createdBy)
	return r, scanOne(err)
}

func (q queries) GetResource(ctx context.Context, id string) (roster.Resource, error) {
	return scanResource(q.queryRow(ctx, `SELECT `+resourceColumns+` FROM resources WHERE id = ? AND deleted_at IS NULL`, id))
}

func (q queries) GetResourceByExternalID(ctx context.Context, typ, externalID string) (roster.Resource, error) {
	return scanResource(q.queryRow(ctx, `SELECT `+resourceColumns+` FROM resources
		WHERE type = ? AND external_id = ? AND deleted_at IS NULL`, typ, externalID))
}

func (q queries) ListResources(ctx context.Context, f roster.ResourceFilter, p roster.Page) ([]roster.Resource, error) {
	where, args := []string{"deleted_at IS NULL", "id > ?"}, []any{p.After}
	if f.WorkspaceID != "" {
		where, args = append(where, "workspace_id = ?"), append(args, f.WorkspaceID)
	}
	if f.Type != "" {
		where, args = append(where, "type = ?"), append(args, f.Type)
	}
	if f.ExternalID != "" {
		where, args = append(where, "external_id = ?"), append(args, f.ExternalID)
	}
	rows, err := q.query(ctx, `SELECT `+resourceColumns+` FROM resources WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`,
		append(args, p.Limit+1)...)
	return collect(rows, err, func(r *sql.Rows) (roster.Resource, error) { return scanResource(r) })
}

const shareColumns = `resource_id, grantee_kind, grantee_id, role, created_by, created_at, updated_at`

func (q queries) ListShares(ctx context.Context, resourceID string) ([]roster.ResourceShare, error) {
	rows, err := q.query(ctx, `SELECT `+shareColumns+` FROM resource_shares WHERE resource_id = ? ORDER BY grantee_id`, resourceID)
	return collect(rows, err, func(r *sql.Rows) (roster.ResourceShare, error) {
		var s roster.ResourceShare
		var createdBy sql.NullString
		err := r.Scan(&s.ResourceID, &s.GranteeKind, &s.GranteeID, &s.Role, &createdBy, timeDest{&s.CreatedAt}, timeDest{&s.UpdatedAt})
		s.CreatedBy = nullString(createdBy)
		return s, err
	})
}

func (t *tx) CreateResource(ctx context.Context, r roster.Resource) (bool, error) {
	res, err := t.exec(ctx, `INSERT INTO resources (`+resourceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		r.ID, r.WorkspaceID, r.OrgID, r.Type, r.ExternalID, r.Name, strArg(r.CreatedBy), ts(r.CreatedAt), ts(r.UpdatedAt), nts(r.DeletedAt))
	return inserted(res, err)
}

func (t *tx) UpdateResource(ctx context.Context, r roster.Resource) error {
	res, err := t.exec(ctx, `UPDATE resources SET workspace_id = ?, org_id = ?, name = ?, updated_at = ?, deleted_at = ? WHERE id = ?`,
		r.WorkspaceID, r.OrgID, r.Name, ts(r.UpdatedAt), nts(r.DeletedAt), r.ID)
	if err := oneRowOr(res, err, roster.ErrNotFound); err != nil {
		return err
	}
	if r.DeletedAt != nil { // a deleted resource takes its shares with it
		_, err = t.exec(ctx, `DELETE FROM resource_shares WHERE resource_id = ?`, r.ID)
	}
	return err
}

func (t *tx) PutShare(ctx context.Context, s roster.ResourceShare) (bool, error) {
	res, err := t.exec(ctx, `UPDATE resource_shares SET role = ?, updated_at = ? WHERE resource_id = ? AND grantee_id = ?`,
		string(s.Role), ts(s.UpdatedAt), s.ResourceID, s.GranteeID)
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return false, err
	}
	res, err = t.exec(ctx, `INSERT INTO resource_shares (`+shareColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		s.ResourceID, string(s.GranteeKind), s.GranteeID, string(s.Role), strArg(s.CreatedBy), ts(s.CreatedAt), ts(s.UpdatedAt))
	return inserted(res, err)
}

func (t *tx) DeleteShare(ctx context.Context, resourceID, granteeID string) (bool, error) {
	res, err := t.exec(ctx, `DELETE FROM resource_shares WHERE resource_id = ? AND grantee_id = ?`, resourceID, granteeID)
	return inserted(res, err)
}

func (q queries) ListReachableResources(ctx context.Context, workspaceIDs, granteeIDs []string, f roster.ResourceFilter, p roster.Page) ([]roster.Resource, error) {
	query, args := reachableResourcesQuery(workspaceIDs, granteeIDs, f, p)
	if query == "" {
		return nil, nil
	}
	rows, err := q.query(ctx, query, args...)
	return collect(rows, err, func(r *sql.Rows) (roster.Resource, error) { return scanResource(r) })
}

func reachableResourcesQuery(workspaceIDs, granteeIDs []string, f roster.ResourceFilter, p roster.Page) (string, []any) {
	// Each source yields the ids of its first resources past the cursor,
	// in id order on its own index; only the page's rows are then read. A
	// single query with an OR would read every resource to find a user's
	// few, and reading rows before the limit reads all of the user's.
	filters, filterArgs := []string{"r.deleted_at IS NULL", "r.id > ?"}, []any{p.After}
	if f.WorkspaceID != "" {
		filters, filterArgs = append(filters, "r.workspace_id = ?"), append(filterArgs, f.WorkspaceID)
	}
	if f.Type != "" {
		filters, filterArgs = append(filters, "r.type = ?"), append(filterArgs, f.Type)
	}
	where := strings.Join(filters, " AND ")
	var branches []string
	var args []any
	if len(workspaceIDs) > 0 {
		branches = append(branches, `SELECT * FROM (SELECT r.id FROM resources r
			WHERE r.workspace_id IN (`+placeholders(len(workspaceIDs))+`) AND `+where+` ORDER BY r.id LIMIT ?) owned`)
		args = append(append(append(args, anySlice(workspaceIDs)...), filterArgs...), p.Limit+1)
	}
	switch {
	case len(granteeIDs) == 0:
	case len(filters) == 2: // no filter: a share is to a live resource (deleting one deletes its shares)
		branches = append(branches, `SELECT * FROM (SELECT resource_id FROM resource_shares
			WHERE grantee_id IN (`+placeholders(len(granteeIDs))+`) AND resource_id > ? ORDER BY resource_id LIMIT ?) shared`)
		args = append(append(append(args, anySlice(granteeIDs)...), p.After), p.Limit+1)
	default:
		branches = append(branches, `SELECT * FROM (SELECT r.id FROM resource_shares s JOIN resources r ON r.id = s.resource_id
			WHERE s.grantee_id IN (`+placeholders(len(granteeIDs))+`) AND s.resource_id > ? AND `+where+` ORDER BY r.id LIMIT ?) shared`)
		args = append(append(append(append(args, anySlice(granteeIDs)...), p.After), filterArgs...), p.Limit+1)
	}
	if len(branches) == 0 {
		return "", nil
	}
	return `SELECT ` + resourceColumns + ` FROM resources WHERE deleted_at IS NULL AND id IN (` + strings.Join(branches, " UNION ALL ") + `)
		ORDER BY id LIMIT ?`, append(args, p.Limit+1)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func anySlice(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
