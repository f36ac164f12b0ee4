package service

import (
	"maps"
	"time"

	"github.com/roster-dev/roster"
)

// The rules below are the API's: the same checks, the same audit events,
// applied to the import's model instead of row by row. Each names the
// service method whose rules it follows.

// apply applies one record (already checked on its own) to the model.
func (m *importModel) apply(r roster.ImportRecord) (outcome, error) {
	switch roster.ImportKind(r.Type) {
	case roster.ImportUser:
		return m.applyUser(r)
	case roster.ImportOrg:
		return m.applyOrg(r)
	case roster.ImportWorkspace:
		return m.applyWorkspace(r)
	case roster.ImportOrgMembership:
		return m.applyOrgMembership(r)
	default:
		return m.applyMembership(r)
	}
}

// user resolves a reference: the host application's id first, then email.
func (m *importModel) user(ref string) (*importUser, error) {
	if iu := m.byExt[ref]; iu != nil {
		return iu, nil
	}
	if iu := m.byEmail[roster.EmailKey(ref)]; iu != nil {
		return iu, nil
	}
	return nil, errImportRef("user", roster.CodeUserNotFound, ref)
}

func (m *importModel) activeOwner(ref string) (*importUser, error) {
	iu, err := m.user(ref)
	if err == nil && !iu.u.Active() {
		err = roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "the owner must be an active user").With("field", "owner")
	}
	return iu, err
}

func (m *importModel) org(slug string) (*importOrg, error) {
	if io := m.bySlug[slug]; io != nil {
		return io, nil
	}
	return nil, errImportRef("organisation", roster.CodeOrgNotFound, slug)
}

// applyUser creates a user (CreateUser) or brings one up to date: it is
// found by external id, else by email; an email that belongs to another
// user is refused, as in UpdateUser.
func (m *importModel) applyUser(r roster.ImportRecord) (outcome, error) {
	c := m.c
	var byExt, byEmail *importUser
	if r.ExternalID != nil {
		byExt = m.byExt[*r.ExternalID]
	}
	if r.Email != nil {
		byEmail = m.byEmail[roster.EmailKey(*r.Email)]
	}
	iu := byExt
	switch {
	case byExt == nil && byEmail == nil:
		u := roster.User{ID: roster.NewID(roster.PrefixUser), Email: r.Email, ExternalID: r.ExternalID,
			Status: roster.UserActive, PlatformRole: roster.PlatformNone, CreatedAt: c.now, UpdatedAt: c.now}
		if r.DisplayName != nil {
			u.DisplayName = *r.DisplayName
		}
		m.addUser(u, true)
		return created, c.audit(roster.ActionUserCreated, roster.TargetUser, u.ID, nil, userAudit(u))
	case byEmail != nil && byExt != nil && byEmail != byExt,
		byEmail != nil && byExt == nil && r.ExternalID != nil && byEmail.u.ExternalID != nil:
		return unchanged, roster.Errorf(roster.KindConflict, roster.CodeEmailTaken, "a user with this email already exists").With("user_id", byEmail.u.ID)
	case iu == nil:
		iu = byEmail
	}
	before := iu.u
	after := before
	if r.ExternalID != nil {
		after.ExternalID = r.ExternalID
	}
	if r.Email != nil {
		after.Email = r.Email
	}
	if r.DisplayName != nil {
		after.DisplayName = *r.DisplayName
	}
	if sameUser(before, after) {
		return unchanged, nil
	}
	after.UpdatedAt = c.now
	m.saveUser(iu)
	m.reindexUser(iu, after)
	return updated, c.audit(roster.ActionUserUpdated, roster.TargetUser, iu.u.ID, userAudit(before), userAudit(after))
}

// reindexUser gives a user new fields and moves the look-ups to them.
func (m *importModel) reindexUser(iu *importUser, u roster.User) {
	oldExt, oldEmail := iu.u.ExternalID, iu.u.Email
	m.undo = append(m.undo, func() {
		m.unindex(iu.u.ExternalID, iu.u.Email)
		m.index(iu, oldExt, oldEmail)
	})
	m.unindex(oldExt, oldEmail)
	iu.u = u
	m.index(iu, u.ExternalID, u.Email)
}

func (m *importModel) unindex(ext, email *string) {
	if ext != nil {
		delete(m.byExt, *ext)
	}
	if email != nil {
		delete(m.byEmail, roster.EmailKey(*email))
	}
}

func (m *importModel) index(iu *importUser, ext, email *string) {
	if ext != nil {
		m.byExt[*ext] = iu
	}
	if email != nil {
		m.byEmail[roster.EmailKey(*email)] = iu
	}
}

