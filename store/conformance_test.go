package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
	"github.com/roster-dev/roster/store"
)

// The store conformance suite: every backend must pass it unchanged.

var t0 = time.Date(2026, 11, 25, 9, 0, 0, 123456000, time.UTC)

func ptr[T any](v T) *T { return &v }

func newUser(email string) roster.User {
	u := roster.User{ID: roster.NewID(roster.PrefixUser), DisplayName: "Someone", Status: roster.UserActive,
		PlatformRole: roster.PlatformNone, CreatedAt: t0, UpdatedAt: t0}
	if email != "" {
		u.Email = &email
	}
	return u
}

func write(t *testing.T, db *store.DB, fn func(tx roster.Tx) error) {
	t.Helper()
	if err := db.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func TestUsers(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		u := newUser("Ann@Example.com")
		u.ExternalID, u.DefaultWorkspaceID = ptr("ext-1"), ptr("ws_x")
		write(t, db, func(tx roster.Tx) error { return tx.CreateUser(ctx, u) })

		got, err := db.GetUser(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || *got.Email != *u.Email || *got.ExternalID != "ext-1" || *got.DefaultWorkspaceID != "ws_x" ||
			!got.CreatedAt.Equal(t0) || got.Status != roster.UserActive || got.DeletedAt != nil {
			t.Errorf("round trip: %+v", got)
		}
		if byEmail, err := db.GetUserByEmail(ctx, "ANN@example.COM"); err != nil || byEmail.ID != u.ID {
			t.Errorf("by email, other case: %v %v", byEmail.ID, err)
		}
		for name, clash := range map[string]roster.User{
			"email in another case": newUser("ann@example.com"),
			"external id":           func() roster.User { v := newUser(""); v.ExternalID = ptr("ext-1"); return v }(),
		} {
			err := db.Update(ctx, func(tx roster.Tx) error { return tx.CreateUser(ctx, clash) })
			if !errors.Is(err, roster.ErrUniqueViolation) {
				t.Errorf("%s: %v, want a unique violation", name, err)
			}
		}
		write(t, db, func(tx roster.Tx) error { return tx.CreateUser(ctx, newUser("")) })
		write(t, db, func(tx roster.Tx) error { return tx.CreateUser(ctx, newUser("")) }) // many users without email

		// Soft-deleted: gone from reads, email free again.
		u.DeletedAt = ptr(t0.Add(time.Hour))
		write(t, db, func(tx roster.Tx) error { return tx.UpdateUser(ctx, u) })
		if _, err := db.GetUser(ctx, u.ID); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("deleted user: %v", err)
		}
		write(t, db, func(tx roster.Tx) error { return tx.CreateUser(ctx, newUser("ann@example.com")) })
		if n, err := db.CountActiveAdmins(ctx); err != nil || n != 0 {
			t.Errorf("admins: %d %v", n, err)
		}
	})
}

func TestUserListFiltersAndPaging(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		if has, _ := db.HasUsers(ctx); has {
			t.Fatal("a new database has users")
		}
		var ids []string
		for _, e := range []string{"a@x.com", "b@x.com", "c_d@y.com", "e%f@y.com"} {
			u := newUser(e)
			ids = append(ids, u.ID)
			write(t, db, func(tx roster.Tx) error { return tx.CreateUser(ctx, u) })
		}
		count := func(f roster.UserFilter) int {
			us, err := db.ListUsers(ctx, f, roster.Page{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			return len(us)
		}
		if n := count(roster.UserFilter{Query: "X.COM"}); n != 2 {
			t.Errorf("query x.com: %d", n)
		}
		if n := count(roster.UserFilter{Query: "_"}); n != 1 {
			t.Errorf("query _ (literal): %d", n)
		}
		if n := count(roster.UserFilter{Query: "%"}); n != 1 {
			t.Errorf("query %% (literal): %d", n)
		}
		if n := count(roster.UserFilter{EmailKey: "b@x.com"}); n != 1 {
			t.Errorf("email: %d", n)
		}
		page, err := db.ListUsers(ctx, roster.UserFilter{}, roster.Page{Limit: 2})
		if err != nil || len(page) != 3 || page[0].ID != ids[0] {
			t.Fatalf("first page returns Limit+1 rows in id order: %d %v", len(page), err)
		}
		rest, err := db.ListUsers(ctx, roster.UserFilter{}, roster.Page{Limit: 2, After: page[1].ID})
		if err != nil || len(rest) != 2 || rest[0].ID != ids[2] {
			t.Errorf("second page: %d %v", len(rest), err)
		}
	})
}

