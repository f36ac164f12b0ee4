package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/roster-dev/roster"
)

const auditColumns = `id, at, actor_user_id, actor_token_id, via, on_behalf_of, action, target_type, target_id,
	org_id, workspace_id, before_json, after_json, request_id, ip, user_id, notify_json, actor_reason`

// auditRead is what reads select: the columns written, the place in the
// log, which the database assigns, and the seal. txid is read as text
// (PostgreSQL's xid8 has no driver type) under a name of its own: ORDER BY
// txid must mean the column, which its index serves and which sorts 9
// before 10, not the text.
const auditRead = auditColumns + `, seq, CAST(txid AS TEXT) AS txid_text, COALESCE(chain_pos, 0), COALESCE(prev_hash, ''), COALESCE(hash, '')`

// InsertAudit appends events, a thousand a statement.
func (t *tx) InsertAudit(ctx context.Context, events ...roster.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	columns, row := auditColumns, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
	var seq int64
	if t.db.dialect == SQLite {
		// PostgreSQL numbers events from a sequence; SQLite's one writer
		// numbers them after the last.
		// txid is always 0 here: naming it lets the (txid, seq) index
		// answer at once instead of a scan of the whole log.
		if err := t.x.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM audit_events WHERE txid = 0`).Scan(&seq); err != nil {
			return failed("SELECT audit_events", err)
		}
		columns, row = columns+", seq", row+", ?"
	}
	row += ")"
	for start := 0; start < len(events); start += importBatch {
		part := events[start:min(start+importBatch, len(events))]
		if err := t.insertAudit(ctx, columns, row, part, seq+int64(start)); err != nil {
			return err
		}
	}
	return nil
}

// insertAudit inserts events in one statement; on SQLite they are numbered
// from seq+1.
func (t *tx) insertAudit(ctx context.Context, columns, row string, events []roster.AuditEvent, seq int64) error {
	rows := make([]string, len(events))
	args := make([]any, 0, 19*len(events))
	for i, e := range events {
		rows[i] = row
		notify, err := notifyArg(e.Notify)
		if err != nil {
			return err
		}
		args = append(args, e.ID, ts(e.At), strArg(e.ActorUserID), strArg(e.ActorTokenID), string(e.Via), strArg(e.OnBehalfOf),
			e.Action, e.TargetType, e.TargetID, strArg(e.OrgID), strArg(e.WorkspaceID),
			jsonArg(e.Before), jsonArg(e.After), e.RequestID, e.IP, strArg(e.UserID), notify, strArg(e.ActorReason))
		if t.db.dialect == SQLite {
			args = append(args, seq+int64(i)+1)
		}
	}
	_, err := t.exec(ctx, `INSERT INTO audit_events (`+columns+`) VALUES `+strings.Join(rows, ", "), args...)
	return err
}

func notifyArg(ids []string) (any, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(ids)
	return string(b), err
}

// EventsAfter reads the events after cur, oldest first. On PostgreSQL only
// rows of transactions older than every running one are read: a later
// reader can then never find an event behind its cursor.
func (q queries) EventsAfter(ctx context.Context, cur roster.EventCursor, limit int) ([]roster.AuditEvent, error) {
	var rows *sql.Rows
	var err error
	if q.db.dialect == Postgres {
		rows, err = q.query(ctx, `SELECT `+auditRead+` FROM audit_events
			WHERE (txid, seq) > (CAST(? AS xid8), ?) AND txid < pg_snapshot_xmin(pg_current_snapshot())
			ORDER BY txid, seq LIMIT ?`, strconv.FormatUint(cur.TxID, 10), cur.Seq, limit)
	} else {
		rows, err = q.query(ctx, `SELECT `+auditRead+` FROM audit_events WHERE txid = 0 AND seq > ? ORDER BY seq LIMIT ?`, cur.Seq, limit)
	}
	return collect(rows, err, scanAudit)
}

// GetEvent returns one event of the log.
func (q queries) GetEvent(ctx context.Context, id string) (roster.AuditEvent, error) {
	rows, err := q.query(ctx, `SELECT `+auditRead+` FROM audit_events WHERE id = ?`, id)
	events, err := collect(rows, err, scanAudit)
	if err == nil && len(events) == 0 {
		err = roster.ErrNotFound
	}
	if err != nil {
		return roster.AuditEvent{}, err
	}
	return events[0], nil
}

// EventCursorOf returns the place of an event in the log.
func (q queries) EventCursorOf(ctx context.Context, id string) (roster.EventCursor, error) {
	var c roster.EventCursor
	var txid string
	err := q.queryRow(ctx, `SELECT seq, CAST(txid AS TEXT) FROM audit_events WHERE id = ?`, id).Scan(&c.Seq, &txid)
	if err != nil {
		return c, err
	}
	c.TxID, err = strconv.ParseUint(txid, 10, 64)
	return c, err
}

// EventsNow returns where a stream that starts now begins. On PostgreSQL
// that is the current snapshot: everything of transactions older than the
// oldest still running is past, and so is anything the snapshot sees.
func (q queries) EventsNow(ctx context.Context) (roster.EventStart, error) {
	if q.db.dialect != Postgres {
		var start roster.EventStart
		err := q.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM audit_events WHERE txid = 0`).Scan(&start.Cursor.Seq)
		return start, err
	}
	var xmin, xmax uint64
	var running string
	err := q.queryRow(ctx, `SELECT CAST(pg_snapshot_xmin(s) AS TEXT), CAST(pg_snapshot_xmax(s) AS TEXT),
		COALESCE((SELECT string_agg(CAST(x AS TEXT), ',') FROM pg_snapshot_xip(s) x), '')
		FROM pg_current_snapshot() s`).Scan(&xmin, &xmax, &running)
	if err != nil {
		return roster.EventStart{}, err
	}
	start := roster.EventStart{Cursor: roster.EventCursor{TxID: xmin, Seq: -1}, Xmax: xmax}
	for _, x := range strings.Split(running, ",") {
		if n, err := strconv.ParseUint(x, 10, 64); err == nil {
			start.Running = append(start.Running, n)
		}
	}
	return start, nil
}

