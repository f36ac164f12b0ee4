package httpapi

import (
	"net/http"
	"reflect"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/roster-dev/roster"
)

// byBody leaves an operation's success status to huma: 200, or 204 when
// the response has no body.
const byBody = 0

// routes is the one place every operation is registered. The handlers live
// beside their input types in each area's file.
//
// An input or output with an inline body struct is declared as an alias
// (type createWorkspaceInput = struct{...}), not a defined type: huma names
// the body schema of an unnamed type after the operation
// (Create-workspaceRequest) but that of a named one after the type
// (CreateWorkspaceInputBody), and the API document keeps the former names.
func (s *Server) routes() {
	api := s.api

	// The caller
	users := []string{"Users"}
	huma.Register(api, s.op("get-me", http.MethodGet, "/v1/me", byBody, users, "The caller", "The user the request acts as, their memberships and current workspace."), s.getMe)

	// Users
	huma.Register(api, s.op("create-user", http.MethodPost, "/v1/users", http.StatusCreated, users, "Create a user", "Platform admins and service tokens."), s.createUser)
	huma.Register(api, s.op("list-users", http.MethodGet, "/v1/users", byBody, users, "List users", "Platform admins and service tokens."), listOf(roster.PrefixUser, toUser, s.listUsers))
	huma.Register(api, s.op("get-user", http.MethodGet, "/v1/users/{id}", byBody, users, "Get a user", "Platform admins, service tokens, and the user themself."), s.getUser)
	huma.Register(api, s.op("update-user", http.MethodPatch, "/v1/users/{id}", byBody, users, "Update a user",
		"Users may change their own display_name; platform admins and service tokens change status, email and external_id; only platform admins change platform_role."), s.updateUser)
	huma.Register(api, s.op("delete-user", http.MethodDelete, "/v1/users/{id}", http.StatusNoContent, users, "Delete a user", "Platform admins. The user's tokens are revoked; history is kept."), s.deleteUser)

	// Tokens
	tokens := []string{"Tokens"}
	huma.Register(api, s.op("create-my-token", http.MethodPost, "/v1/me/tokens", http.StatusCreated, tokens, "Create a personal token for the caller", ""), s.createMyToken)
	huma.Register(api, s.op("list-my-tokens", http.MethodGet, "/v1/me/tokens", byBody, tokens, "List the caller's tokens", ""), listOf(roster.PrefixToken, toToken, s.listMyTokens))
	huma.Register(api, s.op("revoke-my-token", http.MethodDelete, "/v1/me/tokens/{id}", http.StatusNoContent, tokens, "Revoke one of the caller's tokens", ""), s.revokeMyToken)
	huma.Register(api, s.op("create-user-token", http.MethodPost, "/v1/users/{id}/tokens", http.StatusCreated, tokens, "Create a token for a user", "Platform admins issue any kind (service tokens usually belong to a bot user); the host application's service tokens issue personal tokens to users without platform powers, to sign its users up."), s.createUserToken)
	huma.Register(api, s.op("list-user-tokens", http.MethodGet, "/v1/users/{id}/tokens", byBody, tokens, "List a user's tokens", "Platform admins."), listOf(roster.PrefixToken, toToken, s.listUserTokens))
	huma.Register(api, s.op("revoke-user-token", http.MethodDelete, "/v1/users/{id}/tokens/{tid}", http.StatusNoContent, tokens, "Revoke a user's token", "Platform admins."), s.revokeUserToken)
	huma.Register(api, s.op("introspect-token", http.MethodPost, "/v1/tokens/introspect", byBody, tokens, "Introspect a token", "Service tokens. Anything that would not authenticate is reported as inactive."), s.introspectToken)

	// Audit
	audit := []string{"Audit"}
	huma.Register(api, s.op("list-audit", http.MethodGet, "/v1/audit", byBody, audit, "Read the audit log",
		"Newest first. Platform admins read all of it; an organisation's owners and admins (and service tokens) read that organisation's, naming it in `org_id`."), listOf(roster.PrefixAudit, toAudit, s.listAudit))
	export := s.op("export-audit", http.MethodGet, exportPath, http.StatusOK, audit, "Export the audit log (NDJSON)",
		"The same filters and the same readers as GET /v1/audit. One sealed event a line, oldest first, with `seq`, `prev_hash` and `hash`: "+
			"`roster audit verify FILE` checks a copy offline. Events written in the last moment, not sealed yet, come in the next export.")
	export.Responses = map[string]*huma.Response{"200": {Description: "The events: each line is one of these", Content: map[string]*huma.MediaType{
		"application/x-ndjson": {Schema: api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[roster.ExportedEvent](), true, "")}}}}
	huma.Register(api, export, s.exportAudit)
	huma.Register(api, s.op("verify-audit", http.MethodGet, verifyPath, byBody, audit, "Verify the audit log's hash chain",
		"Platform admins. Walks the chain from its first event to its head, recomputing every hash; names the first event that breaks it."), s.verifyAudit)

	// Organisations
	orgs := []string{"Organisations"}
	huma.Register(api, s.op("create-org", http.MethodPost, "/v1/orgs", http.StatusCreated, orgs, "Create an organisation", "The caller becomes its owner; staff and service tokens may name the owner instead."), s.createOrg)
	huma.Register(api, s.op("list-orgs", http.MethodGet, "/v1/orgs", byBody, orgs, "List organisations", "The caller's organisations; platform admins and service tokens see all."), listOf(roster.PrefixOrg, toOrg, s.listOrgs))
	huma.Register(api, s.op("get-org", http.MethodGet, "/v1/orgs/{org}", byBody, orgs, "Get an organisation", ""), s.getOrg)
	huma.Register(api, s.op("update-org", http.MethodPatch, "/v1/orgs/{org}", byBody, orgs, "Update an organisation", "Owners and admins of the organisation."), s.updateOrg)
	huma.Register(api, s.op("delete-org", http.MethodDelete, "/v1/orgs/{org}", http.StatusNoContent, orgs, "Delete an organisation", "Owners of the organisation. Its workspaces and memberships go with it; history is kept."), s.deleteOrg)
	huma.Register(api, s.op("list-org-members", http.MethodGet, "/v1/orgs/{org}/members", byBody, orgs, "List an organisation's members", "The directory: owners, admins and members of the organisation see it."), listOf(roster.PrefixUser, toOrgMember, s.listOrgMembers))
	huma.Register(api, s.op("put-org-member", http.MethodPut, "/v1/orgs/{org}/members/{user}", byBody, orgs, "Add a member to an organisation or change their role",
		"201 when the membership was created, 200 otherwise. Their external workspace memberships in the organisation become member."), s.putOrgMember)
	documentStatus(api, http.MethodPut, "/v1/orgs/{org}/members/{user}", http.StatusCreated, "The membership was created")
	huma.Register(api, s.op("remove-org-member", http.MethodDelete, "/v1/orgs/{org}/members/{user}", http.StatusNoContent, orgs, "Remove a member from an organisation", "Also ends their memberships in every workspace of the organisation."), s.removeOrgMember)

	// Workspaces
	workspaces := []string{"Workspaces"}
	huma.Register(api, s.op("create-workspace", http.MethodPost, "/v1/workspaces", http.StatusCreated, workspaces, "Create a workspace", "The creator becomes its owner; staff and service tokens name the owner in `owner_id`."), s.createWorkspace)
	huma.Register(api, s.op("list-workspaces", http.MethodGet, "/v1/workspaces", byBody, workspaces, "List workspaces", "The workspaces the caller can reach, with their effective role; platform admins and service tokens see all."), listOf(roster.PrefixWorkspace, toWorkspace, s.listWorkspaces))
	huma.Register(api, s.op("get-workspace", http.MethodGet, "/v1/workspaces/{ws}", byBody, workspaces, "Get a workspace", ""), s.getWorkspace)
	huma.Register(api, s.op("update-workspace", http.MethodPatch, "/v1/workspaces/{ws}", byBody, workspaces, "Rename a workspace or change its slug", "Admins and owners."), s.updateWorkspace)
	huma.Register(api, s.op("delete-workspace", http.MethodDelete, "/v1/workspaces/{ws}", http.StatusNoContent, workspaces, "Delete a workspace", "Owners. Its memberships go with it; history is kept."), s.deleteWorkspace)
	huma.Register(api, s.op("archive-workspace", http.MethodPost, "/v1/workspaces/{ws}/archive", byBody, workspaces, "Archive a workspace: every scoped access answers 410 until it is restored", "Admins and owners. Idempotent."), s.archiveWorkspace)
	huma.Register(api, s.op("unarchive-workspace", http.MethodPost, "/v1/workspaces/{ws}/unarchive", byBody, workspaces, "Restore an archived workspace", "Admins and owners. Idempotent."), s.unarchiveWorkspace)
	huma.Register(api, s.op("list-workspace-members", http.MethodGet, "/v1/workspaces/{ws}/members", byBody, workspaces, "List a workspace's members", "Direct and derived members by user id. `include=support` (admins and staff) adds staff support sessions."), listOf(roster.PrefixUser, toMember, s.listWorkspaceMembers))
	huma.Register(api, s.op("put-workspace-member", http.MethodPut, "/v1/workspaces/{ws}/members/{user}", byBody, workspaces, "Add a member to a workspace or change their role",
		"201 when the membership was created, 200 otherwise. Granting member, admin or owner to someone outside the organisation also makes them an organisation member."), s.putWorkspaceMember)
	documentStatus(api, http.MethodPut, "/v1/workspaces/{ws}/members/{user}", http.StatusCreated, "The membership was created")
	huma.Register(api, s.op("remove-workspace-member", http.MethodDelete, "/v1/workspaces/{ws}/members/{user}", http.StatusNoContent, workspaces, "Remove a member from a workspace", "Members may leave; admins remove others; only owners remove owners."), s.removeWorkspaceMember)
	huma.Register(api, s.op("get-workspace-settings", http.MethodGet, "/v1/workspaces/{ws}/settings", byBody, workspaces, "Get a workspace's settings", ""), s.getWorkspaceSettings)
	huma.Register(api, s.op("update-workspace-settings", http.MethodPatch, "/v1/workspaces/{ws}/settings", byBody, workspaces, "Change a workspace's settings", "Admins and owners. `values` merges: a null value deletes its key."), s.updateWorkspaceSettings)
	huma.Register(api, s.op("set-default-workspace", http.MethodPut, "/v1/me/default-workspace", byBody, users, "Set the caller's current workspace", ""), s.setDefaultWorkspace)
	huma.Register(api, s.op("list-user-workspaces", http.MethodGet, "/v1/users/{id}/workspaces", byBody, workspaces, "Every workspace a user can reach", "With their effective role. The user themself, platform admins and service tokens."), listOf(roster.PrefixWorkspace, toWorkspace, s.listUserWorkspaces))

	// Authorization checks
	checks := []string{"Authorization checks"}
	huma.Register(api, s.op("check", http.MethodPost, "/v1/check", byBody, checks, "May this user do this, here, now?", "Users may check for themselves; service tokens and platform admins for anyone."), s.check)
	huma.Register(api, s.op("check-batch", http.MethodPost, "/v1/check/batch", byBody, checks, "Many checks at once", "Up to 1,000 checks; results in the same order."), s.checkBatch)

	// Seats and plans
	huma.Register(api, s.op("get-seats", http.MethodGet, "/v1/orgs/{org}/seats", byBody, orgs, "Seat counts", "Owners, admins and billing members of the organisation; platform admins and service tokens."), s.getSeats)
	huma.Register(api, s.op("set-plan", http.MethodPut, "/v1/orgs/{org}/plan", byBody, orgs, "Set an organisation's plan", "Platform admins and service tokens. Seats are recounted under the new plan."), s.setPlan)

	// Invitations and access requests
	invitations := []string{"Invitations and access requests"}
	huma.Register(api, s.op("create-invitation", http.MethodPost, "/v1/workspaces/{ws}/invitations", http.StatusCreated, invitations, "Invite someone to a workspace",
		"Admins of the workspace; only owners invite owners. 201 with the accept token (shown once); 200 with the pending invitation when one exists. "+
			"402 when a paid role would exceed the seat cap (used + pending + 1)."), s.createInvitation)
	documentPostStatus(api, "/v1/workspaces/{ws}/invitations", http.StatusOK, "A pending invitation to this email exists; it is returned")
	huma.Register(api, s.op("list-invitations", http.MethodGet, "/v1/workspaces/{ws}/invitations", byBody, invitations, "List a workspace's invitations", "Admins of the workspace. Pending ones unless `status` says otherwise."), listOf(roster.PrefixInvitation, s.toInvitation, s.listInvitations))
	huma.Register(api, s.op("revoke-invitation", http.MethodDelete, "/v1/workspaces/{ws}/invitations/{id}", http.StatusNoContent, invitations, "Revoke an invitation", ""), s.revokeInvitation)
	huma.Register(api, s.op("resend-invitation", http.MethodPost, "/v1/workspaces/{ws}/invitations/{id}/resend", byBody, invitations, "Issue a new accept token", "The old token stops working at once; the expiry starts again."), s.resendInvitation)
	huma.Register(api, s.op("my-invitations", http.MethodGet, "/v1/me/invitations", byBody, invitations, "Pending invitations to the caller's email", ""), listOf(roster.PrefixInvitation, s.toInvitation, s.myInvitations))
	huma.Register(api, s.op("accept-invitation", http.MethodPost, "/v1/invitations/accept", byBody, invitations, "Accept an invitation", "As the invited person (or a service token acting for them), with the token or the invitation id. Idempotent."), s.acceptInvitation)
	huma.Register(api, s.op("request-access", http.MethodPost, "/v1/workspaces/{ws}/access-requests", http.StatusCreated, invitations, "Ask to join a workspace", "201 for a new request; 200 with the pending one when it exists."), s.requestAccess)
	documentPostStatus(api, "/v1/workspaces/{ws}/access-requests", http.StatusOK, "A pending request exists; it is returned")
	huma.Register(api, s.op("list-access-requests", http.MethodGet, "/v1/workspaces/{ws}/access-requests", byBody, invitations, "List a workspace's access requests", "Admins of the workspace. Pending ones unless `status` says otherwise."), listOf(roster.PrefixAccessRequest, toRequest, s.listAccessRequests))
	huma.Register(api, s.op("approve-access-request", http.MethodPost, "/v1/workspaces/{ws}/access-requests/{id}/approve", byBody, invitations, "Approve an access request with a role", "Re-checks the approver's authority and the seat cap at decision time."), s.approveAccessRequest)
	huma.Register(api, s.op("deny-access-request", http.MethodPost, "/v1/workspaces/{ws}/access-requests/{id}/deny", byBody, invitations, "Deny an access request", ""), s.denyAccessRequest)
	huma.Register(api, s.op("preview-seats", http.MethodPost, "/v1/orgs/{org}/seats/preview", byBody, orgs, "How many new paid seats inviting these emails would take", ""), s.previewSeats)

	// Bulk import
	imp := s.op("import", http.MethodPost, importPath, byBody, []string{"Import"}, "Import users, organisations, workspaces and memberships (NDJSON)",
		"Platform admins and service tokens. One record a line (`application/x-ndjson`); organisations and workspaces are named by slug, users by "+
			"`external_id` or email. Records apply in order, each on its own and under the API's rules: one that is equal to what is stored "+
			"changes nothing, one that breaks a rule is reported with its line number and `code` and the others go on. The same membership twice: "+
			"the later line wins. With `dry_run=true` nothing is written.")
	imp.MaxBodyBytes = s.maxImport
	huma.Register(api, imp, s.importRecords)
	api.OpenAPI().Paths[importPath].Post.RequestBody.Content["application/x-ndjson"].Schema =
		api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[ImportLine](), true, "")

	// Tasks
	tasks := []string{"Tasks"}
	huma.Register(api, s.op("list-tasks", http.MethodGet, "/v1/admin/tasks", byBody, tasks, "List tasks", "Platform admins and service tokens. Newest first."), listOf(roster.PrefixTask, toTask, s.listTasks))
	huma.Register(api, s.op("get-task", http.MethodGet, "/v1/admin/tasks/{id}", byBody, tasks, "Get a task", "Platform admins and service tokens."), s.getTask)
	huma.Register(api, s.op("cancel-task", http.MethodPost, "/v1/admin/tasks/{id}/cancel", byBody, tasks, "Cancel a scheduled task", "409 `task_not_cancellable` once it has started or finished."), s.cancelTask)
	huma.Register(api, s.op("retry-task", http.MethodPost, "/v1/admin/tasks/{id}/retry", byBody, tasks, "Run a failed or cancelled task again, now", "409 `task_not_retryable` for any other task."), s.retryTask)

	// Webhooks and callbacks
	webhooks := []string{"Webhooks"}
	huma.Register(api, s.op("create-webhook", http.MethodPost, "/v1/webhooks", http.StatusCreated, webhooks, "Register a webhook endpoint",
		"Platform admins and service tokens. The secret is shown in this answer only."), s.createWebhook)
	huma.Register(api, s.op("list-webhooks", http.MethodGet, "/v1/webhooks", byBody, webhooks, "List webhook endpoints", "Platform admins and service tokens."), listOf(roster.PrefixWebhook, toWebhook, s.listWebhooks))
	huma.Register(api, s.op("get-webhook", http.MethodGet, "/v1/webhooks/{id}", byBody, webhooks, "Get a webhook endpoint", ""), s.getWebhook)
	huma.Register(api, s.op("delete-webhook", http.MethodDelete, "/v1/webhooks/{id}", http.StatusNoContent, webhooks, "Delete a webhook endpoint", "Its pending deliveries stop."), s.deleteWebhook)
	huma.Register(api, s.op("rotate-webhook-secret", http.MethodPost, "/v1/webhooks/{id}/rotate-secret", byBody, webhooks, "Give an endpoint a new secret",
		"Shown in this answer only; for 24 hours deliveries carry signatures by both the old and the new secret."), s.rotateWebhookSecret)
	huma.Register(api, s.op("list-webhook-deliveries", http.MethodGet, "/v1/webhooks/{id}/deliveries", byBody, webhooks, "An endpoint's deliveries", "Newest first."), listOf(roster.PrefixDelivery, toDelivery, s.listDeliveries))
	huma.Register(api, s.op("create-callback", http.MethodPost, "/v1/tasks/callbacks", http.StatusCreated, tasks, "Schedule a callback",
		"Service tokens and platform admins. At `run_at` a callback.due event carrying `payload` and the task id is delivered, signed and retried like any event."), s.createCallback)

	s.registerSupport(api)
	s.registerResources(api)

	// Events
	events := []string{"Events"}
	stream := s.op("stream-events", http.MethodGet, streamPath, http.StatusOK, events, "Stream events (Server-Sent Events)",
		"`id:` is the event id, `event:` its type, `data:` the event. Platform admins and service tokens see every event; anyone else those of "+
			"organisations they own or administer, of workspaces where they are admin or more, and those about themselves. "+
			"Resume with `Last-Event-ID`; a comment line comes at least every 15 s. A client that falls behind is disconnected and resumes.")
	stream.Responses = map[string]*huma.Response{"200": {Description: "The stream", Content: map[string]*huma.MediaType{
		"text/event-stream": {Schema: &huma.Schema{Type: huma.TypeString}}}}}
	huma.Register(api, stream, s.streamEvents)

	// Plain routes, outside the API document
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
}

// op describes a secured operation. status is its default success status,
// or byBody; an empty description is left out.
func (s *Server) op(id, method, path string, status int, tags []string, summary, description string) huma.Operation {
	return s.secured(huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary, Description: description,
		DefaultStatus: status, Tags: tags})
}

// secured marks an operation as needing a bearer token.
func (s *Server) secured(op huma.Operation) huma.Operation {
	// plainText reads the body under its own deadline and clears it; huma's
	// would stay on the connection and cancel the next requests on it.
	op.BodyReadTimeout = -1
	op.Security = []map[string][]string{{bearerScheme: {}}}
	op.Parameters = append(op.Parameters, &huma.Param{Name: "Roster-On-Behalf-Of", In: "header",
		Description: "With a service token: act as this user (usr_…)", Schema: &huma.Schema{Type: huma.TypeString}})
	return op
}
