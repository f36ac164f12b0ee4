package service

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"time"

	"github.com/roster-dev/roster"
)

// Resources (DOMAIN §6). A user's role on a resource is the highest of
// their role in the workspace that owns it, the role of a share to a
// workspace they reach, and a guest share to them; expiry of the
// memberships beneath holds at every decision.

var (
	errResourceNotFound = roster.Errorf(roster.KindNotFound, roster.CodeResourceNotFound, "no such resource")
	errShareNotFound    = roster.Errorf(roster.KindNotFound, roster.CodeShareNotFound, "no such share")
)

// accessSource is where a resource decision reads workspaces and
// memberships: the caches for checks and reads, the transaction for writes
// (rule 12: authority is re-read at decision time).
type accessSource struct {
	workspace func(ctx context.Context, id string) (roster.Workspace, error)
	access    func(ctx context.Context, userID string) (*userAccess, error)
	shares    func(ctx context.Context, resourceID string) ([]roster.ResourceShare, error)
}

func (s *Service) cachedSource() accessSource {
	return accessSource{workspace: s.cachedWorkspace, access: s.cachedAccess, shares: s.cachedShares}
}

func loadResourceEntry(ctx context.Context, r roster.Reader, id string) (*resourceEntry, error) {
	res, err := r.GetResource(ctx, id)
	if err != nil {
		return nil, err
	}
	shares, err := r.ListShares(ctx, id)
	if err != nil {
		return nil, err
	}
	return &resourceEntry{resource: res, shares: shares}, nil
}

// cachedResource returns a live resource and its shares; errResourceNotFound
// when there is none.
func (s *Service) cachedResource(ctx context.Context, id string) (*resourceEntry, error) {
	if !roster.ValidID(roster.PrefixResource, id) {
		return nil, errResourceNotFound
	}
	e, err := s.fills.resources.get(ctx, s.auth, id)
	if errors.Is(err, roster.ErrNotFound) {
		return nil, errResourceNotFound
	}
	return e, err
}

// cachedResourceByExternalID finds a live resource by the host
// application's (type, external_id). A resource never changes its type or
// external id, so a cached mapping is good while the resource it names is
// live; once that one is deleted (and the external id perhaps taken by a
// new resource), the database is asked again.
func (s *Service) cachedResourceByExternalID(ctx context.Context, typ, externalID string) (*resourceEntry, error) {
	key := typ + ":" + externalID
	id, err := s.fills.resourceIDs.get(ctx, s.auth, key)
	if err == nil {
		e, err := s.cachedResource(ctx, id)
		if !errors.Is(err, errResourceNotFound) {
			return e, err
		}
		// The mapping outlived its resource: ask the database again.
		s.auth.sets.Load().resourceIDs.Invalidate(key)
		if id, err = s.fills.resourceIDs.fetch(ctx, key); err == nil {
			return s.cachedResource(ctx, id)
		}
	}
	if errors.Is(err, roster.ErrNotFound) {
		return nil, errResourceNotFound
	}
	return nil, err
}

func (s *Service) cachedShares(ctx context.Context, resourceID string) ([]roster.ResourceShare, error) {
	e, err := s.cachedResource(ctx, resourceID)
	if err != nil {
		return nil, err
	}
	return e.shares, nil
}

func txSource(r roster.Reader) accessSource {
	return accessSource{
		workspace: func(ctx context.Context, id string) (roster.Workspace, error) {
			w, err := r.GetWorkspace(ctx, id)
			if errors.Is(err, roster.ErrNotFound) {
				return w, errWorkspaceNotFound
			}
			return w, err
		},
		access: func(ctx context.Context, userID string) (*userAccess, error) { return loadUserAccess(ctx, r, userID) },
		shares: r.ListShares,
	}
}

// resourceAccess is a user's effective role on r at now, and the workspace
// that owns r.
func resourceAccess(ctx context.Context, src accessSource, r roster.Resource, userID string, now time.Time) (roster.Access, roster.Workspace, error) {
	ua, err := src.access(ctx, userID)
	if err != nil {
		return roster.Access{}, roster.Workspace{}, err
	}
	shares, err := src.shares(ctx, r.ID)
	if err != nil {
		return roster.Access{}, roster.Workspace{}, err
	}
	return accessOn(ctx, src.workspace, r, shares, ua, userID, now)
}

