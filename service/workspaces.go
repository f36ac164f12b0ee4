package service

import (
	"context"
	"errors"

	"github.com/roster-dev/roster"
)

// Limits of the free key/values of a workspace.
const (
	MaxSettingsValues   = 100
	MaxSettingsKeyLen   = 100
	MaxSettingsValueLen = 4096
)

// CreateWorkspace creates a workspace in an organisation; its creator owns it.
// Organisation owners and admins may, and members unless the organisation
// forbids it; externals may not. The view carries the caller's access.
func (s *Service) CreateWorkspace(ctx context.Context, in roster.NewWorkspace) (roster.WorkspaceView, error) {
	var w roster.Workspace
	var access roster.Access
	err := s.update(ctx, func(c *change) error {
		org, oa, err := c.org(in.OrgID)
		if err != nil {
			return err
		}
		allowed := oa.can(roster.OrgPermCreateWorkspaces) &&
			(oa.operator || org.MembersCanCreateWorkspaces || oa.member.Role.Can(roster.OrgPermMembersManage))
		if !allowed {
			return forbidden("you may not create workspaces in this organisation")
		}
		owner := in.OwnerID
		switch {
		case owner != "" && !oa.operator:
			return forbidden("only staff and service tokens may create a workspace for someone else")
		case owner == "" && !c.actor.IsService() && !c.actor.IsSystem():
			// The creator owns it. The host application's backend is no one:
			// without owner_id, the organisation's owners govern it.
			owner = c.actor.Subject().ID
		}
		if owner != "" {
			if err := s.requireActiveOwner(c, owner); err != nil {
				return err
			}
			c.requireCapacity(org.ID) // an outsider named owner joins the organisation
		}
		if w, err = c.createWorkspace(org, in, owner); err != nil || oa.operator {
			return err // staff and services see workspaces without a role of their own
		}
		access, err = c.accessOf(w, c.actor.Subject().ID)
		return err
	})
	return roster.WorkspaceView{Workspace: w, Access: access}, err
}

// accessOf is a user's effective access to w as this change leaves it.
func (c *change) accessOf(w roster.Workspace, userID string) (roster.Access, error) {
	direct, org, err := memberships(c.ctx, c.tx, w, userID)
	if err != nil {
		return roster.Access{}, err
	}
	return roster.EffectiveAccess(direct, org, c.now), nil
}

// createWorkspace inserts a workspace and makes ownerID (if any) its owner.
func (c *change) createWorkspace(org roster.Org, in roster.NewWorkspace, ownerID string) (roster.Workspace, error) {
	if err := checkName(in.Name); err != nil {
		return roster.Workspace{}, err
	}
	if err := roster.CheckSlug(in.Slug); err != nil {
		return roster.Workspace{}, err
	}
	w := roster.Workspace{ID: roster.NewID(roster.PrefixWorkspace), OrgID: org.ID, Name: in.Name, Slug: in.Slug,
		Values: map[string]string{}, CreatedAt: c.now, UpdatedAt: c.now}
	if err := c.tx.CreateWorkspace(c.ctx, w); errors.Is(err, roster.ErrUniqueViolation) {
		return w, errSlugTaken
	} else if err != nil {
		return w, err
	}
	if err := c.auditIn(roster.ActionWorkspaceCreated, roster.TargetWorkspace, w.ID, &w.OrgID, &w.ID, nil, workspaceAudit(w)); err != nil {
		return w, err
	}
	if ownerID == "" {
		return w, nil
	}
	_, _, err := c.setWorkspaceMember(grant{workspace: w, userID: ownerID, role: roster.RoleOwner, source: roster.SourceDirect, invitedBy: actorID(c.actor)})
	return w, err
}

// GetWorkspace returns a workspace the caller can see.
func (s *Service) GetWorkspace(ctx context.Context, id string) (roster.WorkspaceView, error) {
	w, wa, err := workspaceFor(ctx, s.store, id, false, s.now(), nil)
	if err == nil && !wa.can(roster.PermWorkspaceRead) {
		err = errForbidden
	}
	return roster.WorkspaceView{Workspace: w, Access: wa.access}, err
}

