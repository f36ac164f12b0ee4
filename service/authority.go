package service

import (
	"context"
	"errors"
	"time"

	"github.com/roster-dev/roster"
)

var (
	errOrgNotFound        = roster.Errorf(roster.KindNotFound, roster.CodeOrgNotFound, "no such organisation")
	errWorkspaceNotFound  = roster.Errorf(roster.KindNotFound, roster.CodeWorkspaceNotFound, "no such workspace")
	errMembershipNotFound = roster.Errorf(roster.KindNotFound, roster.CodeMembershipNotFound, "no such membership")
	errWorkspaceArchived  = roster.Errorf(roster.KindGone, roster.CodeWorkspaceArchived, "the workspace is archived")
)

// orgAuthority is what the caller may do in one organisation, read inside
// the transaction that acts on it (rule 12: authority is re-read at decision
// time, never taken from a cache).
type orgAuthority struct {
	operator bool
	member   *roster.OrgMembership
}

func (oa orgAuthority) can(p roster.OrgPermission) bool {
	return oa.operator || (oa.member != nil && oa.member.Role.Can(p))
}

// orgLock takes an organisation's write lock and returns it as it is now;
// nil for reads.
type orgLock func(ctx context.Context, orgID string) (roster.Org, error)

// workspaceLock takes the write lock of a workspace's organisation; nil for
// reads.
type workspaceLock func(ctx context.Context, wsID string) error

// org and workspace load what a write acts on: they take the organisation's
// lock first and read the caller's authority after it, so a decision is made
// on the authority as it is now (rule 12), not as it was before waiting.
func (c *change) org(orgID string) (roster.Org, orgAuthority, error) {
	return orgFor(c.ctx, c.tx, orgID, func(_ context.Context, id string) (roster.Org, error) { return c.lockOrg(id) })
}

func (c *change) workspace(wsID string, allowArchived bool) (roster.Workspace, workspaceAuthority, error) {
	return workspaceFor(c.ctx, c.tx, wsID, allowArchived, c.now, func(_ context.Context, id string) error { return c.lockWorkspaceOrg(id) })
}

// lockOrg takes an organisation's lock, once per change, and returns the
// organisation as it is now.
func (c *change) lockOrg(orgID string) (roster.Org, error) {
	if c.locked[orgID] {
		return c.tx.GetOrg(c.ctx, orgID)
	}
	org, err := c.tx.LockOrg(c.ctx, orgID)
	if err == nil {
		c.holds(orgID)
	}
	return org, err
}

// lockWorkspaceOrg takes the lock of a workspace's organisation.
func (c *change) lockWorkspaceOrg(wsID string) error {
	orgID, err := c.tx.LockWorkspaceOrg(c.ctx, wsID)
	if err == nil {
		c.holds(orgID)
	}
	return err
}

func (c *change) holds(orgID string) {
	if c.locked == nil {
		c.locked = map[string]bool{}
	}
	c.locked[orgID] = true
}

// orgFor loads an organisation and the caller's authority there. Callers
// with no membership do not learn that it exists.
func orgFor(ctx context.Context, r roster.Reader, orgID string, lock orgLock) (roster.Org, orgAuthority, error) {
	if !roster.ValidID(roster.PrefixOrg, orgID) || actor(ctx).Confined() { // a support token reaches one workspace, no organisation
		return roster.Org{}, orgAuthority{}, errOrgNotFound
	}
	var org roster.Org
	var err error
	if lock != nil { // the lock reads it, so a deletion committed meanwhile is seen
		org, err = lock(ctx, orgID)
	} else {
		org, err = r.GetOrg(ctx, orgID)
	}
	if errors.Is(err, roster.ErrNotFound) {
		return org, orgAuthority{}, errOrgNotFound
	}
	if err != nil {
		return org, orgAuthority{}, err
	}
	a := actor(ctx)
	if operator(a) {
		return org, orgAuthority{operator: true}, nil
	}
	m, err := r.GetOrgMembership(ctx, orgID, a.Subject().ID)
	if err != nil && !errors.Is(err, roster.ErrNotFound) {
		return org, orgAuthority{}, err
	}
	var member *roster.OrgMembership
	if err == nil {
		member = &m
	}
	if !seesOrg(member) {
		return org, orgAuthority{}, errOrgNotFound
	}
	return org, orgAuthority{member: member}, nil
}

