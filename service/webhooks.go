package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/webhook"
)

// Webhook endpoints belong to the host application: operators (platform
// admins and service tokens) manage them; to anyone else none exists.

var errWebhookNotFound = roster.Errorf(roster.KindNotFound, roster.CodeWebhookNotFound, "no such webhook")

// MaxWebhookDescriptionLen bounds an endpoint's description.
const MaxWebhookDescriptionLen = 500

// CreateWebhook registers an endpoint. Its secret is returned this once.
func (s *Service) CreateWebhook(ctx context.Context, in roster.NewWebhook) (roster.Webhook, error) {
	if !operator(actor(ctx)) {
		return roster.Webhook{}, errForbidden
	}
	if err := s.checkWebhookURL(ctx, in.URL); err != nil {
		return roster.Webhook{}, err
	}
	types, err := eventTypes(in.EventTypes)
	if err != nil {
		return roster.Webhook{}, err
	}
	if utf8.RuneCountInString(in.Description) > MaxWebhookDescriptionLen {
		return roster.Webhook{}, roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "description is at most %d characters", MaxWebhookDescriptionLen).With("field", "description")
	}
	var w roster.Webhook
	err = s.update(ctx, func(c *change) error {
		w = roster.Webhook{ID: roster.NewID(roster.PrefixWebhook), URL: in.URL, EventTypes: types, Description: in.Description,
			Secret: webhook.NewSecret(), CreatedAt: c.now, UpdatedAt: c.now}
		if err := c.audit(roster.ActionWebhookCreated, roster.TargetWebhook, w.ID, nil, webhookAudit(w)); err != nil {
			return err
		}
		w.CreatedEvent = c.audits[len(c.audits)-1].ID
		return c.tx.CreateWebhook(c.ctx, w)
	})
	return w, err
}

func (s *Service) checkWebhookURL(ctx context.Context, url string) error {
	check := webhook.ValidateURL
	if s.denyPrivate {
		check = func(u string) error { return webhook.CheckPublic(ctx, u) }
	}
	if err := check(url); err != nil {
		return roster.Errorf(roster.KindInvalid, roster.CodeInvalidWebhookURL, "%s", err.Error()).With("field", "url")
	}
	return nil
}

