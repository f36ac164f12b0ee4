package webhook

import "time"

// Schedule is a retry schedule: Schedule[i] is the wait after the (i+1)-th
// failed attempt before the next one. A schedule of n waits allows n+1
// attempts in all.
type Schedule []time.Duration

// DefaultSchedule is Roster's retry schedule. After the first attempt fails,
// retries follow 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h and 14 h later
// (each wait counted from the previous failure): 9 attempts in all, the last
// about 41 h 35 min after the first. It meets the API's promise of a first
// retry within 10 s, growing waits, at least 8 attempts and at least a day.
var DefaultSchedule = Schedule{
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	10 * time.Hour,
	14 * time.Hour,
}

// Next returns how long to wait, after the attempt-th failed attempt
// (1-based), before the next one, and false when there is no next attempt.
// An attempt below 1 means nothing was tried yet: the first attempt waits 0.
func (s Schedule) Next(attempt int) (time.Duration, bool) {
	if attempt < 1 {
		return 0, true
	}
	if attempt > len(s) {
		return 0, false
	}
	return s[attempt-1], true
}

// Attempts returns how many attempts s allows in all, the first included.
func (s Schedule) Attempts() int { return len(s) + 1 }

// Backoff is DefaultSchedule.Next.
func Backoff(attempt int) (time.Duration, bool) { return DefaultSchedule.Next(attempt) }