// workspaceAuthority is what the caller may do in one workspace.
type workspaceAuthority struct {
	operator  bool
	access    roster.Access
	orgMember *roster.OrgMembership
}

func (wa workspaceAuthority) can(p roster.Permission) bool {
	return wa.operator || wa.access.Role.Can(p)
}

// workspaceFor loads a workspace and the caller's authority there. A caller
// with neither access nor a membership of its organisation gets 404; an
// archived workspace is 410 unless archived is allowed.
func workspaceFor(ctx context.Context, r roster.Reader, wsID string, allowArchived bool, now time.Time, lock workspaceLock) (roster.Workspace, workspaceAuthority, error) {
	if !roster.ValidID(roster.PrefixWorkspace, wsID) || !actor(ctx).Reaches(wsID) {
		return roster.Workspace{}, workspaceAuthority{}, errWorkspaceNotFound
	}
	var err error
	if lock != nil {
		// Lock first and read after: it may have been archived or deleted
		// while we waited.
		err = lock(ctx, wsID)
	}
	var w roster.Workspace
	if err == nil {
		w, err = r.GetWorkspace(ctx, wsID)
	}
	if errors.Is(err, roster.ErrNotFound) {
		return w, workspaceAuthority{}, errWorkspaceNotFound
	}
	if err != nil {
		return w, workspaceAuthority{}, err
	}
	var wa workspaceAuthority
	a := actor(ctx)
	if operator(a) {
		wa.operator = true
	} else {
		direct, org, err := memberships(ctx, r, w, a.Subject().ID)
		if err != nil {
			return w, wa, err
		}
		wa.access, wa.orgMember = roster.EffectiveAccess(direct, org, now), org
		if !seesWorkspace(wa.access, org) {
			return w, wa, errWorkspaceNotFound
		}
	}
	if w.ArchivedAt != nil && !allowArchived {
		return w, wa, errWorkspaceArchived
	}
	return w, wa, nil
}

// memberships returns a user's live direct membership of w and their
// membership of its organisation; either may be nil.
func memberships(ctx context.Context, r roster.Reader, w roster.Workspace, userID string) (*roster.WorkspaceMembership, *roster.OrgMembership, error) {
	var direct *roster.WorkspaceMembership
	m, err := r.GetWorkspaceMembership(ctx, w.ID, userID)
	switch {
	case err == nil:
		direct = &m
	case !errors.Is(err, roster.ErrNotFound):
		return nil, nil, err
	}
	var org *roster.OrgMembership
	om, err := r.GetOrgMembership(ctx, w.OrgID, userID)
	switch {
	case err == nil:
		org = &om
	case !errors.Is(err, roster.ErrNotFound):
		return nil, nil, err
	}
	return direct, org, nil
}

// errConfined refuses a support token anything beyond its workspace that
// has no object to hide (its caller's profile, tokens, invitations).
var errConfined = roster.Errorf(roster.KindForbidden, roster.CodeForbidden, "a support token acts only inside its workspace")

// refuseConfined returns errConfined for a support token.
func refuseConfined(a roster.Actor) error {
	if a.Confined() {
		return errConfined
	}
	return nil
}

// forbidden is a 403 saying what the caller may not do.
func forbidden(message string) error {
	return roster.Errorf(roster.KindForbidden, roster.CodeForbidden, "%s", message)
}

// errOnlyOwner refuses a change that only an owner may make (rule 2).
func errOnlyOwner(what string) error { return forbidden("only an owner may " + what) }

// seesWorkspace is who may learn that a workspace exists: anyone with live
// access to it and the members of its organisation (and staff and
// services, who see everything: callers ask operator). Everyone else is
// told it does not exist (404), whatever they ask.
func seesWorkspace(access roster.Access, orgMember *roster.OrgMembership) bool {
	return access.Role != "" || orgMember != nil
}

// seesOrg is who may learn that an organisation exists: its members (and
// staff and services). A workspace's externals see nothing of it.
func seesOrg(orgMember *roster.OrgMembership) bool { return orgMember != nil }
