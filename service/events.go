package service

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"

	"github.com/roster-dev/roster"
)

// Every audit event is an event: the stream and webhooks carry it under
// its public shape (DOMAIN §7). This file decides that shape, whom an event
// is about, whom it asks the host application to tell, and who may see it.

// subjectOf returns the user a change is about: the user changed, or the
// user of the membership, request or invitation changed.
func subjectOf(targetType, targetID string, before, after any) *string {
	if targetType == roster.TargetUser {
		return &targetID
	}
	for _, v := range []any{after, before} {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		for _, key := range []string{"user_id", "accepted_by"} {
			switch id := m[key].(type) {
			case string:
				if id != "" {
					return &id
				}
			case *string:
				if id != nil {
					return id
				}
			}
		}
	}
	return nil
}

// notifyOwners lists the events that call for the owners' attention, by
// the organisation (and workspace) whose owners are meant.
var notifyOwners = map[string]bool{
	roster.ActionRequestCreated: true, // someone asks to join
	roster.ActionSupportStarted: true, // the vendor's staff stepped in
	roster.ActionSupportEnded:   true, // and out
}

// addNotify names, on the events that call for someone's attention, the
// users the host application should tell: all owners, never one of them,
// never support staff.
func (c *change) addNotify() error {
	for i := range c.audits {
		e := &c.audits[i]
		var ids []string
		var err error
		switch {
		case notifyOwners[e.Action] && e.OrgID != nil:
			ids, err = c.owners(*e.OrgID, e.WorkspaceID)
		case e.Action == roster.ActionInvitationAccepted && e.OrgID != nil:
			ids, err = c.inviterOrOwners(e)
		case e.Action == roster.ActionSeatsChanged && e.OrgID != nil:
			ids, err = c.ownersIfCapReached(*e.OrgID)
		}
		if err != nil {
			return err
		}
		e.Notify = ids
	}
	return nil
}

