package service

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/store"
)

// TestSealerWaitsForImports: while an import runs on the replica, the
// sealer's step seals nothing; once it ends, the step seals what waited.
// SealNow does not wait.
func TestSealerWaitsForImports(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "roster.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s := New(db, Options{NoSealer: true})
	system := roster.WithActor(ctx, roster.SystemActor())
	email := "ann@example.com"
	if _, err := s.CreateUser(system, roster.NewUser{Email: &email, DisplayName: "Ann"}); err != nil {
		t.Fatal(err)
	}
	unsealed := func() bool {
		_, err := s.firstUnsealed(system, roster.EventCursor{Seq: 1 << 40}) // up to the end of the log (SQLite)
		if err != nil && !errors.Is(err, roster.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}

	s.importing.Add(1)
	var seen *roster.EventCursor
	if more, err := s.sealUnlessImporting(system, &seen); more || err != nil || !unsealed() {
		t.Fatalf("during an import the sealer's step sealed (more %v, err %v, unsealed left %v)", more, err, unsealed())
	}
	if err := s.SealNow(ctx); err != nil || unsealed() {
		t.Fatalf("SealNow during an import: %v; unsealed left: %v", err, unsealed())
	}

	if _, err := s.CreateUser(system, roster.NewUser{DisplayName: "Bot", ExternalID: &email}); err != nil {
		t.Fatal(err)
	}
	s.importing.Add(-1)
	if _, err := s.sealUnlessImporting(system, &seen); err != nil || unsealed() {
		t.Errorf("after the import the sealer's step left events unsealed (err %v)", err)
	}
}
