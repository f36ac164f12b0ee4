package service

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/roster-dev/roster"
)

var errRequestNotFound = roster.Errorf(roster.KindNotFound, roster.CodeRequestNotFound, "no such access request")

// RequestAccess asks, as the caller, to join a workspace. One request per
// user and workspace is pending at a time: asking again returns it. A caller
// outside the workspace's organisation does not learn which it is: the
// request comes back without its OrgID.
func (s *Service) RequestAccess(ctx context.Context, wsID, message string) (roster.AccessRequest, bool, error) {
	if utf8.RuneCountInString(message) > roster.MaxRequestMessageLen {
		return roster.AccessRequest{}, false, roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "message must be at most %d characters", roster.MaxRequestMessageLen).With("field", "message")
	}
	me := actor(ctx).Subject()
	var out roster.AccessRequest
	var created, orgVisible bool
	err := s.update(ctx, func(c *change) error {
		if !roster.ValidID(roster.PrefixWorkspace, wsID) || !c.actor.Reaches(wsID) { // a support token asks nowhere else
			return errWorkspaceNotFound
		}
		w, err := c.tx.GetWorkspace(ctx, wsID)
		if errors.Is(err, roster.ErrNotFound) {
			return errWorkspaceNotFound
		}
		if err != nil {
			return err
		}
		if w.ArchivedAt != nil {
			return errWorkspaceArchived
		}
		direct, org, err := memberships(ctx, c.tx, w, me.ID)
		if err != nil {
			return err
		}
		orgVisible = seesOrg(org) || operator(c.actor)
		if isMember(direct, org, c.now) {
			return errAlreadyMember
		}
		if existing, err := c.tx.GetOpenAccessRequest(ctx, wsID, me.ID); err == nil {
			out = existing
			return nil
		} else if !errors.Is(err, roster.ErrNotFound) {
			return err
		}
		r := roster.AccessRequest{ID: roster.NewID(roster.PrefixAccessRequest), OrgID: w.OrgID, WorkspaceID: w.ID, UserID: me.ID,
			Message: message, Status: roster.RequestPending, CreatedAt: c.now}
		created, err = c.tx.CreateAccessRequest(ctx, r)
		if err != nil {
			return err
		}
		if !created {
			out, err = c.tx.GetOpenAccessRequest(ctx, wsID, me.ID)
			return err
		}
		out = r
		return c.auditRequest(roster.ActionRequestCreated, nil, &r)
	})
	if !orgVisible {
		out.OrgID = ""
	}
	return out, created, err
}

// ListAccessRequests lists a workspace's requests (pending by default) for its admins.
func (s *Service) ListAccessRequests(ctx context.Context, wsID string, status roster.AccessRequestStatus, p roster.Page) ([]roster.AccessRequest, string, error) {
	_, wa, err := workspaceFor(ctx, s.store, wsID, false, s.now(), nil)
	if err != nil {
		return nil, "", err
	}
	if !wa.can(roster.PermMembersManage) {
		return nil, "", errForbidden
	}
	rs, err := s.store.ListAccessRequests(ctx, wsID, status, p)
	if err != nil {
		return nil, "", err
	}
	rs, next := roster.NextCursor(rs, p.Limit, func(r roster.AccessRequest) string { return r.ID })
	return rs, next, nil
}

// DecideAccessRequest approves a pending request with a role (taking a seat
// within the cap) or denies it. The approver's authority is read now, inside
// the decision (rule 12).
func (s *Service) DecideAccessRequest(ctx context.Context, wsID, id string, approve bool, role string) (roster.AccessRequest, error) {
	var r roster.WorkspaceRole
	if approve {
		var err error
		if r, err = roster.ParseWorkspaceRole(role); err != nil {
			return roster.AccessRequest{}, err
		}
	}
	var out roster.AccessRequest
	err := s.update(ctx, func(c *change) error {
		w, wa, err := c.workspace(wsID, false)
		if err != nil {
			return err
		}
		if !wa.can(roster.PermMembersManage) {
			return errForbidden
		}
		if !roster.ValidID(roster.PrefixAccessRequest, id) {
			return errRequestNotFound
		}
		req, err := c.tx.GetAccessRequest(ctx, id)
		if errors.Is(err, roster.ErrNotFound) || (err == nil && req.WorkspaceID != wsID) {
			return errRequestNotFound
		}
		if err != nil {
			return err
		}
		if req.Status != roster.RequestPending {
			return roster.Errorf(roster.KindConflict, roster.CodeRequestNotPending, "the request was already %s", req.Status)
		}
		before := req
		req.DecidedBy, req.DecidedAt = actorID(c.actor), &c.now
		action := roster.ActionRequestDenied
		req.Status = roster.RequestDenied
		if approve {
			if err := wa.mayGrant(r); err != nil {
				return err
			}
			// The requester may have joined since asking; approving must not
			// change the role they were given (deny the request instead).
			direct, org, err := memberships(ctx, c.tx, w, req.UserID)
			if err != nil {
				return err
			}
			if isMember(direct, org, c.now) {
				return errAlreadyMember
			}
			c.requireCapacity(w.OrgID)
			if _, _, err := c.setWorkspaceMember(grant{workspace: w, userID: req.UserID, role: r, source: roster.SourceAccessRequest,
				invitedBy: actorID(c.actor)}); err != nil {
				return err
			}
			action, req.Status, req.Role = roster.ActionRequestApproved, roster.RequestApproved, &r
		}
		if err := c.tx.UpdateAccessRequest(ctx, req); err != nil {
			return err
		}
		out = req
		return c.auditRequest(action, &before, &req)
	})
	return out, err
}

func (c *change) auditRequest(action string, before, after *roster.AccessRequest) error {
	r := after
	if r == nil {
		r = before
	}
	return c.auditIn(action, roster.TargetAccessRequest, r.ID, &r.OrgID, &r.WorkspaceID, requestAudit(before), requestAudit(after))
}

func requestAudit(r *roster.AccessRequest) any {
	if r == nil {
		return nil
	}
	return map[string]any{"id": r.ID, "workspace_id": r.WorkspaceID, "user_id": r.UserID, "status": r.Status, "role": r.Role,
		"decided_by": r.DecidedBy, "decided_at": r.DecidedAt}
}
