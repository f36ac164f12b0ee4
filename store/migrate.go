package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"slices"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations
var migrations embed.FS

// riverVersions numbers River's migrations among Roster's. Roster's own
// migrations and River's share one goose version sequence, so each River
// version is a goose version here, in order: goose version -> River
// version. Roster's SQL migrations are 1 to 4 (migrations/sqlite and
// migrations/postgres).
//
// Numbers are never reused or moved: databases record them. A new Roster
// migration takes the next free number (13, ...). A River upgrade that
// brings a new River version appends it here with the next free number
// too; until it does, Roster refuses to migrate (see riverMigrations) and
// TestRiverVersionsAreAllNumbered fails.
var riverVersions = []struct {
	goose int64
	river int
}{
	{5, 1}, {6, 2}, {7, 3}, {8, 4}, {9, 5}, {10, 6}, {11, 7}, {12, 8},
}

// MigrationState is one migration and whether it has been applied.
type MigrationState struct {
	Version int64
	Name    string
	Applied bool
}

func (db *DB) migrator() (*goose.Provider, error) {
	p, _, err := db.migratorOn(db.write)
	return p, err
}

// migratorOn returns goose's provider for Roster's migrations and River's on
// pool, and River's migrations by goose version, for naming them.
func (db *DB) migratorOn(pool *sql.DB) (*goose.Provider, map[int64]rivermigrate.Migration, error) {
	dir, err := fs.Sub(migrations, "migrations/"+string(db.dialect))
	if err != nil {
		return nil, nil, err
	}
	river, named, err := db.riverMigrations(pool)
	if err != nil {
		return nil, nil, err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true), goose.WithGoMigrations(river...)}
	if db.dialect != Postgres {
		p, err := goose.NewProvider(goose.DialectSQLite3, pool, dir, opts...)
		return p, named, err
	}
	// Replicas starting together must not migrate at once: an advisory lock
	// lets one migrate while the others wait, checking every second. River's
	// migrations run under it too (River's own migrator takes no lock).
	// Deployments in other schemas of the same database take other locks.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID(db.schema)), lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, nil, err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, pool, dir, append(opts, goose.WithSessionLocker(locker))...)
	return p, named, err
}

// riverMigrations makes each of River's migrations, the tables its job
// queue needs, a goose migration numbered by riverVersions, so that they run
// in order with Roster's, under the same lock, in goose's transactions, and
// are listed by MigrationStatus. Each runs exactly one River version.
func (db *DB) riverMigrations(pool *sql.DB) ([]*goose.Migration, map[int64]rivermigrate.Migration, error) {
	m, err := db.riverMigrator(pool)
	if err != nil {
		return nil, nil, err
	}
	all := m.AllVersions()
	if err := checkRiverVersions(all); err != nil {
		return nil, nil, err
	}
	var out []*goose.Migration
	named := make(map[int64]rivermigrate.Migration, len(all))
	for i, rv := range riverVersions {
		named[rv.goose] = all[i]
		version := rv.river
		up := &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			// River's versions up to this one: those before it are earlier
			// goose migrations, so this applies this one alone (or nothing,
			// if River's own migrator applied it already).
			//lint:ignore SA1019 MigrateTx is deprecated for batching versions in one transaction; each goose migration runs one.
			_, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{TargetVersion: version})
			if err != nil {
				return fmt.Errorf("river migration %03d: %w", version, err)
			}
			return nil
		}}
		down := &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			// Rolling back River's newest version is rolling back this one,
			// unless River's own record disagrees with goose's: then stop
			// rather than roll back another version.
			applied, err := m.ExistingVersionsTx(ctx, tx)
			if err != nil {
				return fmt.Errorf("river migration %03d: %w", version, err)
			}
			if len(applied) == 0 || applied[len(applied)-1].Version != version {
				return fmt.Errorf("river migration %03d: rolling it back, but River's newest applied version is %s", version, newestRiverVersion(applied))
			}
			//lint:ignore SA1019 MigrateTx is deprecated for batching versions in one transaction; each goose migration runs one.
			if _, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{MaxSteps: 1}); err != nil {
				return fmt.Errorf("river migration %03d: %w", version, err)
			}
			return nil
		}}
		out = append(out, goose.NewGoMigration(rv.goose, up, down))
	}
	return out, named, nil
}

func newestRiverVersion(applied []rivermigrate.Migration) string {
	if len(applied) == 0 {
		return "none"
	}
	return fmt.Sprintf("%03d", applied[len(applied)-1].Version)
}

// riverMigrator returns River's migrator for this store's database on pool:
// River's tables live in Roster's PostgreSQL schema, and in SQLite's main
// database.
func (db *DB) riverMigrator(pool *sql.DB) (*rivermigrate.Migrator[*sql.Tx], error) {
	// goose reports what it applied and migration errors are returned:
	// River's migration log would only repeat them, on standard output.
	conf := &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)}
	if db.dialect == Postgres {
		conf.Schema = db.schema
		return rivermigrate.New(riverdatabasesql.New(pool), conf)
	}
	return rivermigrate.New(riversqlite.New(pool), conf)
}

// checkRiverVersions reports River migration versions that riverVersions
// does not number, or numbers wrongly.
func checkRiverVersions(all []rivermigrate.Migration) error {
	have := make([]int, len(all))
	for i, m := range all {
		have[i] = m.Version
	}
	numbered := make([]int, len(riverVersions))
	for i, rv := range riverVersions {
		numbered[i] = rv.river
	}
	if !slices.Equal(have, numbered) {
		return fmt.Errorf("migrate: River's migration versions are %v, but Roster numbers %v: give each new River version the next free goose version in riverVersions", have, numbered)
	}
	return nil
}

// migrationLockID names the advisory lock of one schema's migrations.
func migrationLockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("roster migrations " + schema))
	return int64(h.Sum64() >> 1)
}

// Migrate applies every pending migration, Roster's and River's, and returns
// how many it applied.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	pool := db.write
	if db.dialect == Postgres {
		// A migration may run longer than a request; its lock waits stay
		// bounded, so that it never queues live traffic behind it for long.
		conf := db.pgConf.Copy()
		conf.RuntimeParams["statement_timeout"] = "0"
		pool = stdlib.OpenDB(*conf)
		defer pool.Close()
	}
	p, _, err := db.migratorOn(pool)
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate: %w", err)
	}
	return len(res), nil
}

// MigrationStatus lists every migration Roster knows, River's among them,
// and whether it is applied.
func (db *DB) MigrationStatus(ctx context.Context) ([]MigrationState, error) {
	p, river, err := db.migratorOn(db.write)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]MigrationState, len(st))
	for i, s := range st {
		name := s.Source.Path
		if m, ok := river[s.Source.Version]; ok {
			// A Go migration has no file: name it after River's.
			name = fmt.Sprintf("river %03d %s", m.Version, m.Name)
		}
		out[i] = MigrationState{Version: s.Source.Version, Name: name, Applied: s.State == goose.StateApplied}
	}
	return out, nil
}

// MigrationsCurrent reports whether no migration is pending.
func (db *DB) MigrationsCurrent(ctx context.Context) (bool, error) {
	p, err := db.migrator()
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	return !pending, err
}
