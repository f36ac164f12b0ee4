package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/roster-dev/roster"
)

// Staff support access (DOMAIN §5). A session is three rows kept in step:
// the support_sessions row (its history and reason), a staff_support
// membership that grants the configured role until the expiry, and a
// support token confined to the workspace with the same expiry. Every end
// of a session, whatever its cause, goes through endSupportSession.

var (
	errNotStaff       = roster.Errorf(roster.KindForbidden, roster.CodeNotStaff, "only the vendor's staff (platform role admin or support), in person, may do this")
	errSupportOff     = roster.Errorf(roster.KindForbidden, roster.CodeSupportDisabled, "the workspace has not allowed support access")
	errSessionClashed = errors.New("support session: a concurrent join held the organisation lock")
)

// supportEnd is the payload of a TaskSupportEnd.
type supportEnd struct {
	SessionID   string    `json:"session_id"`
	WorkspaceID string    `json:"workspace_id"`
	UserID      string    `json:"user_id"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// mayHoldSupport is who may see or end a session in wsID: staff in person,
// and the session's own support token.
func mayHoldSupport(a roster.Actor, wsID string) bool {
	return a.IsStaff() || (a.Confined() && a.Reaches(wsID))
}

// JoinSupport starts the caller's support session in a workspace, or
// extends the one they have.
func (s *Service) JoinSupport(ctx context.Context, wsID string, in roster.SupportRequest) (roster.SupportJoin, error) {
	a := actor(ctx)
	if !a.IsStaff() {
		return roster.SupportJoin{}, refuseNonStaff(a, wsID)
	}
	if err := roster.CheckSupportReason(in.Reason); err != nil {
		return roster.SupportJoin{}, err
	}
	duration, err := roster.SupportDuration(in.Duration)
	if err != nil {
		return roster.SupportJoin{}, err
	}
	var out roster.SupportJoin
	err = s.update(ctx, func(c *change) error {
		w, err := c.supportWorkspace(wsID)
		if err != nil {
			return err
		}
		if !w.AllowSupportAccess {
			return errSupportOff
		}
		own, err := c.realAccess(w, a.User.ID)
		if err != nil {
			return err
		}
		if own.Role != "" {
			out = roster.SupportJoin{Status: roster.SupportAlreadyMember}
			return nil
		}
		open, err := c.tx.GetOpenSupportSession(c.ctx, w.ID, a.User.ID)
		switch {
		case err == nil && open.Active(c.now):
			out, err = c.extendSupport(open, in.Reason, duration)
			return err
		case err == nil: // expired, and its task has not run yet
			if err := c.endSupportSession(open, roster.SupportExpired); err != nil {
				return err
			}
		case !errors.Is(err, roster.ErrNotFound):
			return err
		}
		out, err = c.startSupport(w, in.Reason, duration, s.supportRole)
		return err
	})
	return out, err
}

// supportWorkspace locks a workspace's organisation for a staff member's
// session and returns the workspace. Staff reach every workspace that
// exists; its owners' consent is checked by the caller.
func (c *change) supportWorkspace(wsID string) (roster.Workspace, error) {
	if !roster.ValidID(roster.PrefixWorkspace, wsID) {
		return roster.Workspace{}, errWorkspaceNotFound
	}
	if err := c.lockWorkspaceOrg(wsID); errors.Is(err, roster.ErrNotFound) {
		return roster.Workspace{}, errWorkspaceNotFound
	} else if err != nil {
		return roster.Workspace{}, err
	}
	w, err := c.tx.GetWorkspace(c.ctx, wsID)
	if errors.Is(err, roster.ErrNotFound) {
		return w, errWorkspaceNotFound
	}
	if err == nil && w.ArchivedAt != nil {
		return w, errWorkspaceArchived
	}
	return w, err
}

// realAccess is a user's access to a workspace apart from any support
// session: a membership of their own or a role derived from the
// organisation.
func (c *change) realAccess(w roster.Workspace, userID string) (roster.Access, error) {
	direct, org, err := memberships(c.ctx, c.tx, w, userID)
	if err != nil {
		return roster.Access{}, err
	}
	if direct != nil && direct.Source == roster.SourceStaffSupport {
		direct = nil
	}
	return roster.EffectiveAccess(direct, org, c.now), nil
}

// startSupport grants a new session: its membership, its token and its end task.
func (c *change) startSupport(w roster.Workspace, reason string, d time.Duration, role roster.WorkspaceRole) (roster.SupportJoin, error) {
	userID := c.actor.User.ID
	expires := c.now.Add(d)
	if err := c.clearMembershipFor(w.ID, userID); err != nil {
		return roster.SupportJoin{}, err
	}
	m := roster.WorkspaceMembership{ID: roster.NewID(roster.PrefixMembership), WorkspaceID: w.ID, OrgID: w.OrgID, UserID: userID,
		Role: role, Source: roster.SourceStaffSupport, JoinedAt: c.now, ExpiresAt: &expires, UpdatedAt: c.now}
	if created, err := c.tx.CreateWorkspaceMembership(c.ctx, m); err != nil {
		return roster.SupportJoin{}, err
	} else if !created {
		return roster.SupportJoin{}, errSessionClashed
	}
	ss := roster.SupportSession{ID: roster.NewID(roster.PrefixSupportSession), WorkspaceID: w.ID, OrgID: w.OrgID, UserID: userID,
		Role: role, Reason: reason, MembershipID: m.ID, StartedAt: c.now, ExpiresAt: expires, UpdatedAt: c.now}
	plain, err := c.issueSupportToken(&ss)
	if err != nil {
		return roster.SupportJoin{}, err
	}
	if created, err := c.tx.CreateSupportSession(c.ctx, ss); err != nil {
		return roster.SupportJoin{}, err
	} else if !created {
		return roster.SupportJoin{}, errSessionClashed
	}
	if err := c.supportChanged(roster.ActionSupportStarted, nil, &ss); err != nil {
		return roster.SupportJoin{}, err
	}
	return roster.SupportJoin{Status: roster.SupportGranted, Session: &ss, Token: plain}, nil
}

// clearMembershipFor ends what stands in the way of a session's
// membership: a real membership that has expired, whose end task has not
// run yet, or a support membership left without its session.
func (c *change) clearMembershipFor(wsID, userID string) error {
	m, err := c.tx.GetWorkspaceMembership(c.ctx, wsID, userID)
	switch {
	case errors.Is(err, roster.ErrNotFound):
		return nil
	case err != nil:
		return err
	case m.Source == roster.SourceStaffSupport:
		return c.dropSupportMembership(m)
	}
	return c.endWorkspaceMemberAs(m, roster.ActionMemberExpired)
}

// extendSupport gives an active session a new expiry, a fresh token (the
// older one stops working) and a new end task (the older one is cancelled,
// and would do nothing if it ran: rule 10).
func (c *change) extendSupport(ss roster.SupportSession, reason string, d time.Duration) (roster.SupportJoin, error) {
	before := ss
	ss.ExpiresAt, ss.Reason, ss.UpdatedAt = c.now.Add(d), reason, c.now
	m, err := c.tx.GetWorkspaceMembership(c.ctx, ss.WorkspaceID, ss.UserID)
	if err != nil {
		return roster.SupportJoin{}, fmt.Errorf("support session %s: its membership: %w", ss.ID, err)
	}
	m.ExpiresAt, m.UpdatedAt = &ss.ExpiresAt, c.now
	if err := c.tx.UpdateWorkspaceMembership(c.ctx, m); err != nil {
		return roster.SupportJoin{}, err
	}
	if err := c.revokeQuietly(before.TokenID); err != nil {
		return roster.SupportJoin{}, err
	}
	if err := c.cancelQuietly(before.EndTaskID); err != nil {
		return roster.SupportJoin{}, err
	}
	plain, err := c.issueSupportToken(&ss)
	if err != nil {
		return roster.SupportJoin{}, err
	}
	if err := c.tx.UpdateSupportSession(c.ctx, ss); err != nil {
		return roster.SupportJoin{}, err
	}
	if err := c.supportChanged(roster.ActionSupportExtended, &before, &ss); err != nil {
		return roster.SupportJoin{}, err
	}
	return roster.SupportJoin{Status: roster.SupportExtended, Session: &ss, Token: plain}, nil
}

// issueSupportToken mints the session's token, confined to its workspace and
// expiring with it, and schedules the task that ends the session.
func (c *change) issueSupportToken(ss *roster.SupportSession) (string, error) {
	tok, plain := roster.NewToken(ss.UserID, roster.TokenSupport, "support session "+ss.ID, &ss.ExpiresAt, c.now)
	tok.WorkspaceID = &ss.WorkspaceID
	if err := c.tx.CreateToken(c.ctx, tok); err != nil {
		return "", err
	}
	raw, err := json.Marshal(supportEnd{SessionID: ss.ID, WorkspaceID: ss.WorkspaceID, UserID: ss.UserID, ExpiresAt: ss.ExpiresAt})
	if err != nil {
		return "", err
	}
	taskID, err := c.tx.ScheduleTask(c.ctx, roster.NewTask{Type: roster.TaskSupportEnd, RunAt: ss.ExpiresAt, Payload: raw})
	if err != nil {
		return "", err
	}
	ss.TokenID, ss.EndTaskID = tok.ID, taskID
	return plain, nil
}

// endSupportSession ends a session for a reason: its membership, its token
// and its end task go with it, in the same transaction.
func (c *change) endSupportSession(ss roster.SupportSession, reason roster.SupportEndReason) error {
	before := ss
	m, err := c.tx.GetWorkspaceMembership(c.ctx, ss.WorkspaceID, ss.UserID)
	switch {
	case err == nil && m.ID == ss.MembershipID && m.Source == roster.SourceStaffSupport:
		m.DeletedAt, m.UpdatedAt = &c.now, c.now
		if err := c.tx.UpdateWorkspaceMembership(c.ctx, m); err != nil {
			return err
		}
	case err != nil && !errors.Is(err, roster.ErrNotFound):
		return err
	}
	if err := c.revokeQuietly(ss.TokenID); err != nil {
		return err
	}
	if err := c.cancelQuietly(ss.EndTaskID); err != nil {
		return err
	}
	ss.EndedAt, ss.EndReason, ss.UpdatedAt = &c.now, reason, c.now
	if err := c.tx.UpdateSupportSession(c.ctx, ss); err != nil {
		return err
	}
	return c.supportChanged(roster.ActionSupportEnded, &before, &ss)
}

// endSupportOf ends the session a staff_support membership belongs to.
func (c *change) endSupportOf(m roster.WorkspaceMembership, reason roster.SupportEndReason) error {
	ss, err := c.tx.GetOpenSupportSession(c.ctx, m.WorkspaceID, m.UserID)
	switch {
	case err == nil && ss.MembershipID == m.ID:
		return c.endSupportSession(ss, reason)
	case err != nil && !errors.Is(err, roster.ErrNotFound):
		return err
	}
	return c.dropSupportMembership(m)
}

// dropSupportMembership soft-deletes a support membership that no open
// session accounts for.
func (c *change) dropSupportMembership(m roster.WorkspaceMembership) error {
	m.DeletedAt, m.UpdatedAt = &c.now, c.now
	return c.tx.UpdateWorkspaceMembership(c.ctx, m)
}

// endSupportSessions ends every open session f selects, for reason. The
// caller holds the lock of the organisations concerned, or takes them here
// (lockOrgs) when the sessions may span several.
func (c *change) endSupportSessions(f roster.SupportFilter, reason roster.SupportEndReason, lockOrgs bool) error {
	f.Open = true
	var all []roster.SupportSession
	for p := (roster.Page{Limit: 500}); ; {
		page, err := c.tx.ListSupportSessions(c.ctx, f, p)
		if err != nil {
			return err
		}
		all = append(all, page[:min(len(page), p.Limit)]...)
		if len(page) <= p.Limit {
			break
		}
		p.After = page[p.Limit-1].ID
	}
	if lockOrgs { // in one order, so that two such changes cannot deadlock
		slices.SortFunc(all, func(a, b roster.SupportSession) int { return cmpString(a.OrgID, b.OrgID) })
	}
	for _, ss := range all {
		if lockOrgs {
			if _, err := c.lockOrg(ss.OrgID); err != nil && !errors.Is(err, roster.ErrNotFound) {
				return err
			}
		}
		if err := c.endSupportSession(ss, reason); err != nil {
			return err
		}
	}
	return nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// revokeQuietly revokes a token that may already be revoked.
func (c *change) revokeQuietly(tokenID string) error {
	if tokenID == "" {
		return nil
	}
	_, err := c.tx.RevokeToken(c.ctx, tokenID, c.now)
	if errors.Is(err, roster.ErrNotFound) {
		return nil
	}
	return err
}

// cancelQuietly cancels a task that may have run or be running; a task
// that is not scheduled any more finds nothing to do (rule 10).
func (c *change) cancelQuietly(taskID string) error {
	if taskID == "" {
		return nil
	}
	_, err := c.tx.CancelTask(c.ctx, taskID)
	if errors.Is(err, roster.ErrNotFound) || roster.ErrorCode(err) == roster.CodeTaskNotCancellable || roster.ErrorCode(err) == roster.CodeTaskNotFound {
		return nil
	}
	return err
}

// supportChanged records a session's change as its audit event: the staff
// user, the workspace, the reason given and the expiry.
func (c *change) supportChanged(action string, before, after *roster.SupportSession) error {
	ss := after
	if ss == nil {
		ss = before
	}
	return c.auditIn(action, roster.TargetSupportSession, ss.ID, &ss.OrgID, &ss.WorkspaceID, supportAudit(before), supportAudit(after))
}

func supportAudit(ss *roster.SupportSession) any {
	if ss == nil {
		return nil
	}
	out := map[string]any{"id": ss.ID, "workspace_id": ss.WorkspaceID, "org_id": ss.OrgID, "user_id": ss.UserID,
		"role": ss.Role, "reason": ss.Reason, "started_at": ss.StartedAt, "expires_at": ss.ExpiresAt,
		"membership_id": ss.MembershipID, "token_id": ss.TokenID}
	if ss.EndedAt != nil {
		out["ended_at"], out["end_reason"] = ss.EndedAt, ss.EndReason
	}
	return out
}

// MySupportSession returns the caller's active session in a workspace.
func (s *Service) MySupportSession(ctx context.Context, wsID string) (*roster.SupportSession, error) {
	a := actor(ctx)
	if !mayHoldSupport(a, wsID) {
		return nil, refuseNonStaff(a, wsID)
	}
	if _, err := s.existingWorkspace(ctx, wsID); err != nil {
		return nil, err
	}
	ss, err := s.store.GetOpenSupportSession(ctx, wsID, a.User.ID)
	switch {
	case errors.Is(err, roster.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case !ss.Active(s.now()):
		return nil, nil
	}
	return &ss, nil
}

// refuseNonStaff is the refusal of a support call in wsID: a support token
// outside its workspace finds nothing there; anyone else is not staff.
func refuseNonStaff(a roster.Actor, wsID string) error {
	if !a.Reaches(wsID) {
		return errWorkspaceNotFound
	}
	return errNotStaff
}

// existingWorkspace returns a workspace that exists (archived or not).
func (s *Service) existingWorkspace(ctx context.Context, wsID string) (roster.Workspace, error) {
	if !roster.ValidID(roster.PrefixWorkspace, wsID) {
		return roster.Workspace{}, errWorkspaceNotFound
	}
	w, err := s.store.GetWorkspace(ctx, wsID)
	if errors.Is(err, roster.ErrNotFound) {
		return w, errWorkspaceNotFound
	}
	return w, err
}

// LeaveSupport ends the caller's active session in a workspace, if any.
func (s *Service) LeaveSupport(ctx context.Context, wsID string) (bool, error) {
	a := actor(ctx)
	if !mayHoldSupport(a, wsID) {
		return false, refuseNonStaff(a, wsID)
	}
	ended := false
	err := s.update(ctx, func(c *change) error {
		if !roster.ValidID(roster.PrefixWorkspace, wsID) {
			return errWorkspaceNotFound
		}
		if err := c.lockWorkspaceOrg(wsID); errors.Is(err, roster.ErrNotFound) {
			return errWorkspaceNotFound
		} else if err != nil {
			return err
		}
		ss, err := c.tx.GetOpenSupportSession(c.ctx, wsID, a.User.ID)
		switch {
		case errors.Is(err, roster.ErrNotFound):
			return nil
		case err != nil:
			return err
		case !ss.Active(c.now):
			return nil // expired: its task (or the sweep) records that
		}
		ended = true
		return c.endSupportSession(ss, roster.SupportLeft)
	})
	return ended, err
}

// ListSupportSessions lists active sessions: every one for platform admins,
// their own for support staff.
func (s *Service) ListSupportSessions(ctx context.Context, f roster.SupportFilter, p roster.Page) ([]roster.SupportSession, string, error) {
	a := actor(ctx)
	if !a.IsStaff() {
		return nil, "", errNotStaff
	}
	if f.WorkspaceID != "" && !roster.ValidID(roster.PrefixWorkspace, f.WorkspaceID) {
		return nil, "", roster.Errorf(roster.KindInvalid, roster.CodeInvalidID, "workspace_id is not a workspace id").With("field", "workspace_id")
	}
	if f.UserID != "" && !roster.ValidID(roster.PrefixUser, f.UserID) {
		return nil, "", roster.Errorf(roster.KindInvalid, roster.CodeInvalidID, "user_id is not a user id").With("field", "user_id")
	}
	if !a.IsPlatformAdmin() {
		if f.UserID != "" && f.UserID != a.User.ID {
			return nil, "", forbidden("support staff see only their own sessions")
		}
		f.UserID = a.User.ID
	}
	f = roster.SupportFilter{WorkspaceID: f.WorkspaceID, UserID: f.UserID, ActiveAt: s.now()}
	return s.supportPage(ctx, f, p)
}

// ListWorkspaceSupportSessions is the customer's view: who from the vendor
// is or was inside, why, and until when.
func (s *Service) ListWorkspaceSupportSessions(ctx context.Context, wsID string, p roster.Page) ([]roster.SupportSession, string, error) {
	if !actor(ctx).Reaches(wsID) {
		return nil, "", errWorkspaceNotFound
	}
	_, wa, err := workspaceFor(ctx, s.store, wsID, true, s.now(), nil)
	if err != nil {
		return nil, "", err
	}
	if !wa.can(roster.PermMembersManage) && !actor(ctx).IsStaff() {
		return nil, "", forbidden("only the workspace's owners and admins see its support sessions")
	}
	f := roster.SupportFilter{WorkspaceID: wsID, NotEndedBefore: s.now().Add(-roster.SupportHistory)}
	return s.supportPage(ctx, f, p)
}

func (s *Service) supportPage(ctx context.Context, f roster.SupportFilter, p roster.Page) ([]roster.SupportSession, string, error) {
	all, err := s.store.ListSupportSessions(ctx, f, p)
	if err != nil {
		return nil, "", err
	}
	page, next := roster.NextCursor(all, p.Limit, func(ss roster.SupportSession) string { return ss.ID })
	return page, next, nil
}

// endSupportOnTime ends the session its task was made for, if it is still
// that session, open, with that expiry, and past it (rule 10).
func (s *Service) endSupportOnTime(ctx context.Context, p supportEnd) error {
	return s.update(ctx, func(c *change) error {
		if err := c.lockWorkspaceOrg(p.WorkspaceID); err != nil {
			if errors.Is(err, roster.ErrNotFound) {
				return nil
			}
			return err
		}
		ss, err := c.tx.GetSupportSession(c.ctx, p.SessionID)
		switch {
		case errors.Is(err, roster.ErrNotFound):
			return nil
		case err != nil:
			return err
		case ss.EndedAt != nil, !ss.ExpiresAt.Equal(p.ExpiresAt):
			return nil // ended, or extended since: not this task's to end
		case c.now.Before(ss.ExpiresAt): // retried by hand before its time
			return c.schedule(roster.TaskSupportEnd, ss.ExpiresAt, p)
		}
		return c.endSupportSession(ss, roster.SupportExpired)
	})
}

// sweepSupport ends every session past its expiry that is still open: one
// whose task was lost, failed or is late. It returns how many it ended.
func (s *Service) sweepSupport(ctx context.Context) (int, error) {
	ended, seen := 0, map[string]bool{}
	for {
		due, err := s.store.ListSupportSessions(ctx, roster.SupportFilter{ExpiredAt: s.now()}, roster.Page{Limit: sweepBatch})
		if err != nil {
			return ended, err
		}
		fresh := 0
		for _, ss := range due[:min(len(due), sweepBatch)] {
			if seen[ss.ID] {
				continue
			}
			seen[ss.ID], fresh = true, fresh+1
			did, err := s.sweepOne(ctx, ss)
			if err != nil {
				return ended, err
			}
			if did {
				ended++
			}
		}
		if fresh == 0 {
			return ended, nil
		}
	}
}

const sweepBatch = 100

// sweepOne ends one expired session, if it is still open and expired.
func (s *Service) sweepOne(ctx context.Context, ss roster.SupportSession) (bool, error) {
	did := false
	err := s.update(ctx, func(c *change) error {
		did = false
		if _, err := c.lockOrg(ss.OrgID); err != nil && !errors.Is(err, roster.ErrNotFound) {
			return err
		}
		cur, err := c.tx.GetSupportSession(c.ctx, ss.ID)
		if err != nil || cur.EndedAt != nil || c.now.Before(cur.ExpiresAt) {
			return err
		}
		did = true
		return c.endSupportSession(cur, roster.SupportSwept)
	})
	return did, err
}
