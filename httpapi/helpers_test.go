package httpapi_test

import (
	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
	"github.com/roster-dev/roster/service"
)

// withActions configures the host application's own check actions.
func withActions(actions map[string]string) rostertest.Option {
	return rostertest.WithService(func(o *service.Options) {
		o.Actions = map[string]roster.WorkspaceRole{}
		for name, role := range actions {
			o.Actions[name] = roster.WorkspaceRole(role)
		}
	})
}