// eventTypes checks a list of event types; none means every type.
func eventTypes(types []string) ([]string, error) {
	out := []string{}
	for _, t := range types {
		if !roster.IsEventType(t) {
			return nil, roster.Errorf(roster.KindInvalid, roster.CodeUnknownEventType, "unknown event type %q", t).
				With("field", "event_types").With("allowed", roster.EventTypes)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

// webhookAudit records an endpoint, never its secrets.
func webhookAudit(w roster.Webhook) map[string]any {
	return map[string]any{"id": w.ID, "url": w.URL, "event_types": w.EventTypes, "description": w.Description, "disabled_at": w.DisabledAt,
		"previous_secret_until": w.PreviousUntil}
}

// ListWebhooks lists the endpoints.
func (s *Service) ListWebhooks(ctx context.Context, p roster.Page) ([]roster.Webhook, string, error) {
	if !operator(actor(ctx)) {
		return nil, "", errForbidden
	}
	ws, err := s.store.ListWebhooks(ctx, p)
	if err != nil {
		return nil, "", err
	}
	ws, next := roster.NextCursor(ws, p.Limit, func(w roster.Webhook) string { return w.ID })
	return ws, next, nil
}

// GetWebhook returns one endpoint.
func (s *Service) GetWebhook(ctx context.Context, id string) (roster.Webhook, error) {
	return s.webhook(ctx, s.store, id)
}

func (s *Service) webhook(ctx context.Context, r roster.Reader, id string) (roster.Webhook, error) {
	if !operator(actor(ctx)) || !roster.ValidID(roster.PrefixWebhook, id) {
		return roster.Webhook{}, errWebhookNotFound
	}
	w, err := r.GetWebhook(ctx, id)
	if errors.Is(err, roster.ErrNotFound) {
		return w, errWebhookNotFound
	}
	return w, err
}

// DeleteWebhook removes an endpoint; deliveries in flight stop.
func (s *Service) DeleteWebhook(ctx context.Context, id string) error {
	return s.update(ctx, func(c *change) error {
		w, err := s.webhook(ctx, c.tx, id)
		if err != nil {
			return err
		}
		before := w
		w.DeletedAt, w.UpdatedAt = &c.now, c.now
		if err := c.tx.UpdateWebhook(c.ctx, w); err != nil {
			return err
		}
		return c.audit(roster.ActionWebhookDeleted, roster.TargetWebhook, id, webhookAudit(before), nil)
	})
}

// RotateWebhookSecret gives an endpoint a new secret, returned this once;
// for a day deliveries carry signatures by both.
func (s *Service) RotateWebhookSecret(ctx context.Context, id string) (roster.Webhook, error) {
	var w roster.Webhook
	err := s.update(ctx, func(c *change) error {
		var err error
		if w, err = s.webhook(ctx, c.tx, id); err != nil {
			return err
		}
		before := w
		keys := webhook.Rotate(webhook.Keys{Current: w.Secret, Previous: w.PreviousSecret, PreviousUntil: timeOrZero(w.PreviousUntil)}, c.now)
		until := keys.PreviousUntil
		w.Secret, w.PreviousSecret, w.PreviousUntil, w.UpdatedAt = keys.Current, keys.Previous, &until, c.now
		if err := c.tx.UpdateWebhook(c.ctx, w); err != nil {
			return err
		}
		return c.audit(roster.ActionWebhookRotated, roster.TargetWebhook, id, webhookAudit(before), webhookAudit(w))
	})
	return w, err
}

func timeOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// ListDeliveries lists an endpoint's deliveries, newest first.
func (s *Service) ListDeliveries(ctx context.Context, webhookID string, p roster.Page) ([]roster.Delivery, string, error) {
	if _, err := s.webhook(ctx, s.store, webhookID); err != nil {
		return nil, "", err
	}
	ds, err := s.store.ListDeliveries(ctx, webhookID, p)
	if err != nil {
		return nil, "", err
	}
	ds, next := roster.NextCursor(ds, p.Limit, func(d roster.Delivery) string { return d.ID })
	return ds, next, nil
}

// The dispatcher turns events into deliveries: one replica at a time reads
// the event log from where the last one stopped and, in the same
// transaction, records a pending delivery and schedules its task for every
// endpoint that wants each event. Nothing is dispatched twice or lost.

const dispatchBatch = 500

// dispatch runs the dispatcher until ctx ends.
func (s *Service) dispatch(ctx context.Context) {
	s.followLog(ctx, "dispatching events to webhooks", s.dispatchOnce)
}

// followLog runs step, a writer that follows the event log in batches (the
// webhook dispatcher, the audit sealer), on every poll until ctx ends, and
// again at once while step says more may follow. Once step has reported
// where the log ends, a poll that finds nothing after it costs one read,
// not a write transaction.
func (s *Service) followLog(ctx context.Context, what string, step func(context.Context, **roster.EventCursor) (bool, error)) {
	ctx = roster.WithActor(ctx, roster.SystemActor())
	t := time.NewTicker(s.hub.poll)
	defer t.Stop()
	var seen *roster.EventCursor // the log is done up to here, once known
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for {
			more, err := s.followStep(ctx, &seen, step)
			if err != nil && ctx.Err() == nil {
				s.log.Warn(what, "err", err)
			}
			if !more || err != nil {
				break
			}
		}
	}
}

// followStep runs one step, within a deadline of its own (the loop has none).
func (s *Service) followStep(ctx context.Context, seen **roster.EventCursor, step func(context.Context, **roster.EventCursor) (bool, error)) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	if *seen != nil {
		next, err := s.store.EventsAfter(ctx, **seen, 1)
		if err != nil || len(next) == 0 {
			return false, err
		}
	}
	return step(ctx, seen)
}

// dispatchOnce dispatches the next batch of events; it reports whether more
// may follow, and sets seen to where the log ends when it has read it all.
func (s *Service) dispatchOnce(ctx context.Context, seen **roster.EventCursor) (bool, error) {
	more := false
	err := s.update(ctx, func(c *change) error {
		cur, ok, err := c.tx.LockDispatch(c.ctx)
		if err != nil || !ok {
			return err
		}
		events, err := c.tx.EventsAfter(c.ctx, cur, dispatchBatch)
		if err != nil || len(events) == 0 {
			*seen = &cur
			return err
		}
		hooks, err := allWebhooks(c.ctx, c.tx)
		if err != nil {
			return err
		}
		since := make([]roster.EventCursor, len(hooks))
		for i, w := range hooks {
			if since[i], err = c.tx.EventCursorOf(c.ctx, w.CreatedEvent); err != nil {
				return err
			}
		}
		var tasks []roster.NewTask
		for _, e := range events {
			for i, w := range hooks {
				if !since[i].Before(e.Cursor) || !wants(w, e) {
					continue
				}
				task, err := c.deliver(w, e)
				if err != nil {
					return err
				}
				tasks = append(tasks, task)
			}
		}
		if err := c.tx.ScheduleTasks(c.ctx, tasks); err != nil {
			return err
		}
		last := events[len(events)-1].Cursor
		*seen, more = &last, len(events) == dispatchBatch
		return c.tx.SetDispatch(c.ctx, last)
	})
	return more, err
}

// wants reports whether endpoint w gets event e, which follows its
// creation: it takes the type, and a callback names no other endpoint.
func wants(w roster.Webhook, e roster.AuditEvent) bool {
	if !w.Wants(e.Action) {
		return false
	}
	if e.Action == roster.ActionCallbackDue {
		var cb struct {
			WebhookID *string `json:"webhook_id"`
		}
		json.Unmarshal(e.After, &cb)
		return cb.WebhookID == nil || *cb.WebhookID == w.ID
	}
	return true
}

func allWebhooks(ctx context.Context, r roster.Reader) ([]roster.Webhook, error) {
	var all []roster.Webhook
	for p := (roster.Page{Limit: roster.MaxPageLimit}); ; {
		ws, err := r.ListWebhooks(ctx, p)
		if err != nil {
			return nil, err
		}
		all = append(all, ws[:min(len(ws), p.Limit)]...)
		if len(ws) <= p.Limit {
			return all, nil
		}
		p.After = ws[p.Limit-1].ID
	}
}

// webhookDelivery is the payload of a TaskWebhookDelivery.
type webhookDelivery struct {
	DeliveryID string `json:"delivery_id"`
}

// deliver records a pending delivery of e to w and returns its task, for
// the dispatcher to schedule with the batch's others.
func (c *change) deliver(w roster.Webhook, e roster.AuditEvent) (roster.NewTask, error) {
	d := roster.Delivery{ID: roster.NewID(roster.PrefixDelivery), WebhookID: w.ID, EventID: e.ID, EventType: e.Action,
		Status: roster.DeliveryPending, CreatedAt: c.now, UpdatedAt: c.now, NextAttemptAt: &c.now}
	if err := c.tx.CreateDelivery(c.ctx, d); err != nil {
		return roster.NewTask{}, err
	}
	raw, err := json.Marshal(webhookDelivery{DeliveryID: d.ID})
	return roster.NewTask{Type: roster.TaskWebhookDelivery, Payload: raw}, err
}

// deliverOnce makes one attempt of a delivery. A failure is retried on the
// webhook schedule; an endpoint failing for WebhookDisableAfter is
// disabled.
func (s *Service) deliverOnce(ctx context.Context, p webhookDelivery) error {
	d, err := s.store.GetDelivery(ctx, p.DeliveryID)
	if errors.Is(err, roster.ErrNotFound) || (err == nil && d.Status != roster.DeliveryPending) {
		return nil
	}
	if err != nil {
		return err
	}
	w, err := s.store.GetWebhook(ctx, d.WebhookID)
	if errors.Is(err, roster.ErrNotFound) || (err == nil && w.DisabledAt != nil) {
		return s.finishDelivery(ctx, d, nil, webhook.Result{Err: errors.New("the endpoint was deleted or disabled")}, false)
	}
	if err != nil {
		return err
	}
	a, err := s.store.GetEvent(ctx, d.EventID)
	if err != nil {
		return err
	}
	e, err := toEvent(a)
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"type": e.Type, "timestamp": e.CreatedAt, "data": e})
	if err != nil {
		return err
	}
	now := s.now()
	keys := webhook.Keys{Current: w.Secret, Previous: w.PreviousSecret, PreviousUntil: timeOrZero(w.PreviousUntil)}
	res := s.webhooks.Deliver(ctx, w.URL, e.ID, now, body, keys.Signing(now))
	return s.finishDelivery(ctx, d, &w, res, true)
}