func TestTokens(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		u := newUser("t@example.com")
		tok, _ := roster.NewToken(u.ID, roster.TokenPersonal, "cli", ptr(t0.Add(time.Hour)), t0)
		live, _ := roster.NewToken(u.ID, roster.TokenService, "svc", nil, t0)
		write(t, db, func(tx roster.Tx) error {
			return errors.Join(tx.CreateUser(ctx, u), tx.CreateToken(ctx, tok), tx.CreateToken(ctx, live))
		})
		got, err := db.GetTokenByHash(ctx, tok.Hash)
		if err != nil || got.ID != tok.ID || !got.ExpiresAt.Equal(*tok.ExpiresAt) || got.Kind != roster.TokenPersonal || got.LastUsedAt != nil {
			t.Fatalf("by hash: %+v %v", got, err)
		}
		// last_used_at is written only when older than notBefore.
		if err := db.TouchToken(ctx, tok.ID, t0.Add(time.Minute), t0); err != nil {
			t.Fatal(err)
		}
		if err := db.TouchToken(ctx, tok.ID, t0.Add(90*time.Second), t0.Add(30*time.Second)); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.GetToken(ctx, tok.ID); !got.LastUsedAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("last_used_at %v, want the first touch", got.LastUsedAt)
		}
		var first, second bool
		write(t, db, func(tx roster.Tx) error {
			var err error
			first, err = tx.RevokeToken(ctx, tok.ID, t0)
			if err != nil {
				return err
			}
			second, err = tx.RevokeToken(ctx, tok.ID, t0)
			return err
		})
		if !first || second {
			t.Errorf("revoke reported %v then %v", first, second)
		}
		var hashes []string
		write(t, db, func(tx roster.Tx) error {
			var err error
			hashes, err = tx.RevokeUserTokens(ctx, u.ID, t0)
			return err
		})
		if len(hashes) != 1 || hashes[0] != live.Hash {
			t.Errorf("revoking all returned %v, want only the live token", hashes)
		}
		if list, err := db.ListTokens(ctx, u.ID, roster.Page{Limit: 10}); err != nil || len(list) != 2 {
			t.Errorf("list: %d %v", len(list), err)
		}
	})
}

func TestAuditAndRollback(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		event := func(action string, at time.Time) roster.AuditEvent {
			return roster.AuditEvent{ID: roster.NewID(roster.PrefixAudit), At: at, Via: roster.ViaSystem, Action: action,
				TargetType: "user", TargetID: "usr_x", OrgID: ptr("org_1"), After: []byte(`{"a":1}`)}
		}
		for i, action := range []string{"a", "b", "a"} {
			e := event(action, t0.Add(time.Duration(i)*time.Hour))
			write(t, db, func(tx roster.Tx) error { return tx.InsertAudit(ctx, e) })
		}
		// A failed transaction leaves neither the change nor its event.
		u := newUser("rollback@example.com")
		boom := errors.New("boom")
		err := db.Update(ctx, func(tx roster.Tx) error {
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.InsertAudit(ctx, event("user.created", t0)); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("update: %v", err)
		}
		if _, err := db.GetUser(ctx, u.ID); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("rolled-back user: %v", err)
		}
		list := func(f roster.AuditFilter, p roster.Page) []roster.AuditEvent {
			es, err := db.ListAudit(ctx, f, p)
			if err != nil {
				t.Fatal(err)
			}
			return es
		}
		all := list(roster.AuditFilter{}, roster.Page{Limit: 10})
		if len(all) != 3 || all[0].Action != "a" || !all[0].At.Equal(t0.Add(2*time.Hour)) || string(all[0].After) == "" {
			t.Fatalf("newest first: %+v", all)
		}
		if n := len(list(roster.AuditFilter{Action: "a"}, roster.Page{Limit: 10})); n != 2 {
			t.Errorf("action filter: %d", n)
		}
		if n := len(list(roster.AuditFilter{Since: ptr(t0.Add(time.Hour)), Until: ptr(t0.Add(2 * time.Hour))}, roster.Page{Limit: 10})); n != 1 {
			t.Errorf("time window: %d", n)
		}
		if n := len(list(roster.AuditFilter{OrgID: "org_1"}, roster.Page{Limit: 10, After: all[0].ID})); n != 2 {
			t.Errorf("older than the newest: %d", n)
		}
	})
}

