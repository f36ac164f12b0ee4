package store_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/roster-dev/roster"
)

// TestEveryStoreMethodIsCalledByATest keeps the conformance suite whole: a
// method added to roster.Store or roster.Tx (or to an interface they embed)
// fails this test until some test in this package calls it. It looks for
// the text ".Method(" in the package's test files, so it proves a call, not
// that the call is checked: that is for review.
func TestEveryStoreMethodIsCalledByATest(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("test files: %v %v", files, err)
	}
	var src strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src.Write(b)
	}
	all := src.String()
	seen := map[string]bool{} // Store and Tx share the reads
	for _, iface := range []reflect.Type{reflect.TypeFor[roster.Store](), reflect.TypeFor[roster.Tx]()} {
		for m := range iface.Methods() {
			if seen[m.Name] {
				continue
			}
			seen[m.Name] = true
			if !strings.Contains(all, "."+m.Name+"(") {
				t.Errorf("%s.%s is called by no test in store/", iface, m.Name)
			}
		}
	}
	if len(seen) < 40 {
		t.Errorf("only %d methods found: is the reflection reading the interfaces?", len(seen))
	}
}
