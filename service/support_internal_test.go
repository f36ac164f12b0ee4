package service

import (
	"testing"
	"time"

	"github.com/roster-dev/roster"
)

// TestSupportSweepIsRecurring: one replica of the cluster sweeps support
// sessions every 15 minutes (DOMAIN §5).
func TestSupportSweepIsRecurring(t *testing.T) {
	for _, r := range recurring {
		if r.Type == roster.TaskSupportSweep {
			if r.Every != roster.SupportSweepEvery || roster.SupportSweepEvery != 15*time.Minute {
				t.Errorf("the sweep runs every %v", r.Every)
			}
			return
		}
	}
	t.Error("the support sweep is not a recurring task")
}
