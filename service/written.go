package service

import (
	"context"
	"time"

	"github.com/roster-dev/roster"
)

// trackedTx is the transaction a change writes through. Every write passes
// to the store and notes which cached state it makes stale, so no mutation
// has to remember to invalidate: the caches follow what was written. It
// embeds only the Reader: a write method added to roster.Tx does not compile
// here until it says what it invalidates.
type trackedTx struct {
	roster.Reader
	tx    roster.Tx
	stale []string // invalidation messages, each once, in the order written
	seen  map[string]bool
}

func newTrackedTx(tx roster.Tx) *trackedTx {
	return &trackedTx{Reader: tx, tx: tx, seen: map[string]bool{}}
}

// note records that msg's cached state is stale. Past
// maxTargetedInvalidations messages, forgetting everything costs the
// replicas less than the notifications: the change then sends only that.
func (t *trackedTx) note(msg string) {
	switch {
	case t.seen[msg] || t.forgotAll():
	case msg == "" || len(t.stale) >= maxTargetedInvalidations:
		t.stale, t.seen[""] = []string{""}, true
	default:
		t.seen[msg] = true
		t.stale = append(t.stale, msg)
	}
}

// maxTargetedInvalidations bounds the messages one change sends.
const maxTargetedInvalidations = 2000

// forgotAll reports whether every replica is to drop everything it caches.
func (t *trackedTx) forgotAll() bool { return t.seen[""] }

// Writes that change what the caches hold: users, their tokens, their
// memberships (each user's access is cached whole), workspaces, and
// resources with their shares (each resource is cached with its shares).

func (t *trackedTx) UpdateUser(ctx context.Context, u roster.User) error {
	t.note(userMessage(u.ID))
	return t.tx.UpdateUser(ctx, u)
}

func (t *trackedTx) RevokeToken(ctx context.Context, id string, at time.Time) (bool, error) {
	tok, err := t.tx.GetToken(ctx, id)
	if err != nil {
		return false, err
	}
	t.note(tokenMessage(tok.Hash))
	return t.tx.RevokeToken(ctx, id, at)
}

func (t *trackedTx) RevokeUserTokens(ctx context.Context, userID string, at time.Time) ([]string, error) {
	hashes, err := t.tx.RevokeUserTokens(ctx, userID, at)
	for _, h := range hashes {
		t.note(tokenMessage(h))
	}
	return hashes, err
}

func (t *trackedTx) CreateOrgMembership(ctx context.Context, m roster.OrgMembership) (bool, error) {
	t.note(userMessage(m.UserID))
	return t.tx.CreateOrgMembership(ctx, m)
}

func (t *trackedTx) UpdateOrgMembership(ctx context.Context, m roster.OrgMembership) error {
	t.note(userMessage(m.UserID))
	return t.tx.UpdateOrgMembership(ctx, m)
}

func (t *trackedTx) CreateWorkspaceMembership(ctx context.Context, m roster.WorkspaceMembership) (bool, error) {
	t.note(userMessage(m.UserID))
	return t.tx.CreateWorkspaceMembership(ctx, m)
}

func (t *trackedTx) UpdateWorkspaceMembership(ctx context.Context, m roster.WorkspaceMembership) error {
	t.note(userMessage(m.UserID))
	return t.tx.UpdateWorkspaceMembership(ctx, m)
}

func (t *trackedTx) DeleteUserOrgWorkspaceMemberships(ctx context.Context, orgID, userID string, at time.Time) ([]roster.WorkspaceMembership, error) {
	t.note(userMessage(userID))
	return t.tx.DeleteUserOrgWorkspaceMemberships(ctx, orgID, userID, at)
}

func (t *trackedTx) UpdateWorkspace(ctx context.Context, w roster.Workspace) error {
	t.note(workspaceMessage(w.ID))
	return t.tx.UpdateWorkspace(ctx, w)
}

func (t *trackedTx) DeleteWorkspace(ctx context.Context, workspaceID string, at time.Time) error {
	members, err := allWorkspaceMembers(ctx, t.tx, workspaceID)
	if err != nil {
		return err
	}
	for _, m := range members {
		t.note(userMessage(m.UserID))
	}
	if err := t.noteWorkspace(ctx, workspaceID); err != nil {
		return err
	}
	return t.tx.DeleteWorkspace(ctx, workspaceID, at)
}

func (t *trackedTx) UpdateResource(ctx context.Context, r roster.Resource) error {
	t.note(resourceMessage(r.ID))
	return t.tx.UpdateResource(ctx, r)
}

