package service

import (
	"slices"

	"github.com/roster-dev/roster"
)

// ending names the user whose ownership a change ends: of a workspace
// (their direct owner membership) or of an organisation.
type ending struct {
	userID string
}

func errLastOwner(kind, id string) error {
	return roster.Errorf(roster.KindConflict, roster.CodeLastOwner, "this would leave the %s without an owner", kind).With(kind+"_id", id)
}

// workspaceKeepsOwner reports whether workspace w still has an active,
// direct, permanent owner once e's ownership ends or starts to expire
// (rule 1). Owners derived from the organisation do not count: a
// workspace's own owners are its members with the owner role, and the last
// of them stays. Nor do owners whose membership expires: the workspace
// would be left without one when it does.
func (c *change) workspaceKeepsOwner(w roster.Workspace, e ending) (bool, error) {
	direct, err := c.tx.ListWorkspaceOwners(c.ctx, w.ID)
	if err != nil {
		return false, err
	}
	for _, m := range direct {
		if !m.LiveOwner(c.now) || m.ExpiresAt != nil || m.UserID == e.userID {
			continue
		}
		if ok, err := isActiveUser(c.ctx, c.tx, m.UserID); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// orgKeepsOwner reports whether an organisation still has an active owner
// once e is applied. Rule 1.
func (c *change) orgKeepsOwner(orgID string, e ending) (bool, error) {
	owners, err := c.tx.ListOrgOwners(c.ctx, orgID)
	if err != nil {
		return false, err
	}
	for _, m := range owners {
		if m.UserID == e.userID {
			continue
		}
		if ok, err := isActiveUser(c.ctx, c.tx, m.UserID); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// soleOwnerships lists what would be left without an active owner if the
// user stopped acting altogether (deactivated or deleted): rules 1 and 4.
// It locks every organisation involved, in id order.
func (c *change) soleOwnerships(userID string) (orgs, workspaces []string, err error) {
	orgMs, err := c.tx.ListUserOrgMemberships(c.ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	wsMs, err := c.tx.ListUserWorkspaceMemberships(c.ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	var orgIDs []string
	for _, m := range orgMs {
		orgIDs = append(orgIDs, m.OrgID)
	}
	for _, m := range wsMs {
		orgIDs = append(orgIDs, m.OrgID)
	}
	slices.Sort(orgIDs)
	for _, id := range slices.Compact(orgIDs) {
		if _, err := c.lockOrg(id); err != nil {
			return nil, nil, err
		}
	}
	gone := ending{userID: userID}
	for _, m := range orgMs {
		if m.Role != roster.OrgOwner {
			continue
		}
		ok, err := c.orgKeepsOwner(m.OrgID, gone)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			orgs = append(orgs, m.OrgID)
		}
	}
	workspaces, err = c.workspacesLosingOwner(wsMs, gone)
	return orgs, workspaces, err
}

// workspacesLosingOwner lists the workspaces among ms (one user's
// memberships) whose last direct owner that user is.
func (c *change) workspacesLosingOwner(ms []roster.WorkspaceMembership, e ending) ([]string, error) {
	var ids []string
	for _, m := range ms {
		if !m.LiveOwner(c.now) {
			continue
		}
		w, err := c.tx.GetWorkspace(c.ctx, m.WorkspaceID)
		if err != nil {
			return nil, err
		}
		ok, err := c.workspaceKeepsOwner(w, e)
		if err != nil {
			return nil, err
		}
		if !ok {
			ids = append(ids, m.WorkspaceID)
		}
	}
	return ids, nil
}