// finishDelivery records an attempt's outcome and decides what follows.
// seen is the endpoint as the attempt read it, if it did.
func (s *Service) finishDelivery(ctx context.Context, d roster.Delivery, seen *roster.Webhook, res webhook.Result, attempted bool) error {
	var retry time.Duration
	err := s.update(ctx, func(c *change) error {
		if attempted {
			d.Attempt++
		}
		d.UpdatedAt, d.NextAttemptAt, d.Error, d.ResponseBody, d.ResponseStatus = c.now, nil, "", res.Body, nil
		if res.Status != 0 {
			status := res.Status
			d.ResponseStatus = &status
		}
		if res.OK() && seen != nil && seen.FailingSince == nil { // the common case: nothing else to change
			d.Status = roster.DeliverySucceeded
			return c.tx.UpdateDelivery(c.ctx, d)
		}
		w, err := c.tx.GetWebhook(c.ctx, d.WebhookID)
		gone := errors.Is(err, roster.ErrNotFound)
		if err != nil && !gone {
			return err
		}
		switch {
		case res.OK():
			d.Status = roster.DeliverySucceeded
			if w.FailingSince != nil {
				w.FailingSince, w.UpdatedAt = nil, c.now
				if err := c.tx.UpdateWebhook(c.ctx, w); err != nil {
					return err
				}
			}
			return c.tx.UpdateDelivery(c.ctx, d)
		case res.Err != nil:
			d.Error = res.Err.Error()
		default:
			d.Error = fmt.Sprintf("the endpoint answered %d", res.Status)
		}
		next, again := s.webhookSchedule.Next(d.Attempt)
		if !attempted || gone || w.DisabledAt != nil {
			again = false
		}
		d.Status = roster.DeliveryFailed
		if again {
			at := c.now.Add(next)
			d.Status, d.NextAttemptAt, retry = roster.DeliveryPending, &at, next
		}
		if err := c.tx.UpdateDelivery(c.ctx, d); err != nil {
			return err
		}
		if gone || !attempted {
			return nil
		}
		return c.noteWebhookFailure(w)
	})
	if err != nil {
		return err
	}
	outcome := string(d.Status)
	if retry > 0 {
		outcome = "retried"
	}
	s.deliveries.add(outcome)
	if retry > 0 {
		return &roster.RetryLater{Delay: retry, Reason: d.Error}
	}
	return nil
}