// ListWorkspaces lists the workspaces the caller can reach, with their
// effective role; staff and services list every workspace.
func (s *Service) ListWorkspaces(ctx context.Context, f roster.WorkspaceFilter, p roster.Page) ([]roster.WorkspaceView, string, error) {
	a := actor(ctx)
	if operator(a) {
		wss, err := s.store.ListWorkspaces(ctx, f, p)
		if err != nil {
			return nil, "", err
		}
		wss, next := roster.NextCursor(wss, p.Limit, func(w roster.Workspace) string { return w.ID })
		views := make([]roster.WorkspaceView, len(wss))
		for i, w := range wss {
			views[i] = roster.WorkspaceView{Workspace: w}
		}
		return views, next, nil
	}
	return s.reachableWorkspaces(ctx, a.Subject().ID, f, p)
}

// ListUserWorkspaces lists every workspace a user can reach (the user
// themself, staff and services); an inactive user reaches none.
func (s *Service) ListUserWorkspaces(ctx context.Context, userID string, f roster.WorkspaceFilter, p roster.Page) ([]roster.WorkspaceView, string, error) {
	if reaches, err := s.reachingUser(ctx, userID); err != nil || !reaches {
		return nil, "", err
	}
	return s.reachableWorkspaces(ctx, userID, f, p)
}

// reachingUser decides whether the caller may list what a user reaches
// (the user themself, staff and services) and reports whether the user
// reaches anything: a suspended or deactivated user reaches nothing
// (rule 8).
func (s *Service) reachingUser(ctx context.Context, userID string) (bool, error) {
	a := actor(ctx)
	if !operator(a) && !a.IsSelf(userID) {
		return false, denyUser(a, userID)
	}
	u, err := s.getUser(ctx, s.store, userID)
	return err == nil && u.Active(), err
}

// reachableWorkspaces pages through the workspaces where the user has an
// effective role. Candidates come from the store (workspaces of their
// organisations and their own memberships); the role rule decides.
func (s *Service) reachableWorkspaces(ctx context.Context, userID string, f roster.WorkspaceFilter, p roster.Page) ([]roster.WorkspaceView, string, error) {
	ua, err := loadUserAccess(ctx, s.store, userID)
	if err != nil {
		return nil, "", err
	}
	a := actor(ctx)
	now := s.now()
	f.MemberID = userID
	var views []roster.WorkspaceView
	after := p.After
	for len(views) <= p.Limit {
		wss, err := s.store.ListWorkspaces(ctx, f, roster.Page{Limit: roster.MaxPageLimit, After: after})
		if err != nil {
			return nil, "", err
		}
		more := len(wss) > roster.MaxPageLimit
		if more {
			wss = wss[:roster.MaxPageLimit]
		}
		for _, w := range wss {
			if acc := ua.in(w, now); acc.Role != "" && a.Reaches(w.ID) {
				views = append(views, roster.WorkspaceView{Workspace: w, Access: acc})
			}
		}
		if !more {
			break
		}
		after = wss[len(wss)-1].ID
	}
	views, next := roster.NextCursor(views, p.Limit, func(v roster.WorkspaceView) string { return v.Workspace.ID })
	return views, next, nil
}

// UpdateWorkspace renames a workspace or changes its slug (admins).
func (s *Service) UpdateWorkspace(ctx context.Context, id string, p roster.WorkspacePatch) (roster.WorkspaceView, error) {
	var w roster.Workspace
	var access roster.Access
	err := s.update(ctx, func(c *change) error {
		before, wa, err := c.workspace(id, false)
		if err != nil {
			return err
		}
		access = wa.access
		if !wa.can(roster.PermWorkspaceUpdate) {
			return errForbidden
		}
		w = before
		if p.Name.Present {
			if err := checkName(p.Name.Value); err != nil {
				return err
			}
			w.Name = p.Name.Value
		}
		if p.Slug.Present && p.Slug.Value != w.Slug {
			if err := roster.CheckSlug(p.Slug.Value); err != nil {
				return err
			}
			taken, err := c.tx.ListWorkspaces(ctx, roster.WorkspaceFilter{OrgID: w.OrgID, Slug: p.Slug.Value, IncludeArchived: true}, roster.Page{Limit: 1})
			if err != nil {
				return err
			}
			if len(taken) > 0 {
				return errSlugTaken
			}
			w.Slug = p.Slug.Value
		}
		return c.saveWorkspace(roster.ActionWorkspaceUpdated, before, &w)
	})
	return roster.WorkspaceView{Workspace: w, Access: access}, err
}