func (t *trackedTx) PutShare(ctx context.Context, s roster.ResourceShare) (bool, error) {
	t.note(resourceMessage(s.ResourceID))
	return t.tx.PutShare(ctx, s)
}

func (t *trackedTx) DeleteShare(ctx context.Context, resourceID, granteeID string) (bool, error) {
	t.note(resourceMessage(resourceID))
	return t.tx.DeleteShare(ctx, resourceID, granteeID)
}

func (t *trackedTx) DeleteOrg(ctx context.Context, orgID string, at time.Time) error {
	if err := t.noteOrg(ctx, orgID); err != nil {
		return err
	}
	return t.tx.DeleteOrg(ctx, orgID, at)
}

// noteOrg marks what caches hold of an organisation: its workspaces, their
// resources and the access of everyone in it.
func (t *trackedTx) noteOrg(ctx context.Context, orgID string) error {
	userIDs, err := t.tx.ListOrgUserIDs(ctx, orgID)
	if err != nil {
		return err
	}
	for _, id := range userIDs {
		t.note(userMessage(id))
	}
	list := func(p roster.Page) ([]roster.Workspace, error) {
		return t.tx.ListWorkspaces(ctx, roster.WorkspaceFilter{OrgID: orgID, IncludeArchived: true}, p)
	}
	return notePages(t, list, func(w roster.Workspace) string { return w.ID }, func(w roster.Workspace) error {
		return t.noteWorkspace(ctx, w.ID)
	})
}

// noteWorkspace marks a workspace and the resources it owns (deleting it
// deletes them).
func (t *trackedTx) noteWorkspace(ctx context.Context, workspaceID string) error {
	t.note(workspaceMessage(workspaceID))
	list := func(p roster.Page) ([]roster.Resource, error) {
		return t.tx.ListResources(ctx, roster.ResourceFilter{WorkspaceID: workspaceID}, p)
	}
	return notePages(t, list, func(r roster.Resource) string { return r.ID }, func(r roster.Resource) error {
		t.note(resourceMessage(r.ID))
		return nil
	})
}

// notePages calls each on every item list returns, a page at a time, until
// everything is forgotten anyway.
func notePages[T any](t *trackedTx, list func(roster.Page) ([]T, error), id func(T) string, each func(T) error) error {
	for p := (roster.Page{Limit: 500}); ; {
		if t.forgotAll() {
			return nil
		}
		items, err := list(p)
		if err != nil {
			return err
		}
		for _, item := range items[:min(len(items), p.Limit)] {
			if err := each(item); err != nil {
				return err
			}
		}
		if len(items) <= p.Limit {
			return nil
		}
		p.After = id(items[p.Limit-1])
	}
}

// Writes that touch nothing cached: a new row is not cached before it
// exists (failed loads are not kept), and organisations, plans, seats,
// invitations, requests, support sessions and the audit log are read from
// the database (a session's membership and token are cached, and noted above).

func (t *trackedTx) CreateUser(ctx context.Context, u roster.User) error {
	return t.tx.CreateUser(ctx, u)
}

func (t *trackedTx) CreateToken(ctx context.Context, tok roster.Token) error {
	return t.tx.CreateToken(ctx, tok)
}

func (t *trackedTx) LockOrg(ctx context.Context, orgID string) (roster.Org, error) {
	return t.tx.LockOrg(ctx, orgID)
}

func (t *trackedTx) LockWorkspaceOrg(ctx context.Context, workspaceID string) (string, error) {
	return t.tx.LockWorkspaceOrg(ctx, workspaceID)
}

func (t *trackedTx) CreateOrg(ctx context.Context, o roster.Org) error {
	return t.tx.CreateOrg(ctx, o)
}

func (t *trackedTx) UpdateOrg(ctx context.Context, o roster.Org) error {
	return t.tx.UpdateOrg(ctx, o)
}

func (t *trackedTx) CreateWorkspace(ctx context.Context, w roster.Workspace) error {
	return t.tx.CreateWorkspace(ctx, w)
}

func (t *trackedTx) ReplaceSeat(ctx context.Context, old, s roster.Seat) error {
	return t.tx.ReplaceSeat(ctx, old, s)
}

func (t *trackedTx) CreateInvitation(ctx context.Context, i roster.Invitation) (bool, error) {
	return t.tx.CreateInvitation(ctx, i)
}

func (t *trackedTx) UpdateInvitation(ctx context.Context, i roster.Invitation) error {
	return t.tx.UpdateInvitation(ctx, i)
}

func (t *trackedTx) CreateAccessRequest(ctx context.Context, r roster.AccessRequest) (bool, error) {
	return t.tx.CreateAccessRequest(ctx, r)
}

