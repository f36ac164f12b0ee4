package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/roster-dev/roster"
)

// A bulk import reads what its records name and writes what they add in a
// few statements each: one per table and up to importBatch keys or rows.
// Both databases bind at least 32,766 parameters a statement; the widest
// row here has 12.
const importBatch = 1000

// inList returns "(?, ?, …)" for n values.
func inList(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// chunked runs fn on keys importBatch at a time.
func chunked(keys []string, fn func(part []string) error) error {
	for len(keys) > 0 {
		n := min(len(keys), importBatch)
		if err := fn(keys[:n]); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

func (q queries) FindUsers(ctx context.Context, externalIDs, emailKeys []string) ([]roster.User, error) {
	var out []roster.User
	find := func(column string, keys []string) error {
		return chunked(keys, func(part []string) error {
			rows, err := q.query(ctx, `SELECT `+userColumns+` FROM users WHERE deleted_at IS NULL AND `+column+` IN `+inList(len(part)), anys(part)...)
			users, err := collect(rows, err, func(r *sql.Rows) (roster.User, error) { return scanUser(r) })
			out = append(out, users...)
			return err
		})
	}
	if err := find("external_id", externalIDs); err != nil {
		return nil, err
	}
	return out, find("email_key", emailKeys)
}

func (q queries) FindOrgs(ctx context.Context, slugs []string) ([]roster.Org, error) {
	var out []roster.Org
	err := chunked(slugs, func(part []string) error {
		rows, err := q.query(ctx, `SELECT `+orgColumns+` FROM orgs WHERE deleted_at IS NULL AND slug IN `+inList(len(part)), anys(part)...)
		orgs, err := collect(rows, err, func(r *sql.Rows) (roster.Org, error) { return scanOrg(r) })
		out = append(out, orgs...)
		return err
	})
	slices.SortFunc(out, func(a, b roster.Org) int { return strings.Compare(a.ID, b.ID) })
	if err != nil || q.forUpdate() == "" {
		return out, err
	}
	// Lock them in id order, as every writer that locks several does, and
	// read them again as they are once locked.
	ids := make([]string, len(out))
	for i, o := range out {
		ids[i] = o.ID
	}
	out = out[:0]
	return out, chunked(ids, func(part []string) error {
		rows, err := q.query(ctx, `SELECT `+orgColumns+` FROM orgs WHERE deleted_at IS NULL AND id IN `+inList(len(part))+
			` ORDER BY id`+q.forUpdate(), anys(part)...)
		orgs, err := collect(rows, err, func(r *sql.Rows) (roster.Org, error) { return scanOrg(r) })
		out = append(out, orgs...)
		return err
	})
}

func (q queries) CountSeatsOf(ctx context.Context, orgIDs []string, now time.Time) (map[string]roster.SeatCounts, error) {
	out := map[string]roster.SeatCounts{}
	return out, chunked(orgIDs, func(part []string) error {
		in := inList(len(part))
		args := append(anys(part), anys(part)...)
		rows, err := q.query(ctx, `SELECT org_id, role, n FROM seat_counts WHERE org_id IN `+in+` AND n <> 0
			UNION ALL SELECT org_id, role, -COUNT(*) FROM seat_holders WHERE org_id IN `+in+` AND until IS NOT NULL AND until <= ?
			GROUP BY org_id, role`, append(args, ts(now))...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var orgID string
			var role roster.SeatRole
			var n int
			if err := rows.Scan(&orgID, &role, &n); err != nil {
				return err
			}
			if out[orgID] == nil {
				out[orgID] = roster.SeatCounts{}
			}
			out[orgID][role] += n
		}
		return rows.Err()
	})
}

// ImportState reads memberships by user (their index), keeping those in
// the organisations asked for: an import names users of many organisations
// at once, and by organisation it would read every member of each. Seats
// are read by (organisation, user) for the memberships found: a seat is
// held only through a membership that is not deleted.
func (q queries) ImportState(ctx context.Context, orgIDs, userIDs []string) (roster.ImportState, error) {
	var st roster.ImportState
	inOrgs := map[string]bool{}
	for _, id := range orgIDs {
		inOrgs[id] = true
	}
	err := chunked(orgIDs, func(orgs []string) error {
		rows, err := q.query(ctx, `SELECT `+workspaceColumns+` FROM workspaces WHERE deleted_at IS NULL AND org_id IN `+inList(len(orgs)), anys(orgs)...)
		wss, err := collect(rows, err, func(r *sql.Rows) (roster.Workspace, error) { return scanWorkspace(r) })
		st.Workspaces = append(st.Workspaces, wss...)
		return err
	})
	if err != nil {
		return st, err
	}
	type orgUser struct{ orgID, userID string }
	var pairs []orgUser
	seen := map[orgUser]bool{}
	pair := func(orgID, userID string) {
		if k := (orgUser{orgID, userID}); !seen[k] {
			seen[k], pairs = true, append(pairs, k)
		}
	}
	err = chunked(userIDs, func(users []string) error {
		where := ` WHERE deleted_at IS NULL AND user_id IN ` + inList(len(users))
		rows, err := q.query(ctx, `SELECT `+orgMemberColumns+` FROM org_memberships`+where, anys(users)...)
		oms, err := collect(rows, err, func(r *sql.Rows) (roster.OrgMembership, error) { return scanOrgMember(r) })
		if err != nil {
			return err
		}
		for _, m := range oms {
			if inOrgs[m.OrgID] {
				st.OrgMemberships = append(st.OrgMemberships, m)
				pair(m.OrgID, m.UserID)
			}
		}
		rows, err = q.query(ctx, `SELECT `+wsMemberColumns+` FROM workspace_memberships`+where, anys(users)...)
		wms, err := collect(rows, err, scanWorkspaceMembers)
		for _, m := range wms {
			if inOrgs[m.OrgID] {
				st.Memberships = append(st.Memberships, m)
				pair(m.OrgID, m.UserID)
			}
		}
		return err
	})
	for start := 0; err == nil && start < len(pairs); start += importBatch {
		part := pairs[start:min(start+importBatch, len(pairs))]
		args := make([]any, 0, 2*len(part))
		for _, p := range part {
			args = append(args, p.orgID, p.userID)
		}
		var rows *sql.Rows
		rows, err = q.query(ctx, `SELECT org_id, user_id, role, until, recheck_at FROM seat_holders
			WHERE (org_id, user_id) IN (VALUES `+strings.TrimSuffix(strings.Repeat("(?, ?), ", len(part)), ", ")+`)`, args...)
		var seats []roster.Seat
		seats, err = collect(rows, err, func(r *sql.Rows) (roster.Seat, error) {
			var s roster.Seat
			return s, r.Scan(&s.OrgID, &s.UserID, &s.Role, nullTimeDest{&s.Until}, nullTimeDest{&s.Recheck})
		})
		st.Seats = append(st.Seats, seats...)
	}
	return st, err
}

func (t *tx) RefreshStatistics(ctx context.Context) error {
	if t.db.dialect != Postgres {
		return nil // SQLite's planner prefers an index without statistics
	}
	_, err := t.exec(ctx, `ANALYZE users, orgs, workspaces, org_memberships, workspace_memberships, seat_holders`)
	return err
}

// insertRows inserts rows of width columns, importBatch at a time, and
// reports ErrUniqueViolation unless every row went in.
func (t *tx) insertRows(ctx context.Context, into string, width int, args []any) error {
	rows := len(args) / width
	row := inList(width)
	for start := 0; start < rows; start += importBatch {
		n := min(importBatch, rows-start)
		res, err := t.exec(ctx, `INSERT INTO `+into+` VALUES `+strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")+` ON CONFLICT DO NOTHING`,
			args[start*width:(start+n)*width]...)
		if err != nil {
			return err
		}
		if got, err := res.RowsAffected(); err != nil || got != int64(n) {
			if err == nil {
				err = roster.ErrUniqueViolation
			}
			return err
		}
	}
	return nil
}

func (t *tx) InsertRows(ctx context.Context, rows roster.NewRows) error {
	var args []any
	for _, u := range rows.Users {
		args = append(args, u.ID, strArg(u.Email), emailKeyArg(u.Email), u.DisplayName, searchText(u), string(u.Status), string(u.PlatformRole),
			strArg(u.ExternalID), strArg(u.DefaultWorkspaceID), ts(u.CreatedAt), ts(u.UpdatedAt), nts(u.DeletedAt))
	}
	if err := t.insertRows(ctx, `users (id, email, email_key, display_name, search_text, status, platform_role,
		external_id, default_workspace_id, created_at, updated_at, deleted_at)`, 12, args); err != nil {
		return err
	}
	args = nil
	for _, o := range rows.Orgs {
		seatCap, freeRoles, err := planArgs(o.Plan)
		if err != nil {
			return err
		}
		args = append(args, o.ID, o.Name, o.Slug, orgSearchText(o), o.MembersCanCreateWorkspaces, seatCap, freeRoles, o.Plan.OwnerSeatFree,
			ts(o.CreatedAt), ts(o.UpdatedAt), nts(o.DeletedAt))
	}
	if err := t.insertRows(ctx, `orgs (id, name, slug, search_text, members_can_create_workspaces, seat_cap, free_roles,
		owner_seat_free, created_at, updated_at, deleted_at)`, 11, args); err != nil {
		return err
	}
	args = nil
	for _, w := range rows.Workspaces {
		values, err := valuesArg(w.Values)
		if err != nil {
			return err
		}
		args = append(args, w.ID, w.OrgID, w.Name, w.Slug, w.AllowSupportAccess, values, nts(w.ArchivedAt), ts(w.CreatedAt), ts(w.UpdatedAt), nts(w.DeletedAt))
	}
	if err := t.insertRows(ctx, `workspaces (`+workspaceColumns+`)`, 10, args); err != nil {
		return err
	}
	args = nil
	for _, m := range rows.OrgMemberships {
		args = append(args, m.ID, m.OrgID, m.UserID, string(m.Role), ts(m.JoinedAt), strArg(m.InvitedBy), ts(m.UpdatedAt), nts(m.DeletedAt))
	}
	if err := t.insertRows(ctx, `org_memberships (`+orgMemberColumns+`)`, 8, args); err != nil {
		return err
	}
	args = nil
	for _, m := range rows.Memberships {
		args = append(args, m.ID, m.WorkspaceID, m.OrgID, m.UserID, string(m.Role), string(m.Source), ts(m.JoinedAt), strArg(m.InvitedBy),
			nts(m.ExpiresAt), ts(m.UpdatedAt), nts(m.DeletedAt))
	}
	return t.insertRows(ctx, `workspace_memberships (`+wsMemberColumns+`)`, 11, args)
}

// ReplaceSeats writes new seats in bulk, changed and ended ones one by one,
// and moves each organisation's counters in one statement.
func (t *tx) ReplaceSeats(ctx context.Context, changes []roster.SeatChange) error {
	type counter struct {
		orgID string
		role  roster.SeatRole
	}
	deltas := map[counter]int{}
	var order []counter
	move := func(orgID string, role roster.SeatRole, by int) {
		k := counter{orgID, role}
		if _, ok := deltas[k]; !ok {
			order = append(order, k)
		}
		deltas[k] += by
	}
	var inserts []any
	for _, c := range changes {
		old, s := c.Old, c.New
		switch {
		case s.Role == "" && old.Role == "":
			continue
		case old.Role == "":
			inserts = append(inserts, s.OrgID, s.UserID, string(s.Role), nts(s.Until), nts(s.Recheck))
		case s.Role == "":
			if _, err := t.exec(ctx, `DELETE FROM seat_holders WHERE org_id = ? AND user_id = ?`, old.OrgID, old.UserID); err != nil {
				return err
			}
		default:
			if _, err := t.exec(ctx, `UPDATE seat_holders SET role = ?, until = ?, recheck_at = ? WHERE org_id = ? AND user_id = ?`,
				string(s.Role), nts(s.Until), nts(s.Recheck), s.OrgID, s.UserID); err != nil {
				return err
			}
		}
		if old.Role != s.Role {
			if old.Role != "" {
				move(old.OrgID, old.Role, -1)
			}
			if s.Role != "" {
				move(s.OrgID, s.Role, 1)
			}
		}
	}
	if err := t.insertRows(ctx, `seat_holders (org_id, user_id, role, until, recheck_at)`, 5, inserts); err != nil {
		return err
	}
	for start := 0; start < len(order); start += importBatch {
		part := order[start:min(start+importBatch, len(order))]
		var args []any
		for _, k := range part {
			args = append(args, k.orgID, string(k.role), deltas[k])
		}
		if _, err := t.exec(ctx, `INSERT INTO seat_counts (org_id, role, n) VALUES `+strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(part)), ", ")+`
			ON CONFLICT (org_id, role) DO UPDATE SET n = seat_counts.n + excluded.n`, args...); err != nil {
			return err
		}
	}
	return nil
}
