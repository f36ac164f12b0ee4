package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/roster-dev/roster"
)

// Roster's own durable work. Each task carries what it was made for (the
// row and the expiry it ends); a row that was extended, re-created or ended
// since makes its task do nothing (rule 10). A task run before its time
// (retried by hand) schedules itself again for its time.

// SeatRecheckEvery is how often one replica recounts the seats whose expiry
// has passed. Expiring memberships and invitations are recounted by their
// own tasks at their time; this catches anything those missed.
const SeatRecheckEvery = 5 * time.Minute

// recurring is the work one replica of the cluster does on a schedule.
var recurring = []roster.RecurringTask{
	{Type: roster.TaskSeatRecheck, Every: SeatRecheckEvery},
	{Type: roster.TaskSupportSweep, Every: roster.SupportSweepEvery},
}

// membershipExpiry is the payload of a TaskMembershipExpiry.
type membershipExpiry struct {
	MembershipID string    `json:"membership_id"`
	WorkspaceID  string    `json:"workspace_id"`
	UserID       string    `json:"user_id"`
	ExpiresAt    time.Time `json:"expires_at"`
}

// invitationExpiry is the payload of a TaskInvitationExpiry.
type invitationExpiry struct {
	InvitationID string    `json:"invitation_id"`
	ExpiresAt    time.Time `json:"expires_at"`
}

// schedule adds a task to the change: it exists once the change commits.
func (c *change) schedule(t roster.TaskType, runAt time.Time, payload any) error {
	raw, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("schedule %s: %w", t, err)
	}
	_, err = c.tx.ScheduleTask(c.ctx, roster.NewTask{Type: t, RunAt: runAt, Payload: raw})
	return err
}

// scheduleMembershipEnd schedules the end of a membership whose expiry a
// write set or moved.
func (c *change) scheduleMembershipEnd(before, after *roster.WorkspaceMembership) error {
	t, ok, err := membershipEndTask(before, after)
	if !ok || err != nil {
		return err
	}
	_, err = c.tx.ScheduleTask(c.ctx, t)
	return err
}

// membershipEndTask is the task that ends a membership whose expiry a write
// set or moved; ok is false when there is none to schedule.
func membershipEndTask(before, after *roster.WorkspaceMembership) (t roster.NewTask, ok bool, err error) {
	if after == nil || after.ExpiresAt == nil || after.DeletedAt != nil {
		return t, false, nil
	}
	if before != nil && before.ID == after.ID && before.ExpiresAt != nil && before.ExpiresAt.Equal(*after.ExpiresAt) {
		return t, false, nil // its task is already scheduled
	}
	raw, err := json.Marshal(membershipExpiry{MembershipID: after.ID, WorkspaceID: after.WorkspaceID, UserID: after.UserID, ExpiresAt: *after.ExpiresAt})
	if err != nil {
		return t, false, fmt.Errorf("schedule %s: %w", roster.TaskMembershipExpiry, err)
	}
	return roster.NewTask{Type: roster.TaskMembershipExpiry, RunAt: *after.ExpiresAt, Payload: raw}, true, nil
}

// scheduleInvitationExpiry schedules the expiry of an open invitation whose
// expiry a write set or moved.
func (c *change) scheduleInvitationExpiry(before, after *roster.Invitation) error {
	if after == nil || !after.Open || (before != nil && before.ExpiresAt.Equal(after.ExpiresAt)) {
		return nil
	}
	return c.schedule(roster.TaskInvitationExpiry, after.ExpiresAt, invitationExpiry{InvitationID: after.ID, ExpiresAt: after.ExpiresAt})
}

// HandleTask does one of Roster's tasks, as the system.
func (s *Service) HandleTask(ctx context.Context, t roster.Task) error {
	ctx = roster.WithActor(ctx, roster.SystemActor())
	switch t.Type {
	case roster.TaskMembershipExpiry:
		var p membershipExpiry
		if err := json.Unmarshal(t.Payload, &p); err != nil {
			return fmt.Errorf("task %s: %w", t.ID, err)
		}
		return s.endExpiredMembership(ctx, p)
	case roster.TaskInvitationExpiry:
		var p invitationExpiry
		if err := json.Unmarshal(t.Payload, &p); err != nil {
			return fmt.Errorf("task %s: %w", t.ID, err)
		}
		return s.expireInvitation(ctx, p)
	case roster.TaskSeatRecheck:
		return s.recheckAllSeats(ctx)
	case roster.TaskWebhookDelivery:
		var p webhookDelivery
		if err := json.Unmarshal(t.Payload, &p); err != nil {
			return fmt.Errorf("task %s: %w", t.ID, err)
		}
		return s.deliverOnce(ctx, p)
	case roster.TaskCallback:
		return s.callbackDue(ctx, t)
	case roster.TaskSupportEnd:
		var p supportEnd
		if err := json.Unmarshal(t.Payload, &p); err != nil {
			return fmt.Errorf("task %s: %w", t.ID, err)
		}
		return s.endSupportOnTime(ctx, p)
	case roster.TaskSupportSweep:
		n, err := s.sweepSupport(ctx)
		if n > 0 {
			s.log.InfoContext(ctx, "support sweep ended sessions past their expiry", "sessions", n)
		}
		return err
	}
	return fmt.Errorf("task %s: no handler for type %q", t.ID, t.Type)
}

