package service

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/roster-dev/roster"
)

func checkName(name string) error {
	if strings.TrimSpace(name) == "" || utf8.RuneCountInString(name) > roster.MaxNameLen {
		return roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "name must be 1 to %d characters", roster.MaxNameLen).With("field", "name")
	}
	return nil
}

var errSlugTaken = roster.Errorf(roster.KindConflict, roster.CodeSlugTaken, "the slug is taken")

// CreateOrg creates an organisation whose owner is the caller, or, for staff
// and service tokens, the user they name.
func (s *Service) CreateOrg(ctx context.Context, in roster.NewOrg) (roster.Org, *roster.WorkspaceView, error) {
	a := actor(ctx)
	if err := refuseConfined(a); err != nil {
		return roster.Org{}, nil, err
	}
	staff := a.IsService() || a.IsStaff()
	if s.restrictOrgCreation && !staff {
		return roster.Org{}, nil, forbidden("only staff may create organisations here")
	}
	ownerID := in.OwnerID
	switch {
	case ownerID != "" && !staff:
		return roster.Org{}, nil, forbidden("only staff and service tokens may create an organisation for someone else")
	case ownerID == "" && a.IsService():
		return roster.Org{}, nil, roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "a service token must name the owner_id").With("field", "owner_id")
	case ownerID == "":
		ownerID = a.Subject().ID
	}
	if err := checkName(in.Name); err != nil {
		return roster.Org{}, nil, err
	}
	if err := roster.CheckSlug(in.Slug); err != nil {
		return roster.Org{}, nil, err
	}
	org := roster.Org{ID: roster.NewID(roster.PrefixOrg), Name: in.Name, Slug: in.Slug, MembersCanCreateWorkspaces: true, Plan: roster.DefaultPlan()}
	var first *roster.WorkspaceView
	err := s.update(ctx, func(c *change) error {
		if err := s.requireActiveOwner(c, ownerID); err != nil {
			return err
		}
		var record map[string]any
		if a.IsStaff() {
			// The vendor's staff set up a customer: the record says who, as what.
			record = map[string]any{"created_by_staff": map[string]any{"user_id": a.User.ID, "platform_role": a.User.PlatformRole, "owner": ownerID == a.User.ID}}
		}
		if err := c.insertOrg(&org, ownerID, record); err != nil {
			return err
		}
		if in.FirstWorkspace != nil {
			w, err := c.createWorkspace(org, *in.FirstWorkspace, ownerID)
			if err != nil {
				return err
			}
			first = &roster.WorkspaceView{Workspace: w}
			if !operator(c.actor) {
				first.Access, err = c.accessOf(w, c.actor.Subject().ID)
			}
			return err
		}
		return nil
	})
	return org, first, err
}

// insertOrg creates an organisation owned by ownerID; record adds to its
// org.created event.
func (c *change) insertOrg(org *roster.Org, ownerID string, record map[string]any) error {
	org.CreatedAt, org.UpdatedAt = c.now, c.now
	if err := c.tx.CreateOrg(c.ctx, *org); errors.Is(err, roster.ErrUniqueViolation) {
		return errSlugTaken
	} else if err != nil {
		return err
	}
	created := orgAudit(*org)
	maps.Copy(created, record)
	if err := c.auditIn(roster.ActionOrgCreated, roster.TargetOrg, org.ID, &org.ID, nil, nil, created); err != nil {
		return err
	}
	_, _, err := c.setOrgMember(org.ID, ownerID, roster.OrgOwner, actorID(c.actor))
	return err
}

// actorID is the acting user, recorded as who invited or granted; nil for
// the command line.
func actorID(a roster.Actor) *string {
	if a.IsSystem() {
		return nil
	}
	id := a.Subject().ID
	return &id
}

// GetOrg returns an organisation the caller belongs to.
func (s *Service) GetOrg(ctx context.Context, id string) (roster.Org, error) {
	org, _, err := orgFor(ctx, s.store, id, nil)
	return org, err
}

