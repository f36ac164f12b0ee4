package service

import (
	"fmt"
	"slices"
	"testing"
)

// TestTrackedTxForgetsAllPastTheCap: a change that makes more than
// maxTargetedInvalidations cached entries stale sends one "forget
// everything" instead of thousands of messages.
func TestTrackedTxForgetsAllPastTheCap(t *testing.T) {
	tx := newTrackedTx(nil)
	for i := range maxTargetedInvalidations {
		tx.note(userMessage(fmt.Sprint(i)))
		tx.note(userMessage(fmt.Sprint(i))) // each message once
	}
	if len(tx.stale) != maxTargetedInvalidations || tx.forgotAll() {
		t.Fatalf("%d messages, forgot all: %v", len(tx.stale), tx.forgotAll())
	}
	tx.note(workspaceMessage("one too many"))
	tx.note(resourceMessage("after that"))
	if !slices.Equal(tx.stale, []string{""}) {
		t.Fatalf("past the cap: %d messages, want only the one that forgets everything", len(tx.stale))
	}
}