// endExpiredMembership soft-deletes the membership the task was made for,
// if it is still that membership, live, with that expiry, and past it.
func (s *Service) endExpiredMembership(ctx context.Context, p membershipExpiry) error {
	return s.update(ctx, func(c *change) error {
		if err := c.lockWorkspaceOrg(p.WorkspaceID); err != nil {
			if errors.Is(err, roster.ErrNotFound) {
				return nil // the workspace is gone, and its memberships with it
			}
			return err
		}
		m, err := c.tx.GetWorkspaceMembership(c.ctx, p.WorkspaceID, p.UserID)
		switch {
		case errors.Is(err, roster.ErrNotFound):
			return nil
		case err != nil:
			return err
		case m.ID != p.MembershipID, m.DeletedAt != nil, m.ExpiresAt == nil, !m.ExpiresAt.Equal(p.ExpiresAt):
			return nil // re-created, ended or given another expiry: not this task's to end
		case c.now.Before(*m.ExpiresAt): // retried by hand before its time
			return c.schedule(roster.TaskMembershipExpiry, *m.ExpiresAt, p)
		}
		return c.endWorkspaceMemberAs(m, roster.ActionMemberExpired)
	})
}

// expireInvitation closes the invitation the task was made for, if it is
// still open with that expiry.
func (s *Service) expireInvitation(ctx context.Context, p invitationExpiry) error {
	return s.update(ctx, func(c *change) error {
		inv, err := c.tx.GetInvitation(c.ctx, p.InvitationID)
		switch {
		case errors.Is(err, roster.ErrNotFound):
			return nil
		case err != nil:
			return err
		case !inv.Open || !inv.ExpiresAt.Equal(p.ExpiresAt):
			return nil // accepted, revoked, superseded or resent
		case c.now.Before(inv.ExpiresAt): // retried by hand before its time
			return c.schedule(roster.TaskInvitationExpiry, inv.ExpiresAt, p)
		}
		before := inv
		inv.Open, inv.UpdatedAt = false, c.now
		if err := c.tx.UpdateInvitation(c.ctx, inv); err != nil {
			return err
		}
		return c.invitationChanged(roster.ActionInvitationExpired, &before, &inv)
	})
}

// recheckAllSeats recounts due seats batch by batch; a bounded number of
// batches, so that a store reporting the same seats again cannot spin.
func (s *Service) recheckAllSeats(ctx context.Context) error {
	for range 20 {
		n, err := s.RecheckSeats(ctx)
		if err != nil || n < RecheckBatch {
			return err
		}
	}
	return nil
}

// RunTasks works due tasks with this service until ctx ends.
func (s *Service) RunTasks(ctx context.Context) error {
	return s.store.RunTasks(ctx, s, recurring)
}

// Tasks are administered by operators: platform admins and the host
// application's service tokens. To anyone else a task does not exist.

// ListTasks lists tasks newest first.
func (s *Service) ListTasks(ctx context.Context, f roster.TaskFilter, p roster.Page) ([]roster.Task, string, error) {
	if !operator(actor(ctx)) {
		return nil, "", errForbidden
	}
	tasks, err := s.store.ListTasks(ctx, f, p)
	if err != nil {
		return nil, "", err
	}
	tasks, next := roster.NextCursor(tasks, p.Limit, func(t roster.Task) string { return t.ID })
	return tasks, next, nil
}

// GetTask returns one task.
func (s *Service) GetTask(ctx context.Context, id string) (roster.Task, error) {
	if !operator(actor(ctx)) {
		return roster.Task{}, roster.ErrTaskNotFound
	}
	return s.store.GetTask(ctx, id)
}

// CancelTask cancels a scheduled task.
func (s *Service) CancelTask(ctx context.Context, id string) (roster.Task, error) {
	return s.actOnTask(ctx, id, roster.ActionTaskCancelled, roster.Tx.CancelTask)
}

// RetryTask makes a failed or cancelled task due now.
func (s *Service) RetryTask(ctx context.Context, id string) (roster.Task, error) {
	return s.actOnTask(ctx, id, roster.ActionTaskRetried, roster.Tx.RetryTask)
}

func (s *Service) actOnTask(ctx context.Context, id, action string, act func(roster.Tx, context.Context, string) (roster.Task, error)) (roster.Task, error) {
	if !operator(actor(ctx)) {
		return roster.Task{}, roster.ErrTaskNotFound
	}
	var out roster.Task
	err := s.update(ctx, func(c *change) error {
		var err error
		if out, err = act(c.tx, ctx, id); err != nil {
			return err
		}
		return c.audit(action, roster.TargetTask, id, nil, taskAudit(out))
	})
	return out, err
}

func taskAudit(t roster.Task) any {
	return map[string]any{"id": t.ID, "type": t.Type, "status": t.Status, "run_at": t.RunAt, "attempts": t.Attempts}
}
