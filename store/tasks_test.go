package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
	"github.com/roster-dev/roster/store"
)

var replicaTasks = flag.Int("tasks.n", 2000, "tasks TestTasksRunOnceAcrossReplicas schedules")

// openTaskStore opens a fresh store whose tasks fall due by clock.
func openTaskStore(t *testing.T, b rostertest.Backend, clock *rostertest.Clock) (*store.DB, string) {
	t.Helper()
	dsn := rostertest.NewDSN(t, b)
	return rostertest.OpenDSNWith(t, dsn, store.Options{Tasks: rostertest.TaskOptions(store.TaskOptions{}, clock)}), dsn
}

func schedule(t *testing.T, db *store.DB, tasks ...roster.NewTask) {
	t.Helper()
	write(t, db, func(tx roster.Tx) error { return tx.ScheduleTasks(context.Background(), tasks) })
}

func listTasks(t *testing.T, db *store.DB, f roster.TaskFilter, p roster.Page) []roster.Task {
	t.Helper()
	if p.Limit == 0 {
		p.Limit = roster.MaxPageLimit
	}
	tasks, err := db.ListTasks(context.Background(), f, p)
	if err != nil {
		t.Fatal(err)
	}
	return tasks
}

// TestScheduledTasksCommitWithTheirTransaction: a task exists exactly when
// the transaction that scheduled it commits, and reads back as scheduled.
func TestScheduledTasksCommitWithTheirTransaction(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		clock := rostertest.NewClock()
		db, _ := openTaskStore(t, b, clock)
		ctx := context.Background()
		runAt := clock.Now().Add(time.Hour)
		rollback := errors.New("rolled back")
		err := db.Update(ctx, func(tx roster.Tx) error {
			if _, err := tx.ScheduleTask(ctx, roster.NewTask{Type: roster.TaskSeatRecheck, RunAt: runAt}); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) || len(listTasks(t, db, roster.TaskFilter{}, roster.Page{})) != 0 {
			t.Fatalf("a rolled-back task exists: %v", err)
		}

		schedule(t, db, roster.NewTask{Type: roster.TaskMembershipExpiry, RunAt: runAt, Payload: json.RawMessage(`{"membership_id":"m"}`)},
			roster.NewTask{Type: roster.TaskSeatRecheck, RunAt: clock.Now().Add(-time.Minute)})
		tasks := listTasks(t, db, roster.TaskFilter{}, roster.Page{})
		if len(tasks) != 2 || tasks[0].Type != roster.TaskSeatRecheck || tasks[1].Type != roster.TaskMembershipExpiry {
			t.Fatalf("newest first: %+v", tasks)
		}
		m := tasks[1]
		var payload map[string]string
		json.Unmarshal(m.Payload, &payload)
		if m.Status != roster.TaskScheduled || !m.RunAt.Equal(runAt) || payload["membership_id"] != "m" ||
			m.Attempts != 0 || m.MaxAttempts < 1 || m.FinishedAt != nil || !roster.ValidID(roster.PrefixTask, m.ID) {
			t.Fatalf("scheduled task: %+v", m)
		}
		if past := tasks[0]; past.RunAt.After(clock.Now()) {
			t.Errorf("a task scheduled in the past is due at %v, after now %v", past.RunAt, clock.Now())
		}
		got, err := db.GetTask(ctx, m.ID)
		if err != nil || got.ID != m.ID || got.Type != m.Type {
			t.Fatalf("get: %+v %v", got, err)
		}
		for _, bad := range []string{"task_0000000000000999", "task_x", "usr_1", ""} {
			if _, err := db.GetTask(ctx, bad); !errors.Is(err, roster.ErrTaskNotFound) {
				t.Errorf("get %q: %v", bad, err)
			}
		}

		if got := listTasks(t, db, roster.TaskFilter{Type: roster.TaskMembershipExpiry}, roster.Page{}); len(got) != 1 || got[0].ID != m.ID {
			t.Errorf("by type: %+v", got)
		}
		if got := listTasks(t, db, roster.TaskFilter{Status: roster.TaskCompleted}, roster.Page{}); len(got) != 0 {
			t.Errorf("by status: %+v", got)
		}
		page := listTasks(t, db, roster.TaskFilter{}, roster.Page{Limit: 1})
		if len(page) != 2 { // one more than the limit says more follow
			t.Fatalf("a page of one: %+v", page)
		}
		if rest := listTasks(t, db, roster.TaskFilter{}, roster.Page{Limit: 1, After: page[0].ID}); len(rest) != 1 || rest[0].ID != m.ID {
			t.Errorf("the page after %s: %+v", page[0].ID, rest)
		}
	})
}

