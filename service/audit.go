package service

import (
	"context"
	"slices"
	"time"

	"github.com/roster-dev/roster"
)

// ListAudit reads the audit log, newest first: all of it for platform
// admins, one organisation's for its owners and admins (and services).
func (s *Service) ListAudit(ctx context.Context, f roster.AuditFilter, p roster.Page) ([]roster.AuditEvent, string, error) {
	if err := s.mayReadAudit(ctx, &f); err != nil {
		return nil, "", err
	}
	events, err := s.store.ListAudit(ctx, f, p)
	if err != nil {
		return nil, "", err
	}
	events, next := roster.NextCursor(events, p.Limit, func(e roster.AuditEvent) string { return e.ID })
	return events, next, nil
}

// mayReadAudit validates a filter and decides whether the caller may read
// what it selects: platform admins anything; anyone else must name an
// organisation they own or administer (another's is 404, as everywhere).
func (s *Service) mayReadAudit(ctx context.Context, f *roster.AuditFilter) error {
	if err := checkAuditFilter(*f); err != nil {
		return err
	}
	a := actor(ctx)
	if a.IsPlatformAdmin() {
		return nil
	}
	if f.OrgID == "" {
		return forbidden("only platform admins read the whole audit log; an organisation's owners and admins name it in org_id")
	}
	_, oa, err := orgFor(ctx, s.store, f.OrgID, nil)
	if err != nil {
		return err
	}
	if !oa.can(roster.OrgPermAudit) {
		return forbidden("only the organisation's owners and admins read its audit log")
	}
	return nil
}

// checkAuditFilter refuses ids that cannot be ids and a range that is empty
// by construction.
func checkAuditFilter(f roster.AuditFilter) error {
	for _, id := range []struct{ field, prefix, value string }{
		{"org_id", roster.PrefixOrg, f.OrgID}, {"workspace_id", roster.PrefixWorkspace, f.WorkspaceID}, {"actor_id", roster.PrefixUser, f.ActorID},
	} {
		if id.value != "" && !roster.ValidID(id.prefix, id.value) {
			return roster.Errorf(roster.KindInvalid, roster.CodeInvalidID, "%s is not a valid id", id.field).With("field", id.field)
		}
	}
	for _, bound := range []struct {
		field string
		t     *time.Time
	}{{"since", f.Since}, {"until", f.Until}} {
		if bound.t != nil && !roster.TimeInRange(*bound.t) {
			return roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "%s must fall in the years 1 to 9999", bound.field).With("field", bound.field)
		}
	}
	if f.Since != nil && f.Until != nil && f.Since.After(*f.Until) {
		return roster.Errorf(roster.KindInvalid, roster.CodeInvalidRange, "since must not be after until").With("field", "since")
	}
	return nil
}

// Me returns the caller with a summary of their memberships.
func (s *Service) Me(ctx context.Context) (roster.Me, error) {
	a := actor(ctx)
	u := a.Subject()
	me := roster.Me{User: u, Token: a.Token, OnBehalfOf: a.Delegated()}
	ua, err := s.cachedAccess(ctx, u.ID)
	if err != nil {
		return me, err
	}
	views, _, err := s.reachableWorkspaces(ctx, u.ID, roster.WorkspaceFilter{}, roster.Page{Limit: roster.MaxPageLimit})
	if err != nil {
		return me, err
	}
	byOrg := map[string]*roster.MyOrg{}
	var order []string
	group := func(orgID string) *roster.MyOrg {
		if g, ok := byOrg[orgID]; ok {
			return g
		}
		g := &roster.MyOrg{OrgID: orgID}
		if m := ua.orgMembership(orgID); m != nil {
			g.Role = m.Role
		}
		byOrg[orgID] = g
		order = append(order, orgID)
		return g
	}
	for _, m := range ua.orgs {
		if !a.Confined() { // a support token's caller is shown only its workspace
			group(m.orgID)
		}
	}
	for _, v := range views {
		g := group(v.Workspace.OrgID)
		g.Workspaces = append(g.Workspaces, v)
		if u.DefaultWorkspaceID != nil && *u.DefaultWorkspaceID == v.Workspace.ID {
			me.CurrentWorkspace = &v
		}
	}
	slices.Sort(order)
	for _, id := range order {
		me.Orgs = append(me.Orgs, *byOrg[id])
	}
	return me, nil
}