// accessOn is the role that ua (userID's memberships) gives on r with its
// shares at now, and the workspace that owns r.
func accessOn(ctx context.Context, workspace func(context.Context, string) (roster.Workspace, error), r roster.Resource, shares []roster.ResourceShare, ua *userAccess, userID string, now time.Time) (roster.Access, roster.Workspace, error) {
	w, err := workspace(ctx, r.WorkspaceID)
	if err != nil {
		return roster.Access{}, w, err
	}
	acc := ua.in(w, now)
	for _, sh := range shares {
		via := roster.AccessGuest
		switch sh.GranteeKind {
		case roster.GranteeUser:
			if sh.GranteeID != userID {
				continue
			}
		case roster.GranteeWorkspace:
			sw, err := workspace(ctx, sh.GranteeID)
			if errors.Is(err, errWorkspaceNotFound) {
				continue // deleted since
			}
			if err != nil {
				return acc, w, err
			}
			if sw.ArchivedAt != nil || ua.in(sw, now).Role == "" {
				continue
			}
			via = roster.AccessShare
		}
		if role := sh.Role.WorkspaceRole(); acc.Role.Max(role) != acc.Role {
			acc = roster.Access{Role: role, Via: via}
		}
	}
	return acc, w, nil
}

// resourceFor loads a resource the caller may see, with their access. A
// caller who reaches it by no path is told it does not exist; an archived
// owning workspace is 410.
func resourceFor(ctx context.Context, r roster.Reader, src accessSource, id string, now time.Time) (roster.Resource, roster.Access, error) {
	if !roster.ValidID(roster.PrefixResource, id) {
		return roster.Resource{}, roster.Access{}, errResourceNotFound
	}
	res, err := r.GetResource(ctx, id)
	if errors.Is(err, roster.ErrNotFound) {
		return res, roster.Access{}, errResourceNotFound
	}
	if err != nil {
		return res, roster.Access{}, err
	}
	return visibleResource(ctx, src, res, now)
}

func visibleResource(ctx context.Context, src accessSource, res roster.Resource, now time.Time) (roster.Resource, roster.Access, error) {
	a := actor(ctx)
	if !a.Reaches(res.WorkspaceID) {
		return res, roster.Access{}, errResourceNotFound
	}
	var acc roster.Access
	var w roster.Workspace
	var err error
	if operator(a) {
		w, err = src.workspace(ctx, res.WorkspaceID)
		acc = roster.Access{Role: roster.RoleOwner}
	} else {
		acc, w, err = resourceAccess(ctx, src, res, a.Subject().ID, now)
	}
	switch {
	case errors.Is(err, errWorkspaceNotFound):
		return res, acc, errResourceNotFound
	case err != nil:
		return res, acc, err
	case acc.Role == "":
		return res, acc, errResourceNotFound
	case w.ArchivedAt != nil:
		return res, acc, errWorkspaceArchived
	}
	return res, acc, nil
}

// CreateResource adds a resource to a workspace where the caller may write
// resources: the one named, or else the caller's only workspace where they
// are member or more, or else a personal organisation and workspace made
// for them in the same transaction.
func (s *Service) CreateResource(ctx context.Context, in roster.NewResource) (roster.Resource, error) {
	if err := roster.CheckResourceFields(in.Type, in.ExternalID, in.Name); err != nil {
		return roster.Resource{}, err
	}
	a := actor(ctx)
	wsID := in.WorkspaceID
	if wsID == "" {
		var err error
		if wsID, err = s.defaultResourceWorkspace(ctx, a); err != nil {
			return roster.Resource{}, err
		}
	}
	var out roster.Resource
	err := s.update(ctx, func(c *change) error {
		var w roster.Workspace
		var err error
		if wsID == "" {
			w, err = c.personalWorkspace(a.Subject().ID)
		} else {
			var wa workspaceAuthority
			if w, wa, err = c.workspace(wsID, false); err == nil && !wa.can(roster.PermResourcesWrite) {
				err = forbidden("writing resources here needs " + string(roster.PermResourcesWrite))
			}
		}
		if err != nil {
			return err
		}
		out = roster.Resource{ID: roster.NewID(roster.PrefixResource), WorkspaceID: w.ID, OrgID: w.OrgID, Type: in.Type,
			ExternalID: in.ExternalID, Name: in.Name, CreatedBy: actorID(a), CreatedAt: c.now, UpdatedAt: c.now}
		created, err := c.tx.CreateResource(c.ctx, out)
		if err != nil {
			return err
		}
		if !created { // it exists, perhaps made by a concurrent create: name it
			existing, err := c.tx.GetResourceByExternalID(c.ctx, in.Type, in.ExternalID)
			if err != nil {
				return err
			}
			return roster.Errorf(roster.KindConflict, roster.CodeResourceExists, "a %s with this external_id exists", in.Type).
				With("resource_id", existing.ID)
		}
		return c.resourceChanged(roster.ActionResourceCreated, nil, &out)
	})
	return out, err
}