// deliveryCounts counts delivery attempts by outcome.
type deliveryCounts struct {
	mu sync.Mutex
	n  map[string]uint64
}

func (c *deliveryCounts) add(outcome string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]uint64{}
	}
	c.n[outcome]++
}

// Deliveries counts this replica's delivery attempts by outcome.
func (s *Service) Deliveries() map[string]uint64 {
	s.deliveries.mu.Lock()
	defer s.deliveries.mu.Unlock()
	out := map[string]uint64{}
	for _, o := range []string{string(roster.DeliverySucceeded), "retried", string(roster.DeliveryFailed)} {
		out[o] = s.deliveries.n[o]
	}
	return out
}

// CountTasks counts every replica's tasks by type and status.
func (s *Service) CountTasks(ctx context.Context) (map[roster.TaskType]map[roster.TaskStatus]int, error) {
	return s.store.CountTasks(ctx)
}

// noteWebhookFailure marks an endpoint failing, and disables one that has
// failed, without a success, for WebhookDisableAfter.
func (c *change) noteWebhookFailure(w roster.Webhook) error {
	switch {
	case w.DisabledAt != nil:
		return nil
	case w.FailingSince == nil:
		w.FailingSince = &c.now
	case c.now.Sub(*w.FailingSince) >= roster.WebhookDisableAfter:
		before := w
		w.DisabledAt, w.UpdatedAt = &c.now, c.now
		if err := c.tx.UpdateWebhook(c.ctx, w); err != nil {
			return err
		}
		return c.audit(roster.ActionWebhookDisabled, roster.TargetWebhook, w.ID, webhookAudit(before), webhookAudit(w))
	default:
		return nil
	}
	w.UpdatedAt = c.now
	return c.tx.UpdateWebhook(c.ctx, w)
}