// ListOrgs lists the caller's organisations; staff and services see all.
func (s *Service) ListOrgs(ctx context.Context, f roster.OrgFilter, p roster.Page) ([]roster.Org, string, error) {
	a := actor(ctx)
	if a.Confined() {
		return nil, "", nil // a support token reaches no organisation
	}
	if !operator(a) {
		f.MemberID = a.Subject().ID
	}
	orgs, err := s.store.ListOrgs(ctx, f, p)
	if err != nil {
		return nil, "", err
	}
	orgs, next := roster.NextCursor(orgs, p.Limit, func(o roster.Org) string { return o.ID })
	return orgs, next, nil
}

// UpdateOrg renames an organisation or changes its settings.
func (s *Service) UpdateOrg(ctx context.Context, id string, p roster.OrgPatch) (roster.Org, error) {
	var org roster.Org
	err := s.update(ctx, func(c *change) error {
		before, oa, err := c.org(id)
		if err != nil {
			return err
		}
		if !oa.can(roster.OrgPermUpdate) {
			return errForbidden
		}
		org = before
		if p.Name.Present {
			if err := checkName(p.Name.Value); err != nil {
				return err
			}
			org.Name = p.Name.Value
		}
		if p.Slug.Present && p.Slug.Value != org.Slug {
			if err := roster.CheckSlug(p.Slug.Value); err != nil {
				return err
			}
			taken, err := c.tx.ListOrgs(ctx, roster.OrgFilter{Slug: p.Slug.Value}, roster.Page{Limit: 1})
			if err != nil {
				return err
			}
			if len(taken) > 0 {
				return errSlugTaken
			}
			org.Slug = p.Slug.Value
		}
		if p.MembersCanCreateWorkspaces.Present {
			org.MembersCanCreateWorkspaces = p.MembersCanCreateWorkspaces.Value
		}
		org.UpdatedAt = c.now
		if err := c.tx.UpdateOrg(ctx, org); err != nil {
			return err
		}
		return c.auditIn(roster.ActionOrgUpdated, roster.TargetOrg, org.ID, &org.ID, nil, orgAudit(before), orgAudit(org))
	})
	return org, err
}

// DeleteOrg deletes an organisation, its workspaces and every membership in
// them (kept as history). Only its owners may.
func (s *Service) DeleteOrg(ctx context.Context, id string) error {
	return s.update(ctx, func(c *change) error {
		org, oa, err := c.org(id)
		if err != nil {
			return err
		}
		if !oa.can(roster.OrgPermDelete) {
			return errForbidden
		}
		if err := c.endSupportSessions(roster.SupportFilter{OrgID: id}, roster.SupportWorkspaceDeleted, false); err != nil {
			return err
		}
		if err := c.tx.DeleteOrg(ctx, id, c.now); err != nil {
			return err
		}
		return c.auditIn(roster.ActionOrgDeleted, roster.TargetOrg, id, &org.ID, nil, orgAudit(org), nil)
	})
}

// ListOrgMembers lists an organisation's directory (owners, admins, members).
func (s *Service) ListOrgMembers(ctx context.Context, orgID string, p roster.Page) ([]roster.OrgMembership, string, error) {
	_, oa, err := orgFor(ctx, s.store, orgID, nil)
	if err != nil {
		return nil, "", err
	}
	if !oa.can(roster.OrgPermDirectory) {
		return nil, "", errForbidden
	}
	ms, err := s.store.ListOrgMembers(ctx, orgID, nil, p)
	if err != nil {
		return nil, "", err
	}
	ms, next := roster.NextCursor(ms, p.Limit, func(m roster.OrgMembership) string { return m.UserID })
	return ms, next, nil
}

