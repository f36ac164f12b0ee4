package httpapi_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/roster-dev/roster/client"
	"github.com/roster-dev/roster/internal/rostertest"
)

// clientTypes pairs each of the Go client's types with the schema of the
// OpenAPI document it mirrors.
var clientTypes = map[string]any{
	"Accept-invitationResponse": client.AcceptedInvitation{},
	"AuditEvent":                client.AuditEvent{},
	"CreatedOrg":                client.CreatedOrg{},
	"CreatedToken":              client.IssuedToken{},
	"Decision":                  client.Decision{},
	"Delivery":                  client.Delivery{},
	"ExportedEvent":             client.ExportedEvent{},
	"Introspection":             client.Introspection{},
	"Invitation":                client.Invitation{},
	"IssuedInvitation":          client.IssuedInvitation{},
	"Me":                        client.Me{},
	"MembershipSummary":         client.MembershipSummary{},
	"Org":                       client.Org{},
	"OrgMember":                 client.OrgMember{},
	"Plan":                      client.Plan{},
	"Resource":                  client.Resource{},
	"ResourceRef":               client.ResourceRef{},
	"SeatCounts":                client.Seats{},
	"SeatPreview":               client.SeatPreview{},
	"Settings":                  client.Settings{},
	"Share":                     client.Share{},
	"SupportJoinBody":           client.SupportJoined{},
	"SupportSession":            client.SupportSession{},
	"SupportStateOutputBody":    client.SupportState{},
	"Task":                      client.Task{},
	"Token":                     client.Token{},
	"TokenRef":                  client.TokenRef{},
	"User":                      client.User{},
	"VerifyOutputBody":          client.AuditVerification{},
	"Webhook":                   client.Webhook{},
	"Workspace":                 client.Workspace{},
	"WorkspaceMember":           client.WorkspaceMember{},
	// What the client sends.
	"Accept-invitationRequest":         client.AcceptInvitation{},
	"AccessRequest":                    client.AccessRequest{},
	"Approve-access-requestRequest":    client.AccessApproval{},
	"CheckBody":                        client.CheckRequest{},
	"Create-callbackRequest":           client.NewCallback{},
	"Create-invitationRequest":         client.NewInvitation{},
	"Create-resourceRequest":           client.NewResource{},
	"Create-webhookRequest":            client.NewWebhook{},
	"Create-workspaceRequest":          client.NewWorkspace{},
	"CreateOrgInputBody":               client.NewOrg{},
	"CreateUserInputBody":              client.NewUser{},
	"Join-supportRequest":              client.SupportJoin{},
	"NewTokenBody":                     client.NewToken{},
	"NewWorkspaceBody":                 client.NewOrgWorkspace{},
	"Preview-seatsRequest":             client.SeatPreviewRequest{},
	"Put-org-memberRequest":            client.OrgMemberUpdate{},
	"Put-resource-shareRequest":        client.ShareUpdate{},
	"Put-workspace-memberRequest":      client.MemberUpdate{},
	"Rename-resourceRequest":           client.ResourceRename{},
	"Request-accessRequest":            client.NewAccessRequest{},
	"Set-planRequest":                  client.PlanUpdate{},
	"Transfer-resourceRequest":         client.ResourceTransfer{},
	"Update-orgRequest":                client.OrgUpdate{},
	"Update-workspace-settingsRequest": client.SettingsUpdate{},
	"Update-workspaceRequest":          client.WorkspaceUpdate{},
	"UpdateUserInputBody":              client.UserUpdate{},
}

// TestClientTypesMatchTheSchemas: every field of the API's objects has its
// field in the Go client, and the client has none the API lacks, so that a
// change of the API that the client does not follow fails here.
func TestClientTypesMatchTheSchemas(t *testing.T) {
	env := rostertest.NewEnv(t, rostertest.SQLite)
	schemas := env.API.OpenAPI().Components.Schemas.Map()
	for name, v := range clientTypes {
		s, ok := schemas[name]
		if !ok {
			t.Errorf("no schema %s (for client.%T)", name, v)
			continue
		}
		var want []string
		for p := range s.Properties {
			if p != "$schema" {
				want = append(want, p)
			}
		}
		slices.Sort(want)
		if got := jsonFields(reflect.TypeOf(v)); !slices.Equal(got, want) {
			t.Errorf("client.%T has fields %v; schema %s has %v", v, got, name, want)
		}
	}
}

// jsonFields lists the JSON names of a struct's fields, embedded structs' included.
func jsonFields(typ reflect.Type) []string {
	var out []string
	for f := range typ.Fields() {
		if f.Anonymous {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
