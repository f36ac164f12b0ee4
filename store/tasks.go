package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/roster-dev/roster"
)

// Tasks are River jobs in the same database, so that a task is scheduled in
// the transaction of the change that makes it and claimed once by whichever
// replica is free. River is known only here.

// TaskOptions tune how tasks run. Zero values take defaults.
type TaskOptions struct {
	// Workers is how many tasks one replica runs at once (default 100).
	Workers int
	// Clock, when set, is the time tasks fall due by (tests); by default
	// the database's clock decides.
	Clock roster.Clock
	// PollInterval is how often a replica looks for due tasks when nothing
	// told it of one (default 1 s; new tasks are announced at once).
	PollInterval time.Duration
	// Retention is how long finished tasks stay listed (default 7 days;
	// negative: forever).
	Retention time.Duration
	// RescueAfter is how long a task may stay claimed before another
	// replica takes it over, its own having died (default 1 h).
	RescueAfter time.Duration
	// Timeout bounds one run of a task (default 1 min).
	Timeout time.Duration
	Logger  *slog.Logger
}

func (o TaskOptions) withDefaults() TaskOptions {
	if o.Workers <= 0 {
		o.Workers = 100
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.Retention == 0 {
		o.Retention = 7 * 24 * time.Hour
	}
	if o.RescueAfter <= 0 {
		o.RescueAfter = time.Hour
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o
}

// fetchCooldown is the least time between two fetches of due tasks by one
// replica: each fetch claims up to Workers tasks, so it bounds how many
// tasks a replica starts per second.
const fetchCooldown = 10 * time.Millisecond

// taskKind is the River kind of every Roster task; the Roster type travels
// as the job's one tag, which River lists can filter on.
const taskKind = "roster_task"

type taskArgs struct {
	Type    roster.TaskType `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func (taskArgs) Kind() string { return taskKind }

// taskClient is the River client a store inserts and administers tasks
// with; it never works them (RunTasks starts one that does).
type taskClient = river.Client[*sql.Tx]

func (db *DB) openTasks(opts TaskOptions) error {
	db.taskOpts = opts.withDefaults()
	var err error
	db.taskWriter, err = river.NewClient(db.taskDriver(db.write), db.riverConfig(nil))
	if err != nil {
		return fmt.Errorf("tasks: %w", err)
	}
	db.taskReader = db.taskWriter
	if db.read != db.write {
		// SQLite's one writer connection may be held by a transaction for
		// a while; lists and reads of tasks need not wait for it.
		if db.taskReader, err = river.NewClient(db.taskDriver(db.read), db.riverConfig(nil)); err != nil {
			return fmt.Errorf("tasks: %w", err)
		}
	}
	return nil
}

func (db *DB) taskDriver(pool *sql.DB) riverdriver.Driver[*sql.Tx] {
	if db.dialect == Postgres {
		return riverdatabasesql.New(pool)
	}
	return riversqlite.New(pool)
}

// riverConfig configures a client; workers is nil for one that only
// inserts and administers.
func (db *DB) riverConfig(workers *river.Workers) *river.Config {
	o := db.taskOpts
	retention := o.Retention
	cfg := &river.Config{
		Schema:                      db.schema,
		Logger:                      o.Logger,
		FetchCooldown:               min(fetchCooldown, o.PollInterval),
		FetchPollInterval:           o.PollInterval,
		JobTimeout:                  o.Timeout,
		RescueStuckJobsAfter:        max(o.RescueAfter, o.Timeout),
		CompletedJobRetentionPeriod: retention,
		CancelledJobRetentionPeriod: retention,
		DiscardedJobRetentionPeriod: retention,
		SkipUnknownJobCheck:         workers == nil,
		Workers:                     workers,
	}
	if workers != nil {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.Workers}}
	}
	if o.Clock != nil {
		cfg.Test.Time = riverClock{o.Clock}
	}
	return cfg
}

// riverClock is a roster.Clock as River takes one.
type riverClock struct{ now roster.Clock }

func (c riverClock) Now() time.Time { return c.now().UTC() }
func (c riverClock) NowOrNil() *time.Time {
	t := c.now().UTC()
	return &t
}

// ScheduleTask schedules t to run once this transaction commits.
func (t *tx) ScheduleTask(ctx context.Context, nt roster.NewTask) (string, error) {
	args, opts := t.db.riverTask(nt)
	res, err := t.db.taskWriter.InsertTx(ctx, t.sqlTx, args, opts)
	if err != nil {
		return "", fmt.Errorf("schedule %s task: %w", nt.Type, translate(err))
	}
	return roster.TaskID(res.Job.ID), nil
}

// ScheduleTasks schedules many tasks in one statement.
func (t *tx) ScheduleTasks(ctx context.Context, nts []roster.NewTask) error {
	if len(nts) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(nts))
	for i, nt := range nts {
		params[i].Args, params[i].InsertOpts = t.db.riverTask(nt)
	}
	if _, err := t.db.taskWriter.InsertManyTx(ctx, t.sqlTx, params); err != nil {
		return fmt.Errorf("schedule %d tasks: %w", len(nts), translate(err))
	}
	return nil
}

// riverTask is a task as River inserts it.
func (db *DB) riverTask(nt roster.NewTask) (taskArgs, *river.InsertOpts) {
	opts := &river.InsertOpts{Tags: []string{string(nt.Type)}, MaxAttempts: nt.MaxAttempts}
	if !nt.RunAt.IsZero() && nt.RunAt.After(db.taskNow()) {
		opts.ScheduledAt = nt.RunAt
	}
	return taskArgs{Type: nt.Type, Payload: nt.Payload}, opts
}

// taskNow is the time tasks fall due by.
func (db *DB) taskNow() time.Time {
	if db.taskOpts.Clock != nil {
		return db.taskOpts.Clock()
	}
	return time.Now()
}

// taskStatuses maps River's states to what staff see.
var taskStatuses = map[rivertype.JobState]roster.TaskStatus{
	rivertype.JobStateAvailable: roster.TaskScheduled,
	rivertype.JobStatePending:   roster.TaskScheduled,
	rivertype.JobStateScheduled: roster.TaskScheduled,
	rivertype.JobStateRetryable: roster.TaskScheduled,
	rivertype.JobStateRunning:   roster.TaskProcessing,
	rivertype.JobStateCompleted: roster.TaskCompleted,
	rivertype.JobStateDiscarded: roster.TaskFailed,
	rivertype.JobStateCancelled: roster.TaskCancelled,
}

func jobStates(s roster.TaskStatus) []rivertype.JobState {
	var out []rivertype.JobState
	for state, status := range taskStatuses {
		if status == s {
			out = append(out, state)
		}
	}
	return out
}

func toTask(j *rivertype.JobRow) roster.Task {
	var args taskArgs
	json.Unmarshal(j.EncodedArgs, &args) // every job here was inserted by ScheduleTask
	t := roster.Task{
		ID:          roster.TaskID(j.ID),
		Type:        args.Type,
		Status:      taskStatuses[j.State],
		RunAt:       j.ScheduledAt.UTC(),
		Attempts:    j.Attempt,
		MaxAttempts: j.MaxAttempts,
		CreatedAt:   j.CreatedAt.UTC(),
		Payload:     args.Payload,
	}
	if j.FinalizedAt != nil {
		at := j.FinalizedAt.UTC()
		t.FinishedAt = &at
	}
	if n := len(j.Errors); n > 0 {
		t.LastError = j.Errors[n-1].Error
	}
	return t
}

// ListTasks lists tasks newest first, one more than p.Limit when there are.
func (db *DB) ListTasks(ctx context.Context, f roster.TaskFilter, p roster.Page) ([]roster.Task, error) {
	params := river.NewJobListParams().Kinds(taskKind).OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(p.Limit + 1)
	if f.Status != "" {
		params = params.States(jobStates(f.Status)...)
	}
	if f.Type != "" {
		params = params.TagsAny(string(f.Type))
	}
	if p.After != "" {
		id, _ := roster.ParseTaskID(p.After) // ParsePage checked it
		params = params.Where("id < @after", river.NamedArgs{"after": id})
	}
	res, err := db.taskReader.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", translate(err))
	}
	out := make([]roster.Task, len(res.Jobs))
	for i, j := range res.Jobs {
		out[i] = toTask(j)
	}
	return out, nil
}

// GetTask returns one task.
func (db *DB) GetTask(ctx context.Context, id string) (roster.Task, error) {
	j, err := getJob(id, func(n int64) (*rivertype.JobRow, error) { return db.taskReader.JobGet(ctx, n) })
	if err != nil {
		return roster.Task{}, err
	}
	return toTask(j), nil
}

// getJob reads the job of a task id with get.
func getJob(id string, get func(int64) (*rivertype.JobRow, error)) (*rivertype.JobRow, error) {
	n, ok := roster.ParseTaskID(id)
	if !ok {
		return nil, roster.ErrTaskNotFound
	}
	j, err := get(n)
	if errors.Is(err, rivertype.ErrNotFound) || (err == nil && j.Kind != taskKind) {
		return nil, roster.ErrTaskNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get task: %w", translate(err))
	}
	return j, nil
}

func (t *tx) job(ctx context.Context, id string) (*rivertype.JobRow, error) {
	return getJob(id, func(n int64) (*rivertype.JobRow, error) { return t.db.taskWriter.JobGetTx(ctx, t.sqlTx, n) })
}

// CancelTask cancels a task that has not started.
func (t *tx) CancelTask(ctx context.Context, id string) (roster.Task, error) {
	j, err := t.job(ctx, id)
	if err != nil {
		return roster.Task{}, err
	}
	if !taskStatuses[j.State].Cancellable() {
		return toTask(j), roster.ErrTaskNotCancellable
	}
	if j, err = t.db.taskWriter.JobCancelTx(ctx, t.sqlTx, j.ID); err != nil {
		return roster.Task{}, fmt.Errorf("cancel task: %w", translate(err))
	}
	return toTask(j), nil
}

// RetryTask makes a failed or cancelled task due now.
func (t *tx) RetryTask(ctx context.Context, id string) (roster.Task, error) {
	j, err := t.job(ctx, id)
	if err != nil {
		return roster.Task{}, err
	}
	if !taskStatuses[j.State].Retryable() {
		return toTask(j), roster.ErrTaskNotRetryable
	}
	if j, err = t.db.taskWriter.JobRetryTx(ctx, t.sqlTx, j.ID); err != nil {
		return roster.Task{}, fmt.Errorf("retry task: %w", translate(err))
	}
	return toTask(j), nil
}

// CountTasks counts tasks by type and status, for metrics.
func (db *DB) CountTasks(ctx context.Context) (map[roster.TaskType]map[roster.TaskStatus]int, error) {
	typeOf := `json_extract(args, '$.type')`
	if db.dialect == Postgres {
		typeOf = `args->>'type'`
	}
	rows, err := db.queries.query(ctx, `SELECT `+typeOf+`, CAST(state AS TEXT), COUNT(*) FROM river_job WHERE kind = ? GROUP BY 1, 2`, taskKind)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[roster.TaskType]map[roster.TaskStatus]int{}
	for rows.Next() {
		var typ, state string
		var n int
		if err := rows.Scan(&typ, &state, &n); err != nil {
			return nil, err
		}
		t := roster.TaskType(typ)
		if out[t] == nil {
			out[t] = map[roster.TaskStatus]int{}
		}
		out[t][taskStatuses[rivertype.JobState(state)]] += n
	}
	return out, rows.Err()
}

// taskWorker hands River's jobs to Roster's handler.
type taskWorker struct {
	river.WorkerDefaults[taskArgs]
	h roster.TaskHandler
}

func (w *taskWorker) Work(ctx context.Context, j *river.Job[taskArgs]) error {
	// A task that has started can no longer be cancelled, so a cancellation
	// River relays to a running task (a stale one, when a task is cancelled
	// and at once retried) does not interrupt it; its deadline still holds.
	run := context.WithoutCancel(ctx)
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		run, cancel = context.WithDeadline(run, deadline)
		defer cancel()
	}
	err := w.h.HandleTask(run, toTask(j.JobRow))
	var later *roster.RetryLater
	if errors.As(err, &later) {
		return river.JobSnooze(later.Delay)
	}
	return err
}

// RunTasks works due tasks with h until ctx ends, then lets the running
// ones finish (a task interrupted by a crash runs again elsewhere).
func (db *DB) RunTasks(ctx context.Context, h roster.TaskHandler, recurring []roster.RecurringTask) error {
	workers := river.NewWorkers()
	river.AddWorker(workers, &taskWorker{h: h})
	driver := db.taskDriver(db.write)
	if db.dialect == Postgres {
		listener, err := db.listenerPool(ctx)
		if err != nil {
			return err
		}
		defer listener.Close()
		driver = riverdatabasesql.NewWithPgxListener(db.write, listener)
	}
	cfg := db.riverConfig(workers)
	for _, r := range recurring {
		cfg.PeriodicJobs = append(cfg.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(r.Every),
			func() (river.JobArgs, *river.InsertOpts) {
				return taskArgs{Type: r.Type}, &river.InsertOpts{Tags: []string{string(r.Type)}}
			}, nil))
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return fmt.Errorf("tasks: %w", err)
	}
	if err := client.Start(ctx); err != nil {
		return fmt.Errorf("tasks: %w", err)
	}
	<-ctx.Done()
	stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), db.taskOpts.Timeout)
	defer cancel()
	if err := client.Stop(stop); err != nil {
		return fmt.Errorf("tasks: stopping: %w", err)
	}
	return nil
}

// listenerPool is a small pgx pool River listens for new tasks on.
func (db *DB) listenerPool(ctx context.Context) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig("")
	if err != nil {
		return nil, err
	}
	pc.ConnConfig = db.pgConf.Copy()
	pc.MaxConns = 2
	return pgxpool.NewWithConfig(ctx, pc)
}

// WakeTasks makes every task due by the task clock runnable now, instead
// of at River's next scheduling round (seconds away): for tests that move
// the clock.
func (db *DB) WakeTasks(ctx context.Context) error {
	now := db.taskNow()
	params := river.NewJobListParams().Kinds(taskKind).States(rivertype.JobStateScheduled, rivertype.JobStateRetryable).First(10_000)
	res, err := db.taskWriter.JobList(ctx, params)
	if err != nil {
		return fmt.Errorf("wake tasks: %w", err)
	}
	// River's scheduler may promote and run these meanwhile: each is made
	// runnable only if, under its row lock, it is still waiting (a retry of
	// a task that has run would run it again).
	return db.Update(ctx, func(rtx roster.Tx) error {
		t := rtx.(*tx)
		for _, j := range res.Jobs {
			if j.ScheduledAt.After(now) {
				continue
			}
			var state string
			err := t.x.QueryRowContext(ctx, db.rebind(`SELECT state FROM river_job WHERE id = ?`+t.forUpdate()), j.ID).Scan(&state)
			if err != nil {
				return fmt.Errorf("wake task %d: %w", j.ID, err)
			}
			if s := rivertype.JobState(state); s != rivertype.JobStateScheduled && s != rivertype.JobStateRetryable {
				continue
			}
			if _, err := db.taskWriter.JobRetryTx(ctx, t.sqlTx, j.ID); err != nil {
				return fmt.Errorf("wake task %d: %w", j.ID, err)
			}
		}
		return nil
	})
}
