package service

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unique"

	"github.com/roster-dev/roster"
)

// userAccess is one user's memberships, as the check path keeps them:
// only what a decision reads, so that a replica holds a million memberships
// in a little memory.
type userAccess struct {
	orgs       []heldOrg  // sorted by organisation id
	workspaces []heldRole // sorted by workspace id
}

// heldOrg is a live organisation membership as decisions read it: the
// organisation (interned) and the role. A map of whole memberships cost a
// kilobyte a user, for most users' one organisation.
type heldOrg struct {
	orgID string
	role  roster.OrgRole
}

// heldRole is a workspace membership as a decision reads it. A replica
// keeps one for every membership of every user it has seen, so each is
// small: its workspace id is interned (every member of a workspace shares
// one copy) and its strings are the enum constants, not copies read from
// the database. A sorted slice costs half what a map of them did.
type heldRole struct {
	workspaceID string
	role        roster.WorkspaceRole
	source      roster.MembershipSource
	expiresAt   *time.Time
}

func holdRole(m roster.WorkspaceMembership) heldRole {
	return heldRole{workspaceID: unique.Make(m.WorkspaceID).Value(), role: canonical(m.Role, roster.WorkspaceRoles),
		source: canonical(m.Source, roster.MembershipSources), expiresAt: m.ExpiresAt}
}

// canonical returns the constant equal to v, so that a cached value shares
// its storage; a value outside the enum is kept as it is.
func canonical[T ~string](v T, all []T) T {
	for _, c := range all {
		if c == v {
			return c
		}
	}
	return v
}

// loadUserAccess reads a user's memberships as the caches keep them.
func loadUserAccess(ctx context.Context, r roster.Reader, userID string) (*userAccess, error) {
	orgs, err := r.ListUserOrgMemberships(ctx, userID)
	if err != nil {
		return nil, err
	}
	wss, err := r.ListUserWorkspaceMemberships(ctx, userID)
	if err != nil {
		return nil, err
	}
	ua := &userAccess{orgs: make([]heldOrg, 0, len(orgs)), workspaces: make([]heldRole, 0, len(wss))}
	for _, m := range orgs {
		ua.orgs = append(ua.orgs, heldOrg{orgID: unique.Make(m.OrgID).Value(), role: canonical(m.Role, roster.OrgRoles)})
	}
	slices.SortFunc(ua.orgs, func(a, b heldOrg) int { return strings.Compare(a.orgID, b.orgID) })
	for _, m := range wss {
		ua.workspaces = append(ua.workspaces, holdRole(m))
	}
	slices.SortFunc(ua.workspaces, func(a, b heldRole) int { return strings.Compare(a.workspaceID, b.workspaceID) })
	return ua, nil
}

// orgMembership returns the user's membership of the organisation (its
// organisation and role: what decisions read), or nil. It returns a
// pointer for the rules that take one; callers on the check path use
// orgRole, which allocates nothing.
func (ua *userAccess) orgMembership(orgID string) *roster.OrgMembership {
	role, ok := ua.orgRole(orgID)
	if !ok {
		return nil
	}
	return &roster.OrgMembership{OrgID: orgID, Role: role}
}

// orgRole returns the user's role in the organisation, if they are a member.
func (ua *userAccess) orgRole(orgID string) (roster.OrgRole, bool) {
	i, ok := slices.BinarySearchFunc(ua.orgs, orgID, func(h heldOrg, id string) int { return strings.Compare(h.orgID, id) })
	if !ok {
		return "", false
	}
	return ua.orgs[i].role, true
}

// held returns the user's direct membership of a workspace, if any.
func (ua *userAccess) held(wsID string) (heldRole, bool) {
	i, ok := slices.BinarySearchFunc(ua.workspaces, wsID, func(h heldRole, id string) int { return strings.Compare(h.workspaceID, id) })
	if !ok {
		return heldRole{}, false
	}
	return ua.workspaces[i], true
}

// in returns the user's effective access to workspace w at now.
func (ua *userAccess) in(w roster.Workspace, now time.Time) roster.Access {
	var direct *roster.WorkspaceMembership
	if h, ok := ua.held(w.ID); ok {
		direct = &roster.WorkspaceMembership{Role: h.role, Source: h.source, ExpiresAt: h.expiresAt}
	}
	var org *roster.OrgMembership
	if role, ok := ua.orgRole(w.OrgID); ok {
		m := roster.OrgMembership{OrgID: w.OrgID, Role: role}
		org = &m // on the stack: EffectiveAccess keeps no pointer
	}
	return roster.EffectiveAccess(direct, org, now)
}

