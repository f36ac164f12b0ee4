package main

import (
	"context"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/rostertest"
	"github.com/roster-dev/roster/service"
	"github.com/roster-dev/roster/store"
)

// TestReadiness: /readyz is ready only once the replica listens for other
// replicas' changes, its migrations are current and its database answers.
func TestReadiness(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		db, err := store.Open(ctx, rostertest.NewDSN(t, b), store.Options{}) // not migrated yet
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		svc := service.New(db, service.Options{})
		ready := readiness(svc, db)
		want := func(step, reason string) {
			t.Helper()
			err := ready(ctx)
			if (reason == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), reason)) {
				t.Errorf("%s: %v, want %q", step, err, reason)
			}
		}
		want("before listening", "not hearing")
		go svc.Run(ctx)
		<-svc.Listening()
		want("listening, not migrated", "migrations pending")
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		want("migrated", "")
		db.Close()
		want("database closed", "database unreachable")
	})
}
