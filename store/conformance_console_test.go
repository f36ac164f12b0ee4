package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// TestConsoleSessionsRoundTrip: sessions read back by hash as written,
// end once, end all of a user's at once, and record use at most as often
// as asked; a login link is claimed by exactly one use.
func TestConsoleSessionsRoundTrip(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		ann, bob := newUser("ann@example.com"), newUser("bob@example.com")
		write(t, db, func(tx roster.Tx) error {
			if err := tx.CreateUser(ctx, ann); err != nil {
				return err
			}
			return tx.CreateUser(ctx, bob)
		})
		first, second, bobs := roster.NewConsoleSession(ann.ID, t0), roster.NewConsoleSession(ann.ID, t0), roster.NewConsoleSession(bob.ID, t0)
		write(t, db, func(tx roster.Tx) error {
			for _, s := range []roster.ConsoleSession{first.Session, second.Session, bobs.Session} {
				if err := tx.CreateConsoleSession(ctx, s); err != nil {
					return err
				}
			}
			return nil
		})
		got, err := db.GetConsoleSessionByHash(ctx, roster.HashToken(first.Secret))
		if err != nil || !reflect.DeepEqual(got, first.Session) {
			t.Fatalf("GetConsoleSessionByHash: %+v %v, want %+v", got, err, first.Session)
		}
		if _, err := db.GetConsoleSessionByHash(ctx, roster.HashToken("nope")); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("an unknown hash: %v", err)
		}

		later := t0.Add(5 * time.Minute)
		if err := db.TouchConsoleSession(ctx, first.Session.ID, later, later.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := db.TouchConsoleSession(ctx, first.Session.ID, later.Add(30*time.Second), later.Add(30*time.Second-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.GetConsoleSessionByHash(ctx, first.Session.Hash); !got.LastSeenAt.Equal(later) {
			t.Errorf("last seen %v, want %v: a touch within the interval must not write", got.LastSeenAt, later)
		}

		end := t0.Add(time.Hour)
		write(t, db, func(tx roster.Tx) error { return tx.EndConsoleSession(ctx, first.Session.ID, end) })
		write(t, db, func(tx roster.Tx) error { return tx.EndConsoleSession(ctx, first.Session.ID, end.Add(time.Hour)) })
		write(t, db, func(tx roster.Tx) error { return tx.EndUserConsoleSessions(ctx, ann.ID, end.Add(2*time.Hour)) })
		ended := map[string]*time.Time{}
		for _, s := range []roster.ConsoleSignIn{first, second, bobs} {
			got, err := db.GetConsoleSessionByHash(ctx, s.Session.Hash)
			if err != nil {
				t.Fatal(err)
			}
			ended[s.Session.ID] = got.EndedAt
		}
		if e := ended[first.Session.ID]; e == nil || !e.Equal(end) {
			t.Errorf("the first session ended at %v, want %v (once)", e, end)
		}
		if e := ended[second.Session.ID]; e == nil || !e.Equal(end.Add(2*time.Hour)) {
			t.Errorf("ann's other session ended at %v", e)
		}
		if ended[bobs.Session.ID] != nil {
			t.Error("ending ann's sessions ended bob's")
		}

		link, secret := roster.NewLoginLink(ann.ID, t0)
		write(t, db, func(tx roster.Tx) error { return tx.CreateLoginLink(ctx, link) })
		var used roster.LoginLink
		write(t, db, func(tx roster.Tx) error {
			var err error
			used, err = tx.UseLoginLink(ctx, roster.HashToken(secret), t0.Add(time.Minute))
			return err
		})
		link.UsedAt = ptr(t0.Add(time.Minute))
		if !reflect.DeepEqual(used, link) {
			t.Errorf("UseLoginLink: %+v, want %+v", used, link)
		}
		err = db.Update(ctx, func(tx roster.Tx) error {
			_, err := tx.UseLoginLink(ctx, roster.HashToken(secret), t0.Add(2*time.Minute))
			return err
		})
		if !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("a used link used again: %v, want ErrNotFound", err)
		}
	})
}
