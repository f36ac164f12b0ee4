package rostertest

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/roster-dev/roster/store"
)

// needTemplate skips the test without PostgreSQL or pg_dump, and returns
// the server's URL.
func needTemplate(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Skipf("no template without pg_dump: %v", err)
	}
	if _, err := postgresTemplate(base); err != nil {
		t.Fatalf("making the template: %v", err)
	}
	return base
}

// openMigrated opens a store on dsn and migrates it, by goose, checking how
// many migrations that applies.
func openMigrated(t testing.TB, dsn string, applied func(n int) bool) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	n, err := db.Migrate(ctx)
	if err != nil || !applied(n) {
		t.Fatalf("migrating %s: %d applied, %v", dsnSchema(dsn), n, err)
	}
	return db
}

// TestPostgresTemplateIsAMigratedSchema: a schema copied from the template
// is the schema that migrating an empty one makes, down to its functions,
// types and sequences, with goose's and River's records of what is applied:
// its Migrate applies nothing, and its migration status is all applied.
func TestPostgresTemplateIsAMigratedSchema(t *testing.T) {
	t.Parallel()
	base := needTemplate(t)
	ctx := context.Background()

	migratedDSN := NewDSN(t, Postgres)
	migrated := openMigrated(t, migratedDSN, func(n int) bool { return n > 0 })

	copiedDSN := NewDSN(t, Postgres)
	if filled, err := fillSchema(base, dsnSchema(copiedDSN)); !filled || err != nil {
		t.Fatalf("filling a fresh schema: %v, %v", filled, err)
	}
	copied := openMigrated(t, copiedDSN, func(n int) bool { return n == 0 })

	want := describeSchema(t, base, dsnSchema(migratedDSN))
	got := describeSchema(t, base, dsnSchema(copiedDSN))
	for _, part := range slices.Sorted(func(yield func(string) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	}) {
		if len(want[part]) == 0 && part != "comments" && part != "triggers" {
			t.Errorf("%s: none in the migrated schema: is the query right?", part)
		}
		for _, s := range onlyIn(want[part], got[part]) {
			t.Errorf("%s: only in the migrated schema: %s", part, s)
		}
		for _, s := range onlyIn(got[part], want[part]) {
			t.Errorf("%s: only in the copied schema: %s", part, s)
		}
	}
	if !slices.Contains(got["types"], "river_job_state e available,cancelled,completed,discarded,pending,retryable,running,scheduled") {
		t.Errorf("River's job states: %v", got["types"])
	}

	wantStates, err := migrated.MigrationStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	states, err := copied.MigrationStatus(ctx)
	if err != nil || len(states) != len(wantStates) {
		t.Fatalf("migration status of the copy: %v, %v; want %d migrations", states, err, len(wantStates))
	}
	for i, s := range states {
		if !s.Applied || s.Version != wantStates[i].Version || s.Name != wantStates[i].Name {
			t.Errorf("migration status of the copy: %+v, want %+v applied", s, wantStates[i])
		}
	}

	// A schema that is no longer empty is left alone.
	if filled, err := fillSchema(base, dsnSchema(migratedDSN)); filled || err != nil {
		t.Errorf("filling a migrated schema: %v, %v", filled, err)
	}
}

// TestOpenStoreCopiesTheTemplate: stores opened on fresh PostgreSQL schemas
// are copies of the template, and NewDSN's schemas are empty until then.
func TestOpenStoreCopiesTheTemplate(t *testing.T) {
	t.Parallel()
	base := needTemplate(t)
	dsn := NewDSN(t, Postgres)
	if n := countObjects(t, base, dsnSchema(dsn)); n != 0 {
		t.Fatalf("NewDSN's schema holds %d objects", n)
	}
	OpenDSN(t, dsn)
	// Had OpenDSN migrated the schema, goose would have recorded its
	// migrations at this schema's own times, not the template's.
	if copied := sameMigrationTimes(t, base, dsnSchema(dsn), dsnSchema(newCopiedDSN(t))); !copied {
		t.Error("OpenDSN migrated a fresh schema instead of copying the template")
	}
	// A second store on it neither copies nor migrates anything.
	db := OpenDSN(t, dsn)
	if n, err := db.Migrate(context.Background()); n != 0 || err != nil {
		t.Errorf("migrating again: %d, %v", n, err)
	}
}

