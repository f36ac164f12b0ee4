// Package rostertest runs Roster's tests on every supported database and
// through the real HTTP API. SQLite always; PostgreSQL when
// ROSTER_TEST_POSTGRES_URL is set (and CI insists that it is).
package rostertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/roster-dev/roster/store"
)

// PostgresEnv names the variable holding the PostgreSQL server for tests.
const PostgresEnv = "ROSTER_TEST_POSTGRES_URL"

// Backend is a database the suites run on.
type Backend string

const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// Backends lists every backend; tests for an unavailable one are skipped
// (outside CI) by NewDSN.
var Backends = []Backend{SQLite, Postgres}

// Each runs fn as a parallel subtest on every backend.
func Each(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range Backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

// NewDSN returns a Roster database address for a fresh, empty database of
// backend b that lives as long as the test: a new SQLite file, or a new
// PostgreSQL schema.
func NewDSN(t testing.TB, b Backend) string {
	t.Helper()
	switch b {
	case SQLite:
		return "sqlite:" + filepath.Join(t.TempDir(), "roster.db")
	case Postgres:
		return newPostgresSchema(t)
	}
	t.Fatalf("unknown backend %q", b)
	return ""
}

// PostgresURL returns the test server's URL, skipping the test when it is not
// configured, unless running in CI, where its absence is a failure.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set; CI must run every suite on PostgreSQL", PostgresEnv)
		}
		t.Skipf("%s is not set: skipping the PostgreSQL run (set it to e.g. postgres://postgres@127.0.0.1:5432/test)", PostgresEnv)
	}
	return base
}

func newPostgresSchema(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL at %s is unreachable: %v", PostgresEnv, err)
	}
	defer conn.Close(context.Background())
	schema := randomSchemaName("roster_test_")
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	// The first store opened on it by OpenDSNWith fills it from the
	// migrated template rather than migrating it (see template.go).
	freshSchemas.Store(schema, &freshSchema{base: base})
	t.Cleanup(func() {
		freshSchemas.Delete(schema)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "SET synchronous_commit = off; DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("dropping schema %s: %v", schema, err)
		}
	})
	dsn, err := schemaDSN(base, schema)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	return dsn
}

// randomSchemaName returns prefix followed by 12 random hex digits.
func randomSchemaName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// schemaDSN returns the Roster database address of schema on the server at
// base.
func schemaDSN(base, schema string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	// A test's database need not survive a crash of the server: commits
	// that do not wait for the disk make the suite much faster.
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// OpenStore opens and migrates a fresh database of backend b.
func OpenStore(t testing.TB, b Backend) *store.DB {
	t.Helper()
	return OpenDSN(t, NewDSN(t, b))
}

// OpenDSN opens and migrates the database at dsn, closing it after the test.
// A fresh PostgreSQL schema from NewDSN is filled from a migrated template
// instead, when it is still empty: its migration then applies nothing.
func OpenDSN(t testing.TB, dsn string) *store.DB {
	t.Helper()
	return OpenDSNWith(t, dsn, store.Options{})
}

// OpenDSNWith is OpenDSN with store options.
func OpenDSNWith(t testing.TB, dsn string, opts store.Options) *store.DB {
	t.Helper()
	ctx := context.Background()
	fillFromTemplate(t, dsn)
	db, err := store.Open(ctx, dsn, opts)
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}
