package roster_test

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// nestedModules are modules of this repository outside the server's own:
// the Go client (so that host applications importing it pull none of the
// server's dependencies) and the example host application.
var nestedModules = []string{"client", "examples/notes"}

// TestNestedModules runs the tests of the nested modules, so that `go test
// ./...` at the repository root runs everything.
func TestNestedModules(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is not on PATH: %v", err)
	}
	for _, dir := range nestedModules {
		t.Run(dir, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
				t.Fatalf("no module at %s: %v", dir, err)
			}
			readSources(t, dir)
			// This test runs again when its own result is not cached, and
			// then the nested results must be fresh too (the example's test
			// drives a Roster built from this module, whose files it cannot
			// tell the cache about).
			args := []string{"test", "-count=1"}
			if raceEnabled {
				args = append(args, "-race")
			}
			if testing.Short() {
				args = append(args, "-short")
			}
			cmd := exec.Command(goBin, append(args, "./...")...)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("go test in %s: %v\n%s", dir, err, out)
			}
			t.Logf("%s", out)
		})
	}
}

// readSources reads every file of a nested module: the go command caches a
// test's result keyed by the files the test opened, so a change there
// makes this test run again rather than answer from the cache.
func readSources(t *testing.T, dir string) {
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		_, err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