func (s *Service) cachedAccess(ctx context.Context, userID string) (*userAccess, error) {
	return s.fills.access.get(ctx, s.auth, userID)
}

func (s *Service) cachedWorkspace(ctx context.Context, id string) (roster.Workspace, error) {
	if !roster.ValidID(roster.PrefixWorkspace, id) {
		return roster.Workspace{}, errWorkspaceNotFound
	}
	w, err := s.fills.workspaces.get(ctx, s.auth, id)
	if errors.Is(err, roster.ErrNotFound) {
		return w, errWorkspaceNotFound
	}
	return w, err
}

var (
	errUnknownAction = func(action string) error {
		return roster.Errorf(roster.KindInvalid, roster.CodeUnknownAction, "unknown action %q", action).With("action", action)
	}
	errCheckTarget = roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "name exactly one of workspace_id, org_id, resource_id and resource")
)

// Check decides a request from the in-memory index: once the user and the
// workspace are warm it reads no database. Expiry is evaluated against the
// clock at every decision.
func (s *Service) Check(ctx context.Context, req roster.CheckRequest) (roster.Decision, error) {
	if err := s.mayCheckFor(ctx, req.UserID); err != nil {
		return roster.Decision{}, err
	}
	return s.decide(ctx, req, s.now())
}