// newCopiedDSN is a fresh schema filled from the template.
func newCopiedDSN(t testing.TB) string {
	t.Helper()
	dsn := NewDSN(t, Postgres)
	if filled, err := fillSchema(PostgresURL(t), dsnSchema(dsn)); !filled || err != nil {
		t.Fatalf("filling a fresh schema: %v, %v", filled, err)
	}
	return dsn
}

func sameMigrationTimes(t testing.TB, base, a, b string) bool {
	t.Helper()
	conn := connect(t, base)
	var same bool
	err := conn.QueryRow(context.Background(), fmt.Sprintf(`SELECT array_agg(tstamp ORDER BY id) = (SELECT array_agg(tstamp ORDER BY id) FROM %s.goose_db_version)
		FROM %s.goose_db_version`, b, a)).Scan(&same)
	if err != nil {
		t.Fatal(err)
	}
	return same
}

// TestFailingTemplateLeavesTheSchemaEmpty: a template the server refuses
// changes nothing, so that the schema can be migrated instead.
func TestFailingTemplateLeavesTheSchemaEmpty(t *testing.T) {
	t.Parallel()
	base := needTemplate(t)
	dsn := NewDSN(t, Postgres)
	schema := dsnSchema(dsn)
	bad := &pgTemplate{name: "roster_tpl_bad", sql: "CREATE TABLE roster_tpl_bad.t (id int);\nSELECT no_such_function();\n"}
	filled, err := copyTemplate(base, schema, bad)
	var copyErr *templateCopyError
	if filled || !errors.As(err, &copyErr) || alreadyExists(err) {
		t.Fatalf("copying a bad template: %v, %v", filled, err)
	}
	// What a migration made meanwhile (here, the template itself) is no
	// fault of the template's.
	raced := &pgTemplate{name: "roster_tpl_raced", sql: "CREATE TABLE roster_tpl_raced.t (id int);\nCREATE TABLE roster_tpl_raced.t (id int);\n"}
	if filled, err := copyTemplate(base, schema, raced); filled || !errors.As(err, &copyErr) || !alreadyExists(err) {
		t.Fatalf("copying a template that meets its own table: %v, %v", filled, err)
	}
	if n := countObjects(t, base, schema); n != 0 {
		t.Fatalf("after a failed copy the schema holds %d objects", n)
	}
	openMigrated(t, dsn, func(n int) bool { return n > 0 })
}