// TestCancelAndRetryTasks: only a scheduled task can be cancelled, only a
// failed or cancelled one retried; each commits with its transaction.
func TestCancelAndRetryTasks(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		clock := rostertest.NewClock()
		db, _ := openTaskStore(t, b, clock)
		ctx := context.Background()
		schedule(t, db, roster.NewTask{Type: roster.TaskSeatRecheck, RunAt: clock.Now().Add(time.Hour)})
		id := listTasks(t, db, roster.TaskFilter{}, roster.Page{})[0].ID
		act := func(do func(roster.Tx, context.Context, string) (roster.Task, error)) (roster.Task, error) {
			var out roster.Task
			err := db.Update(ctx, func(tx roster.Tx) error {
				var err error
				out, err = do(tx, ctx, id)
				return err
			})
			return out, err
		}
		if _, err := act(roster.Tx.RetryTask); !errors.Is(err, roster.ErrTaskNotRetryable) {
			t.Fatalf("retrying a scheduled task: %v", err)
		}
		cancelled, err := act(roster.Tx.CancelTask)
		if err != nil || cancelled.Status != roster.TaskCancelled || cancelled.FinishedAt == nil {
			t.Fatalf("cancel: %+v %v", cancelled, err)
		}
		if _, err := act(roster.Tx.CancelTask); !errors.Is(err, roster.ErrTaskNotCancellable) {
			t.Fatalf("cancelling twice: %v", err)
		}
		retried, err := act(roster.Tx.RetryTask)
		if err != nil || retried.Status != roster.TaskScheduled || retried.RunAt.After(clock.Now()) || retried.FinishedAt != nil {
			t.Fatalf("retry: %+v %v", retried, err)
		}
		if got, _ := db.GetTask(ctx, id); got.Status != roster.TaskScheduled {
			t.Errorf("after the retry committed: %+v", got)
		}
		err = db.Update(ctx, func(tx roster.Tx) error {
			if _, err := tx.CancelTask(ctx, "task_0000000000000999"); !errors.Is(err, roster.ErrTaskNotFound) {
				t.Errorf("cancelling an unknown task: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// handlerFunc adapts a function to roster.TaskHandler.
type handlerFunc func(context.Context, roster.Task) error

func (f handlerFunc) HandleTask(ctx context.Context, t roster.Task) error { return f(ctx, t) }

// runTasks works db's tasks with h until the test ends.
func runTasks(t *testing.T, db *store.DB, h roster.TaskHandler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- db.RunTasks(ctx, h, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run tasks: %v", err)
		}
	})
}

// waitFor polls until cond holds; ten seconds is generous for a loaded
// machine, and a task runner picks a due task up within milliseconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("after 10 s, still not: %s", what)
		}
	}
}