// PutOrgMember adds a user to an organisation or changes their role. Only
// owners grant or take away owner (rule 2); the last owner stays (rule 1).
func (s *Service) PutOrgMember(ctx context.Context, orgID, userID, role string) (roster.OrgMembership, bool, error) {
	r, err := roster.ParseOrgRole(role)
	if err != nil {
		return roster.OrgMembership{}, false, err
	}
	var out roster.OrgMembership
	var created bool
	err = s.update(ctx, func(c *change) error {
		_, oa, err := c.org(orgID)
		if err != nil {
			return err
		}
		if !oa.can(roster.OrgPermMembersManage) {
			return errForbidden
		}
		c.requireCapacity(orgID)
		if _, err := s.getUser(ctx, c.tx, userID); err != nil {
			return err
		}
		existing, err := c.tx.GetOrgMembership(ctx, orgID, userID)
		exists := err == nil
		if err != nil && !errors.Is(err, roster.ErrNotFound) {
			return err
		}
		touchesOwner := r == roster.OrgOwner || (exists && existing.Role == roster.OrgOwner)
		if touchesOwner && !oa.can(roster.OrgPermOwnersManage) {
			return errOnlyOwner("grant or take away owner")
		}
		if exists && existing.Role == roster.OrgOwner && r != roster.OrgOwner {
			ok, err := c.orgKeepsOwner(orgID, ending{userID: userID})
			if err != nil {
				return err
			}
			if !ok {
				return errLastOwner("org", orgID)
			}
		}
		out, created, err = c.setOrgMember(orgID, userID, r, actorID(c.actor))
		return err
	})
	return out, created, err
}

// RemoveOrgMember removes a user from an organisation and from all of its
// workspaces (rule 7). Members may leave; managers remove others.
func (s *Service) RemoveOrgMember(ctx context.Context, orgID, userID string) error {
	return s.update(ctx, func(c *change) error {
		_, oa, err := c.org(orgID)
		if err != nil {
			return err
		}
		if !roster.ValidID(roster.PrefixUser, userID) {
			return errMembershipNotFound
		}
		m, err := c.tx.GetOrgMembership(ctx, orgID, userID)
		if errors.Is(err, roster.ErrNotFound) {
			return errMembershipNotFound
		}
		if err != nil {
			return err
		}
		leaving := c.actor.IsSelf(userID)
		switch {
		case m.Role == roster.OrgOwner && !leaving && !oa.can(roster.OrgPermOwnersManage):
			return errOnlyOwner("remove an owner")
		case !leaving && !oa.can(roster.OrgPermMembersManage):
			return errForbidden
		}
		if m.Role == roster.OrgOwner {
			ok, err := c.orgKeepsOwner(orgID, ending{userID: userID})
			if err != nil {
				return err
			}
			if !ok {
				return errLastOwner("org", orgID)
			}
		}
		// Rule 7 ends their workspace memberships too: none of them may be
		// a workspace's last owner.
		all, err := c.tx.ListUserWorkspaceMemberships(ctx, userID)
		if err != nil {
			return err
		}
		inOrg := slices.DeleteFunc(all, func(wm roster.WorkspaceMembership) bool { return wm.OrgID != orgID })
		ownsWorkspace := slices.ContainsFunc(inOrg, func(wm roster.WorkspaceMembership) bool {
			return wm.LiveOwner(c.now)
		})
		if ownsWorkspace && !leaving && !oa.can(roster.OrgPermOwnersManage) {
			// Rule 2: taking away a workspace owner's role is for owners.
			return errOnlyOwner("remove a workspace owner")
		}
		orphaned, err := c.workspacesLosingOwner(inOrg, ending{userID: userID})
		if err != nil {
			return err
		}
		if len(orphaned) > 0 {
			return roster.Errorf(roster.KindConflict, roster.CodeLastOwner,
				"the user is the last owner of %d workspace(s) of this organisation", len(orphaned)).With("workspace_ids", orphaned)
		}
		return c.endOrgMember(m)
	})
}

// requireActiveOwner checks that the user a new organisation or workspace
// is made for exists and is active: an inactive owner owns nothing (rule 1).
func (s *Service) requireActiveOwner(c *change, userID string) error {
	u, err := s.getUser(c.ctx, c.tx, userID)
	if err != nil {
		return err
	}
	if !u.Active() {
		return roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "the owner must be an active user").With("field", "owner_id")
	}
	return nil
}

func orgAudit(o roster.Org) map[string]any {
	return map[string]any{"id": o.ID, "name": o.Name, "slug": o.Slug, "members_can_create_workspaces": o.MembersCanCreateWorkspaces}
}
