package client

import (
	"context"
	"iter"
	"net/http"
)

// TaskFilter narrows ListTasks; empty fields do not filter.
type TaskFilter struct {
	ListOptions
	Status string // scheduled, processing, completed, failed or cancelled
	Type   string // membership_expiry, invitation_expiry, seat_recheck, webhook_delivery, callback, …
}

// ListTasks lists Roster's durable tasks, newest first (staff).
func (c *Client) ListTasks(ctx context.Context, f TaskFilter) iter.Seq2[Task, error] {
	q := f.query(nil)
	setIf(q, "status", f.Status)
	setIf(q, "type", f.Type)
	return list[Task](ctx, c, "/v1/admin/tasks", q)
}

// GetTask returns a task (staff).
func (c *Client) GetTask(ctx context.Context, id string) (Task, error) {
	var out Task
	return out, c.do(ctx, request{method: http.MethodGet, path: pathf("/v1/admin/tasks/%s", id), out: &out})
}

// CancelTask cancels a scheduled task (staff); 409 task_not_cancellable
// otherwise.
func (c *Client) CancelTask(ctx context.Context, id string) (Task, error) {
	var out Task
	return out, c.do(ctx, request{method: http.MethodPost, path: pathf("/v1/admin/tasks/%s/cancel", id), out: &out})
}

// RetryTask runs a failed or cancelled task again now (staff); 409
// task_not_retryable otherwise.
func (c *Client) RetryTask(ctx context.Context, id string) (Task, error) {
	var out Task
	return out, c.do(ctx, request{method: http.MethodPost, path: pathf("/v1/admin/tasks/%s/retry", id), out: &out})
}

// CreateCallback schedules a callback.due event carrying in.Payload at
// in.RunAt (service and admin tokens), and returns its task.
func (c *Client) CreateCallback(ctx context.Context, in NewCallback) (Task, error) {
	var out Task
	return out, c.do(ctx, request{method: http.MethodPost, path: "/v1/tasks/callbacks", body: in, out: &out})
}
