package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/roster-dev/roster"
)

func (q queries) GetSeat(ctx context.Context, orgID, userID string) (roster.Seat, error) {
	s := roster.Seat{OrgID: orgID, UserID: userID}
	err := q.queryRow(ctx, `SELECT role, until, recheck_at FROM seat_holders WHERE org_id = ? AND user_id = ?`, orgID, userID).
		Scan(&s.Role, nullTimeDest{&s.Until}, nullTimeDest{&s.Recheck})
	return s, scanOne(err)
}

func (q queries) ListSeatsDue(ctx context.Context, now time.Time, limit int) ([]roster.Seat, error) {
	rows, err := q.query(ctx, `SELECT org_id, user_id, role, until, recheck_at FROM seat_holders
		WHERE recheck_at IS NOT NULL AND recheck_at <= ? ORDER BY recheck_at LIMIT ?`, ts(now), limit)
	return collect(rows, err, func(r *sql.Rows) (roster.Seat, error) {
		var s roster.Seat
		return s, r.Scan(&s.OrgID, &s.UserID, &s.Role, nullTimeDest{&s.Until}, nullTimeDest{&s.Recheck})
	})
}

// countSeatsSQL reads the per-role counters of every seat row and takes
// away the rows whose seat has expired but which are not yet recomputed:
// only those are read row by row, and recomputing keeps them few.
const countSeatsSQL = `SELECT role, n FROM seat_counts WHERE org_id = ? AND n <> 0
	UNION ALL SELECT role, -COUNT(*) FROM seat_holders WHERE org_id = ? AND until IS NOT NULL AND until <= ? GROUP BY role`

// pendingRole marks the row of pending seats in CountSeatsAndPending.
const pendingRole = ""

func (q queries) CountSeats(ctx context.Context, orgID string, now time.Time) (roster.SeatCounts, error) {
	counts, _, err := q.countSeats(ctx, countSeatsSQL, orgID, orgID, ts(now))
	return counts, err
}

func (q queries) CountSeatsAndPending(ctx context.Context, orgID string, paidRoles []roster.WorkspaceRole, now time.Time) (roster.SeatCounts, int, error) {
	from, args := pendingSeatsFrom(orgID, paidRoles, now)
	return q.countSeats(ctx, countSeatsSQL+` UNION ALL SELECT '`+pendingRole+`', COUNT(DISTINCT i.email_key) `+from,
		append([]any{orgID, orgID, ts(now)}, args...)...)
}

// countSeats sums (role, n) rows into seat counts; the pending role's row,
// if any, is the pending count.
func (q queries) countSeats(ctx context.Context, query string, args ...any) (roster.SeatCounts, int, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	counts, pending := roster.SeatCounts{}, 0
	for rows.Next() {
		var role roster.SeatRole
		var n int
		if err := rows.Scan(&role, &n); err != nil {
			return nil, 0, err
		}
		if role == pendingRole {
			pending = n
		} else {
			counts[role] += n
		}
	}
	return counts, pending, rows.Err()
}

func (q queries) ListOrgUserIDs(ctx context.Context, orgID string) ([]string, error) {
	rows, err := q.query(ctx, `SELECT user_id FROM org_memberships WHERE org_id = ? AND deleted_at IS NULL
		UNION SELECT user_id FROM workspace_memberships WHERE org_id = ? AND deleted_at IS NULL
		UNION SELECT user_id FROM seat_holders WHERE org_id = ?`, orgID, orgID, orgID)
	return collect(rows, err, func(r *sql.Rows) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
}

// ReplaceSeat replaces a user's seat and moves the per-role counters by the
// difference, in at most two statements.
func (t *tx) ReplaceSeat(ctx context.Context, old, s roster.Seat) error {
	had := old.Role != ""
	var err error
	switch {
	case s.Role == "" && had:
		_, err = t.exec(ctx, `DELETE FROM seat_holders WHERE org_id = ? AND user_id = ?`, s.OrgID, s.UserID)
	case s.Role == "":
		return nil
	case had:
		_, err = t.exec(ctx, `UPDATE seat_holders SET role = ?, until = ?, recheck_at = ? WHERE org_id = ? AND user_id = ?`,
			string(s.Role), nts(s.Until), nts(s.Recheck), s.OrgID, s.UserID)
	default:
		_, err = t.exec(ctx, `INSERT INTO seat_holders (org_id, user_id, role, until, recheck_at) VALUES (?, ?, ?, ?, ?)`,
			s.OrgID, s.UserID, string(s.Role), nts(s.Until), nts(s.Recheck))
	}
	if err != nil || old.Role == s.Role {
		return err
	}
	var rows []string
	var args []any
	if had {
		rows, args = append(rows, "(?, ?, -1)"), append(args, s.OrgID, string(old.Role))
	}
	if s.Role != "" {
		rows, args = append(rows, "(?, ?, 1)"), append(args, s.OrgID, string(s.Role))
	}
	_, err = t.exec(ctx, `INSERT INTO seat_counts (org_id, role, n) VALUES `+strings.Join(rows, ", ")+`
		ON CONFLICT (org_id, role) DO UPDATE SET n = seat_counts.n + excluded.n`, args...)
	return err
}
