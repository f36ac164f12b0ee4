package service

import (
	"context"
	"testing"

	"github.com/roster-dev/roster"
)

// TestUnattributedCallsFail: a service call whose context names no caller
// does not run as the all-powerful system actor; it stops.
func TestUnattributedCallsFail(t *testing.T) {
	s := New(nil, Options{}) // never reached: the call stops first
	defer func() {
		if recover() != errUnattributed {
			t.Error("a call without an actor ran")
		}
	}()
	s.CreateOrg(context.Background(), roster.NewOrg{Name: "Acme", Slug: "acme"})
}

// TestSystemActorIsExplicit: the system actor is what the caller attached.
func TestSystemActorIsExplicit(t *testing.T) {
	a := actor(roster.WithActor(context.Background(), roster.SystemActor()))
	if !a.IsSystem() {
		t.Errorf("attached system actor: %+v", a)
	}
}
