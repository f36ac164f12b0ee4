package rostertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

const openAPIURL = "mem://roster/openapi.json"

// OpenAPIValidator checks responses against the API's own OpenAPI document:
// the status must be documented for the operation and the body must match
// its schema. Responses outside any operation (unknown routes, wrong
// methods) must be problems.
type OpenAPIValidator struct {
	compiler *jsonschema.Compiler
	paths    []pathMatcher
	doc      map[string]any
	mu       sync.Mutex
	schemas  map[string]*jsonschema.Schema
}

type pathMatcher struct {
	template string
	re       *regexp.Regexp
}

// NewOpenAPIValidator prepares a validator for doc.
func NewOpenAPIValidator(t testing.TB, doc *huma.OpenAPI) *OpenAPIValidator {
	t.Helper()
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	v, err := newValidator(raw)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func newValidator(raw []byte) (*OpenAPIValidator, error) {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(openAPIURL, inst); err != nil {
		return nil, err
	}
	v := &OpenAPIValidator{compiler: c, schemas: map[string]*jsonschema.Schema{}}
	if err := json.Unmarshal(raw, &v.doc); err != nil {
		return nil, err
	}
	paths, _ := v.doc["paths"].(map[string]any)
	for tmpl := range paths {
		re := "^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(tmpl), `[^/]+`) + "$"
		v.paths = append(v.paths, pathMatcher{template: tmpl, re: regexp.MustCompile(re)})
	}
	return v, nil
}

func pointerEscape(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func (v *OpenAPIValidator) schema(pointer string) (*jsonschema.Schema, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.schemas[pointer]; ok {
		return s, nil
	}
	s, err := v.compiler.Compile(openAPIURL + "#" + pointer)
	if err != nil {
		return nil, err
	}
	v.schemas[pointer] = s
	return s, nil
}

// Check fails the test if the response does not conform.
func (v *OpenAPIValidator) Check(t testing.TB, method, path string, r *Response) {
	t.Helper()
	if err := v.check(method, path, r); err != nil {
		t.Errorf("%s %s -> %d does not conform to /v1/openapi.json: %v\nbody: %s", method, path, r.Status, err, r.Body)
	}
}

func (v *OpenAPIValidator) check(method, path string, r *Response) error {
	if method == "HEAD" || path == "/v1/openapi.json" || !strings.HasPrefix(path, "/v1/") {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	op := v.operation(method, path)
	if op == "" {
		if ct != "application/problem+json" {
			return fmt.Errorf("no operation matches, and the response is %q, not a problem", ct)
		}
		return v.validate("/components/schemas/Problem", r.Body)
	}
	responses, _ := v.lookup(op + "/responses").(map[string]any)
	code := strconv.Itoa(r.Status)
	if _, ok := responses[code]; !ok {
		if _, ok := responses["default"]; !ok || r.Status < 400 {
			return fmt.Errorf("status %d is not documented", r.Status)
		}
		code = "default"
	}
	if r.Status == 204 {
		if len(r.Body) != 0 {
			return fmt.Errorf("204 with a body")
		}
		return nil
	}
	mediaType := strings.TrimSpace(strings.Split(ct, ";")[0])
	content, _ := v.lookup(op + "/responses/" + code + "/content").(map[string]any)
	if _, ok := content[mediaType]; !ok {
		return fmt.Errorf("content type %q is not documented for %s", mediaType, code)
	}
	schema := op + "/responses/" + code + "/content/" + pointerEscape(mediaType) + "/schema"
	if mediaType == "application/x-ndjson" { // every line is one document of the schema
		for i, line := range bytes.Split(r.Body, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			if err := v.validate(schema, line); err != nil {
				return fmt.Errorf("line %d: %w", i+1, err)
			}
		}
		return nil
	}
	return v.validate(schema, r.Body)
}

func (v *OpenAPIValidator) validate(pointer string, body []byte) error {
	s, err := v.schema(pointer)
	if err != nil {
		return fmt.Errorf("compiling %s: %w", pointer, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	return s.Validate(inst)
}

// operation returns the JSON pointer of the operation serving method and path.
func (v *OpenAPIValidator) operation(method, path string) string {
	m := strings.ToLower(method)
	for _, p := range v.paths {
		if !p.re.MatchString(path) {
			continue
		}
		ptr := "/paths/" + pointerEscape(p.template) + "/" + m
		if v.lookup(ptr) != nil {
			return ptr
		}
	}
	return ""
}

func (v *OpenAPIValidator) lookup(pointer string) any {
	var cur any = v.doc
	for _, part := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}