func TestIdempotencyRecords(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		r := roster.IdempotencyRecord{Scope: "usr_a", Key: "k", Fingerprint: "f1", CreatedAt: t0}
		claim := func(r roster.IdempotencyRecord, staleBefore time.Time) bool {
			ok, err := db.ClaimIdempotency(ctx, r, staleBefore, staleBefore)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !claim(r, t0.Add(-time.Hour)) || claim(r, t0.Add(-time.Hour)) {
			t.Fatal("a key is claimed exactly once")
		}
		// A claim still without a response, older than abandonedBefore, died
		// with its request: it may be claimed again.
		if ok, err := db.ClaimIdempotency(ctx, r, t0.Add(-time.Hour), t0); err != nil || ok {
			t.Fatalf("a fresh claim was taken over: %v %v", ok, err)
		}
		if ok, err := db.ClaimIdempotency(ctx, r, t0.Add(-time.Hour), t0.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("an abandoned claim was not taken over: %v %v", ok, err)
		}
		r.Status, r.ContentType, r.Body = 201, "application/json", []byte(`{"id":1}`)
		if err := db.CompleteIdempotency(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetIdempotency(ctx, "usr_a", "k")
		if err != nil || got.Status != 201 || string(got.Body) != `{"id":1}` || got.Fingerprint != "f1" {
			t.Errorf("completed record: %+v %v", got, err)
		}
		// Older than the window: the key may be claimed afresh.
		later := roster.IdempotencyRecord{Scope: "usr_a", Key: "k", Fingerprint: "f2", CreatedAt: t0.Add(25 * time.Hour)}
		if !claim(later, t0.Add(time.Hour)) {
			t.Error("a stale key could not be claimed again")
		}
		// The request that lost its claim neither completes nor releases
		// the claim that replaced it.
		if err := db.CompleteIdempotency(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := db.ReleaseIdempotency(ctx, r); err != nil {
			t.Fatal(err)
		}
		if got, err := db.GetIdempotency(ctx, "usr_a", "k"); err != nil || got.Fingerprint != "f2" || got.Status != 0 {
			t.Errorf("the claim that replaced an old one: %+v %v", got, err)
		}
		if err := db.ReleaseIdempotency(ctx, later); err != nil {
			t.Fatal(err)
		}
		if _, err := db.GetIdempotency(ctx, "usr_a", "k"); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("released record: %v", err)
		}
	})
}

func TestMigrationsAreIdempotent(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b) // migrated once already
		ctx := context.Background()
		n, err := db.Migrate(ctx)
		if err != nil || n != 0 {
			t.Errorf("second migrate applied %d (%v)", n, err)
		}
		if ok, err := db.MigrationsCurrent(ctx); err != nil || !ok {
			t.Errorf("current: %v %v", ok, err)
		}
	})
}

func TestParseDSN(t *testing.T) {
	for dsn, want := range map[string]store.Dialect{
		"sqlite:roster.db": store.SQLite, "sqlite:/tmp/x.db": store.SQLite,
		"postgres://u@h/db": store.Postgres, "postgresql://u@h/db": store.Postgres,
	} {
		if d, _, err := store.ParseDSN(dsn); err != nil || d != want {
			t.Errorf("%s: %v %v", dsn, d, err)
		}
	}
	for _, dsn := range []string{"", "sqlite:", "mysql://x", "roster.db"} {
		if _, _, err := store.ParseDSN(dsn); err == nil {
			t.Errorf("%q accepted", dsn)
		}
	}
}