func (t *trackedTx) UpdateAccessRequest(ctx context.Context, r roster.AccessRequest) error {
	return t.tx.UpdateAccessRequest(ctx, r)
}

func (t *trackedTx) InsertAudit(ctx context.Context, events ...roster.AuditEvent) error {
	return t.tx.InsertAudit(ctx, events...)
}

func (t *trackedTx) ScheduleTask(ctx context.Context, nt roster.NewTask) (string, error) {
	return t.tx.ScheduleTask(ctx, nt)
}

func (t *trackedTx) ScheduleTasks(ctx context.Context, nts []roster.NewTask) error {
	return t.tx.ScheduleTasks(ctx, nts)
}

func (t *trackedTx) CancelTask(ctx context.Context, id string) (roster.Task, error) {
	return t.tx.CancelTask(ctx, id)
}

func (t *trackedTx) RetryTask(ctx context.Context, id string) (roster.Task, error) {
	return t.tx.RetryTask(ctx, id)
}

func (t *trackedTx) CreateWebhook(ctx context.Context, w roster.Webhook) error {
	return t.tx.CreateWebhook(ctx, w)
}

func (t *trackedTx) UpdateWebhook(ctx context.Context, w roster.Webhook) error {
	return t.tx.UpdateWebhook(ctx, w)
}

func (t *trackedTx) CreateDelivery(ctx context.Context, d roster.Delivery) error {
	return t.tx.CreateDelivery(ctx, d)
}

func (t *trackedTx) UpdateDelivery(ctx context.Context, d roster.Delivery) error {
	return t.tx.UpdateDelivery(ctx, d)
}

func (t *trackedTx) LockDispatch(ctx context.Context) (roster.EventCursor, bool, error) {
	return t.tx.LockDispatch(ctx)
}

func (t *trackedTx) SetDispatch(ctx context.Context, cur roster.EventCursor) error {
	return t.tx.SetDispatch(ctx, cur)
}

func (t *trackedTx) CreateSupportSession(ctx context.Context, ss roster.SupportSession) (bool, error) {
	return t.tx.CreateSupportSession(ctx, ss)
}

func (t *trackedTx) UpdateSupportSession(ctx context.Context, ss roster.SupportSession) error {
	return t.tx.UpdateSupportSession(ctx, ss)
}

func (t *trackedTx) LockChain(ctx context.Context) (roster.ChainHead, bool, error) {
	return t.tx.LockChain(ctx)
}

func (t *trackedTx) SealEvents(ctx context.Context, seals []roster.EventSeal, head roster.ChainHead) error {
	return t.tx.SealEvents(ctx, seals, head)
}

func (t *trackedTx) CreateResource(ctx context.Context, r roster.Resource) (bool, error) {
	return t.tx.CreateResource(ctx, r)
}

func (t *trackedTx) Notify(ctx context.Context, message string) error {
	return t.tx.Notify(ctx, message)
}

// InsertRows adds users, organisations and workspaces, which no cache
// holds yet, and memberships, which change their users' access.
func (t *trackedTx) InsertRows(ctx context.Context, rows roster.NewRows) error {
	for _, m := range rows.OrgMemberships {
		t.note(userMessage(m.UserID))
	}
	for _, m := range rows.Memberships {
		t.note(userMessage(m.UserID))
	}
	return t.tx.InsertRows(ctx, rows)
}

func (t *trackedTx) ReplaceSeats(ctx context.Context, changes []roster.SeatChange) error {
	return t.tx.ReplaceSeats(ctx, changes)
}

func (t *trackedTx) RefreshStatistics(ctx context.Context) error { return t.tx.RefreshStatistics(ctx) }

// Console sessions and login links are read from the database on every
// use; no cache holds them.

func (t *trackedTx) CreateConsoleSession(ctx context.Context, s roster.ConsoleSession) error {
	return t.tx.CreateConsoleSession(ctx, s)
}

func (t *trackedTx) EndConsoleSession(ctx context.Context, id string, at time.Time) error {
	return t.tx.EndConsoleSession(ctx, id, at)
}

func (t *trackedTx) EndUserConsoleSessions(ctx context.Context, userID string, at time.Time) error {
	return t.tx.EndUserConsoleSessions(ctx, userID, at)
}

func (t *trackedTx) CreateLoginLink(ctx context.Context, l roster.LoginLink) error {
	return t.tx.CreateLoginLink(ctx, l)
}

func (t *trackedTx) UseLoginLink(ctx context.Context, hash string, at time.Time) (roster.LoginLink, error) {
	return t.tx.UseLoginLink(ctx, hash, at)
}
