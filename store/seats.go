package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/roster-dev/roster"
)

func (q queries) GetSeat(ctx context.Context, orgID, userID string) (roster.Seat, error) {
	s := roster.Seat{OrgID: orgID, UserID: userID}
	err := q.queryRow(ctx, `SELECT role, until FROM seat_holders WHERE org_id = ? AND user_id = ?`, orgID, userID).
		Scan(&s.Role, nullTimeDest{&s.Until})
	return s, scanOne(err)
}

// CountSeats reads the counters of seats without expiry and counts the
// expiring seats still held; only expiring seats are read row by row.
func (q queries) CountSeats(ctx context.Context, orgID string, now time.Time) (roster.SeatCounts, error) {
	counts := roster.SeatCounts{}
	add := func(rows *sql.Rows, err error) error {
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var role roster.SeatRole
			var n int
			if err := rows.Scan(&role, &n); err != nil {
				return err
			}
			counts[role] += n
		}
		return rows.Err()
	}
	if err := add(q.query(ctx, `SELECT role, n FROM seat_counts WHERE org_id = ? AND n <> 0`, orgID)); err != nil {
		return nil, err
	}
	if err := add(q.query(ctx, `SELECT role, COUNT(*) FROM seat_holders WHERE org_id = ? AND until IS NOT NULL AND until > ?
		GROUP BY role`, orgID, ts(now))); err != nil {
		return nil, err
	}
	return counts, nil
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

// PutSeat replaces a user's seat and moves the counters of seats without
// expiry by the difference.
func (t *tx) PutSeat(ctx context.Context, s roster.Seat) error {
	old, err := t.GetSeat(ctx, s.OrgID, s.UserID)
	if err != nil && !errors.Is(err, roster.ErrNotFound) {
		return err
	}
	had := err == nil
	if had && old.Until == nil {
		if err := t.addSeatCount(ctx, s.OrgID, old.Role, -1); err != nil {
			return err
		}
	}
	switch {
	case s.Role == "" && had:
		_, err = t.exec(ctx, `DELETE FROM seat_holders WHERE org_id = ? AND user_id = ?`, s.OrgID, s.UserID)
	case s.Role == "":
		return nil
	case had:
		_, err = t.exec(ctx, `UPDATE seat_holders SET role = ?, until = ? WHERE org_id = ? AND user_id = ?`,
			string(s.Role), nts(s.Until), s.OrgID, s.UserID)
	default:
		_, err = t.exec(ctx, `INSERT INTO seat_holders (org_id, user_id, role, until) VALUES (?, ?, ?, ?)`,
			s.OrgID, s.UserID, string(s.Role), nts(s.Until))
	}
	if err != nil || s.Role == "" || s.Until != nil {
		return err
	}
	return t.addSeatCount(ctx, s.OrgID, s.Role, 1)
}

func (t *tx) addSeatCount(ctx context.Context, orgID string, role roster.SeatRole, delta int) error {
	_, err := t.exec(ctx, `INSERT INTO seat_counts (org_id, role, n) VALUES (?, ?, ?)
		ON CONFLICT (org_id, role) DO UPDATE SET n = seat_counts.n + excluded.n`, orgID, string(role), delta)
	return err
}