// saveWorkspace stores after, stamping it updated now, and audits the change.
func (c *change) saveWorkspace(action string, before roster.Workspace, after *roster.Workspace) error {
	if before.AllowSupportAccess && !after.AllowSupportAccess { // consent withdrawn: every session ends now
		if err := c.endSupportSessions(roster.SupportFilter{WorkspaceID: after.ID}, roster.SupportDisabled, false); err != nil {
			return err
		}
	}
	after.UpdatedAt = c.now
	if err := c.tx.UpdateWorkspace(c.ctx, *after); err != nil {
		return err
	}
	return c.auditIn(action, roster.TargetWorkspace, after.ID, &after.OrgID, &after.ID, workspaceAudit(before), workspaceAudit(*after))
}

// SetArchived archives or restores a workspace (admins). While archived,
// every scoped access is 410 and lists leave it out (rule 5).
func (s *Service) SetArchived(ctx context.Context, id string, archived bool) (roster.WorkspaceView, error) {
	var w roster.Workspace
	var access roster.Access
	err := s.update(ctx, func(c *change) error {
		before, wa, err := c.workspace(id, true)
		if err != nil {
			return err
		}
		access = wa.access
		if !wa.can(roster.PermWorkspaceArchive) {
			return errForbidden
		}
		w = before
		if (before.ArchivedAt != nil) == archived {
			return nil
		}
		if err := c.markWorkspaceSeats(w.ID); err != nil {
			return err
		}
		action := roster.ActionWorkspaceRestored
		w.ArchivedAt = nil
		if archived {
			action, w.ArchivedAt = roster.ActionWorkspaceArchived, &c.now
		}
		return c.saveWorkspace(action, before, &w)
	})
	return roster.WorkspaceView{Workspace: w, Access: access}, err
}

// DeleteWorkspace deletes a workspace and its memberships (owners only).
func (s *Service) DeleteWorkspace(ctx context.Context, id string) error {
	return s.update(ctx, func(c *change) error {
		w, wa, err := c.workspace(id, true)
		if err != nil {
			return err
		}
		if !wa.can(roster.PermWorkspaceDelete) {
			return errForbidden
		}
		if err := c.markWorkspaceSeats(w.ID); err != nil {
			return err
		}
		if err := c.endSupportSessions(roster.SupportFilter{WorkspaceID: id}, roster.SupportWorkspaceDeleted, false); err != nil {
			return err
		}
		if err := c.tx.DeleteWorkspace(ctx, id, c.now); err != nil {
			return err
		}
		return c.auditIn(roster.ActionWorkspaceDeleted, roster.TargetWorkspace, id, &w.OrgID, &w.ID, workspaceAudit(w), nil)
	})
}

// markWorkspaceSeats marks the seat of every member of a workspace.
func (c *change) markWorkspaceSeats(wsID string) error {
	members, err := allWorkspaceMembers(c.ctx, c.tx, wsID)
	for _, m := range members {
		c.markSeat(m.OrgID, m.UserID)
	}
	return err
}

// allWorkspaceMembers lists every member of a workspace, support included.
func allWorkspaceMembers(ctx context.Context, r roster.Reader, wsID string) ([]roster.WorkspaceMembership, error) {
	var all []roster.WorkspaceMembership
	p := roster.Page{Limit: roster.MaxPageLimit}
	for {
		ms, err := r.ListWorkspaceMembers(ctx, wsID, roster.MemberFilter{IncludeSupport: true}, p)
		if err != nil {
			return nil, err
		}
		all = append(all, ms...)
		if len(ms) <= p.Limit {
			return all, nil
		}
		all = all[:len(all)-1]
		p.After = ms[p.Limit-1].UserID
	}
}

