package service

import (
	"context"
	"errors"
	"time"

	"github.com/roster-dev/roster"
)

var errExternalInvariant = roster.Errorf(roster.KindConflict, roster.CodeExternalInvariant,
	"a member of the organisation cannot be external in its workspaces")

// grant is a workspace role to give someone.
type grant struct {
	workspace roster.Workspace
	userID    string
	role      roster.WorkspaceRole
	source    roster.MembershipSource
	invitedBy *string
	expiresAt *time.Time
}

// setWorkspaceMember gives a user a role in a workspace, keeping DOMAIN §2's
// external invariant: an organisation member is never external, and an
// outsider granted more than external or viewer joins the organisation as a
// member in the same transaction. It returns the membership and whether it
// is new. The caller holds the organisation lock and has checked authority.
func (c *change) setWorkspaceMember(g grant) (roster.WorkspaceMembership, bool, error) {
	w := g.workspace
	_, err := c.tx.GetOrgMembership(c.ctx, w.OrgID, g.userID)
	hasOrg := err == nil
	if err != nil && !errors.Is(err, roster.ErrNotFound) {
		return roster.WorkspaceMembership{}, false, err
	}
	joinOrg, err := orgJoinFor(hasOrg, g.role)
	if err != nil {
		return roster.WorkspaceMembership{}, false, err
	}
	if joinOrg {
		if _, _, err := c.setOrgMember(w.OrgID, g.userID, roster.OrgMember, g.invitedBy); err != nil {
			return roster.WorkspaceMembership{}, false, err
		}
	}

	existing, err := c.tx.GetWorkspaceMembership(c.ctx, w.ID, g.userID)
	switch {
	case errors.Is(err, roster.ErrNotFound):
	case err != nil:
		return roster.WorkspaceMembership{}, false, err
	case !existing.Live(c.now) || existing.Source == roster.SourceStaffSupport:
		// An expired membership or a support session is not extended into a
		// real one: it ends, and a new membership starts.
		if err := c.endWorkspaceMember(existing); err != nil {
			return roster.WorkspaceMembership{}, false, err
		}
	default:
		before := existing
		existing.Role, existing.ExpiresAt, existing.UpdatedAt = g.role, g.expiresAt, c.now
		c.markSeat(w.OrgID, g.userID)
		if err := c.tx.UpdateWorkspaceMembership(c.ctx, existing); err != nil {
			return roster.WorkspaceMembership{}, false, err
		}
		return existing, false, c.membershipChanged(roster.ActionMemberUpdated, &before, &existing)
	}

	m := roster.WorkspaceMembership{ID: roster.NewID(roster.PrefixMembership), WorkspaceID: w.ID, OrgID: w.OrgID,
		UserID: g.userID, Role: g.role, Source: g.source, JoinedAt: c.now, InvitedBy: g.invitedBy,
		ExpiresAt: g.expiresAt, UpdatedAt: c.now}
	created, err := c.tx.CreateWorkspaceMembership(c.ctx, m)
	if err != nil {
		return m, false, err
	}
	c.markSeat(w.OrgID, g.userID)
	if !created { // a concurrent writer won: theirs is the membership
		winner, err := c.tx.GetWorkspaceMembership(c.ctx, w.ID, g.userID)
		return winner, false, err
	}
	return m, true, c.membershipChanged(roster.ActionMemberCreated, nil, &m)
}

// orgJoinFor applies DOMAIN §2's external invariant to granting role in a
// workspace: an organisation member is never external, and an outsider
// granted more than external or viewer joins the organisation (join).
func orgJoinFor(hasOrg bool, role roster.WorkspaceRole) (join bool, err error) {
	if hasOrg && role == roster.RoleExternal {
		return false, errExternalInvariant
	}
	return !hasOrg && !roster.ExternalAllowed(role), nil
}

// endWorkspaceMember soft-deletes a workspace membership.
func (c *change) endWorkspaceMember(m roster.WorkspaceMembership) error {
	return c.endWorkspaceMemberAs(m, roster.ActionMemberDeleted)
}

// endWorkspaceMemberAs soft-deletes a workspace membership, recorded as
// action (removed, or expired).
func (c *change) endWorkspaceMemberAs(m roster.WorkspaceMembership, action string) error {
	if m.Source == roster.SourceStaffSupport { // a support session ends whole, as itself
		return c.endSupportOf(m, roster.SupportRemoved)
	}
	c.markSeat(m.OrgID, m.UserID)
	before := m
	m.DeletedAt, m.UpdatedAt = &c.now, c.now
	if err := c.tx.UpdateWorkspaceMembership(c.ctx, m); err != nil {
		return err
	}
	return c.membershipChanged(action, &before, nil)
}

