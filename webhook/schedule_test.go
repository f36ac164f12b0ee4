package webhook_test

import (
	"testing"
	"time"

	"github.com/roster-dev/roster/webhook"
)

// The API promises a first retry within 10 s, then growing waits, at least 8
// attempts over at least a day.
func TestBackoff(t *testing.T) {
	first, ok := webhook.Backoff(1)
	if !ok || first <= 0 || first > 10*time.Second {
		t.Fatalf("Backoff(1) = %s, %v; want a first retry within 10 s", first, ok)
	}
	var total, prev time.Duration
	attempts := 1
	for n := 1; ; n++ {
		d, ok := webhook.Backoff(n)
		if !ok {
			break
		}
		if d < prev {
			t.Errorf("Backoff(%d) = %s, shorter than the wait before it (%s)", n, d, prev)
		}
		if want, _ := webhook.DefaultSchedule.Next(n); d != want {
			t.Errorf("Backoff(%d) = %s, DefaultSchedule.Next = %s", n, d, want)
		}
		prev, total = d, total+d
		attempts++
		if n > 1000 {
			t.Fatal("Backoff never ends")
		}
	}
	if attempts < 8 {
		t.Errorf("%d attempts, want at least 8", attempts)
	}
	if attempts != webhook.DefaultSchedule.Attempts() {
		t.Errorf("%d attempts, Attempts() = %d", attempts, webhook.DefaultSchedule.Attempts())
	}
	if total < 24*time.Hour {
		t.Errorf("retries span %s, want at least a day", total)
	}
	for _, n := range []int{attempts, attempts + 1, 1 << 30} {
		if d, ok := webhook.Backoff(n); ok {
			t.Errorf("Backoff(%d) = %s, true; want no further attempt", n, d)
		}
	}
	t.Logf("%d attempts over %s", attempts, total)
}

func TestScheduleNext(t *testing.T) {
	s := webhook.Schedule{time.Millisecond, 5 * time.Millisecond}
	tests := []struct {
		attempt int
		want    time.Duration
		ok      bool
	}{
		{-1, 0, true},
		{0, 0, true},
		{1, time.Millisecond, true},
		{2, 5 * time.Millisecond, true},
		{3, 0, false},
		{4, 0, false},
	}
	for _, tt := range tests {
		if d, ok := s.Next(tt.attempt); d != tt.want || ok != tt.ok {
			t.Errorf("Next(%d) = %s, %v; want %s, %v", tt.attempt, d, ok, tt.want, tt.ok)
		}
	}
	if s.Attempts() != 3 {
		t.Errorf("Attempts() = %d, want 3", s.Attempts())
	}
	var none webhook.Schedule
	if _, ok := none.Next(1); ok || none.Attempts() != 1 {
		t.Errorf("an empty schedule retries")
	}
}
