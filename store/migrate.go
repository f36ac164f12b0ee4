package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrations embed.FS

// MigrationState is one migration and whether it has been applied.
type MigrationState struct {
	Version int64
	Name    string
	Applied bool
}

func (db *DB) migrator() (*goose.Provider, error) { return db.migratorOn(db.write) }

func (db *DB) migratorOn(pool *sql.DB) (*goose.Provider, error) {
	dir, err := fs.Sub(migrations, "migrations/"+string(db.dialect))
	if err != nil {
		return nil, err
	}
	if db.dialect != Postgres {
		return goose.NewProvider(goose.DialectSQLite3, pool, dir)
	}
	// Replicas starting together must not migrate at once: an advisory lock
	// lets one migrate while the others wait, checking every second.
	// Deployments in other schemas of the same database take other locks.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID(db.schema)), lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, pool, dir, goose.WithSessionLocker(locker))
}

// migrationLockID names the advisory lock of one schema's migrations.
func migrationLockID(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("roster migrations " + schema))
	return int64(h.Sum64() >> 1)
}

// Migrate applies every pending migration and returns how many it applied.
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
	p, err := db.migratorOn(pool)
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrate: %w", err)
	}
	return len(res), nil
}

// MigrationStatus lists every migration Roster knows and whether it is applied.
func (db *DB) MigrationStatus(ctx context.Context) ([]MigrationState, error) {
	p, err := db.migrator()
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]MigrationState, len(st))
	for i, s := range st {
		out[i] = MigrationState{Version: s.Source.Version, Name: s.Source.Path, Applied: s.State == goose.StateApplied}
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
