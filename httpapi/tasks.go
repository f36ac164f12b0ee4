package httpapi

import (
	"context"
	"encoding/json"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster"
)

type taskStatus string

func (taskStatus) Schema(huma.Registry) *huma.Schema { return enumSchema(roster.TaskStatuses) }

type taskType string

func (taskType) Schema(huma.Registry) *huma.Schema { return enumSchema(roster.TaskTypes) }

// Task is durable work as staff see it.
type Task struct {
	ID          string     `json:"id" example:"task_000000000000002a"`
	Type        taskType   `json:"type"`
	Status      taskStatus `json:"status"`
	RunAt       time.Time  `json:"run_at" doc:"When it is (or was) due"`
	Attempts    int        `json:"attempts"`
	MaxAttempts int        `json:"max_attempts"`
	LastError   *string    `json:"last_error" doc:"Why the last attempt failed"`
	CreatedAt   time.Time  `json:"created_at"`
	FinishedAt  *time.Time `json:"finished_at" doc:"When it completed, failed for good or was cancelled"`
	Payload     any        `json:"payload" doc:"What the task was made for"`
}

func toTask(t roster.Task) Task {
	out := Task{ID: t.ID, Type: taskType(t.Type), Status: taskStatus(t.Status), RunAt: t.RunAt, Attempts: t.Attempts,
		MaxAttempts: t.MaxAttempts, LastError: optionalString(t.LastError), CreatedAt: t.CreatedAt, FinishedAt: t.FinishedAt,
		Payload: json.RawMessage("null")}
	if len(t.Payload) > 0 {
		out.Payload = json.RawMessage(t.Payload)
	}
	return out
}

type listTasksInput struct {
	PageParams
	Status taskStatus `query:"status"`
	Type   taskType   `query:"type"`
}

func (s *Server) listTasks(ctx context.Context, in *listTasksInput, p roster.Page) ([]roster.Task, string, error) {
	return s.svc.ListTasks(ctx, roster.TaskFilter{Status: roster.TaskStatus(in.Status), Type: roster.TaskType(in.Type)}, p)
}

type taskIDInput struct {
	ID string `path:"id" doc:"Task id"`
}

type taskOutput struct{ Body Task }

func (s *Server) getTask(ctx context.Context, in *taskIDInput) (*taskOutput, error) {
	return taskResult(s.svc.GetTask(ctx, in.ID))
}

func (s *Server) cancelTask(ctx context.Context, in *taskIDInput) (*taskOutput, error) {
	return taskResult(s.svc.CancelTask(ctx, in.ID))
}

func (s *Server) retryTask(ctx context.Context, in *taskIDInput) (*taskOutput, error) {
	return taskResult(s.svc.RetryTask(ctx, in.ID))
}

func taskResult(t roster.Task, err error) (*taskOutput, error) {
	if err != nil {
		return nil, err
	}
	return &taskOutput{Body: toTask(t)}, nil
}