// GetSettings returns a workspace's settings.
func (s *Service) GetSettings(ctx context.Context, id string) (roster.Workspace, error) {
	w, wa, err := workspaceFor(ctx, s.store, id, false, s.now(), nil)
	if err == nil && !wa.can(roster.PermWorkspaceRead) {
		err = errForbidden
	}
	return w, err
}

// UpdateSettings changes a workspace's settings (admins).
func (s *Service) UpdateSettings(ctx context.Context, id string, p roster.SettingsPatch) (roster.Workspace, error) {
	var w roster.Workspace
	err := s.update(ctx, func(c *change) error {
		before, wa, err := c.workspace(id, false)
		if err != nil {
			return err
		}
		if !wa.can(roster.PermWorkspaceSettings) {
			return errForbidden
		}
		w = before
		w.Values = make(map[string]string, len(before.Values))
		for k, v := range before.Values {
			w.Values[k] = v
		}
		if p.AllowSupportAccess.Present {
			w.AllowSupportAccess = p.AllowSupportAccess.Value
		}
		for k, v := range p.Values {
			if v == nil {
				delete(w.Values, k)
				continue
			}
			w.Values[k] = *v
		}
		if err := checkValues(w.Values); err != nil {
			return err
		}
		return c.saveWorkspace(roster.ActionWorkspaceSettings, before, &w)
	})
	return w, err
}

func checkValues(values map[string]string) error {
	if len(values) > MaxSettingsValues {
		return roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "at most %d settings values", MaxSettingsValues).With("field", "values")
	}
	for k, v := range values {
		if k == "" || len(k) > MaxSettingsKeyLen || len(v) > MaxSettingsValueLen {
			return roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest,
				"settings keys are 1 to %d bytes and values at most %d", MaxSettingsKeyLen, MaxSettingsValueLen).With("field", "values")
		}
	}
	return nil
}

// SetDefaultWorkspace makes a workspace the caller's current one; they must
// be able to reach it.
func (s *Service) SetDefaultWorkspace(ctx context.Context, wsID string) (roster.User, error) {
	a := actor(ctx)
	if err := refuseConfined(a); err != nil {
		return roster.User{}, err
	}
	var u roster.User
	err := s.update(ctx, func(c *change) error {
		before, err := s.getUser(ctx, c.tx, a.Subject().ID)
		if err != nil {
			return err
		}
		if err := c.checkReachable(before.ID, wsID); err != nil {
			return err
		}
		u = before
		u.DefaultWorkspaceID, u.UpdatedAt = &wsID, c.now
		if err := c.tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return c.audit(roster.ActionUserUpdated, roster.TargetUser, u.ID, userAudit(before), userAudit(u))
	})
	return u, err
}

// checkReachable fails unless the user has an effective role in the
// workspace, which is not archived.
func (c *change) checkReachable(userID, wsID string) error {
	if !roster.ValidID(roster.PrefixWorkspace, wsID) {
		return errWorkspaceNotFound
	}
	w, err := c.tx.GetWorkspace(c.ctx, wsID)
	if errors.Is(err, roster.ErrNotFound) {
		return errWorkspaceNotFound
	}
	if err != nil {
		return err
	}
	direct, org, err := memberships(c.ctx, c.tx, w, userID)
	if err != nil {
		return err
	}
	if roster.EffectiveAccess(direct, org, c.now).Role == "" {
		return errWorkspaceNotFound
	}
	if w.ArchivedAt != nil {
		return errWorkspaceArchived
	}
	return nil
}

func workspaceAudit(w roster.Workspace) map[string]any {
	return map[string]any{"id": w.ID, "org_id": w.OrgID, "name": w.Name, "slug": w.Slug,
		"allow_support_access": w.AllowSupportAccess, "values": w.Values, "archived_at": w.ArchivedAt}
}