// TestTasksRunAtTheirTime: a due task runs once; one not yet due waits
// until the clock reaches it; a failing task is retried, then fails for good
// with its last error, and runs again when retried.
func TestTasksRunAtTheirTime(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		clock := rostertest.NewClock()
		db, _ := openTaskStore(t, b, clock)
		ctx := context.Background()
		var mu sync.Mutex
		runs := map[string][]time.Time{}
		failing := atomic.Bool{}
		failing.Store(true)
		runTasks(t, db, handlerFunc(func(ctx context.Context, task roster.Task) error {
			mu.Lock()
			runs[string(task.Payload)] = append(runs[string(task.Payload)], clock.Now())
			mu.Unlock()
			if string(task.Payload) == `"flaky"` && failing.Load() {
				return errors.New("the receiver is down")
			}
			return nil
		}))
		ran := func(payload string) []time.Time {
			mu.Lock()
			defer mu.Unlock()
			return runs[payload]
		}
		start := clock.Now()
		schedule(t, db, roster.NewTask{Type: roster.TaskSeatRecheck, Payload: json.RawMessage(`"now"`)},
			roster.NewTask{Type: roster.TaskSeatRecheck, RunAt: start.Add(time.Hour), Payload: json.RawMessage(`"later"`)},
			roster.NewTask{Type: roster.TaskSeatRecheck, Payload: json.RawMessage(`"flaky"`), MaxAttempts: 1})
		waitFor(t, "the due task runs", func() bool { return len(ran(`"now"`)) == 1 })
		waitFor(t, "the failing task fails for good", func() bool {
			return len(listTasks(t, db, roster.TaskFilter{Status: roster.TaskFailed}, roster.Page{})) == 1
		})
		failed := listTasks(t, db, roster.TaskFilter{Status: roster.TaskFailed}, roster.Page{})[0]
		if failed.LastError != "the receiver is down" || failed.Attempts != 1 || failed.FinishedAt == nil {
			t.Errorf("failed task: %+v", failed)
		}
		if got := ran(`"later"`); len(got) != 0 {
			t.Fatalf("the task due in an hour ran at %v", got)
		}

		clock.Advance(time.Hour)
		if err := db.WakeTasks(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the task due in an hour runs once the clock reaches it", func() bool { return len(ran(`"later"`)) == 1 })
		if at := ran(`"later"`)[0]; at.Before(start.Add(time.Hour)) {
			t.Errorf("it ran early, at %v", at)
		}

		failing.Store(false)
		write(t, db, func(tx roster.Tx) error { _, err := tx.RetryTask(ctx, failed.ID); return err })
		waitFor(t, "the retried task completes", func() bool {
			got, err := db.GetTask(ctx, failed.ID)
			return err == nil && got.Status == roster.TaskCompleted
		})
		waitFor(t, "every task has finished", func() bool {
			return len(listTasks(t, db, roster.TaskFilter{Status: roster.TaskCompleted}, roster.Page{})) == 3
		})
		if got := ran(`"now"`); len(got) != 1 {
			t.Errorf("the due task ran %d times", len(got))
		}
	})
}

// TestTasksRunOnceAcrossReplicas: two replicas working one PostgreSQL
// database (one on SQLite, which is one process's database) run every task
// once, none before its time.
func TestTasksRunOnceAcrossReplicas(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		clock := rostertest.NewClock()
		db, dsn := openTaskStore(t, b, clock)
		replicas := []*store.DB{db}
		if b == rostertest.Postgres {
			replicas = append(replicas, rostertest.OpenDSNWith(t, dsn, store.Options{Tasks: rostertest.TaskOptions(store.TaskOptions{}, clock)}))
		}
		n := *replicaTasks
		if raceDetector && b == rostertest.SQLite {
			n = min(n, 200)
		}
		var runs sync.Map // payload -> *atomic.Int32
		var total, early atomic.Int64
		h := handlerFunc(func(ctx context.Context, task roster.Task) error {
			c, _ := runs.LoadOrStore(string(task.Payload), new(atomic.Int32))
			c.(*atomic.Int32).Add(1)
			if clock.Now().Before(task.RunAt) {
				early.Add(1)
			}
			total.Add(1)
			return nil
		})
		for _, r := range replicas {
			runTasks(t, r, h)
		}
		start := time.Now()
		for i := 0; i < n; i += 500 {
			batch := make([]roster.NewTask, 0, 500)
			for j := i; j < min(i+500, n); j++ {
				batch = append(batch, roster.NewTask{Type: roster.TaskSeatRecheck, Payload: json.RawMessage(fmt.Sprint(j)),
					RunAt: clock.Now().Add(time.Duration(j%2) * time.Minute)}) // half due now, half in a minute
			}
			schedule(t, db, batch...)
		}
		waitFor(t, "the due half runs", func() bool { return total.Load() >= int64(n/2) })
		clock.Advance(time.Minute)
		if err := db.WakeTasks(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "every task runs", func() bool { return total.Load() >= int64(n) })
		elapsed := time.Since(start)
		twice := 0
		runs.Range(func(_, c any) bool {
			if c.(*atomic.Int32).Load() != 1 {
				twice++
			}
			return true
		})
		if twice != 0 || early.Load() != 0 || total.Load() != int64(n) {
			t.Errorf("%d tasks: %d ran more than once, %d ran early, %d runs", n, twice, early.Load(), total.Load())
		}
		t.Logf("%d tasks on %d replicas in %v (%.0f tasks/s): 0 twice, 0 early", n, len(replicas), elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
	})
}