// owners returns the live owners of an organisation and, when wsID is set,
// the workspace's own live owners too, sorted, each once.
func (c *change) owners(orgID string, wsID *string) ([]string, error) {
	set := map[string]bool{}
	orgOwners, err := c.tx.ListOrgOwners(c.ctx, orgID)
	if err != nil {
		return nil, err
	}
	for _, m := range orgOwners {
		set[m.UserID] = true
	}
	if wsID != nil {
		wsOwners, err := c.tx.ListWorkspaceOwners(c.ctx, *wsID)
		if err != nil {
			return nil, err
		}
		for _, m := range wsOwners {
			if m.LiveOwner(c.now) {
				set[m.UserID] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set)), nil
}

// inviterOrOwners tells whoever invited someone that they accepted; the
// owners when the host application invited them.
func (c *change) inviterOrOwners(e *roster.AuditEvent) ([]string, error) {
	var inv struct {
		InvitedBy *string `json:"invited_by"`
	}
	if err := json.Unmarshal(e.After, &inv); err != nil {
		return nil, err
	}
	if inv.InvitedBy != nil && e.WorkspaceID != nil {
		inside, err := c.onlyAsSupport(*e.WorkspaceID, *inv.InvitedBy)
		if err != nil || !inside {
			return []string{*inv.InvitedBy}, err
		}
	}
	return c.owners(*e.OrgID, e.WorkspaceID) // the host application or support staff invited them
}

// onlyAsSupport reports whether a user reaches a workspace only through a
// support session (or reached it so, and no longer does): support staff
// are never named in notify, even as the inviter.
func (c *change) onlyAsSupport(wsID, userID string) (bool, error) {
	m, err := c.tx.GetWorkspaceMembership(c.ctx, wsID, userID)
	switch {
	case err == nil:
		return m.Source == roster.SourceStaffSupport, nil
	case !errors.Is(err, roster.ErrNotFound):
		return false, err
	}
	sessions, err := c.tx.ListSupportSessions(c.ctx, roster.SupportFilter{WorkspaceID: wsID, UserID: userID}, roster.Page{Limit: 1})
	if err != nil || len(sessions) == 0 {
		return false, err
	}
	w, err := c.tx.GetWorkspace(c.ctx, wsID)
	if err != nil {
		return false, err
	}
	own, err := c.realAccess(w, userID)
	return own.Role == "", err
}

// ownersIfCapReached tells the owners when the organisation's seats reach
// its cap.
func (c *change) ownersIfCapReached(orgID string) ([]string, error) {
	org, err := c.tx.GetOrg(c.ctx, orgID)
	if errors.Is(err, roster.ErrNotFound) {
		return nil, nil
	}
	if err != nil || org.Plan.SeatCap == nil {
		return nil, err
	}
	counts, pending, err := c.tx.CountSeatsAndPending(c.ctx, orgID, paidRoles(org.Plan), c.now)
	if err != nil || counts.Used(org.Plan)+pending < *org.Plan.SeatCap {
		return nil, err
	}
	return c.owners(orgID, nil)
}

// toEvent gives an audit event its public shape. data is the object after
// the change (before it, when deleted), with what changed on an update,
// whom it is about, and whom to tell.
func toEvent(a roster.AuditEvent) (roster.Event, error) {
	e := roster.Event{ID: a.ID, Type: a.Action, CreatedAt: a.At, OrgID: a.OrgID, WorkspaceID: a.WorkspaceID,
		ActorID: a.ActorUserID, Cursor: a.Cursor}
	if a.OnBehalfOf != nil {
		e.ActorID = a.OnBehalfOf
	}
	var before, after map[string]any
	if err := unmarshalObject(a.Before, &before); err != nil {
		return e, err
	}
	if err := unmarshalObject(a.After, &after); err != nil {
		return e, err
	}
	data := after
	if data == nil {
		data = before
	}
	if data == nil {
		data = map[string]any{}
	}
	if before != nil && after != nil {
		changes := map[string]any{}
		for k, v := range after {
			if old, ok := before[k]; !ok || !reflect.DeepEqual(old, v) {
				changes[k] = map[string]any{"from": before[k], "to": v}
			}
		}
		data["changes"] = changes
	}
	if a.UserID != nil {
		data["user_id"] = *a.UserID
	}
	if len(a.Notify) > 0 {
		data["notify"] = a.Notify
	}
	raw, err := json.Marshal(data)
	e.Data = raw
	return e, err
}

// unmarshalObject decodes a JSON object; a non-object (or nothing) leaves
// m nil.
func unmarshalObject(raw json.RawMessage, m *map[string]any) error {
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	return json.Unmarshal(raw, m)
}

// mayWatch reports whether the caller may see an event on the stream:
// operators see all; anyone else the events of organisations they own or
// administer, of workspaces where their effective role is admin or more,
// and those about themselves.
func (s *Service) mayWatch(ctx context.Context, a roster.Actor, e roster.AuditEvent) (bool, error) {
	if operator(a) {
		return true, nil
	}
	if a.Confined() { // a support token sees its workspace's events, as its role there allows
		if e.WorkspaceID == nil || !a.Reaches(*e.WorkspaceID) {
			return false, nil
		}
	}
	me := a.Subject().ID
	if e.UserID != nil && *e.UserID == me {
		return true, nil
	}
	if e.OrgID == nil {
		return false, nil
	}
	ua, err := s.cachedAccess(ctx, me)
	if err != nil {
		return false, err
	}
	if m := ua.orgMembership(*e.OrgID); m != nil && m.Role.Can(roster.OrgPermEvents) {
		return true, nil
	}
	if e.WorkspaceID == nil {
		return false, nil
	}
	w := roster.Workspace{ID: *e.WorkspaceID, OrgID: *e.OrgID}
	return ua.in(w, s.now()).Role.Can(roster.PermEventsRead), nil
}
