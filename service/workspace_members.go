package service

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/roster-dev/roster"
)

// derivingOrgRoles are the organisation roles that give a workspace role.
func derivingOrgRoles() []roster.OrgRole {
	var roles []roster.OrgRole
	for _, r := range roster.OrgRoles {
		if r.DerivedWorkspaceRole() != "" {
			roles = append(roles, r)
		}
	}
	return roles
}

// ListWorkspaceMembers lists a workspace's direct and derived members by user
// id. Staff support sessions show only when includeSupport is asked by an
// admin of the workspace or by staff.
func (s *Service) ListWorkspaceMembers(ctx context.Context, wsID string, includeSupport bool, p roster.Page) ([]roster.Member, string, error) {
	now := s.now()
	w, wa, err := workspaceFor(ctx, s.store, wsID, false, now, nil)
	if err != nil {
		return nil, "", err
	}
	if !wa.can(roster.PermMembersRead) {
		return nil, "", errForbidden
	}
	if includeSupport && !wa.can(roster.PermMembersManage) && !actor(ctx).IsStaff() {
		return nil, "", forbidden("only admins and staff see support sessions")
	}
	direct, err := s.store.ListWorkspaceMembers(ctx, wsID, roster.MemberFilter{IncludeSupport: includeSupport, LiveAt: now}, p)
	if err != nil {
		return nil, "", err
	}
	derived, err := s.store.ListOrgMembers(ctx, w.OrgID, derivingOrgRoles(), p)
	if err != nil {
		return nil, "", err
	}
	var userIDs []string
	directOf := map[string]*roster.WorkspaceMembership{}
	for i, m := range direct {
		directOf[m.UserID], userIDs = &direct[i], append(userIDs, m.UserID)
	}
	orgOf := map[string]*roster.OrgMembership{}
	for i, m := range derived {
		orgOf[m.UserID], userIDs = &derived[i], append(userIDs, m.UserID)
	}
	slices.Sort(userIDs)
	// Each member shows as what a check answers: their effective access,
	// from their own row or from the organisation, with one tie-break.
	// Each source returned up to Limit+1 users after the cursor, so the
	// first Limit+1 of the union are exactly the next users in order.
	members := make([]roster.Member, 0, len(directOf)+len(orgOf))
	for _, userID := range slices.Compact(userIDs) {
		d, om := directOf[userID], orgOf[userID]
		acc := roster.EffectiveAccess(d, om, now)
		switch {
		case acc.Role == "":
		case acc.Derived():
			members = append(members, roster.Member{UserID: userID, Role: acc.Role, Derived: true, JoinedAt: om.JoinedAt, InvitedBy: om.InvitedBy})
		default:
			members = append(members, roster.Member{UserID: userID, Role: d.Role, Source: d.Source, JoinedAt: d.JoinedAt, InvitedBy: d.InvitedBy, ExpiresAt: d.ExpiresAt})
		}
	}
	if len(members) > p.Limit+1 {
		members = members[:p.Limit+1]
	}
	members, next := roster.NextCursor(members, p.Limit, func(m roster.Member) string { return m.UserID })
	return members, next, nil
}

var errExpiryPast = roster.Errorf(roster.KindInvalid, roster.CodeInvalidExpiry, "expires_at must be in the future")

// PutWorkspaceMember adds a user to a workspace or changes their role and
// expiry; it reports whether the membership is new. Admins manage members;
// only owners grant or take away owner (rule 2); the last owner stays (rule 1).
func (s *Service) PutWorkspaceMember(ctx context.Context, wsID, userID, role string, expiresAt *time.Time) (roster.WorkspaceMembership, bool, error) {
	r, err := roster.ParseWorkspaceRole(role)
	if err != nil {
		return roster.WorkspaceMembership{}, false, err
	}
	var out roster.WorkspaceMembership
	var created bool
	err = s.update(ctx, func(c *change) error {
		w, wa, err := c.workspace(wsID, false)
		if err != nil {
			return err
		}
		if !wa.can(roster.PermMembersManage) {
			return errForbidden
		}
		c.requireCapacity(w.OrgID)
		if expiresAt != nil {
			t, err := checkExpiry(c.now, *expiresAt)
			if err != nil {
				return err
			}
			expiresAt = &t
		}
		if _, err := s.getUser(ctx, c.tx, userID); err != nil {
			return err
		}
		existing, err := c.tx.GetWorkspaceMembership(ctx, wsID, userID)
		isOwner := err == nil && existing.LiveOwner(c.now)
		if err != nil && !errors.Is(err, roster.ErrNotFound) {
			return err
		}
		if (r == roster.RoleOwner || isOwner) && !wa.can(roster.PermMembersManageOwners) {
			return errOnlyOwner("grant or take away owner")
		}
		// Demoting an owner, or giving their ownership an end, must leave
		// another permanent owner.
		if isOwner && (r != roster.RoleOwner || expiresAt != nil) {
			if err := c.requireWorkspaceOwner(w, ending{userID: userID}); err != nil {
				return err
			}
		}
		out, created, err = c.setWorkspaceMember(grant{workspace: w, userID: userID, role: r, source: roster.SourceDirect,
			invitedBy: actorID(c.actor), expiresAt: expiresAt})
		return err
	})
	return out, created, err
}

func (c *change) requireWorkspaceOwner(w roster.Workspace, e ending) error {
	ok, err := c.workspaceKeepsOwner(w, e)
	if err != nil {
		return err
	}
	if !ok {
		return errLastOwner("workspace", w.ID)
	}
	return nil
}

// RemoveWorkspaceMember ends a user's direct membership of a workspace.
// Members may leave; admins remove others; owners remove owners.
func (s *Service) RemoveWorkspaceMember(ctx context.Context, wsID, userID string) error {
	return s.update(ctx, func(c *change) error {
		w, wa, err := c.workspace(wsID, false)
		if err != nil {
			return err
		}
		// Permission first: who may not manage members does not learn who
		// is one (a viewer cannot even read the list).
		leaving := c.actor.IsSelf(userID)
		if !leaving && !wa.can(roster.PermMembersManage) {
			return errForbidden
		}
		if !roster.ValidID(roster.PrefixUser, userID) {
			return errMembershipNotFound
		}
		m, err := c.tx.GetWorkspaceMembership(ctx, wsID, userID)
		if errors.Is(err, roster.ErrNotFound) {
			if _, org, err := memberships(ctx, c.tx, w, userID); err == nil && org != nil && org.Role.DerivedWorkspaceRole() != "" {
				return roster.Errorf(roster.KindConflict, roster.CodeDerivedMembership,
					"this role comes from the organisation; change it there")
			}
			return errMembershipNotFound
		}
		if err != nil {
			return err
		}
		isOwner := m.LiveOwner(c.now)
		if isOwner && !leaving && !wa.can(roster.PermMembersManageOwners) {
			return errOnlyOwner("remove an owner")
		}
		if isOwner {
			if err := c.requireWorkspaceOwner(w, ending{userID: userID}); err != nil {
				return err
			}
		}
		return c.endWorkspaceMember(m)
	})
}
