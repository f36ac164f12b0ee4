package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/rostertest"
	"github.com/roster-dev/roster/store"
)

// schema is the part of a database's schema that both dialects must share:
// every table with its columns, and every unique key. goose's own version
// table is left out.
//
// Column types are not compared (SQLite keeps times as TEXT, PostgreSQL as
// TIMESTAMPTZ), but nullability is. Unique keys are primary keys, UNIQUE
// constraints and unique indexes, named by table and columns (their names
// differ: SQLite calls inline ones sqlite_autoindex_*). A partial index's
// WHERE clause is compared loosely: lower-cased, without parentheses and
// with runs of spaces made one, so "(deleted_at IS NULL)" as PostgreSQL
// prints it matches "deleted_at IS NULL" as written for SQLite.
type schema struct {
	columns map[string][]string // by table: "name" or "name NOT NULL", sorted
	unique  []string            // "table (col, col) [PRIMARY KEY] [WHERE predicate]", sorted
}

func (s schema) tables() []string {
	var out []string
	for t := range s.columns {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// readSchema reads the schema of a store's database, of either dialect.
func readSchema(t *testing.T, db *store.DB) schema {
	t.Helper()
	pools := db.Pools()
	pool := pools["main"]
	if pool == nil {
		pool = pools["read"]
	}
	var s schema
	var err error
	switch db.Dialect() {
	case store.SQLite:
		s, err = readSQLiteSchema(pool)
	case store.Postgres:
		s, err = readPostgresSchema(pool)
	default:
		err = fmt.Errorf("unknown dialect %q", db.Dialect())
	}
	if err != nil {
		t.Fatalf("reading the %s schema: %v", db.Dialect(), err)
	}
	return s
}

func uniqueKey(table string, columns []string, primary bool, where string) string {
	k := table + " (" + strings.Join(columns, ", ") + ")"
	if primary {
		k += " PRIMARY KEY"
	}
	if where = normalizePredicate(where); where != "" {
		k += " WHERE " + where
	}
	return k
}

func normalizePredicate(p string) string {
	p = strings.NewReplacer("(", "", ")", "").Replace(strings.ToLower(p))
	return strings.Join(strings.Fields(p), " ")
}

func column(name string, notNull bool) string {
	if notNull {
		return name + " NOT NULL"
	}
	return name
}

// queryStrings reads a query's single text column.
func queryStrings(pool *sql.DB, query string, args ...any) ([]string, error) {
	rows, err := pool.QueryContext(context.Background(), query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// sqliteWhere finds the WHERE clause in a CREATE INDEX statement.
var sqliteWhere = regexp.MustCompile(`(?is)\)\s*WHERE\s+(.*)$`)

func readSQLiteSchema(pool *sql.DB) (schema, error) {
	ctx := context.Background()
	s := schema{columns: map[string][]string{}}
	tables, err := queryStrings(pool, `SELECT name FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> 'goose_db_version'`)
	if err != nil {
		return s, err
	}
	for _, table := range tables {
		rows, err := pool.QueryContext(ctx, `SELECT name, "notnull", pk FROM pragma_table_info(?)`, table)
		if err != nil {
			return s, err
		}
		for rows.Next() {
			var name string
			var notNull, pk int
			if err := rows.Scan(&name, &notNull, &pk); err != nil {
				rows.Close()
				return s, err
			}
			// SQLite lets a non-integer primary key hold NULL unless it is
			// declared NOT NULL; the store never writes one, and PostgreSQL
			// implies NOT NULL: count primary key columns as NOT NULL.
			s.columns[table] = append(s.columns[table], column(name, notNull == 1 || pk > 0))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s, err
		}
		slices.Sort(s.columns[table])

		type index struct {
			name           string
			primary, where bool
		}
		var indexes []index
		rows, err = pool.QueryContext(ctx, `SELECT name, origin, partial FROM pragma_index_list(?) WHERE "unique" = 1`, table)
		if err != nil {
			return s, err
		}
		for rows.Next() {
			var ix index
			var origin string
			if err := rows.Scan(&ix.name, &origin, &ix.where); err != nil {
				rows.Close()
				return s, err
			}
			ix.primary = origin == "pk"
			indexes = append(indexes, ix)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s, err
		}
		for _, ix := range indexes {
			cols, err := queryStrings(pool, `SELECT name FROM pragma_index_info(?) ORDER BY seqno`, ix.name)
			if err != nil {
				return s, err
			}
			where := ""
			if ix.where {
				var def string
				if err := pool.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`, ix.name).Scan(&def); err != nil {
					return s, err
				}
				m := sqliteWhere.FindStringSubmatch(def)
				if m == nil {
					return s, fmt.Errorf("partial index %s: no WHERE clause in %q", ix.name, def)
				}
				where = m[1]
			}
			s.unique = append(s.unique, uniqueKey(table, cols, ix.primary, where))
		}
	}
	slices.Sort(s.unique)
	return s, nil
}

func readPostgresSchema(pool *sql.DB) (schema, error) {
	ctx := context.Background()
	s := schema{columns: map[string][]string{}}
	tables, err := queryStrings(pool, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'goose_db_version'`)
	if err != nil {
		return s, err
	}
	for _, table := range tables {
		s.columns[table] = nil
	}
	rows, err := pool.QueryContext(ctx, `SELECT table_name, column_name, is_nullable = 'NO' FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name <> 'goose_db_version'`)
	if err != nil {
		return s, err
	}
	defer rows.Close()
	for rows.Next() {
		var table, name string
		var notNull bool
		if err := rows.Scan(&table, &name, &notNull); err != nil {
			return s, err
		}
		if _, ok := s.columns[table]; ok { // not a view's
			s.columns[table] = append(s.columns[table], column(name, notNull))
		}
	}
	if err := rows.Err(); err != nil {
		return s, err
	}
	for _, cols := range s.columns {
		slices.Sort(cols)
	}
	// Every unique index, constraints' included, with its key columns in
	// order and its predicate as PostgreSQL prints it.
	rows, err = pool.QueryContext(ctx, `SELECT t.relname, ix.indisprimary, COALESCE(pg_get_expr(ix.indpred, ix.indrelid), ''),
			ARRAY(SELECT a.attname FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
				JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum ORDER BY k.ord)::text
		FROM pg_index ix
		JOIN pg_class t ON t.oid = ix.indrelid
		JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE n.nspname = current_schema() AND ix.indisunique AND t.relname <> 'goose_db_version'`)
	if err != nil {
		return s, err
	}
	defer rows.Close()
	for rows.Next() {
		var table, where, cols string
		var primary bool
		if err := rows.Scan(&table, &primary, &where, &cols); err != nil {
			return s, err
		}
		s.unique = append(s.unique, uniqueKey(table, strings.Split(strings.Trim(cols, "{}"), ","), primary, where))
	}
	slices.Sort(s.unique)
	return s, rows.Err()
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

// diffSchemas describes how two schemas differ, or returns nil.
func diffSchemas(aName string, a schema, bName string, b schema) []string {
	var diffs []string
	note := func(what string, onlyA, onlyB []string) {
		if len(onlyA) > 0 {
			diffs = append(diffs, fmt.Sprintf("%s only in %s: %v", what, aName, onlyA))
		}
		if len(onlyB) > 0 {
			diffs = append(diffs, fmt.Sprintf("%s only in %s: %v", what, bName, onlyB))
		}
	}
	note("tables", onlyIn(a.tables(), b.tables()), onlyIn(b.tables(), a.tables()))
	for _, table := range a.tables() {
		if bc, ok := b.columns[table]; ok {
			note("columns of "+table, onlyIn(a.columns[table], bc), onlyIn(bc, a.columns[table]))
		}
	}
	note("unique keys", onlyIn(a.unique, b.unique), onlyIn(b.unique, a.unique))
	return diffs
}

// isRiverTable tells River's tables, those of its job queue, from Roster's.
func isRiverTable(table string) bool { return strings.HasPrefix(table, "river_") }

// withoutRiver is s without River's tables and their unique keys.
//
// River's migrations make its tables, and River's drivers make them
// differently on each database: river_leader is UNLOGGED on PostgreSQL,
// which also gets an enum type and a function, while SQLite gets
// river_notification (and sqlite_sequence, which readSQLiteSchema skips with
// SQLite's other tables). River owns those tables and tests its drivers
// itself; what must agree between the dialects is Roster's own schema,
// which this leaves whole.
func withoutRiver(s schema) schema {
	out := schema{columns: map[string][]string{}}
	for table, cols := range s.columns {
		if !isRiverTable(table) {
			out.columns[table] = cols
		}
	}
	for _, k := range s.unique {
		table, _, _ := strings.Cut(k, " ")
		if !isRiverTable(table) {
			out.unique = append(out.unique, k)
		}
	}
	return out
}

// TestSchemaReadingSeesTheSchema guards the readers the schema tests rely
// on: were they to read nothing, every comparison would pass.
func TestSchemaReadingSeesTheSchema(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		all := readSchema(t, rostertest.OpenStore(t, b))
		// River's tables are read too, so that rolling its migrations back
		// and applying them again is checked like Roster's.
		for _, want := range []string{"river_migration", "river_job", "river_leader", "river_queue"} {
			if _, ok := all.columns[want]; !ok {
				t.Errorf("no table %s: %v", want, all.tables())
			}
		}
		if !slices.Contains(all.unique, "river_migration (line, version) PRIMARY KEY") {
			t.Errorf("no primary key on river_migration in %v", all.unique)
		}
		s := withoutRiver(all)
		if n := len(s.tables()); n != 21 {
			t.Errorf("%d of Roster's tables, want 21: %v", n, s.tables())
		}
		for _, want := range []string{"email_key", "id NOT NULL", "status NOT NULL"} {
			if !slices.Contains(s.columns["users"], want) {
				t.Errorf("users has no column %q: %v", want, s.columns["users"])
			}
		}
		for _, want := range []string{
			"users (id) PRIMARY KEY",
			"users (email_key) WHERE deleted_at is null",
			"tokens (hash)",
			"idempotency_keys (scope, key) PRIMARY KEY",
			"workspaces (org_id, slug) WHERE deleted_at is null",
			"invitations (workspace_id, email_key) WHERE open",
		} {
			if !slices.Contains(s.unique, want) {
				t.Errorf("no unique key %q in %v", want, s.unique)
			}
		}
		if slices.Contains(s.unique, "tokens (user_id, id)") {
			t.Error("a plain index was read as a unique one")
		}
	})
}

// TestSchemasAgree: SQLite and PostgreSQL hold the same tables, columns
// and unique keys once migrated, so a query or constraint written for one
// means the same on the other. River's tables are left out (see
// withoutRiver).
func TestSchemasAgree(t *testing.T) {
	rostertest.PostgresURL(t) // both databases are needed: skip without PostgreSQL
	lite := withoutRiver(readSchema(t, rostertest.OpenStore(t, rostertest.SQLite)))
	pg := withoutRiver(readSchema(t, rostertest.OpenStore(t, rostertest.Postgres)))
	for _, d := range diffSchemas("SQLite", lite, "PostgreSQL", pg) {
		t.Error(d)
	}
}
