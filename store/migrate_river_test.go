package store

import (
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/riverqueue/river/rivermigrate"
)

// TestRiverVersionsAreAllNumbered fails when River, upgraded, brings a
// migration version that riverVersions does not number yet, and when the
// numbers collide with Roster's own migrations or run out of order.
func TestRiverVersionsAreAllNumbered(t *testing.T) {
	for _, dialect := range []Dialect{SQLite, Postgres} {
		db := &DB{dialect: dialect}
		m, err := db.riverMigrator(nil) // River lists its versions without a database
		if err != nil {
			t.Fatal(err)
		}
		all := m.AllVersions()
		if err := checkRiverVersions(all); err != nil {
			t.Errorf("%s: %v", dialect, err)
		}
		// The check refuses a version the table lacks.
		next := rivermigrate.Migration{Version: all[len(all)-1].Version + 1, Name: "from a newer River"}
		if checkRiverVersions(append(slices.Clone(all), next)) == nil {
			t.Errorf("%s: a River version missing from riverVersions passed the check", dialect)
		}

		// Goose versions: Roster's SQL files and riverVersions' numbers
		// together, each once, River's in River's order.
		files, err := fs.Glob(migrations, "migrations/"+string(dialect)+"/*.sql")
		if err != nil || len(files) == 0 {
			t.Fatalf("%s migrations: %v %v", dialect, files, err)
		}
		used := map[int64]string{}
		for _, f := range files {
			prefix, _, _ := strings.Cut(f[strings.LastIndex(f, "/")+1:], "_")
			v, err := strconv.ParseInt(prefix, 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			used[v] = f
		}
		for i, rv := range riverVersions {
			if f, ok := used[rv.goose]; ok {
				t.Errorf("%s: goose version %d is both River's %03d and %s", dialect, rv.goose, rv.river, f)
			}
			used[rv.goose] = "river"
			if i > 0 && (rv.goose <= riverVersions[i-1].goose || rv.river <= riverVersions[i-1].river) {
				t.Errorf("riverVersions out of order at goose version %d", rv.goose)
			}
		}
	}
}