// applyOrg creates an organisation owned by owner (CreateOrg), or renames
// one and makes owner one of its owners (UpdateOrg, PutOrgMember).
func (m *importModel) applyOrg(r roster.ImportRecord) (outcome, error) {
	c := m.c
	owner, err := m.activeOwner(r.Owner)
	if err != nil {
		return unchanged, err
	}
	io := m.bySlug[r.Slug]
	if io == nil {
		org := roster.Org{ID: roster.NewID(roster.PrefixOrg), Name: r.Name, Slug: r.Slug, MembersCanCreateWorkspaces: true,
			Plan: roster.DefaultPlan(), CreatedAt: c.now, UpdatedAt: c.now}
		io = m.addOrg(org, true)
		if err := c.auditIn(roster.ActionOrgCreated, roster.TargetOrg, org.ID, &org.ID, nil, nil, orgAudit(org)); err != nil {
			return created, err
		}
		return created, m.setOrgMember(io, owner.u.ID, roster.OrgOwner)
	}
	o := unchanged
	if io.org.Name != r.Name {
		m.saveOrg(io)
		before := io.org
		io.org.Name, io.org.UpdatedAt, o = r.Name, c.now, updated
		if err := c.auditIn(roster.ActionOrgUpdated, roster.TargetOrg, io.org.ID, &io.org.ID, nil, orgAudit(before), orgAudit(io.org)); err != nil {
			return o, err
		}
	}
	if p := io.person(owner.u.ID); p.member == nil || p.member.Role != roster.OrgOwner {
		o = updated
		if err := m.setOrgMember(io, owner.u.ID, roster.OrgOwner); err != nil {
			return o, err
		}
	}
	return o, nil
}

// applyWorkspace creates a workspace with owner as its owner
// (CreateWorkspace), or renames one and makes owner one of its owners.
func (m *importModel) applyWorkspace(r roster.ImportRecord) (outcome, error) {
	c := m.c
	io, err := m.org(r.Org)
	if err != nil {
		return unchanged, err
	}
	owner, err := m.activeOwner(r.Owner)
	if err != nil {
		return unchanged, err
	}
	iw := io.bySlug[r.Slug]
	if iw == nil {
		w := roster.Workspace{ID: roster.NewID(roster.PrefixWorkspace), OrgID: io.org.ID, Name: r.Name, Slug: r.Slug,
			Values: map[string]string{}, CreatedAt: c.now, UpdatedAt: c.now}
		iw = io.addWorkspace(w, true)
		m.undo = append(m.undo, func() {
			io.workspaces = io.workspaces[:len(io.workspaces)-1]
			delete(io.bySlug, w.Slug)
			delete(io.byID, w.ID)
		})
		if err := c.auditIn(roster.ActionWorkspaceCreated, roster.TargetWorkspace, w.ID, &w.OrgID, &w.ID, nil, workspaceAudit(w)); err != nil {
			return created, err
		}
		_, err := m.grant(io, iw, owner.u.ID, roster.RoleOwner, nil)
		return created, err
	}
	p := io.person(owner.u.ID)
	isOwner := p.ws[iw.w.ID] != nil && p.ws[iw.w.ID].LiveOwner(c.now)
	if iw.w.Name == r.Name && isOwner {
		return unchanged, nil
	}
	if iw.w.ArchivedAt != nil {
		return unchanged, errWorkspaceArchived
	}
	if iw.w.Name != r.Name {
		m.saveWorkspace(iw)
		before := iw.w
		iw.w.Name, iw.w.UpdatedAt = r.Name, c.now
		if err := c.auditIn(roster.ActionWorkspaceUpdated, roster.TargetWorkspace, iw.w.ID, &iw.w.OrgID, &iw.w.ID, workspaceAudit(before), workspaceAudit(iw.w)); err != nil {
			return updated, err
		}
	}
	if !isOwner {
		if _, err := m.grant(io, iw, owner.u.ID, roster.RoleOwner, nil); err != nil {
			return updated, err
		}
	}
	return updated, nil
}

// applyOrgMembership gives a user a role in an organisation
// (PutOrgMember): the last owner stays, new seats fit the cap.
func (m *importModel) applyOrgMembership(r roster.ImportRecord) (outcome, error) {
	io, err := m.org(r.Org)
	if err != nil {
		return unchanged, err
	}
	iu, err := m.user(r.User)
	if err != nil {
		return unchanged, err
	}
	role, err := roster.ParseOrgRole(r.Role)
	if err != nil {
		return unchanged, err
	}
	p := io.person(iu.u.ID)
	switch {
	case p.member == nil:
		return created, m.setOrgMember(io, iu.u.ID, role)
	case p.member.Role == role:
		return unchanged, nil
	case p.member.Role == roster.OrgOwner:
		ok, err := m.orgKeepsOwner(io, iu.u.ID)
		if err != nil {
			return unchanged, err
		}
		if !ok {
			return unchanged, errLastOwner("org", io.org.ID)
		}
	}
	return updated, m.setOrgMember(io, iu.u.ID, role)
}

