package service

import (
	"errors"
	"fmt"
	"testing"

	"github.com/roster-dev/roster"
)

// TestBrokenRule: only a record's own fault is reported on its line; a
// failing database, a lost race or a bug fails the chunk instead.
func TestBrokenRule(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{errSeatCap(3, 0, 3), true},
		{errLastOwner("org", "org_1"), true},
		{errImportRef("user", roster.CodeUserNotFound, "u1"), true},
		{errExternalInvariant, true},
		{errWorkspaceArchived, true},
		{fmt.Errorf("query: %w", roster.ErrUnavailable), false},
		{fmt.Errorf("waiting to write: %w", roster.ErrBusy), false},
		{fmt.Errorf("insert: %w", roster.ErrUniqueViolation), false},
		{roster.ErrNotFound, false},
		{errors.New("boom"), false},
		{nil, false},
	} {
		if got := brokenRule(c.err); got != c.want {
			t.Errorf("brokenRule(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
