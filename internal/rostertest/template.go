package rostertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/roster-dev/roster/store"
)

// Migrating a PostgreSQL schema, Roster's migrations and River's, takes
// longer than most tests that need one. So a test process migrates one
// template schema, the first time a test opens a store on PostgreSQL,
// captures it with pg_dump (its tables, indexes, types and functions, and
// the rows of goose's and River's migration tables) and drops it; then
// every fresh schema from NewDSN that OpenDSNWith opens while it is still
// empty is filled by that SQL, with the template's name replaced by its
// own, in one transaction. Its Migrate then finds every migration applied.
//
// NewDSN itself still returns an empty schema: the tests of migrating a
// fresh database need one. Without pg_dump, or when the template cannot be
// made or copied, schemas are migrated one by one, as they were before.

// pgTemplate is a migrated schema as SQL that makes it again.
type pgTemplate struct {
	name string // the template schema's name, which the SQL qualifies every name with
	sql  string // without the CREATE SCHEMA statement: the schema exists already
}

var (
	templateOnce sync.Once
	template     *pgTemplate
	templateErr  error // why there is no template

	// templateBroken is set when the template failed to copy: the
	// remaining schemas are migrated instead.
	templateBroken atomic.Bool
	// fallbackNote logs, once, why schemas are migrated one by one.
	fallbackNote sync.Once

	// freshSchemas holds, by name, the schemas newPostgresSchema made, until
	// their test ends.
	freshSchemas sync.Map // string -> *freshSchema
)

// freshSchema is a schema of newPostgresSchema's; once is done when the
// first store is opened on it.
type freshSchema struct {
	base string // the server's URL, PostgresEnv's value
	once sync.Once
}

// fillFromTemplate fills the schema dsn names from the template, if it is
// one of newPostgresSchema's that no store was opened on yet and it is still
// empty. It does nothing when dsn is not such a schema; when it cannot copy
// the template it notes why and leaves the schema empty, to be migrated.
func fillFromTemplate(t testing.TB, dsn string) {
	t.Helper()
	fresh := lookupFreshSchema(dsn)
	if fresh == nil {
		return
	}
	fresh.once.Do(func() {
		_, err := fillSchema(fresh.base, dsnSchema(dsn))
		if err != nil {
			fallbackNote.Do(func() {
				t.Logf("PostgreSQL schemas are migrated one by one, not copied from a template: %v", err)
			})
		}
	})
}

func lookupFreshSchema(dsn string) *freshSchema {
	schema := dsnSchema(dsn)
	if schema == "" {
		return nil
	}
	v, ok := freshSchemas.Load(schema)
	if !ok {
		return nil
	}
	return v.(*freshSchema)
}

// dsnSchema is the schema a PostgreSQL dsn names, or "".
func dsnSchema(dsn string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return ""
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	return u.Query().Get("search_path")
}

// fillSchema copies the template into schema, on the server at base, if
// schema is empty, and reports whether it did.
func fillSchema(base, schema string) (bool, error) {
	tpl, err := postgresTemplate(base)
	if err != nil {
		return false, err
	}
	if templateBroken.Load() {
		return false, errors.New("the template failed to copy before")
	}
	filled, err := copyTemplate(base, schema, tpl)
	var copyErr *templateCopyError
	if errors.As(err, &copyErr) && !alreadyExists(err) {
		templateBroken.Store(true)
	}
	return filled, err
}

// alreadyExists tells an error of creating what something else created
// meanwhile: a race with a migration, not a broken template.
func alreadyExists(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "42P07", "42710", "23505": // duplicate_table, duplicate_object, unique_violation
		return true
	}
	return false
}

// templateCopyError is the server refusing the template's SQL.
type templateCopyError struct{ err error }

func (e *templateCopyError) Error() string { return "copying the template: " + e.err.Error() }
func (e *templateCopyError) Unwrap() error { return e.err }