// applyMembership gives a user a role in a workspace, with an expiry
// (PutWorkspaceMember): the last permanent owner stays, the external
// invariant holds, new seats fit the cap.
func (m *importModel) applyMembership(r roster.ImportRecord) (outcome, error) {
	c := m.c
	io, err := m.org(r.Org)
	if err != nil {
		return unchanged, err
	}
	iw := io.bySlug[r.Workspace]
	if iw == nil {
		return unchanged, errImportRef("workspace", roster.CodeWorkspaceNotFound, r.Workspace)
	}
	iu, err := m.user(r.User)
	if err != nil {
		return unchanged, err
	}
	role, err := roster.ParseWorkspaceRole(r.Role)
	if err != nil {
		return unchanged, err
	}
	existing := io.person(iu.u.ID).ws[iw.w.ID]
	if existing != nil && existing.Source == roster.SourceStaffSupport {
		return unchanged, errFromSupport
	}
	if existing != nil && existing.Live(c.now) && existing.Role == role && roster.SameTime(existing.ExpiresAt, r.ExpiresAt) {
		return unchanged, nil
	}
	if iw.w.ArchivedAt != nil {
		return unchanged, errWorkspaceArchived
	}
	if existing != nil && existing.LiveOwner(c.now) && (role != roster.RoleOwner || r.ExpiresAt != nil) {
		ok, err := m.workspaceKeepsOwner(io, iw, iu.u.ID)
		if err != nil {
			return unchanged, err
		}
		if !ok {
			return unchanged, errLastOwner("workspace", iw.w.ID)
		}
	}
	return m.grant(io, iw, iu.u.ID, role, r.ExpiresAt)
}

// grant is setWorkspaceMember on the model: an organisation member is
// never external; an outsider granted more than external or viewer joins
// the organisation as a member; an expired membership ends and a new one
// starts.
func (m *importModel) grant(io *importOrg, iw *importWorkspace, userID string, role roster.WorkspaceRole, expiresAt *time.Time) (outcome, error) {
	c := m.c
	p := io.person(userID)
	joinOrg, err := orgJoinFor(p.member != nil, role)
	if err != nil {
		return unchanged, err
	}
	if joinOrg {
		if err := m.setOrgMember(io, userID, roster.OrgMember); err != nil {
			return unchanged, err
		}
	}
	m.savePerson(p)
	if existing := p.ws[iw.w.ID]; existing != nil {
		before := *existing
		if existing.Live(c.now) {
			existing.Role, existing.ExpiresAt, existing.UpdatedAt = role, expiresAt, c.now
			if err := c.auditIn(roster.ActionMemberUpdated, roster.TargetMembership, existing.ID, &existing.OrgID, &existing.WorkspaceID,
				membershipAudit(&before), membershipAudit(existing)); err != nil {
				return updated, err
			}
			return updated, m.settle(io, p)
		}
		ended := before
		ended.DeletedAt, ended.UpdatedAt = &c.now, c.now
		p.ended = append(p.ended, ended)
		delete(p.ws, iw.w.ID)
		if err := c.auditIn(roster.ActionMemberDeleted, roster.TargetMembership, before.ID, &before.OrgID, &before.WorkspaceID,
			membershipAudit(&before), nil); err != nil {
			return created, err
		}
	}
	wm := roster.WorkspaceMembership{ID: roster.NewID(roster.PrefixMembership), WorkspaceID: iw.w.ID, OrgID: io.org.ID,
		UserID: userID, Role: role, Source: roster.SourceDirect, JoinedAt: c.now, InvitedBy: actorID(c.actor),
		ExpiresAt: expiresAt, UpdatedAt: c.now}
	p.ws[iw.w.ID] = &wm
	if err := c.auditIn(roster.ActionMemberCreated, roster.TargetMembership, wm.ID, &wm.OrgID, &wm.WorkspaceID, nil, membershipAudit(&wm)); err != nil {
		return created, err
	}
	return created, m.settle(io, p)
}