// CheckBatch decides up to MaxCheckBatch requests, answering in order.
func (s *Service) CheckBatch(ctx context.Context, reqs []roster.CheckRequest) ([]roster.Decision, error) {
	if len(reqs) > roster.MaxCheckBatch {
		return nil, roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "at most %d checks per batch", roster.MaxCheckBatch)
	}
	now := s.now()
	out := make([]roster.Decision, len(reqs))
	for i, req := range reqs {
		if err := s.mayCheckFor(ctx, req.UserID); err != nil {
			return nil, err
		}
		d, err := s.decide(ctx, req, now)
		if err != nil {
			var e *roster.Error
			if errors.As(err, &e) {
				return nil, e.With("index", i)
			}
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

// mayCheckFor lets users check for themselves, and services and admins for anyone.
func (s *Service) mayCheckFor(ctx context.Context, userID string) error {
	a := actor(ctx)
	if operator(a) || a.IsSelf(userID) {
		return nil
	}
	return forbidden("you may only check your own access")
}

func (s *Service) decide(ctx context.Context, req roster.CheckRequest, now time.Time) (roster.Decision, error) {
	targets := 0
	for _, named := range []bool{req.WorkspaceID != "", req.OrgID != "", req.ResourceID != "", req.Resource != nil} {
		if named {
			targets++
		}
	}
	if targets != 1 {
		return roster.Decision{}, errCheckTarget
	}
	if req.ResourceID != "" || req.Resource != nil {
		return s.decideResource(ctx, req, now)
	}
	if req.OrgID != "" {
		if actor(ctx).Confined() {
			return roster.Decision{}, errOrgNotFound
		}
		return s.decideOrg(ctx, req)
	}
	if !actor(ctx).Reaches(req.WorkspaceID) {
		return roster.Decision{}, errWorkspaceNotFound
	}
	min, ok := s.actionMinimum(req.Action)
	if !ok {
		return roster.Decision{}, errUnknownAction(req.Action)
	}
	w, err := s.cachedWorkspace(ctx, req.WorkspaceID)
	if err != nil {
		return roster.Decision{}, err
	}
	u, ua, err := s.subjectAccess(ctx, req.UserID)
	if err != nil {
		return roster.Decision{}, err
	}
	acc := ua.in(w, now)
	if !seesWorkspace(acc, ua.orgMembership(w.OrgID)) && !operator(actor(ctx)) {
		return roster.Decision{}, errWorkspaceNotFound
	}
	return decision(u, w, acc, min), nil
}

// decideResource decides on one resource: the user's role there is the
// highest of the owning workspace's, a share's and a guest grant.
func (s *Service) decideResource(ctx context.Context, req roster.CheckRequest, now time.Time) (roster.Decision, error) {
	min, ok := s.actionMinimum(req.Action)
	if !ok {
		return roster.Decision{}, errUnknownAction(req.Action)
	}
	e, err := s.checkedResource(ctx, req)
	if err != nil {
		return roster.Decision{}, err
	}
	u, ua, err := s.subjectAccess(ctx, req.UserID)
	if err != nil {
		return roster.Decision{}, err
	}
	acc, w, err := accessOn(ctx, s.cachedWorkspace, e.resource, e.shares, ua, req.UserID, now)
	if errors.Is(err, errWorkspaceNotFound) {
		return roster.Decision{}, errResourceNotFound
	}
	if err != nil {
		return roster.Decision{}, err
	}
	if acc.Role == "" && !operator(actor(ctx)) {
		return roster.Decision{}, errResourceNotFound
	}
	return decision(u, w, acc, min), nil
}

// checkedResource loads the resource a check names, by id or by the host
// application's (type, external_id), with its shares.
func (s *Service) checkedResource(ctx context.Context, req roster.CheckRequest) (*resourceEntry, error) {
	var e *resourceEntry
	var err error
	if req.Resource != nil {
		if err := roster.CheckResourceFields(req.Resource.Type, req.Resource.ExternalID, "-"); err != nil {
			return nil, err
		}
		e, err = s.cachedResourceByExternalID(ctx, req.Resource.Type, req.Resource.ExternalID)
	} else {
		e, err = s.cachedResource(ctx, req.ResourceID)
	}
	if err != nil {
		return nil, err
	}
	if !actor(ctx).Reaches(e.resource.WorkspaceID) {
		return nil, errResourceNotFound
	}
	return e, nil
}

// decision answers a check from the user, the workspace and the access.
func decision(u roster.User, w roster.Workspace, acc roster.Access, min roster.WorkspaceRole) roster.Decision {
	d := roster.Decision{Role: string(acc.Role), Via: acc.Via, ExpiresAt: acc.ExpiresAt}
	switch {
	case !u.Active():
		d.Reason = roster.ReasonUserInactive
	case w.ArchivedAt != nil:
		d.Reason = roster.ReasonWorkspaceArchived
	case acc.Role == "":
		d.Reason = roster.ReasonNoAccess
	case !acc.Role.AtLeast(min):
		d.Reason = roster.ReasonInsufficientRole
	default:
		d.Allowed = true
	}
	return d
}

func (s *Service) decideOrg(ctx context.Context, req roster.CheckRequest) (roster.Decision, error) {
	perm := roster.OrgPermission(req.Action)
	if !roster.IsOrgPermission(perm) {
		return roster.Decision{}, errUnknownAction(req.Action)
	}
	if !roster.ValidID(roster.PrefixOrg, req.OrgID) {
		return roster.Decision{}, errOrgNotFound
	}
	u, ua, err := s.subjectAccess(ctx, req.UserID)
	if err != nil {
		return roster.Decision{}, err
	}
	m := ua.orgMembership(req.OrgID)
	member := m != nil
	if !seesOrg(m) && !operator(actor(ctx)) {
		return roster.Decision{}, errOrgNotFound
	}
	d := roster.Decision{}
	if member {
		d.Role, d.Via = string(m.Role), roster.AccessDirect
	}
	switch {
	case !u.Active():
		d.Reason = roster.ReasonUserInactive
	case !member:
		d.Reason = roster.ReasonNoAccess
	case !m.Role.Can(perm):
		d.Reason = roster.ReasonInsufficientRole
	default:
		d.Allowed = true
	}
	return d, nil
}

func (s *Service) subjectAccess(ctx context.Context, userID string) (roster.User, *userAccess, error) {
	if !roster.ValidID(roster.PrefixUser, userID) {
		return roster.User{}, nil, errUserNotFound
	}
	u, err := s.cachedUser(ctx, userID)
	if errors.Is(err, roster.ErrNotFound) {
		return u, nil, errUserNotFound
	}
	if err != nil {
		return u, nil, err
	}
	ua, err := s.cachedAccess(ctx, userID)
	return u, ua, err
}

// actionMinimum resolves a workspace action: a built-in permission or one of
// the host application's own actions from configuration.
func (s *Service) actionMinimum(action string) (roster.WorkspaceRole, bool) {
	if r, ok := roster.MinimumRole(roster.Permission(action)); ok {
		return r, true
	}
	r, ok := s.actions[action]
	return r, ok
}
