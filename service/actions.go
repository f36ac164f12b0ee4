package service

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/roster-dev/roster"
)

// ActionsConfig is the file `roster serve --actions` reads: the host
// application's own check actions, each mapped to the lowest workspace role
// that may take it, or to a built-in permission whose minimum role applies.
//
//	{"actions": {"chat": "member", "export": "resources.share"}}
type ActionsConfig struct {
	Actions map[string]string `json:"actions"`
}

// ParseActions reads and validates an actions file.
func ParseActions(r io.Reader) (map[string]roster.WorkspaceRole, error) {
	var cfg ActionsConfig
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("actions file: %w", err)
	}
	out := make(map[string]roster.WorkspaceRole, len(cfg.Actions))
	for name, target := range cfg.Actions {
		if _, builtin := roster.MinimumRole(roster.Permission(name)); builtin || roster.IsOrgPermission(roster.OrgPermission(name)) || name == "" {
			return nil, fmt.Errorf("actions file: %q is a built-in permission or empty; choose another name", name)
		}
		if min, ok := roster.MinimumRole(roster.Permission(target)); ok {
			out[name] = min
			continue
		}
		role, err := roster.ParseWorkspaceRole(target)
		if err != nil {
			return nil, fmt.Errorf("actions file: action %q: %q is neither a workspace role nor a permission", name, target)
		}
		out[name] = role
	}
	return out, nil
}
