package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/roster-dev/roster"
)

const orgColumns = `id, name, slug, members_can_create_workspaces, seat_cap, free_roles, owner_seat_free, created_at, updated_at, deleted_at`

func scanOrg(s interface{ Scan(...any) error }) (roster.Org, error) {
	var o roster.Org
	var seatCap sql.NullInt64
	var freeRoles []byte
	err := s.Scan(&o.ID, &o.Name, &o.Slug, &o.MembersCanCreateWorkspaces, &seatCap, &freeRoles, &o.Plan.OwnerSeatFree,
		timeDest{&o.CreatedAt}, timeDest{&o.UpdatedAt}, nullTimeDest{&o.DeletedAt})
	if err != nil {
		return o, scanOne(err)
	}
	if seatCap.Valid {
		n := int(seatCap.Int64)
		o.Plan.SeatCap = &n
	}
	return o, json.Unmarshal(freeRoles, &o.Plan.FreeRoles)
}

func planArgs(p roster.Plan) (seatCap any, freeRoles string, err error) {
	if p.SeatCap != nil {
		seatCap = *p.SeatCap
	}
	roles := p.FreeRoles
	if roles == nil {
		roles = []roster.WorkspaceRole{}
	}
	b, err := json.Marshal(roles)
	return seatCap, string(b), err
}

func orgSearchText(o roster.Org) string { return strings.ToLower(o.Name + " " + o.Slug) }

// GetOrg returns a live organisation.
func (q queries) GetOrg(ctx context.Context, id string) (roster.Org, error) {
	return scanOrg(q.queryRow(ctx, `SELECT `+orgColumns+` FROM orgs WHERE id = ? AND deleted_at IS NULL`, id))
}

func (q queries) ListOrgs(ctx context.Context, f roster.OrgFilter, p roster.Page) ([]roster.Org, error) {
	where := []string{"o.deleted_at IS NULL", "o.id > ?"}
	args := []any{p.After}
	if f.MemberID != "" {
		where = append(where, "EXISTS (SELECT 1 FROM org_memberships m WHERE m.org_id = o.id AND m.user_id = ? AND m.deleted_at IS NULL)")
		args = append(args, f.MemberID)
	}
	if f.Slug != "" {
		where, args = append(where, "o.slug = ?"), append(args, f.Slug)
	}
	if f.Query != "" {
		where, args = append(where, `o.search_text LIKE ? ESCAPE '\'`), append(args, "%"+likeEscape(strings.ToLower(f.Query))+"%")
	}
	args = append(args, p.Limit+1)
	rows, err := q.query(ctx, `SELECT o.id, o.name, o.slug, o.members_can_create_workspaces, o.seat_cap, o.free_roles, o.owner_seat_free,
		o.created_at, o.updated_at, o.deleted_at FROM orgs o WHERE `+strings.Join(where, " AND ")+` ORDER BY o.id LIMIT ?`, args...)
	return collect(rows, err, func(r *sql.Rows) (roster.Org, error) { return scanOrg(r) })
}

