package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
	"github.com/roster-dev/roster/store"
)

// BenchmarkTasksEndToEnd schedules b.N tasks (500 per transaction) on one
// replica and waits until every one has run: tasks per second, from the
// first commit to the last run.
func BenchmarkTasksEndToEnd(b *testing.B) {
	for _, backend := range rostertest.Backends {
		b.Run(string(backend), func(b *testing.B) {
			clock := rostertest.NewClock()
			db := rostertest.OpenDSNWith(b, rostertest.NewDSN(b, backend), store.Options{Tasks: rostertest.TaskOptions(store.TaskOptions{}, clock)})
			var ran atomic.Int64
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				db.RunTasks(ctx, handlerFunc(func(context.Context, roster.Task) error { ran.Add(1); return nil }), nil)
			}()
			defer func() { cancel(); <-done }()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i += 500 {
				err := db.Update(context.Background(), func(tx roster.Tx) error {
					for range min(500, b.N-i) {
						if _, err := tx.ScheduleTask(context.Background(), roster.NewTask{Type: roster.TaskSeatRecheck}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			for ran.Load() < int64(b.N) {
				time.Sleep(time.Millisecond)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tasks/s")
		})
	}
}
