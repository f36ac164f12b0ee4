package httpapi_test

import (
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// TestSchemaLimitsAreTheDomainLimits: huma's maxLength tags must be
// literals, so they restate the domain's limits; this keeps every one of them
// equal to the constant it restates.
func TestSchemaLimitsAreTheDomainLimits(t *testing.T) {
	env := rostertest.NewEnv(t, rostertest.SQLite)
	limits := map[string][]int{
		"email":        {roster.MaxEmailLen},
		"display_name": {roster.MaxDisplayNameLen},
		"external_id":  {roster.MaxExternalIDLen},
		"message":      {roster.MaxRequestMessageLen},
		"name":         {roster.MaxNameLen, roster.MaxTokenNameLen},
	}
	checked := 0
	var walk func(where string, s *huma.Schema)
	walk = func(where string, s *huma.Schema) {
		if s == nil {
			return
		}
		for name, p := range s.Properties {
			walk(where+"."+name, p)
			want, known := limits[name]
			if p.MaxLength == nil || !known {
				continue
			}
			checked++
			ok := false
			for _, w := range want {
				ok = ok || *p.MaxLength == w
			}
			if !ok {
				t.Errorf("%s.%s: maxLength %d, the domain's limit is %v", where, name, *p.MaxLength, want)
			}
		}
		walk(where+"[]", s.Items)
	}
	for name, s := range env.API.OpenAPI().Components.Schemas.Map() {
		walk(name, s)
	}
	if checked < 8 {
		t.Errorf("checked %d limits; the schemas were not walked", checked)
	}
}