// defaultResourceWorkspace is the caller's only workspace where they are
// member or more; "" when they have none (a personal one is made).
func (s *Service) defaultResourceWorkspace(ctx context.Context, a roster.Actor) (string, error) {
	if a.IsSystem() || a.IsService() {
		return "", roster.Errorf(roster.KindInvalid, roster.CodeWorkspaceRequired, "name the workspace_id that owns the resource").With("field", "workspace_id")
	}
	views, _, err := s.reachableWorkspaces(ctx, a.Subject().ID, roster.WorkspaceFilter{}, roster.Page{Limit: roster.MaxPageLimit})
	if err != nil {
		return "", err
	}
	var ids []string
	for _, v := range views {
		if v.Access.Role.AtLeast(roster.RoleMember) {
			ids = append(ids, v.Workspace.ID)
		}
	}
	switch len(ids) {
	case 0:
		return "", nil
	case 1:
		return ids[0], nil
	}
	return "", roster.Errorf(roster.KindInvalid, roster.CodeWorkspaceRequired, "you are a member of %d workspaces: name the workspace_id", len(ids)).
		With("field", "workspace_id").With("workspace_ids", ids)
}

// personalWorkspace makes a user their own organisation and workspace.
func (c *change) personalWorkspace(userID string) (roster.Workspace, error) {
	if c.actor.Confined() {
		return roster.Workspace{}, errConfined
	}
	suffix := strings.ToLower(rand.Text()[:10])
	org := roster.Org{ID: roster.NewID(roster.PrefixOrg), Name: "Personal", Slug: "personal-" + suffix, MembersCanCreateWorkspaces: true, Plan: roster.DefaultPlan()}
	if err := c.insertOrg(&org, userID, map[string]any{"personal": true}); err != nil {
		return roster.Workspace{}, err
	}
	return c.createWorkspace(org, roster.NewWorkspace{Name: "Personal", Slug: "personal"}, userID)
}

// GetResource returns a resource the caller reaches, with their role on it.
func (s *Service) GetResource(ctx context.Context, id string) (roster.ResourceView, error) {
	r, acc, err := resourceFor(ctx, s.store, s.cachedSource(), id, s.now())
	return roster.ResourceView{Resource: r, Access: acc}, err
}

// ListResources finds resources the caller reaches: by the host
// application's (type, external_id), or a workspace's.
func (s *Service) ListResources(ctx context.Context, f roster.ResourceFilter, p roster.Page) ([]roster.ResourceView, string, error) {
	if f.WorkspaceID == "" && (f.Type == "" || f.ExternalID == "") {
		return nil, "", roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "name a workspace_id, or a type and an external_id")
	}
	if f.WorkspaceID != "" {
		if _, _, err := workspaceFor(ctx, s.store, f.WorkspaceID, false, s.now(), nil); err != nil {
			return nil, "", err
		}
	}
	found, err := s.store.ListResources(ctx, f, p)
	if err != nil {
		return nil, "", err
	}
	found, next := roster.NextCursor(found, p.Limit, func(r roster.Resource) string { return r.ID })
	views := make([]roster.ResourceView, 0, len(found))
	for _, r := range found {
		_, acc, err := visibleResource(ctx, s.cachedSource(), r, s.now())
		if errors.Is(err, errResourceNotFound) || errors.Is(err, errWorkspaceArchived) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		views = append(views, roster.ResourceView{Resource: r, Access: acc})
	}
	return views, next, nil
}

