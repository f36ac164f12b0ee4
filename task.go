package roster

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TaskType names a kind of durable work; each has one handler.
type TaskType string

const (
	// TaskMembershipExpiry ends a workspace membership at its expires_at.
	TaskMembershipExpiry TaskType = "membership_expiry"
	// TaskInvitationExpiry marks a pending invitation expired at its expires_at.
	TaskInvitationExpiry TaskType = "invitation_expiry"
	// TaskSeatRecheck recounts the seats whose expiry has passed.
	TaskSeatRecheck TaskType = "seat_recheck"
	// TaskWebhookDelivery delivers one event to one endpoint.
	TaskWebhookDelivery TaskType = "webhook_delivery"
	// TaskCallback is the host application's own one-shot work: at its
	// time it becomes a callback.due event.
	TaskCallback TaskType = "callback"
	// TaskSupportEnd ends a support session at its expires_at.
	TaskSupportEnd TaskType = "support_session_end"
	// TaskSupportSweep ends the support sessions past their expiry that
	// their own task has not ended.
	TaskSupportSweep TaskType = "support_sweep"
)

// TaskTypes lists every task type, in the order the API documents them.
var TaskTypes = []TaskType{TaskMembershipExpiry, TaskInvitationExpiry, TaskSeatRecheck, TaskWebhookDelivery, TaskCallback, TaskSupportEnd, TaskSupportSweep}

// RetryLater is a task handler's answer when its work must be tried again
// after Delay, without counting as a failed attempt of the task (the
// handler keeps its own count, as webhook deliveries do).
type RetryLater struct {
	Delay  time.Duration
	Reason string
}

func (r *RetryLater) Error() string { return "retry in " + r.Delay.String() + ": " + r.Reason }

// TaskStatus is where a task is in its life.
type TaskStatus string

const (
	TaskScheduled  TaskStatus = "scheduled"  // waiting for its time, or for a retry
	TaskProcessing TaskStatus = "processing" // claimed by a replica and running
	TaskCompleted  TaskStatus = "completed"
	TaskFailed     TaskStatus = "failed" // out of attempts
	TaskCancelled  TaskStatus = "cancelled"
)

// TaskStatuses lists every task status.
var TaskStatuses = []TaskStatus{TaskScheduled, TaskProcessing, TaskCompleted, TaskFailed, TaskCancelled}

// PrefixTask starts every task id.
const PrefixTask = "task_"

// Task ids number tasks in the order they were scheduled: the prefix and
// 16 hex digits, so that they sort as they were made.
const taskIDDigits = 16

// TaskID is the id of the task numbered n.
func TaskID(n int64) string { return fmt.Sprintf("%s%0*x", PrefixTask, taskIDDigits, n) }

// ParseTaskID returns the number of a task id.
func ParseTaskID(id string) (int64, bool) {
	digits, ok := strings.CutPrefix(id, PrefixTask)
	if !ok || len(digits) != taskIDDigits {
		return 0, false
	}
	n, err := strconv.ParseInt(digits, 16, 64)
	return n, err == nil && n > 0
}

// Task errors the store reports.
var (
	ErrTaskNotFound       = Errorf(KindNotFound, CodeTaskNotFound, "no such task")
	ErrTaskNotCancellable = Errorf(KindConflict, CodeTaskNotCancellable, "only a scheduled task can be cancelled")
	ErrTaskNotRetryable   = Errorf(KindConflict, CodeTaskNotRetryable, "only a failed or cancelled task can be retried")
)

// NewTask is work to schedule.
type NewTask struct {
	Type TaskType
	// RunAt is when the task becomes due; zero or past means now.
	RunAt   time.Time
	Payload json.RawMessage
	// MaxAttempts bounds the runs of a failing task; 0 means the default.
	MaxAttempts int
}

// Task is scheduled work as staff see it.
type Task struct {
	ID          string
	Type        TaskType
	Status      TaskStatus
	RunAt       time.Time
	Attempts    int
	MaxAttempts int
	LastError   string
	CreatedAt   time.Time
	FinishedAt  *time.Time
	Payload     json.RawMessage
}

// TaskFilter narrows a task list; empty fields match everything.
type TaskFilter struct {
	Status TaskStatus
	Type   TaskType
}

// RecurringTask is work one replica of the cluster does on a schedule.
type RecurringTask struct {
	Type  TaskType
	Every time.Duration
}

// TaskWriter schedules and administers tasks in a transaction: what it does
// takes effect exactly when the change commits.
type TaskWriter interface {
	// ScheduleTask returns the new task's id.
	ScheduleTask(ctx context.Context, t NewTask) (string, error)
	// ScheduleTasks schedules many at once.
	ScheduleTasks(ctx context.Context, ts []NewTask) error
	// CancelTask cancels a scheduled task: ErrTaskNotCancellable otherwise.
	CancelTask(ctx context.Context, id string) (Task, error)
	// RetryTask makes a failed or cancelled task due now:
	// ErrTaskNotRetryable otherwise.
	RetryTask(ctx context.Context, id string) (Task, error)
}

// TaskHandler does one task. An error makes the task retry with backoff
// until it runs out of attempts. Handlers must be idempotent: a task whose
// replica died mid-run runs again.
type TaskHandler interface {
	HandleTask(ctx context.Context, t Task) error
}

// TaskQueue runs and administers tasks. Tasks are claimed once across every
// replica sharing the database.
type TaskQueue interface {
	// ListTasks lists tasks newest first. Page.After is a task id.
	ListTasks(ctx context.Context, f TaskFilter, p Page) ([]Task, error)
	GetTask(ctx context.Context, id string) (Task, error)
	// CountTasks counts tasks by type and status.
	CountTasks(ctx context.Context) (map[TaskType]map[TaskStatus]int, error)
	// RunTasks works due tasks with h until ctx ends, and schedules the
	// recurring ones (on one replica at a time).
	RunTasks(ctx context.Context, h TaskHandler, recurring []RecurringTask) error
}

// ParseTaskStatus validates a status filter.
func ParseTaskStatus(s string) (TaskStatus, error) {
	return parseEnum(s, TaskStatuses, CodeInvalidStatus, "status")
}

// ParseTaskType validates a type filter.
func ParseTaskType(s string) (TaskType, error) {
	return parseEnum(s, TaskTypes, CodeInvalidTaskType, "type")
}

// Cancellable reports whether a task in this status may be cancelled
// (ErrTaskNotCancellable otherwise).
func (s TaskStatus) Cancellable() bool { return s == TaskScheduled }

// Retryable reports whether a task in this status may be retried
// (ErrTaskNotRetryable otherwise).
func (s TaskStatus) Retryable() bool { return s == TaskFailed || s == TaskCancelled }