// setOrgMember gives a user a role in an organisation. A new member's
// external workspace memberships there become member (DOMAIN §2). It
// returns the membership and whether it is new.
func (c *change) setOrgMember(orgID, userID string, role roster.OrgRole, invitedBy *string) (roster.OrgMembership, bool, error) {
	c.markSeat(orgID, userID)
	existing, err := c.tx.GetOrgMembership(c.ctx, orgID, userID)
	switch {
	case err == nil:
		before := existing
		existing.Role, existing.UpdatedAt = role, c.now
		if err := c.tx.UpdateOrgMembership(c.ctx, existing); err != nil {
			return existing, false, err
		}
		return existing, false, c.auditOrgMembership(roster.ActionOrgMemberUpdated, &before, &existing)
	case !errors.Is(err, roster.ErrNotFound):
		return existing, false, err
	}
	m := roster.OrgMembership{ID: roster.NewID(roster.PrefixMembership), OrgID: orgID, UserID: userID, Role: role,
		JoinedAt: c.now, InvitedBy: invitedBy, UpdatedAt: c.now}
	created, err := c.tx.CreateOrgMembership(c.ctx, m)
	if err != nil {
		return m, false, err
	}
	if !created {
		winner, err := c.tx.GetOrgMembership(c.ctx, orgID, userID)
		return winner, false, err
	}
	if err := c.auditOrgMembership(roster.ActionOrgMemberCreated, nil, &m); err != nil {
		return m, false, err
	}
	if err := c.promoteExternals(orgID, userID); err != nil {
		return m, false, err
	}
	return m, true, nil
}

// promoteExternals makes a new organisation member's external memberships
// in its workspaces plain memberships.
func (c *change) promoteExternals(orgID, userID string) error {
	all, err := c.tx.ListUserWorkspaceMemberships(c.ctx, userID)
	if err != nil {
		return err
	}
	for _, m := range all {
		if m.OrgID != orgID || m.Role != roster.RoleExternal {
			continue
		}
		before := m
		m.Role, m.UpdatedAt = roster.RoleMember, c.now
		if err := c.tx.UpdateWorkspaceMembership(c.ctx, m); err != nil {
			return err
		}
		if err := c.membershipChanged(roster.ActionMemberUpdated, &before, &m); err != nil {
			return err
		}
	}
	return nil
}

// membershipChanged records a change of a workspace membership: its audit
// event and, when the change set or moved an expiry, the task that ends it.
func (c *change) membershipChanged(action string, before, after *roster.WorkspaceMembership) error {
	if err := c.scheduleMembershipEnd(before, after); err != nil {
		return err
	}
	m := after
	if m == nil {
		m = before
	}
	return c.auditIn(action, roster.TargetMembership, m.ID, &m.OrgID, &m.WorkspaceID, membershipAudit(before), membershipAudit(after))
}

func (c *change) auditOrgMembership(action string, before, after *roster.OrgMembership) error {
	m := after
	if m == nil {
		m = before
	}
	return c.auditIn(action, roster.TargetOrgMembership, m.ID, &m.OrgID, nil, orgMembershipAudit(before), orgMembershipAudit(after))
}

func membershipAudit(m *roster.WorkspaceMembership) any {
	if m == nil {
		return nil
	}
	return map[string]any{"id": m.ID, "workspace_id": m.WorkspaceID, "org_id": m.OrgID, "user_id": m.UserID, "role": m.Role,
		"source": m.Source, "joined_at": m.JoinedAt, "invited_by": m.InvitedBy, "expires_at": m.ExpiresAt}
}

func orgMembershipAudit(m *roster.OrgMembership) any {
	if m == nil {
		return nil
	}
	return map[string]any{"id": m.ID, "org_id": m.OrgID, "user_id": m.UserID, "role": m.Role, "joined_at": m.JoinedAt, "invited_by": m.InvitedBy}
}

// isActiveUser reports whether a user exists and may act, read in r.
func isActiveUser(ctx context.Context, r roster.Reader, id string) (bool, error) {
	u, err := r.GetUser(ctx, id)
	if errors.Is(err, roster.ErrNotFound) {
		return false, nil
	}
	return err == nil && u.Active(), err
}

// endOrgMember soft-deletes an organisation membership and, rule 7, the
// user's memberships in every workspace of the organisation.
func (c *change) endOrgMember(m roster.OrgMembership) error {
	c.markSeat(m.OrgID, m.UserID)
	before := m
	m.DeletedAt, m.UpdatedAt = &c.now, c.now
	if err := c.tx.UpdateOrgMembership(c.ctx, m); err != nil {
		return err
	}
	if err := c.auditOrgMembership(roster.ActionOrgMemberDeleted, &before, nil); err != nil {
		return err
	}
	ended, err := c.tx.DeleteUserOrgWorkspaceMemberships(c.ctx, m.OrgID, m.UserID, c.now)
	if err != nil {
		return err
	}
	for _, wm := range ended {
		gone := wm
		gone.DeletedAt = nil
		if err := c.membershipChanged(roster.ActionMemberDeleted, &gone, nil); err != nil {
			return err
		}
	}
	return nil
}

// endAllMemberships soft-deletes every membership of a user who is deleted.
func (c *change) endAllMemberships(userID string) error {
	orgMs, err := c.tx.ListUserOrgMemberships(c.ctx, userID)
	if err != nil {
		return err
	}
	for _, m := range orgMs {
		if err := c.endOrgMember(m); err != nil {
			return err
		}
	}
	wsMs, err := c.tx.ListUserWorkspaceMemberships(c.ctx, userID)
	if err != nil {
		return err
	}
	for _, m := range wsMs {
		if err := c.endWorkspaceMember(m); err != nil {
			return err
		}
	}
	return nil
}