// resourceWrite loads a resource in a write, for a caller who needs perm on it.
func (c *change) resourceWrite(id string, perm roster.Permission) (roster.Resource, roster.Access, error) {
	if !roster.ValidID(roster.PrefixResource, id) {
		return roster.Resource{}, roster.Access{}, errResourceNotFound
	}
	r, err := c.tx.GetResource(c.ctx, id)
	if errors.Is(err, roster.ErrNotFound) {
		return r, roster.Access{}, errResourceNotFound
	}
	if err != nil {
		return r, roster.Access{}, err
	}
	if _, err := c.lockOrg(r.OrgID); err != nil {
		return r, roster.Access{}, err
	}
	// Read it again under the lock: it may have moved or gone meanwhile.
	if r, err = c.tx.GetResource(c.ctx, id); errors.Is(err, roster.ErrNotFound) {
		return r, roster.Access{}, errResourceNotFound
	} else if err != nil {
		return r, roster.Access{}, err
	}
	r, acc, err := visibleResource(c.ctx, txSource(c.tx), r, c.now)
	if err == nil && !acc.Role.Can(perm) {
		err = forbidden("this needs " + string(perm) + " on the resource")
	}
	return r, acc, err
}

// RenameResource changes a resource's name.
func (s *Service) RenameResource(ctx context.Context, id, name string) (roster.Resource, error) {
	if err := roster.CheckResourceName(name); err != nil {
		return roster.Resource{}, err
	}
	var out roster.Resource
	err := s.update(ctx, func(c *change) error {
		before, _, err := c.resourceWrite(id, roster.PermResourcesWrite)
		if err != nil {
			return err
		}
		out = before
		out.Name, out.UpdatedAt = name, c.now
		if err := c.tx.UpdateResource(c.ctx, out); err != nil {
			return err
		}
		return c.resourceChanged(roster.ActionResourceUpdated, &before, &out)
	})
	return out, err
}

// DeleteResource deletes a resource and its shares.
func (s *Service) DeleteResource(ctx context.Context, id string) error {
	return s.update(ctx, func(c *change) error {
		before, _, err := c.resourceWrite(id, roster.PermResourcesDelete)
		if err != nil {
			return err
		}
		after := before
		after.DeletedAt, after.UpdatedAt = &c.now, c.now
		if err := c.tx.UpdateResource(c.ctx, after); err != nil {
			return err
		}
		return c.resourceChanged(roster.ActionResourceDeleted, &before, nil)
	})
}

// ListShares lists a resource's shares and guests (for those who may share it).
func (s *Service) ListShares(ctx context.Context, id string) ([]roster.ResourceShare, error) {
	_, acc, err := resourceFor(ctx, s.store, s.cachedSource(), id, s.now())
	if err != nil {
		return nil, err
	}
	if !acc.Role.Can(roster.PermResourcesShare) {
		return nil, forbidden("seeing a resource's shares needs " + string(roster.PermResourcesShare))
	}
	return s.store.ListShares(ctx, id)
}

// PutShare shares a resource with another workspace (ws_…) or one guest
// user (usr_…), or changes the role of that share.
func (s *Service) PutShare(ctx context.Context, id, granteeID, role string) (roster.ResourceShare, bool, error) {
	r, err := roster.ParseShareRole(role)
	if err != nil {
		return roster.ResourceShare{}, false, err
	}
	var out roster.ResourceShare
	var created bool
	err = s.update(ctx, func(c *change) error {
		res, _, err := c.resourceWrite(id, roster.PermResourcesShare)
		if err != nil {
			return err
		}
		kind, err := c.grantee(res, granteeID)
		if err != nil {
			return err
		}
		out = roster.ResourceShare{ResourceID: res.ID, GranteeKind: kind, GranteeID: granteeID, Role: r, CreatedBy: actorID(c.actor), CreatedAt: c.now, UpdatedAt: c.now}
		var before *roster.ResourceShare
		if shares, err := c.tx.ListShares(c.ctx, res.ID); err != nil {
			return err
		} else {
			for _, sh := range shares {
				if sh.GranteeID == granteeID {
					before = &sh
					out.CreatedBy, out.CreatedAt = sh.CreatedBy, sh.CreatedAt
				}
			}
		}
		if created, err = c.tx.PutShare(c.ctx, out); err != nil {
			return err
		}
		if before != nil && before.Role == out.Role {
			out.UpdatedAt = before.UpdatedAt
			return nil // unchanged: no event
		}
		return c.auditIn(roster.ActionResourceShared, roster.TargetResource, res.ID, &res.OrgID, &res.WorkspaceID, shareAudit(before), shareAudit(&out))
	})
	return out, created, err
}

