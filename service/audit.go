package service

import (
	"context"
	"slices"
	"time"

	"github.com/roster-dev/roster"
)

// ListAudit reads the audit log, newest first (platform admins only).
func (s *Service) ListAudit(ctx context.Context, f roster.AuditFilter, p roster.Page) ([]roster.AuditEvent, string, error) {
	if !actor(ctx).IsPlatformAdmin() {
		return nil, "", errForbidden
	}
	for _, bound := range []struct {
		field string
		t     *time.Time
	}{{"since", f.Since}, {"until", f.Until}} {
		if bound.t != nil && !roster.TimeInRange(*bound.t) {
			return nil, "", roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "%s must fall in the years 1 to 9999", bound.field).With("field", bound.field)
		}
	}
	events, err := s.store.ListAudit(ctx, f, p)
	if err != nil {
		return nil, "", err
	}
	events, next := roster.NextCursor(events, p.Limit, func(e roster.AuditEvent) string { return e.ID })
	return events, next, nil
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
		g := &roster.MyOrg{OrgID: orgID, Role: ua.orgs[orgID].Role}
		byOrg[orgID] = g
		order = append(order, orgID)
		return g
	}
	for _, m := range ua.orgs {
		if !a.Confined() { // a support token's caller is shown only its workspace
			group(m.OrgID)
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
