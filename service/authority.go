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

// lockFunc takes an organisation's write lock; nil for reads.
type lockFunc func(ctx context.Context, orgID string) error

// org and workspace load what a write acts on: they take the organisation's
// lock first and read the caller's authority after it, so a decision is made
// on the authority as it is now (rule 12), not as it was before waiting.
func (c *change) org(orgID string) (roster.Org, orgAuthority, error) {
	return orgFor(c.ctx, c.tx, orgID, c.tx.LockOrg)
}

func (c *change) workspace(wsID string, allowArchived bool) (roster.Workspace, workspaceAuthority, error) {
	return workspaceFor(c.ctx, c.tx, wsID, allowArchived, c.now, c.tx.LockOrg)
}

// orgFor loads an organisation and the caller's authority there. Callers
// with no membership do not learn that it exists.
func orgFor(ctx context.Context, r roster.Reader, orgID string, lock lockFunc) (roster.Org, orgAuthority, error) {
	if !roster.ValidID(roster.PrefixOrg, orgID) {
		return roster.Org{}, orgAuthority{}, errOrgNotFound
	}
	if lock != nil { // before reading, so a deletion committed meanwhile is seen
		if err := lock(ctx, orgID); errors.Is(err, roster.ErrNotFound) {
			return roster.Org{}, orgAuthority{}, errOrgNotFound
		} else if err != nil {
			return roster.Org{}, orgAuthority{}, err
		}
	}
	org, err := r.GetOrg(ctx, orgID)
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
	if errors.Is(err, roster.ErrNotFound) {
		return org, orgAuthority{}, errOrgNotFound
	}
	if err != nil {
		return org, orgAuthority{}, err
	}
	return org, orgAuthority{member: &m}, nil
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
func workspaceFor(ctx context.Context, r roster.Reader, wsID string, allowArchived bool, now time.Time, lock lockFunc) (roster.Workspace, workspaceAuthority, error) {
	if !roster.ValidID(roster.PrefixWorkspace, wsID) {
		return roster.Workspace{}, workspaceAuthority{}, errWorkspaceNotFound
	}
	w, err := r.GetWorkspace(ctx, wsID)
	if err == nil && lock != nil {
		// Read it again under the lock: it may have been archived or
		// deleted while we waited.
		if err = lock(ctx, w.OrgID); err == nil {
			w, err = r.GetWorkspace(ctx, wsID)
		}
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
		if wa.access.Role == "" && org == nil {
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