// TestTemplateCopyTakesTheMigrationLock: the lock copyTemplate holds is
// the one store.(*DB).Migrate takes, so that the two never change a schema
// at once.
func TestTemplateCopyTakesTheMigrationLock(t *testing.T) {
	t.Parallel()
	base := PostgresURL(t)
	ctx := context.Background()
	dsn := NewDSN(t, Postgres)
	tx, err := connect(t, base).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockID(dsnSchema(dsn))); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Long enough to migrate the schema, had Migrate not waited.
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if n, err := db.Migrate(short); err == nil || n != 0 {
		t.Fatalf("migrating while the lock is held: %d applied, %v", n, err)
	}
	// goose makes its version table before it takes the lock; nothing else.
	var tables []string
	rows, err := connect(t, base).Query(ctx, `SELECT relname FROM pg_class
		WHERE relnamespace = $1::text::regnamespace AND relkind = 'r' AND relname <> 'goose_db_version'`, dsnSchema(dsn))
	if err == nil {
		tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil || len(tables) > 0 {
		t.Fatalf("Migrate made tables while the lock was held: %v, %v", tables, err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := db.Migrate(ctx); err != nil || n == 0 {
		t.Fatalf("migrating once the lock is released: %d applied, %v", n, err)
	}
}

func connect(t testing.TB, base string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func countObjects(t testing.TB, base, schema string) int {
	t.Helper()
	var n int
	err := connect(t, base).QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM pg_class WHERE relnamespace = $1::text::regnamespace)
		+ (SELECT count(*) FROM pg_type WHERE typnamespace = $1::text::regnamespace)
		+ (SELECT count(*) FROM pg_proc WHERE pronamespace = $1::text::regnamespace)`, schema).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// describeSchema lists what a schema holds, by kind, each line with the
// schema's name replaced by "S", sorted.
func describeSchema(t testing.TB, base, schema string) map[string][]string {
	t.Helper()
	conn := connect(t, base)
	queries := map[string]string{
		"relations": `SELECT c.relname || ' ' || c.relkind::text || ' ' || c.relpersistence::text || ' ' || COALESCE(array_to_string(c.reloptions, ','), '')
			FROM pg_class c WHERE c.relnamespace = $1::text::regnamespace`,
		// Columns in their order, but not by number: migrations that drop
		// columns leave gaps in the numbers.
		"columns": `SELECT c.relname || ' ' || row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum) || ' ' || a.attname || ' '
				|| format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
				|| COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
				|| CASE WHEN a.attidentity <> '' THEN ' IDENTITY ' || a.attidentity::text ELSE '' END
				|| CASE WHEN a.attgenerated <> '' THEN ' GENERATED ' || a.attgenerated::text ELSE '' END
				|| COALESCE(' COLLATE ' || NULLIF(a.attcollation, 0)::regcollation::text, '')
			FROM pg_attribute a
			JOIN pg_class c ON c.oid = a.attrelid
			LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
			WHERE c.relnamespace = $1::text::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped`,
		"indexes": `SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			WHERE c.relnamespace = $1::text::regnamespace`,
		"constraints": `SELECT COALESCE(NULLIF(conrelid, 0)::regclass::text, '-') || ' ' || conname || ' ' || pg_get_constraintdef(oid)
				|| CASE WHEN condeferrable THEN ' DEFERRABLE' ELSE '' END
			FROM pg_constraint WHERE connamespace = $1::text::regnamespace`,
		"sequences": `SELECT sequencename || ' ' || data_type || ' ' || start_value || ' ' || increment_by || ' ' || min_value || ' ' || max_value
				|| ' ' || cache_size || ' ' || cycle || ' ' || COALESCE(last_value::text, 'unused')
			FROM pg_sequences WHERE schemaname = $1`,
		"sequence owners": `SELECT s.relname || ' owned by ' || t.relname || '.' || a.attname || ' ' || d.deptype::text
			FROM pg_class s
			JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.refclassid = 'pg_class'::regclass
			JOIN pg_class t ON t.oid = d.refobjid
			JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
			WHERE s.relkind = 'S' AND s.relnamespace = $1::text::regnamespace`,
		"types": `SELECT t.typname || ' ' || t.typtype::text
				|| COALESCE(' ' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')
			FROM pg_type t WHERE t.typnamespace = $1::text::regnamespace`,
		"functions": `SELECT pg_get_functiondef(p.oid) FROM pg_proc p WHERE p.pronamespace = $1::text::regnamespace AND p.prokind IN ('f', 'p')`,
		"triggers": `SELECT pg_get_triggerdef(tg.oid) FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
			WHERE c.relnamespace = $1::text::regnamespace AND NOT tg.tgisinternal`,
		"comments": `SELECT c.relname || COALESCE('.' || a.attname, '') || ' ' || d.description
			FROM pg_description d
			JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid
			LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0
			WHERE c.relnamespace = $1::text::regnamespace`,
		"migrations applied": fmt.Sprintf(`SELECT 'goose ' || version_id || ' ' || is_applied FROM %[1]s.goose_db_version
			UNION ALL SELECT 'river ' || line || ' ' || version FROM %[1]s.river_migration`, schema),
	}
	out := map[string][]string{}
	for part, q := range queries {
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, schema)
		}
		rows, err := conn.Query(context.Background(), q, args...)
		if err != nil {
			t.Fatalf("%s: %v", part, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", part, err)
		}
		for i, l := range lines {
			lines[i] = strings.ReplaceAll(l, schema, "S")
		}
		slices.Sort(lines)
		out[part] = lines
	}
	return out
}

// onlyIn lists what a has and b lacks.
func onlyIn(a, b []string) []string {
	var out []string
	for _, v := range a {
		if !slices.Contains(b, v) {
			out = append(out, v)
		}
	}
	return out
}

// BenchmarkPostgresStore measures a fresh store on PostgreSQL: a new
// schema, migrated (migrate) or copied from the template (template), as
// OpenStore makes it.
func BenchmarkPostgresStore(b *testing.B) {
	base := needTemplate(b)
	ctx := context.Background()
	for _, fromTemplate := range []bool{false, true} {
		name := "migrate"
		if fromTemplate {
			name = "template"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				dsn := NewDSN(b, Postgres)
				if fromTemplate {
					if filled, err := fillSchema(base, dsnSchema(dsn)); !filled || err != nil {
						b.Fatalf("filling: %v, %v", filled, err)
					}
				}
				db, err := store.Open(ctx, dsn, store.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := db.Migrate(ctx); err != nil {
					b.Fatal(err)
				}
				db.Close()
			}
		})
	}
}
