package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/roster-dev/roster"
)

// The host application's own durable one-shot work: a callback becomes a
// callback.due event at its time, delivered like any event (to the one
// endpoint it names, or to every endpoint that takes callback.due).

// Callback limits.
const (
	MaxCallbackPayload = 64 << 10
	MaxCallbackHorizon = 366 * 24 * time.Hour
)

// callback is the payload of a TaskCallback.
type callback struct {
	Payload   json.RawMessage `json:"payload"`
	WebhookID *string         `json:"webhook_id,omitempty"`
}

// CreateCallback schedules a callback (service tokens and platform admins).
func (s *Service) CreateCallback(ctx context.Context, in roster.NewCallback) (roster.Task, error) {
	if !operator(actor(ctx)) {
		return roster.Task{}, errForbidden
	}
	if len(in.Payload) > MaxCallbackPayload {
		return roster.Task{}, roster.Errorf(roster.KindInvalid, roster.CodePayloadTooLarge, "payload is at most %d bytes", MaxCallbackPayload).With("field", "payload")
	}
	if len(in.Payload) == 0 {
		in.Payload = json.RawMessage("null")
	}
	now := s.now()
	if !roster.TimeInRange(in.RunAt) || in.RunAt.After(now.Add(MaxCallbackHorizon)) {
		return roster.Task{}, roster.Errorf(roster.KindInvalid, roster.CodeInvalidRunAt, "run_at must be at most a year ahead").With("field", "run_at")
	}
	var id string
	err := s.update(ctx, func(c *change) error {
		if in.WebhookID != nil {
			if _, err := s.webhook(ctx, c.tx, *in.WebhookID); errors.Is(err, errWebhookNotFound) {
				return roster.Errorf(roster.KindInvalid, roster.CodeUnknownWebhook, "no webhook %q", *in.WebhookID).With("field", "webhook_id")
			} else if err != nil {
				return err
			}
		}
		raw, err := json.Marshal(callback{Payload: in.Payload, WebhookID: in.WebhookID})
		if err != nil {
			return err
		}
		if id, err = c.tx.ScheduleTask(c.ctx, roster.NewTask{Type: roster.TaskCallback, RunAt: in.RunAt, Payload: raw}); err != nil {
			return err
		}
		return c.audit(roster.ActionCallbackScheduled, roster.TargetTask, id, nil,
			map[string]any{"task_id": id, "run_at": in.RunAt.UTC(), "webhook_id": in.WebhookID})
	})
	if err != nil {
		return roster.Task{}, err
	}
	return s.store.GetTask(ctx, id)
}

// callbackDue turns a due callback into its event.
func (s *Service) callbackDue(ctx context.Context, t roster.Task) error {
	var cb callback
	if err := json.Unmarshal(t.Payload, &cb); err != nil {
		return fmt.Errorf("task %s: %w", t.ID, err)
	}
	return s.update(ctx, func(c *change) error {
		return c.audit(roster.ActionCallbackDue, roster.TargetTask, t.ID, nil,
			map[string]any{"task_id": t.ID, "payload": cb.Payload, "webhook_id": cb.WebhookID})
	})
}