func (t *tx) CreateOrg(ctx context.Context, o roster.Org) error {
	seatCap, freeRoles, err := planArgs(o.Plan)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, `INSERT INTO orgs (id, name, slug, search_text, members_can_create_workspaces, seat_cap, free_roles,
		owner_seat_free, created_at, updated_at, deleted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		o.ID, o.Name, o.Slug, orgSearchText(o), o.MembersCanCreateWorkspaces, seatCap, freeRoles, o.Plan.OwnerSeatFree,
		ts(o.CreatedAt), ts(o.UpdatedAt), nts(o.DeletedAt))
	return oneRowOr(res, err, roster.ErrUniqueViolation)
}

func (t *tx) UpdateOrg(ctx context.Context, o roster.Org) error {
	seatCap, freeRoles, err := planArgs(o.Plan)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, `UPDATE orgs SET name = ?, slug = ?, search_text = ?, members_can_create_workspaces = ?,
		seat_cap = ?, free_roles = ?, owner_seat_free = ?, updated_at = ?, deleted_at = ? WHERE id = ?`,
		o.Name, o.Slug, orgSearchText(o), o.MembersCanCreateWorkspaces, seatCap, freeRoles, o.Plan.OwnerSeatFree,
		ts(o.UpdatedAt), nts(o.DeletedAt), o.ID)
	return oneRowOr(res, err, roster.ErrNotFound)
}

// LockOrg takes the organisation's row lock on PostgreSQL. Every change to an
// organisation's memberships takes it first, so invariants that span rows
// (the last owner, the seat cap, cascades) are checked by one writer at a time.
func (t *tx) LockOrg(ctx context.Context, orgID string) (roster.Org, error) {
	return scanOrg(t.queryRow(ctx, `SELECT `+orgColumns+` FROM orgs WHERE id = ? AND deleted_at IS NULL`+t.forUpdate(), orgID))
}

func (t *tx) LockWorkspaceOrg(ctx context.Context, workspaceID string) (string, error) {
	lock := ""
	if t.db.dialect == Postgres {
		lock = " FOR UPDATE OF o"
	}
	var orgID string
	err := t.queryRow(ctx, `SELECT o.id FROM workspaces w JOIN orgs o ON o.id = w.org_id
		WHERE w.id = ? AND w.deleted_at IS NULL AND o.deleted_at IS NULL`+lock, workspaceID).Scan(&orgID)
	return orgID, scanOne(err)
}

const workspaceColumns = `id, org_id, name, slug, allow_support_access, settings_values, archived_at, created_at, updated_at, deleted_at`

func scanWorkspace(s interface{ Scan(...any) error }) (roster.Workspace, error) {
	var w roster.Workspace
	var values []byte
	err := s.Scan(&w.ID, &w.OrgID, &w.Name, &w.Slug, &w.AllowSupportAccess, &values, nullTimeDest{&w.ArchivedAt},
		timeDest{&w.CreatedAt}, timeDest{&w.UpdatedAt}, nullTimeDest{&w.DeletedAt})
	if err != nil {
		return w, scanOne(err)
	}
	w.Values = map[string]string{}
	return w, json.Unmarshal(values, &w.Values)
}

func valuesArg(v map[string]string) (any, error) {
	if v == nil {
		v = map[string]string{}
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// GetWorkspace returns a live (possibly archived) workspace.
func (q queries) GetWorkspace(ctx context.Context, id string) (roster.Workspace, error) {
	return scanWorkspace(q.queryRow(ctx, `SELECT `+workspaceColumns+` FROM workspaces WHERE id = ? AND deleted_at IS NULL`, id))
}

func (q queries) ListWorkspaces(ctx context.Context, f roster.WorkspaceFilter, p roster.Page) ([]roster.Workspace, error) {
	where := []string{"deleted_at IS NULL", "id > ?"}
	args := []any{p.After}
	if f.OrgID != "" {
		where, args = append(where, "org_id = ?"), append(args, f.OrgID)
	}
	if f.Slug != "" {
		where, args = append(where, "slug = ?"), append(args, f.Slug)
	}
	if f.MemberID != "" {
		where = append(where, `(EXISTS (SELECT 1 FROM org_memberships o WHERE o.org_id = workspaces.org_id AND o.user_id = ? AND o.deleted_at IS NULL)
			OR EXISTS (SELECT 1 FROM workspace_memberships m WHERE m.workspace_id = workspaces.id AND m.user_id = ? AND m.deleted_at IS NULL))`)
		args = append(args, f.MemberID, f.MemberID)
	}
	if !f.IncludeArchived {
		where = append(where, "archived_at IS NULL")
	}
	args = append(args, p.Limit+1)
	rows, err := q.query(ctx, `SELECT `+workspaceColumns+` FROM workspaces WHERE `+strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, args...)
	return collect(rows, err, func(r *sql.Rows) (roster.Workspace, error) { return scanWorkspace(r) })
}

func (t *tx) CreateWorkspace(ctx context.Context, w roster.Workspace) error {
	values, err := valuesArg(w.Values)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, `INSERT INTO workspaces (`+workspaceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		w.ID, w.OrgID, w.Name, w.Slug, w.AllowSupportAccess, values, nts(w.ArchivedAt), ts(w.CreatedAt), ts(w.UpdatedAt), nts(w.DeletedAt))
	return oneRowOr(res, err, roster.ErrUniqueViolation)
}

func (t *tx) UpdateWorkspace(ctx context.Context, w roster.Workspace) error {
	values, err := valuesArg(w.Values)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, `UPDATE workspaces SET name = ?, slug = ?, allow_support_access = ?, settings_values = ?,
		archived_at = ?, updated_at = ?, deleted_at = ? WHERE id = ?`,
		w.Name, w.Slug, w.AllowSupportAccess, values, nts(w.ArchivedAt), ts(w.UpdatedAt), nts(w.DeletedAt), w.ID)
	return oneRowOr(res, err, roster.ErrNotFound)
}

const orgMemberColumns = `id, org_id, user_id, role, joined_at, invited_by, updated_at, deleted_at`

func scanOrgMember(s interface{ Scan(...any) error }) (roster.OrgMembership, error) {
	var m roster.OrgMembership
	var invitedBy sql.NullString
	err := s.Scan(&m.ID, &m.OrgID, &m.UserID, &m.Role, timeDest{&m.JoinedAt}, &invitedBy, timeDest{&m.UpdatedAt}, nullTimeDest{&m.DeletedAt})
	m.InvitedBy = nullString(invitedBy)
	return m, scanOne(err)
}

func (q queries) GetOrgMembership(ctx context.Context, orgID, userID string) (roster.OrgMembership, error) {
	return scanOrgMember(q.queryRow(ctx, `SELECT `+orgMemberColumns+` FROM org_memberships
		WHERE org_id = ? AND user_id = ? AND deleted_at IS NULL`, orgID, userID))
}

func (q queries) ListOrgMembers(ctx context.Context, orgID string, roles []roster.OrgRole, p roster.Page) ([]roster.OrgMembership, error) {
	where, args := "", []any{orgID, p.After}
	if len(roles) > 0 {
		where = " AND role IN (?" + strings.Repeat(", ?", len(roles)-1) + ")"
		for _, r := range roles {
			args = append(args, string(r))
		}
	}
	args = append(args, p.Limit+1)
	rows, err := q.query(ctx, `SELECT `+orgMemberColumns+` FROM org_memberships
		WHERE org_id = ? AND deleted_at IS NULL AND user_id > ?`+where+` ORDER BY user_id LIMIT ?`, args...)
	return collect(rows, err, func(r *sql.Rows) (roster.OrgMembership, error) { return scanOrgMember(r) })
}

func (q queries) ListUserOrgMemberships(ctx context.Context, userID string) ([]roster.OrgMembership, error) {
	rows, err := q.query(ctx, `SELECT `+orgMemberColumns+` FROM org_memberships
		WHERE user_id = ? AND deleted_at IS NULL ORDER BY org_id`, userID)
	return collect(rows, err, func(r *sql.Rows) (roster.OrgMembership, error) { return scanOrgMember(r) })
}

func (q queries) ListOrgOwners(ctx context.Context, orgID string) ([]roster.OrgMembership, error) {
	rows, err := q.query(ctx, `SELECT `+orgMemberColumns+` FROM org_memberships
		WHERE org_id = ? AND role = ? AND deleted_at IS NULL ORDER BY user_id`, orgID, string(roster.OrgOwner))
	return collect(rows, err, func(r *sql.Rows) (roster.OrgMembership, error) { return scanOrgMember(r) })
}

func (t *tx) CreateOrgMembership(ctx context.Context, m roster.OrgMembership) (bool, error) {
	res, err := t.exec(ctx, `INSERT INTO org_memberships (`+orgMemberColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		m.ID, m.OrgID, m.UserID, string(m.Role), ts(m.JoinedAt), strArg(m.InvitedBy), ts(m.UpdatedAt), nts(m.DeletedAt))
	return inserted(res, err)
}

func (t *tx) UpdateOrgMembership(ctx context.Context, m roster.OrgMembership) error {
	res, err := t.exec(ctx, `UPDATE org_memberships SET role = ?, updated_at = ?, deleted_at = ? WHERE id = ?`,
		string(m.Role), ts(m.UpdatedAt), nts(m.DeletedAt), m.ID)
	return oneRowOr(res, err, roster.ErrNotFound)
}

const wsMemberColumns = `id, workspace_id, org_id, user_id, role, source, joined_at, invited_by, expires_at, updated_at, deleted_at`

func scanWorkspaceMember(s interface{ Scan(...any) error }) (roster.WorkspaceMembership, error) {
	var m roster.WorkspaceMembership
	var invitedBy sql.NullString
	err := s.Scan(&m.ID, &m.WorkspaceID, &m.OrgID, &m.UserID, &m.Role, &m.Source, timeDest{&m.JoinedAt}, &invitedBy,
		nullTimeDest{&m.ExpiresAt}, timeDest{&m.UpdatedAt}, nullTimeDest{&m.DeletedAt})
	m.InvitedBy = nullString(invitedBy)
	return m, scanOne(err)
}

func scanWorkspaceMembers(r *sql.Rows) (roster.WorkspaceMembership, error) {
	return scanWorkspaceMember(r)
}

func (q queries) GetWorkspaceMembership(ctx context.Context, workspaceID, userID string) (roster.WorkspaceMembership, error) {
	return scanWorkspaceMember(q.queryRow(ctx, `SELECT `+wsMemberColumns+` FROM workspace_memberships
		WHERE workspace_id = ? AND user_id = ? AND deleted_at IS NULL`, workspaceID, userID))
}

func (q queries) ListWorkspaceMembers(ctx context.Context, workspaceID string, f roster.MemberFilter, p roster.Page) ([]roster.WorkspaceMembership, error) {
	where, args := "", []any{workspaceID, p.After}
	if !f.IncludeSupport {
		where, args = where+" AND source <> ?", append(args, string(roster.SourceStaffSupport))
	}
	if !f.LiveAt.IsZero() {
		where, args = where+" AND (expires_at IS NULL OR expires_at > ?)", append(args, ts(f.LiveAt))
	}
	args = append(args, p.Limit+1)
	rows, err := q.query(ctx, `SELECT `+wsMemberColumns+` FROM workspace_memberships
		WHERE workspace_id = ? AND deleted_at IS NULL AND user_id > ?`+where+` ORDER BY user_id LIMIT ?`, args...)
	return collect(rows, err, scanWorkspaceMembers)
}

func (q queries) ListUserWorkspaceMemberships(ctx context.Context, userID string) ([]roster.WorkspaceMembership, error) {
	rows, err := q.query(ctx, `SELECT `+wsMemberColumns+` FROM workspace_memberships
		WHERE user_id = ? AND deleted_at IS NULL ORDER BY workspace_id`, userID)
	return collect(rows, err, scanWorkspaceMembers)
}

func (q queries) ListUserOrgWorkspaceMemberships(ctx context.Context, orgID, userID string, includeArchived bool) ([]roster.WorkspaceMembership, error) {
	archived := ""
	if !includeArchived {
		archived = " AND w.archived_at IS NULL"
	}
	rows, err := q.query(ctx, `SELECT `+qualified("m", wsMemberColumns)+` FROM workspace_memberships m
		JOIN workspaces w ON w.id = m.workspace_id AND w.deleted_at IS NULL`+archived+`
		WHERE m.user_id = ? AND m.org_id = ? AND m.deleted_at IS NULL ORDER BY m.workspace_id`, userID, orgID)
	return collect(rows, err, scanWorkspaceMembers)
}

// qualified prefixes every column of a column list with a table alias.
func qualified(alias, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = alias + "." + c
	}
	return strings.Join(cols, ", ")
}

func (q queries) ListWorkspaceOwners(ctx context.Context, workspaceID string) ([]roster.WorkspaceMembership, error) {
	rows, err := q.query(ctx, `SELECT `+wsMemberColumns+` FROM workspace_memberships
		WHERE workspace_id = ? AND role = ? AND deleted_at IS NULL ORDER BY user_id`, workspaceID, string(roster.RoleOwner))
	return collect(rows, err, scanWorkspaceMembers)
}

func (t *tx) CreateWorkspaceMembership(ctx context.Context, m roster.WorkspaceMembership) (bool, error) {
	res, err := t.exec(ctx, `INSERT INTO workspace_memberships (`+wsMemberColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`,
		m.ID, m.WorkspaceID, m.OrgID, m.UserID, string(m.Role), string(m.Source), ts(m.JoinedAt), strArg(m.InvitedBy),
		nts(m.ExpiresAt), ts(m.UpdatedAt), nts(m.DeletedAt))
	return inserted(res, err)
}

func (t *tx) UpdateWorkspaceMembership(ctx context.Context, m roster.WorkspaceMembership) error {
	res, err := t.exec(ctx, `UPDATE workspace_memberships SET role = ?, expires_at = ?, updated_at = ?, deleted_at = ? WHERE id = ?`,
		string(m.Role), nts(m.ExpiresAt), ts(m.UpdatedAt), nts(m.DeletedAt), m.ID)
	return oneRowOr(res, err, roster.ErrNotFound)
}

func (t *tx) DeleteUserOrgWorkspaceMemberships(ctx context.Context, orgID, userID string, at time.Time) ([]roster.WorkspaceMembership, error) {
	rows, err := t.query(ctx, `UPDATE workspace_memberships SET deleted_at = ?, updated_at = ?
		WHERE org_id = ? AND user_id = ? AND deleted_at IS NULL RETURNING `+wsMemberColumns, ts(at), ts(at), orgID, userID)
	return collect(rows, err, scanWorkspaceMembers)
}

func inserted(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *tx) DeleteOrg(ctx context.Context, orgID string, at time.Time) error {
	return t.execAll(ctx, []string{
		`DELETE FROM seat_counts WHERE org_id = ?`,
		`DELETE FROM seat_holders WHERE org_id = ?`,
		`UPDATE invitations SET open = FALSE, revoked_at = ?, updated_at = ? WHERE org_id = ? AND open`,
		`UPDATE access_requests SET open = FALSE, decided_at = ? WHERE org_id = ? AND open`,
		`UPDATE workspace_memberships SET deleted_at = ?, updated_at = ? WHERE org_id = ? AND deleted_at IS NULL`,
		`DELETE FROM resource_shares WHERE resource_id IN (SELECT id FROM resources WHERE org_id = ? AND deleted_at IS NULL)`,
		`UPDATE resources SET deleted_at = ?, updated_at = ? WHERE org_id = ? AND deleted_at IS NULL`,
		`UPDATE org_memberships SET deleted_at = ?, updated_at = ? WHERE org_id = ? AND deleted_at IS NULL`,
		`UPDATE workspaces SET deleted_at = ?, updated_at = ? WHERE org_id = ? AND deleted_at IS NULL`,
		`UPDATE orgs SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL`,
	}, orgID, at)
}

func (t *tx) DeleteWorkspace(ctx context.Context, workspaceID string, at time.Time) error {
	return t.execAll(ctx, []string{
		`UPDATE invitations SET open = FALSE, revoked_at = ?, updated_at = ? WHERE workspace_id = ? AND open`,
		`UPDATE access_requests SET open = FALSE, decided_at = ? WHERE workspace_id = ? AND open`,
		`UPDATE workspace_memberships SET deleted_at = ?, updated_at = ? WHERE workspace_id = ? AND deleted_at IS NULL`,
		`DELETE FROM resource_shares WHERE resource_id IN (SELECT id FROM resources WHERE workspace_id = ? AND deleted_at IS NULL)`,
		`UPDATE resources SET deleted_at = ?, updated_at = ? WHERE workspace_id = ? AND deleted_at IS NULL`,
		`UPDATE workspaces SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL`,
	}, workspaceID, at)
}

// execAll runs statements whose placeholders are the time at (as many
// times as needed) followed by id.
func (t *tx) execAll(ctx context.Context, stmts []string, id string, at time.Time) error {
	for _, stmt := range stmts {
		args := make([]any, 0, 3)
		for range strings.Count(stmt, "?") - 1 {
			args = append(args, ts(at))
		}
		if _, err := t.exec(ctx, stmt, append(args, id)...); err != nil {
			return err
		}
	}
	return nil
}
