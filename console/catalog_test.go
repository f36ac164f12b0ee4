package console

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/roster-dev/roster"
)

// readCatalog is every language's messages: id to text, or to plural forms.
func readCatalog(t *testing.T) map[string]map[string]any {
	t.Helper()
	files, err := fs.Glob(localeFiles, "locales/*.json")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, f := range files {
		raw, err := fs.ReadFile(localeFiles, f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = m
	}
	return out
}

func TestEveryMessageIsInEveryLanguage(t *testing.T) {
	cat := readCatalog(t)
	if len(cat) != len(languages) {
		t.Fatalf("%d message files, want one for each of %d languages", len(cat), len(languages))
	}
	english := cat["en"]
	for _, tag := range languages {
		msgs, ok := cat[tag.String()]
		if !ok {
			t.Errorf("no messages in %s", tag)
			continue
		}
		for id, en := range english {
			got, ok := msgs[id]
			if !ok {
				t.Errorf("%s lacks %s", tag, id)
				continue
			}
			for _, ph := range placeholder.FindAllString(flatten(en), -1) {
				if !strings.Contains(flatten(got), ph) {
					t.Errorf("%s %s lacks %s", tag, id, ph)
				}
			}
		}
		for id := range msgs {
			if _, ok := english[id]; !ok {
				t.Errorf("%s has %s, which English has not", tag, id)
			}
		}
	}
	// Every language's plural forms work, for the counts pages show.
	c, err := loadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for code, l := range c.locales {
		for _, n := range []int{0, 1, 2, 5, 21, 1000000} {
			for _, id := range []string{"time.left.days", "seats.used", "seats.pending"} {
				if got := l.T(id, "Count", n, "N", l.Num(n)); got == id || strings.Contains(got, "<no value>") {
					t.Errorf("%s %s with %d: %q", code, id, n, got)
				}
			}
		}
	}
}

var placeholder = regexp.MustCompile(`\{\{\.[A-Za-z]+\}\}`)

func flatten(v any) string {
	if m, ok := v.(map[string]any); ok {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, flatten(m[k]))
		}
		return strings.Join(parts, " ")
	}
	s, _ := v.(string)
	return s
}

// Message ids the templates and the code name: {{.T "id"}} and
// {{$.T "id"}} in templates; T("id"), titles and notices in Go.
var (
	templateIDs = regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	codeIDs     = regexp.MustCompile(`(?:\.T\(|render\(q, [^,]+, "[a-z-]+", |done\(q, [^,]+, |QuestionID: |notice = |confirm\(q, |confirmFirst\(q, )"([a-z0-9_.]+)"`)
)

func TestEveryMessageUsedExists(t *testing.T) {
	english := readCatalog(t)["en"]
	used := map[string]string{}
	files, _ := filepath.Glob("templates/*.html")
	goFiles, _ := filepath.Glob("*.go")
	for _, f := range append(files, goFiles...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		re := templateIDs
		if strings.HasSuffix(f, ".go") {
			re = codeIDs
		}
		for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
			id := m[1]
			if strings.HasSuffix(f, ".go") && strings.HasPrefix(m[0], "done(") {
				id = "done." + id
			}
			if !strings.HasSuffix(id, ".") && !strings.HasSuffix(id, "_") { // a prefix an enum, code or notice completes
				used[id] = f
			}
		}
	}
	if len(used) < 40 {
		t.Fatalf("found only %d message ids in use; is the pattern stale?", len(used))
	}
	// Enum values the pages show by message: every value has one.
	enum := func(prefix string, values ...string) {
		for _, v := range values {
			used[prefix+v] = "an enum"
		}
	}
	enum("role.", strs(roster.OrgRoles)...)
	enum("role.", strs(roster.WorkspaceRoles)...)
	enum("status.", strs(roster.UserStatuses)...)
	enum("platform.", strs(roster.PlatformRoles)...)
	enum("task.status.", strs(roster.TaskStatuses)...)
	enum("delivery.status.", strs(roster.DeliveryStatuses)...)
	enum("via.", strs(roster.Vias)...)
	enum("done.support_", strs(roster.SupportStatuses)...)
	for id, where := range used {
		if _, ok := english[id]; !ok {
			t.Errorf("%s uses message %s, which is not in the catalog", where, id)
		}
	}
}

// TestTemplatesHoldNoText keeps every word a user sees in the message
// files: with actions, tags and entities taken out, a template has no
// letters left, and no attribute a browser shows holds a literal.
func TestTemplatesHoldNoText(t *testing.T) {
	files, _ := filepath.Glob("templates/*.html")
	if len(files) == 0 {
		t.Fatal("no templates")
	}
	actions := regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	shownAttr := regexp.MustCompile(`(?i)\b(placeholder|title|alt|aria-label|label)="([^"]*)"`)
	tags := regexp.MustCompile(`(?s)<[^>]*>`)
	letters := regexp.MustCompile(`\p{L}{2,}`)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := actions.ReplaceAllString(string(raw), "")
		for _, m := range shownAttr.FindAllStringSubmatch(src, -1) {
			if letters.MatchString(m[2]) {
				t.Errorf("%s: attribute %s holds text %q", f, m[1], m[2])
			}
		}
		text := strings.ReplaceAll(tags.ReplaceAllString(src, " "), "&nbsp;", " ")
		if w := letters.FindString(text); w != "" {
			t.Errorf("%s: text %q outside the message files", f, w)
		}
	}
}

func strs[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// TestEveryErrorCodeHasWords: whatever the service refuses with, the
// console says it in the visitor's language, never in the service's
// English.
func TestEveryErrorCodeHasWords(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../error.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	english := readCatalog(t)["en"]
	n := 0
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			for i, name := range v.Names {
				if !strings.HasPrefix(name.Name, "Code") || i >= len(v.Values) {
					continue
				}
				lit, ok := v.Values[i].(*ast.BasicLit)
				if !ok {
					continue
				}
				n++
				code, _ := strconv.Unquote(lit.Value)
				if _, ok := english["error."+code]; !ok {
					t.Errorf("no words for error code %s (%s)", code, name.Name)
				}
			}
		}
	}
	if n < 50 {
		t.Fatalf("found %d error codes in error.go; is the parse stale?", n)
	}
}

func TestActionsSwitchLanguageOnTheirPage(t *testing.T) {
	for action, page := range map[string]string{
		"/console/orgs/org_1/members/usr_2/remove": "/console/orgs/org_1",
		"/console/workspaces/ws_1/invitations":     "/console/workspaces/ws_1",
		"/console/staff/webhooks/whk_1/rotate":     "/console/staff/webhooks",
		"/console/staff/support":                   "/console/staff/support",
		"/console/audit/verify":                    "/console/audit",
		"/console/invitations/inv_1/accept":        "/console/",
		"/console/sign-in":                         "/console/sign-in",
		"/console/login/rst_lnk_x":                 "/console/login/rst_lnk_x",
		"/console/sign-out":                        "/console/",
	} {
		if got := pageOf(action); got != page {
			t.Errorf("pageOf(%s) = %s, want %s", action, got, page)
		}
	}
}