func jsonArg(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

func (q queries) ListAudit(ctx context.Context, f roster.AuditFilter, p roster.Page) ([]roster.AuditEvent, error) {
	var after *roster.AuditEvent
	if p.After != "" {
		// The page continues below the cursor's (at, id).
		var e roster.AuditEvent
		err := q.queryRow(ctx, `SELECT at FROM audit_events WHERE id = ?`, p.After).Scan(timeDest{&e.At})
		if errors.Is(err, roster.ErrNotFound) {
			return nil, nil // gone: nothing follows it
		}
		if err != nil {
			return nil, err
		}
		e.ID = p.After
		after = &e
	}
	query, args := q.db.listAuditQuery(f, after, p.Limit)
	rows, err := q.query(ctx, query, args...)
	return collect(rows, err, scanAudit)
}

// listAuditQuery is ListAudit's statement: newest first by (at, id), the
// order of every audit index, one page below after. An actor filter that
// leads reads its two indexes (the actor, the user acted for) each in that
// order and merges a page of each: an OR of the two would fetch every one
// of the actor's events to sort them.
func (db *DB) listAuditQuery(f roster.AuditFilter, after *roster.AuditEvent, limit int) (string, []any) {
	actorLeads := f.ActorID != "" && f.OrgID == "" && f.WorkspaceID == ""
	rest := f
	if actorLeads {
		rest.ActorID = ""
	}
	where, args := db.auditWhere(rest, actorLeads)
	if after != nil {
		where, args = append(where, "(at < ? OR (at = ? AND id < ?))"), append(args, ts(after.At), ts(after.At), after.ID)
	}
	const order = ` ORDER BY at DESC, id DESC LIMIT ?`
	if !actorLeads {
		return `SELECT ` + auditRead + ` FROM audit_events WHERE ` + strings.Join(where, " AND ") + order, append(args, limit+1)
	}
	page := func(column, name string) string {
		return `SELECT id FROM (SELECT id, at FROM audit_events WHERE ` + column + ` = ? AND ` + strings.Join(where, " AND ") + order + `) AS ` + name
	}
	all := append([]any{f.ActorID}, args...)
	all = append(all, limit+1, f.ActorID)
	all = append(all, args...)
	all = append(all, limit+1, limit+1)
	return `SELECT ` + auditRead + ` FROM audit_events WHERE id IN (` + page("actor_user_id", "by_actor") + ` UNION ` + page("on_behalf_of", "for_user") + `)` + order, all
}

// auditWhere is the condition of a filter. One filter leads and keeps its
// index: the most selective given (an organisation, a workspace, an actor,
// an action, in that order), unless the caller has one already (led). The
// others are written so that the database cannot use their indexes: SQLite
// keeps no statistics to choose between them, and PostgreSQL would combine
// two bitmaps, reading every entry of the larger (an action's).
func (db *DB) auditWhere(f roster.AuditFilter, led bool) ([]string, []any) {
	where, args := []string{"1 = 1"}, []any{}
	col := func(name string) string {
		if !led {
			led = true
			return name
		}
		if db.dialect == SQLite {
			return "+" + name
		}
		return "(" + name + " || '')"
	}
	if f.OrgID != "" {
		where, args = append(where, col("org_id")+" = ?"), append(args, f.OrgID)
	}
	if f.WorkspaceID != "" {
		where, args = append(where, col("workspace_id")+" = ?"), append(args, f.WorkspaceID)
	}
	if f.ActorID != "" {
		actor := col("actor_user_id")
		obo := "on_behalf_of"
		if actor != "actor_user_id" {
			obo = col(obo)
		}
		where, args = append(where, "("+actor+" = ? OR "+obo+" = ?)"), append(args, f.ActorID, f.ActorID)
	}
	if f.Action != "" {
		where, args = append(where, col("action")+" = ?"), append(args, f.Action)
	}
	if f.Since != nil {
		where, args = append(where, "at >= ?"), append(args, ts(*f.Since))
	}
	if f.Until != nil {
		where, args = append(where, "at < ?"), append(args, ts(*f.Until))
	}
	return where, args
}

func scanAudit(r *sql.Rows) (roster.AuditEvent, error) {
	var e roster.AuditEvent
	var actorUser, actorToken, obo, org, ws, user, reason sql.NullString
	var before, after, notify []byte
	var txid string
	err := r.Scan(&e.ID, timeDest{&e.At}, &actorUser, &actorToken, &e.Via, &obo, &e.Action, &e.TargetType, &e.TargetID,
		&org, &ws, &before, &after, &e.RequestID, &e.IP, &user, &notify, &reason, &e.Cursor.Seq, &txid, &e.Pos, &e.PrevHash, &e.Hash)
	if err != nil {
		return e, err
	}
	e.ActorUserID, e.ActorTokenID, e.OnBehalfOf = nullString(actorUser), nullString(actorToken), nullString(obo)
	e.ActorReason = nullString(reason)
	e.OrgID, e.WorkspaceID, e.UserID = nullString(org), nullString(ws), nullString(user)
	e.Before, e.After = before, after
	if len(notify) > 0 {
		if err := json.Unmarshal(notify, &e.Notify); err != nil {
			return e, fmt.Errorf("audit notify: %w", err)
		}
	}
	e.Cursor.TxID, err = strconv.ParseUint(txid, 10, 64)
	return e, err
}
