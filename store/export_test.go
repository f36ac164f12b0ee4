package store

import "context"

// MigrateDownTo rolls back, newest first, every applied migration above
// version (0: all of them) and returns how many it rolled back. Roster never
// migrates down by itself; the tests use it to run every Down section.
func (db *DB) MigrateDownTo(ctx context.Context, version int64) (int, error) {
	p, err := db.migrator()
	if err != nil {
		return 0, err
	}
	res, err := p.DownTo(ctx, version)
	return len(res), err
}
