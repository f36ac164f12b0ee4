package service

import (
	"slices"

	"github.com/roster-dev/roster"
)

// ending names the ownerships of one user that a change ends: their direct
// ownership of a workspace, their ownership of the organisation, or both.
type ending struct {
	userID string
	direct bool
	org    bool
}

func errLastOwner(kind, id string) error {
	return roster.Errorf(roster.KindConflict, roster.CodeLastOwner, "this would leave the %s without an owner", kind).With(kind+"_id", id)
}

// workspaceKeepsOwner reports whether workspace w still has an active owner
// once e is applied: a live direct owner, or an owner of its organisation
// (who owns every workspace of it). Rule 1.
func (c *change) workspaceKeepsOwner(w roster.Workspace, e ending) (bool, error) {
	direct, err := c.tx.ListWorkspaceOwners(c.ctx, w.ID)
	if err != nil {
		return false, err
	}
	for _, m := range direct {
		if !m.Live(c.now) || (m.UserID == e.userID && e.direct) {
			continue
		}
		if ok, err := activeUser(c.ctx, c.tx, m.UserID); err != nil || ok {
			return ok, err
		}
	}
	return c.orgKeepsOwner(w.OrgID, e)
}

// orgKeepsOwner reports whether an organisation still has an active owner
// once e is applied. Rule 1.
func (c *change) orgKeepsOwner(orgID string, e ending) (bool, error) {
	owners, err := c.tx.ListOrgOwners(c.ctx, orgID)
	if err != nil {
		return false, err
	}
	for _, m := range owners {
		if m.UserID == e.userID && e.org {
			continue
		}
		if ok, err := activeUser(c.ctx, c.tx, m.UserID); err != nil || ok {
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
		if err := c.tx.LockOrg(c.ctx, id); err != nil {
			return nil, nil, err
		}
	}
	gone := ending{userID: userID, direct: true, org: true}
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
	for _, m := range wsMs {
		if m.Role != roster.RoleOwner || !m.Live(c.now) {
			continue
		}
		w, err := c.tx.GetWorkspace(c.ctx, m.WorkspaceID)
		if err != nil {
			return nil, nil, err
		}
		ok, err := c.workspaceKeepsOwner(w, gone)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			workspaces = append(workspaces, m.WorkspaceID)
		}
	}
	return orgs, workspaces, nil
}