// TestAbandonedClaimIsTakenOver: a task claimed by a replica that died
// mid-run (its row still says running, claimed long ago) is taken over by
// another and completed once.
func TestAbandonedClaimIsTakenOver(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		// River judges a claim's age by the real clock: this test's clock
		// is the real time.
		clock := rostertest.NewClockAt(time.Now().UTC())
		opts := rostertest.TaskOptions(store.TaskOptions{RescueAfter: time.Hour}, clock)
		db := rostertest.OpenDSNWith(t, rostertest.NewDSN(t, b), store.Options{Tasks: opts})
		schedule(t, db, roster.NewTask{Type: roster.TaskSeatRecheck})

		// What a replica that claimed the task two hours ago and died leaves.
		claimed := any(time.Now().UTC().Add(-2 * time.Hour))
		stmt := `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = $1`
		if db.Dialect() == store.SQLite {
			claimed = claimed.(time.Time).Format("2006-01-02 15:04:05.000") // River's SQLite time format
			stmt = `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = ?`
		}
		pool := db.Pools()["main"]
		if pool == nil {
			pool = db.Pools()["write"]
		}
		if _, err := pool.ExecContext(context.Background(), stmt, claimed); err != nil {
			t.Fatal(err)
		}
		id := listTasks(t, db, roster.TaskFilter{Status: roster.TaskProcessing}, roster.Page{})[0].ID

		var runs atomic.Int32
		runTasks(t, db, handlerFunc(func(context.Context, roster.Task) error { runs.Add(1); return nil }))
		waitFor(t, "the abandoned task is taken over and completed", func() bool {
			clock.Advance(time.Second) // past the retry's backoff
			db.WakeTasks(context.Background())
			got, err := db.GetTask(context.Background(), id)
			return err == nil && got.Status == roster.TaskCompleted
		})
		if got, _ := db.GetTask(context.Background(), id); runs.Load() != 1 || got.Attempts != 2 {
			t.Errorf("taken over: %d runs here, %d attempts in all; want 1 and 2", runs.Load(), got.Attempts)
		}
	})
}

// TestCountTasks: tasks are counted by type and status.
func TestCountTasks(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		clock := rostertest.NewClock()
		db, _ := openTaskStore(t, b, clock)
		later := clock.Now().Add(time.Hour)
		schedule(t, db, roster.NewTask{Type: roster.TaskSeatRecheck, RunAt: later}, roster.NewTask{Type: roster.TaskSeatRecheck, RunAt: later},
			roster.NewTask{Type: roster.TaskCallback, RunAt: later})
		id := listTasks(t, db, roster.TaskFilter{Type: roster.TaskCallback}, roster.Page{})[0].ID
		write(t, db, func(tx roster.Tx) error { _, err := tx.CancelTask(context.Background(), id); return err })
		got, err := db.CountTasks(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got[roster.TaskSeatRecheck][roster.TaskScheduled] != 2 || got[roster.TaskCallback][roster.TaskCancelled] != 1 || len(got) != 2 {
			t.Errorf("counts: %v", got)
		}
	})
}