// grantee checks whom a share is to: a workspace the caller can see (not
// the owning one), or an existing user.
func (c *change) grantee(res roster.Resource, granteeID string) (roster.GranteeKind, error) {
	switch {
	case strings.HasPrefix(granteeID, roster.PrefixWorkspace):
		if granteeID == res.WorkspaceID {
			return "", roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "the workspace owns the resource already")
		}
		if _, _, err := workspaceFor(c.ctx, c.tx, granteeID, false, c.now, nil); err != nil {
			return "", err
		}
		return roster.GranteeWorkspace, nil
	case strings.HasPrefix(granteeID, roster.PrefixUser):
		if ok, err := isActiveUser(c.ctx, c.tx, granteeID); err != nil || !ok {
			if err == nil {
				err = errUserNotFound
			}
			return "", err
		}
		return roster.GranteeUser, nil
	}
	return "", roster.Errorf(roster.KindNotFound, roster.CodeShareNotFound, "a share is to a workspace (ws_…) or a user (usr_…)")
}

// DeleteShare removes a share or a guest.
func (s *Service) DeleteShare(ctx context.Context, id, granteeID string) error {
	return s.update(ctx, func(c *change) error {
		res, _, err := c.resourceWrite(id, roster.PermResourcesShare)
		if err != nil {
			return err
		}
		shares, err := c.tx.ListShares(c.ctx, res.ID)
		if err != nil {
			return err
		}
		for _, sh := range shares {
			if sh.GranteeID != granteeID {
				continue
			}
			if _, err := c.tx.DeleteShare(c.ctx, res.ID, granteeID); err != nil {
				return err
			}
			return c.auditIn(roster.ActionResourceUnshared, roster.TargetResource, res.ID, &res.OrgID, &res.WorkspaceID, shareAudit(&sh), nil)
		}
		return errShareNotFound
	})
}

func (c *change) resourceChanged(action string, before, after *roster.Resource) error {
	r := after
	if r == nil {
		r = before
	}
	return c.auditIn(action, roster.TargetResource, r.ID, &r.OrgID, &r.WorkspaceID, resourceAudit(before), resourceAudit(after))
}

func resourceAudit(r *roster.Resource) any {
	if r == nil {
		return nil
	}
	return map[string]any{"id": r.ID, "workspace_id": r.WorkspaceID, "org_id": r.OrgID, "type": r.Type, "external_id": r.ExternalID,
		"name": r.Name, "created_by": r.CreatedBy}
}

func shareAudit(s *roster.ResourceShare) any {
	if s == nil {
		return nil
	}
	out := map[string]any{"resource_id": s.ResourceID, "grantee_kind": s.GranteeKind, "grantee_id": s.GranteeID, "role": s.Role}
	if s.GranteeKind == roster.GranteeUser {
		out["user_id"] = s.GranteeID // the guest sees their grant on the stream
	}
	return out
}

