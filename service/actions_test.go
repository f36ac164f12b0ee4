package service_test

import (
	"strings"
	"testing"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/service"
)

func TestParseActions(t *testing.T) {
	got, err := service.ParseActions(strings.NewReader(`{"actions": {"chat": "external", "export": "resources.share"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got["chat"] != roster.RoleExternal || got["export"] != roster.RoleMember {
		t.Errorf("parsed %v", got)
	}
	for _, bad := range []string{
		`{"actions": {"chat": "superuser"}}`,
		`{"actions": {"workspace.read": "owner"}}`,
		`{"actions": {"org.billing": "owner"}}`,
		`{"actions": {"chat": "member"}, "extra": 1}`,
		`not json`,
	} {
		if _, err := service.ParseActions(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}