// setOrgMember is change.setOrgMember on the model: a new member's
// external memberships in the organisation's workspaces become member.
func (m *importModel) setOrgMember(io *importOrg, userID string, role roster.OrgRole) error {
	c := m.c
	p := io.person(userID)
	m.savePerson(p)
	if p.member != nil {
		before := *p.member
		p.member.Role, p.member.UpdatedAt = role, c.now
		if err := c.auditOrgMembership(roster.ActionOrgMemberUpdated, &before, p.member); err != nil {
			return err
		}
		return m.settle(io, p)
	}
	om := roster.OrgMembership{ID: roster.NewID(roster.PrefixMembership), OrgID: io.org.ID, UserID: userID, Role: role,
		JoinedAt: c.now, InvitedBy: actorID(c.actor), UpdatedAt: c.now}
	p.member = &om
	if err := c.auditOrgMembership(roster.ActionOrgMemberCreated, nil, &om); err != nil {
		return err
	}
	for _, wm := range p.ws {
		if wm.Role != roster.RoleExternal {
			continue
		}
		before := *wm
		wm.Role, wm.UpdatedAt = roster.RoleMember, c.now
		if err := c.auditIn(roster.ActionMemberUpdated, roster.TargetMembership, wm.ID, &wm.OrgID, &wm.WorkspaceID,
			membershipAudit(&before), membershipAudit(wm)); err != nil {
			return err
		}
	}
	return m.settle(io, p)
}

// settle recomputes a user's seat after a change of their memberships
// (settleOrgSeats): a change that seats them anew must fit the cap.
func (m *importModel) settle(io *importOrg, p *orgPerson) error {
	c := m.c
	var wms []roster.WorkspaceMembership
	for wsID, wm := range p.ws {
		if iw := io.byID[wsID]; iw != nil && iw.w.ArchivedAt == nil {
			wms = append(wms, *wm)
		}
	}
	active := false
	if iu := m.byID[p.userID]; iu != nil {
		active = iu.u.Active()
	}
	seat := roster.SeatFor(io.org.Plan, active, p.member, wms, c.now)
	seat.OrgID, seat.UserID = io.org.ID, p.userID
	prev := p.current
	after := maps.Clone(io.counts)
	if prev.Held(c.now) {
		after[prev.Role]--
	}
	if seat.Held(c.now) {
		after[seat.Role]++
	}
	if cap := io.org.Plan.SeatCap; cap != nil && !prev.Held(c.now) && seat.Held(c.now) && after.Used(io.org.Plan) > *cap {
		pending, err := c.tx.CountPendingSeats(c.ctx, io.org.ID, paidRoles(io.org.Plan), c.now)
		if err != nil {
			return err
		}
		return errSeatCap(io.counts.Used(io.org.Plan), pending, *cap)
	}
	m.saveOrg(io)
	io.counts, p.current = after, seat
	return nil
}

// orgKeepsOwner is change.orgKeepsOwner with the model's users as they are
// now: it still has an active owner other than userID.
func (m *importModel) orgKeepsOwner(io *importOrg, userID string) (bool, error) {
	for id, p := range io.people {
		if id != userID && p.member != nil && p.member.Role == roster.OrgOwner && m.byID[id] != nil && m.byID[id].u.Active() {
			return true, nil
		}
	}
	if io.orig == nil {
		return false, nil // every owner of a new organisation is in the model
	}
	owners, err := m.c.tx.ListOrgOwners(m.c.ctx, io.org.ID)
	if err != nil {
		return false, err
	}
	for _, o := range owners {
		if o.UserID == userID || m.byID[o.UserID] != nil {
			continue
		}
		if ok, err := isActiveUser(m.c.ctx, m.c.tx, o.UserID); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// workspaceKeepsOwner is change.workspaceKeepsOwner with the model's users
// as they are now: an active, direct, permanent owner other than userID.
func (m *importModel) workspaceKeepsOwner(io *importOrg, iw *importWorkspace, userID string) (bool, error) {
	c := m.c
	for id, p := range io.people {
		wm := p.ws[iw.w.ID]
		if id != userID && wm != nil && wm.LiveOwner(c.now) && wm.ExpiresAt == nil && m.byID[id] != nil && m.byID[id].u.Active() {
			return true, nil
		}
	}
	if iw.orig == nil {
		return false, nil
	}
	owners, err := c.tx.ListWorkspaceOwners(c.ctx, iw.w.ID)
	if err != nil {
		return false, err
	}
	for _, o := range owners {
		if o.UserID == userID || m.byID[o.UserID] != nil || !o.LiveOwner(c.now) || o.ExpiresAt != nil {
			continue
		}
		if ok, err := isActiveUser(c.ctx, c.tx, o.UserID); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// samePtr reports whether two optional values are both absent or equal.
func samePtr[T comparable](a, b *T) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}
