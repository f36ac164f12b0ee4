package rostertest

import (
	"context"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/store"
)

// TaskOptions make tasks fall due by the test's clock and be picked up
// quickly. River's cleaner and rescuer measure age by the real clock, which
// a test's clock is days away from: finished tasks are kept, and a claimed
// task is taken over only when a test asks for it.
func TaskOptions(o store.TaskOptions, clock *Clock) store.TaskOptions {
	o.Clock = clock.Now
	if o.PollInterval == 0 {
		o.PollInterval = 20 * time.Millisecond
	}
	if o.Retention == 0 {
		o.Retention = -1
	}
	if o.RescueAfter == 0 {
		o.RescueAfter = 100 * 365 * 24 * time.Hour
	}
	return o
}

// RunDueTasks has the replicas run every task due by the test's clock and
// waits until none is left waiting or running.
func (e *Env) RunDueTasks() {
	e.T.Helper()
	ctx := context.Background()
	if err := e.DB.WakeTasks(ctx); err != nil {
		e.T.Fatalf("waking the task runners: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		busy, err := e.dueTasks(ctx)
		if err != nil {
			e.T.Fatalf("listing tasks: %v", err)
		}
		if busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.T.Fatalf("after 10 s, %d due tasks have not finished", busy)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dueTasks counts the tasks due by the test's clock that have not finished.
func (e *Env) dueTasks(ctx context.Context) (int, error) {
	n := 0
	for _, status := range []roster.TaskStatus{roster.TaskScheduled, roster.TaskProcessing} {
		tasks, err := e.DB.ListTasks(ctx, roster.TaskFilter{Status: status}, roster.Page{Limit: roster.MaxPageLimit})
		if err != nil {
			return 0, err
		}
		for _, t := range tasks {
			if status == roster.TaskProcessing || !t.RunAt.After(e.Clock.Now()) {
				n++
			}
		}
	}
	return n, nil
}
