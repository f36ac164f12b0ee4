package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/roster-dev/roster"
)

const webhookColumns = `id, url, event_types, description, secret, previous_secret, previous_until, failing_since,
	disabled_at, created_at, updated_at, deleted_at, created_event`

func scanWebhook(s interface{ Scan(...any) error }) (roster.Webhook, error) {
	var w roster.Webhook
	var types []byte
	var previous sql.NullString
	err := s.Scan(&w.ID, &w.URL, &types, &w.Description, &w.Secret, &previous, nullTimeDest{&w.PreviousUntil},
		nullTimeDest{&w.FailingSince}, nullTimeDest{&w.DisabledAt}, timeDest{&w.CreatedAt}, timeDest{&w.UpdatedAt}, nullTimeDest{&w.DeletedAt},
		&w.CreatedEvent)
	if err != nil {
		return w, scanOne(err)
	}
	w.PreviousSecret = previous.String
	if err := json.Unmarshal(types, &w.EventTypes); err != nil {
		return w, fmt.Errorf("webhook %s event types: %w", w.ID, err)
	}
	return w, nil
}

func webhookArgs(w roster.Webhook) ([]any, error) {
	types := w.EventTypes
	if types == nil {
		types = []string{}
	}
	raw, err := json.Marshal(types)
	if err != nil {
		return nil, err
	}
	var previous any
	if w.PreviousSecret != "" {
		previous = w.PreviousSecret
	}
	return []any{w.ID, w.URL, string(raw), w.Description, w.Secret, previous, nts(w.PreviousUntil), nts(w.FailingSince),
		nts(w.DisabledAt), ts(w.CreatedAt), ts(w.UpdatedAt), nts(w.DeletedAt), w.CreatedEvent}, nil
}

func (q queries) ListWebhooks(ctx context.Context, p roster.Page) ([]roster.Webhook, error) {
	rows, err := q.query(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE deleted_at IS NULL AND id > ? ORDER BY id LIMIT ?`, p.After, p.Limit+1)
	return collect(rows, err, func(r *sql.Rows) (roster.Webhook, error) { return scanWebhook(r) })
}

func (q queries) GetWebhook(ctx context.Context, id string) (roster.Webhook, error) {
	return scanWebhook(q.queryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ? AND deleted_at IS NULL`, id))
}

func (t *tx) CreateWebhook(ctx context.Context, w roster.Webhook) error {
	args, err := webhookArgs(w)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO webhooks (`+webhookColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...)
	return err
}

func (t *tx) UpdateWebhook(ctx context.Context, w roster.Webhook) error {
	args, err := webhookArgs(w)
	if err != nil {
		return err
	}
	res, err := t.exec(ctx, `UPDATE webhooks SET url = ?, event_types = ?, description = ?, secret = ?, previous_secret = ?,
		previous_until = ?, failing_since = ?, disabled_at = ?, updated_at = ?, deleted_at = ? WHERE id = ?`,
		append(args[1:9:9], args[10], args[11], w.ID)...)
	return oneRowOr(res, err, roster.ErrNotFound)
}

const deliveryColumns = `id, webhook_id, event_id, event_type, attempt, status, response_status, response_body, error,
	created_at, updated_at, next_attempt_at`

func scanDelivery(s interface{ Scan(...any) error }) (roster.Delivery, error) {
	var d roster.Delivery
	var status sql.NullInt64
	err := s.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.EventType, &d.Attempt, &d.Status, &status, &d.ResponseBody, &d.Error,
		timeDest{&d.CreatedAt}, timeDest{&d.UpdatedAt}, nullTimeDest{&d.NextAttemptAt})
	if status.Valid {
		n := int(status.Int64)
		d.ResponseStatus = &n
	}
	return d, scanOne(err)
}

func deliveryArgs(d roster.Delivery) []any {
	var status any
	if d.ResponseStatus != nil {
		status = *d.ResponseStatus
	}
	return []any{d.ID, d.WebhookID, d.EventID, d.EventType, d.Attempt, string(d.Status), status, d.ResponseBody, d.Error,
		ts(d.CreatedAt), ts(d.UpdatedAt), nts(d.NextAttemptAt)}
}

func (q queries) ListDeliveries(ctx context.Context, webhookID string, p roster.Page) ([]roster.Delivery, error) {
	// Newest first. No sentinel for the first page: "~" sorts after every id
	// only under the C collation.
	where, args := "webhook_id = ?", []any{webhookID}
	if p.After != "" {
		where, args = where+" AND id < ?", append(args, p.After)
	}
	rows, err := q.query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE `+where+` ORDER BY id DESC LIMIT ?`,
		append(args, p.Limit+1)...)
	return collect(rows, err, func(r *sql.Rows) (roster.Delivery, error) { return scanDelivery(r) })
}

func (q queries) GetDelivery(ctx context.Context, id string) (roster.Delivery, error) {
	return scanDelivery(q.queryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE id = ?`, id))
}

func (t *tx) CreateDelivery(ctx context.Context, d roster.Delivery) error {
	_, err := t.exec(ctx, `INSERT INTO webhook_deliveries (`+deliveryColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, deliveryArgs(d)...)
	return err
}

func (t *tx) UpdateDelivery(ctx context.Context, d roster.Delivery) error {
	args := deliveryArgs(d)
	res, err := t.exec(ctx, `UPDATE webhook_deliveries SET attempt = ?, status = ?, response_status = ?, response_body = ?, error = ?,
		updated_at = ?, next_attempt_at = ? WHERE id = ?`, args[4], args[5], args[6], args[7], args[8], args[10], args[11], d.ID)
	return oneRowOr(res, err, roster.ErrNotFound)
}

// dispatcherName names the one row of event_dispatch.
const dispatcherName = "webhooks"

// LockDispatch takes the dispatcher's row for this transaction. On
// PostgreSQL a replica that finds it taken skips its turn rather than wait;
// SQLite's one writer needs no lock.
func (t *tx) LockDispatch(ctx context.Context) (roster.EventCursor, bool, error) {
	lock := ""
	if t.db.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var txid string
	var cur roster.EventCursor
	err := t.queryRow(ctx, `SELECT txid, seq FROM event_dispatch WHERE name = ?`+lock, dispatcherName).Scan(&txid, &cur.Seq)
	if errors.Is(err, roster.ErrNotFound) {
		return cur, false, nil // another replica's turn (the migration wrote the row)
	}
	if err != nil {
		return cur, false, err
	}
	cur.TxID, err = strconv.ParseUint(txid, 10, 64)
	return cur, err == nil, err
}

// SetDispatch moves the dispatcher's place in the log.
func (t *tx) SetDispatch(ctx context.Context, cur roster.EventCursor) error {
	_, err := t.exec(ctx, `UPDATE event_dispatch SET txid = ?, seq = ? WHERE name = ?`, strconv.FormatUint(cur.TxID, 10), cur.Seq, dispatcherName)
	return err
}