// TransferResource moves a resource to another workspace: the caller owns
// the source and is admin or more in the target. The source's owners who do
// not reach the target become guest editors of the resource, so that no
// owner loses it.
func (s *Service) TransferResource(ctx context.Context, id, toWorkspaceID string) (roster.Resource, error) {
	var out roster.Resource
	err := s.update(ctx, func(c *change) error {
		res, _, err := c.resourceWrite(id, roster.PermResourcesRead)
		if err != nil {
			return err
		}
		if toWorkspaceID == res.WorkspaceID {
			return roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "the resource is in that workspace already").With("field", "to_workspace_id")
		}
		source, sa, err := c.workspace(res.WorkspaceID, false)
		if err == nil && !sa.can(roster.PermResourcesTransfer) {
			err = errOnlyOwner("transfer a resource out of the workspace")
		}
		if err != nil {
			return err
		}
		target, ta, err := c.workspace(toWorkspaceID, false)
		if err == nil && !ta.can(roster.PermMembersManage) {
			err = forbidden("transferring a resource here needs admin or more in this workspace")
		}
		if err != nil {
			return err
		}
		if err := c.keepSourceOwners(res, source, target); err != nil {
			return err
		}
		if _, err := c.tx.DeleteShare(c.ctx, res.ID, target.ID); err != nil { // it owns it now
			return err
		}
		out = res
		out.WorkspaceID, out.OrgID, out.UpdatedAt = target.ID, target.OrgID, c.now
		if err := c.tx.UpdateResource(c.ctx, out); err != nil {
			return err
		}
		return c.resourceChanged(roster.ActionResourceTransferred, &res, &out)
	})
	return out, err
}

// keepSourceOwners makes the source workspace's owners who do not reach
// the target guest editors of the resource.
func (c *change) keepSourceOwners(res roster.Resource, source, target roster.Workspace) error {
	owners, err := c.owners(source.OrgID, &source.ID)
	if err != nil {
		return err
	}
	for _, userID := range owners {
		ua, err := loadUserAccess(c.ctx, c.tx, userID)
		if err != nil {
			return err
		}
		if ua.in(target, c.now).Role != "" {
			continue
		}
		sh := roster.ResourceShare{ResourceID: res.ID, GranteeKind: roster.GranteeUser, GranteeID: userID, Role: roster.ShareEditor,
			CreatedBy: actorID(c.actor), CreatedAt: c.now, UpdatedAt: c.now}
		if _, err := c.tx.PutShare(c.ctx, sh); err != nil {
			return err
		}
		if err := c.auditIn(roster.ActionResourceShared, roster.TargetResource, res.ID, &res.OrgID, &res.WorkspaceID, nil, shareAudit(&sh)); err != nil {
			return err
		}
	}
	return nil
}

// ListUserResources lists every resource a user reaches: those of their
// workspaces, those shared with a workspace they reach, and their guest
// grants, whatever workspace is current (the user themself, platform
// admins and service tokens).
func (s *Service) ListUserResources(ctx context.Context, userID string, f roster.ResourceFilter, p roster.Page) ([]roster.ResourceView, string, error) {
	if reaches, err := s.reachingUser(ctx, userID); err != nil || !reaches {
		return nil, "", err
	}
	a := actor(ctx)
	var reached []string
	for page := (roster.Page{Limit: roster.MaxPageLimit}); ; {
		views, next, err := s.reachableWorkspaces(ctx, userID, roster.WorkspaceFilter{}, page)
		if err != nil {
			return nil, "", err
		}
		for _, v := range views {
			reached = append(reached, v.Workspace.ID)
		}
		if next == "" {
			break
		}
		if page, err = roster.ParsePage(roster.MaxPageLimit, next, roster.PrefixWorkspace); err != nil {
			return nil, "", err
		}
	}
	found, err := s.store.ListReachableResources(ctx, reached, append(reached, userID), f, p)
	if err != nil {
		return nil, "", err
	}
	found, next := roster.NextCursor(found, p.Limit, func(r roster.Resource) string { return r.ID })
	now := s.now()
	views := make([]roster.ResourceView, 0, len(found))
	for _, r := range found {
		acc, w, err := resourceAccess(ctx, s.cachedSource(), r, userID, now)
		if errors.Is(err, errWorkspaceNotFound) || errors.Is(err, errResourceNotFound) {
			continue // deleted since it was listed
		}
		if err != nil {
			return nil, "", err
		}
		if acc.Role != "" && w.ArchivedAt == nil && a.Reaches(r.WorkspaceID) {
			views = append(views, roster.ResourceView{Resource: r, Access: acc})
		}
	}
	return views, next, nil
}