// copyTemplate runs tpl's SQL for schema, if schema exists and is empty,
// in one transaction, and reports whether it did. It holds the schema's
// migration lock meanwhile, so that a store migrating the schema at the
// same time (another process's) either finishes first, and the schema is
// not empty, or waits and finds every migration applied. (goose makes its
// version table before it takes the lock: if it makes it first, the copy
// fails, changes nothing, and the schema is migrated.)
func copyTemplate(base, schema string, tpl *pgTemplate) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conf, err := pgx.ParseConfig(base)
	if err != nil {
		return false, err
	}
	conf.RuntimeParams["synchronous_commit"] = "off" // as the tests' own connections
	conn, err := pgx.ConnectConfig(ctx, conf)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockID(schema)); err != nil {
		return false, err
	}
	var empty bool
	err = tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT FROM pg_class WHERE relnamespace = n.oid)
			AND NOT EXISTS (SELECT FROM pg_type WHERE typnamespace = n.oid)
			AND NOT EXISTS (SELECT FROM pg_proc WHERE pronamespace = n.oid)
		FROM pg_namespace n WHERE n.nspname = $1`, schema).Scan(&empty)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !empty) {
		return false, nil // gone, or no longer fresh: Migrate knows what to do
	}
	if err != nil {
		return false, err
	}
	// Without arguments, Exec sends the SQL as one simple query: all of
	// its statements run, in the transaction.
	if _, err := tx.Exec(ctx, strings.ReplaceAll(tpl.sql, tpl.name, schema)); err != nil {
		return false, &templateCopyError{err}
	}
	if err := tx.Commit(ctx); err != nil {
		return false, err
	}
	return true, nil
}

// migrationLockID is the advisory lock store.(*DB).Migrate takes for
// schema's migrations: the same function as the store's.
func migrationLockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("roster migrations " + schema))
	return int64(h.Sum64() >> 1)
}

// postgresTemplate makes the template the first time it is called.
func postgresTemplate(base string) (*pgTemplate, error) {
	templateOnce.Do(func() { template, templateErr = makeTemplate(base) })
	return template, templateErr
}

// makeTemplate migrates a new schema, captures it with pg_dump and drops it.
func makeTemplate(base string) (*pgTemplate, error) {
	pgDump, err := exec.LookPath("pg_dump")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	name := randomSchemaName("roster_tpl_")
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return nil, err
	}
	defer conn.Exec(context.Background(), "SET synchronous_commit = off; DROP SCHEMA "+name+" CASCADE")
	dsn, err := schemaDSN(base, name)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return nil, err
	}
	_, err = db.Migrate(ctx)
	db.Close()
	if err != nil {
		return nil, err
	}
	dbname, env, err := pgDumpConnection(base)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, pgDump, "--schema="+name, "--inserts",
		"--no-owner", "--no-privileges", "--no-tablespaces", "--dbname="+dbname)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("pg_dump: %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return parseDump(string(out), name)
}

// parseDump makes the template of pg_dump's output for schema name.
func parseDump(dump, name string) (*pgTemplate, error) {
	var sql strings.Builder
	createSchema := false
	for line := range strings.Lines(dump) {
		switch {
		case strings.HasPrefix(line, `\`):
			// psql's meta-commands (\restrict and \unrestrict): not SQL.
			continue
		case strings.TrimSpace(line) == "CREATE SCHEMA "+name+";":
			createSchema = true
			continue
		}
		sql.WriteString(line)
	}
	tpl := &pgTemplate{name: name, sql: sql.String()}
	// What the schema must hold for its Migrate to apply nothing, as a
	// check that the dump is the one expected.
	for _, want := range []string{
		"CREATE TABLE " + name + ".goose_db_version",
		"INSERT INTO " + name + ".goose_db_version",
		"CREATE TABLE " + name + ".river_migration",
		"INSERT INTO " + name + ".river_migration",
	} {
		if !strings.Contains(tpl.sql, want) {
			return nil, fmt.Errorf("pg_dump's output lacks %q", want)
		}
	}
	if !createSchema {
		return nil, fmt.Errorf("pg_dump's output lacks CREATE SCHEMA %s", name)
	}
	return tpl, nil
}

// pgDumpConnection returns pg_dump's --dbname and environment for the
// server at base. A URL keeps only the parameters libpq knows (Roster's own,
// such as search_path, would make it refuse the URL), and its password goes
// in the environment rather than on a command line.
func pgDumpConnection(base string) (string, []string, error) {
	env := os.Environ()
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base, env, nil // keyword=value: libpq reads it as it is
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	if u.User != nil {
		if password, ok := u.User.Password(); ok {
			env = append(env, "PGPASSWORD="+password)
			u.User = url.User(u.User.Username())
		}
	}
	q := url.Values{}
	for k, v := range u.Query() {
		switch k {
		case "sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword", "sslnegotiation",
			"connect_timeout", "application_name", "options", "target_session_attrs", "service", "passfile":
			q[k] = v
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), env, nil
}
