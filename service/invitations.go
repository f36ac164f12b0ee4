package service

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/roster-dev/roster"
)

var (
	errInvitationNotFound = roster.Errorf(roster.KindNotFound, roster.CodeInvitationNotFound, "no such invitation")
	errAlreadyMember      = roster.Errorf(roster.KindConflict, roster.CodeAlreadyMember, "the user is already a member of the workspace")
)

func (s *Service) acceptURL(secret string) string {
	if s.inviteURL == "" || secret == "" {
		return ""
	}
	return strings.ReplaceAll(s.inviteURL, "{token}", url.QueryEscape(secret))
}

func invitationLifetime(expiresIn *int64) (time.Duration, error) {
	if expiresIn == nil {
		return roster.DefaultInvitationLifetime, nil
	}
	// Compared in seconds: a huge value would overflow a Duration.
	if *expiresIn < 1 || *expiresIn > int64(roster.MaxInvitationLifetime/time.Second) {
		return 0, roster.Errorf(roster.KindInvalid, roster.CodeInvalidExpiry, "expires_in must be between 1 second and 30 days").With("field", "expires_in")
	}
	return time.Duration(*expiresIn) * time.Second, nil
}

// Invite offers a workspace role to an email (admins of the workspace; only
// owners invite owners). A second invitation of the same email to the same
// workspace returns the pending one. A paid role must fit the seat cap
// together with the seats taken and pending.
func (s *Service) Invite(ctx context.Context, wsID string, in roster.NewInvitation) (roster.IssuedInvitation, error) {
	email, err := roster.NormalizeEmail(in.Email)
	if err != nil {
		return roster.IssuedInvitation{}, err
	}
	role, err := roster.ParseWorkspaceRole(in.Role)
	if err != nil {
		return roster.IssuedInvitation{}, err
	}
	lifetime, err := invitationLifetime(in.ExpiresIn)
	if err != nil {
		return roster.IssuedInvitation{}, err
	}
	var out roster.IssuedInvitation
	err = s.update(ctx, func(c *change) error {
		w, wa, err := c.workspace(wsID, false)
		if err != nil {
			return err
		}
		if err := wa.mayGrant(role); err != nil {
			return err
		}
		existing, err := c.tx.GetOpenInvitation(ctx, wsID, roster.EmailKey(email))
		switch {
		case err == nil && existing.Status(c.now) == roster.InvitationPending:
			out = roster.IssuedInvitation{Invitation: existing}
			return nil
		case err == nil: // expired: superseded by the new one
			existing.Open, existing.UpdatedAt = false, c.now
			if err := c.tx.UpdateInvitation(ctx, existing); err != nil {
				return err
			}
		case !errors.Is(err, roster.ErrNotFound):
			return err
		}
		if err := c.checkInvitee(w, email, role); err != nil {
			return err
		}
		if err := c.checkInviteCapacity(w.OrgID, email, role); err != nil {
			return err
		}
		secret := roster.NewInviteSecret()
		inv := roster.Invitation{ID: roster.NewID(roster.PrefixInvitation), OrgID: w.OrgID, WorkspaceID: w.ID, Email: email, Role: role,
			TokenHash: roster.HashToken(secret), InvitedBy: actorID(c.actor), ByService: c.actor.IsService() || c.actor.IsSystem(),
			ExpiresAt: c.now.Add(lifetime), Open: true, CreatedAt: c.now, UpdatedAt: c.now}
		created, err := c.tx.CreateInvitation(ctx, inv)
		if err != nil {
			return err
		}
		if !created { // a concurrent identical invitation won: return it
			winner, err := c.tx.GetOpenInvitation(ctx, wsID, roster.EmailKey(email))
			out = roster.IssuedInvitation{Invitation: winner}
			return err
		}
		out = roster.IssuedInvitation{Invitation: inv, Secret: secret, AcceptURL: s.acceptURL(secret), Created: true}
		return c.invitationChanged(roster.ActionInvitationCreated, nil, &inv)
	})
	return out, err
}

// mayGrant checks the caller may give someone role in the workspace.
func (wa workspaceAuthority) mayGrant(role roster.WorkspaceRole) error {
	if !wa.can(roster.PermMembersManage) {
		return errForbidden
	}
	if role == roster.RoleOwner && !wa.can(roster.PermMembersManageOwners) {
		return errOnlyOwner("grant owner")
	}
	return nil
}

// checkInvitee refuses inviting someone who already has access to the
// workspace (directly or through an organisation role), or an organisation
// member as external (the external invariant).
func (c *change) checkInvitee(w roster.Workspace, email string, role roster.WorkspaceRole) error {
	u, err := c.tx.GetUserByEmail(c.ctx, email)
	if errors.Is(err, roster.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	direct, org, err := memberships(c.ctx, c.tx, w, u.ID)
	if err != nil {
		return err
	}
	if isMember(direct, org, c.now) {
		return errAlreadyMember
	}
	if org != nil && role == roster.RoleExternal {
		return errExternalInvariant
	}
	return nil
}

// isMember reports whether someone has access to a workspace at now,
// directly or through an organisation role; a support session is not
// membership.
func isMember(direct *roster.WorkspaceMembership, org *roster.OrgMembership, now time.Time) bool {
	a := roster.EffectiveAccess(direct, org, now)
	return a.Role != "" && a.Via != roster.AccessSupport
}

// paidRoles lists the workspace roles that take a seat under plan.
func paidRoles(p roster.Plan) []roster.WorkspaceRole {
	var out []roster.WorkspaceRole
	for _, r := range roster.WorkspaceRoles {
		if p.Paid(r) {
			out = append(out, r)
		}
	}
	return out
}

// checkInviteCapacity applies the cap to a new invitation: used + pending +
// this one (if it is a new paid seat) must fit.
func (c *change) checkInviteCapacity(orgID, email string, role roster.WorkspaceRole) error {
	org, err := c.tx.GetOrg(c.ctx, orgID)
	if err != nil {
		return err
	}
	if org.Plan.SeatCap == nil || !org.Plan.Paid(role) {
		return nil
	}
	seated, pending, err := seatStatusOf(c.ctx, c.tx, org, []string{roster.EmailKey(email)}, c.now)
	if err != nil {
		return err
	}
	counts, pendingN, err := c.tx.CountSeatsAndPending(c.ctx, orgID, paidRoles(org.Plan), c.now)
	if err != nil {
		return err
	}
	used := counts.Used(org.Plan)
	if len(seated)+len(pending) == 0 && used+pendingN+1 > *org.Plan.SeatCap {
		return errSeatCap(used, pendingN, *org.Plan.SeatCap)
	}
	return nil
}

// seatStatusOf splits email keys into those of users holding a seat in the
// organisation and those with a pending paid invitation there.
func seatStatusOf(ctx context.Context, r roster.Reader, org roster.Org, emailKeys []string, now time.Time) (seated, pending []string, err error) {
	for _, e := range emailKeys {
		u, err := r.GetUserByEmail(ctx, e)
		if errors.Is(err, roster.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		seat, err := r.GetSeat(ctx, org.ID, u.ID)
		if err != nil && !errors.Is(err, roster.ErrNotFound) {
			return nil, nil, err
		}
		if seat.Held(now) {
			seated = append(seated, e)
		}
	}
	pending, err = r.PendingEmails(ctx, org.ID, paidRoles(org.Plan), emailKeys, now)
	return seated, pending, err
}

// invitationChanged records a change of an invitation: its audit event and,
// when the change opened it or moved its expiry, the task that expires it.
func (c *change) invitationChanged(action string, before, after *roster.Invitation) error {
	if err := c.scheduleInvitationExpiry(before, after); err != nil {
		return err
	}
	inv := after
	if inv == nil {
		inv = before
	}
	return c.auditIn(action, roster.TargetInvitation, inv.ID, &inv.OrgID, &inv.WorkspaceID, invitationAudit(before), invitationAudit(after))
}

func invitationAudit(i *roster.Invitation) any {
	if i == nil {
		return nil
	}
	return map[string]any{"id": i.ID, "workspace_id": i.WorkspaceID, "email": i.Email, "role": i.Role, "invited_by": i.InvitedBy,
		"expires_at": i.ExpiresAt, "accepted_at": i.AcceptedAt, "accepted_by": i.AcceptedBy, "revoked_at": i.RevokedAt,
		"open": i.Open, "secret_fingerprint": fingerprint(i.TokenHash)}
}

// ListInvitations lists a workspace's invitations with a status (pending by
// default; "" lists all) for its admins.
func (s *Service) ListInvitations(ctx context.Context, wsID string, status roster.InvitationStatus, p roster.Page) ([]roster.Invitation, string, error) {
	now := s.now()
	_, wa, err := workspaceFor(ctx, s.store, wsID, false, now, nil)
	if err != nil {
		return nil, "", err
	}
	if !wa.can(roster.PermMembersManage) {
		return nil, "", errForbidden
	}
	return s.listInvitations(ctx, roster.InvitationFilter{WorkspaceID: wsID, OpenOnly: status == roster.InvitationPending}, status, p, now)
}

// listInvitations pages through invitations keeping those with the status.
func (s *Service) listInvitations(ctx context.Context, f roster.InvitationFilter, status roster.InvitationStatus, p roster.Page, now time.Time) ([]roster.Invitation, string, error) {
	var out []roster.Invitation
	batch := roster.Page{Limit: roster.MaxPageLimit, After: p.After}
	for len(out) <= p.Limit {
		invs, err := s.store.ListInvitations(ctx, f, batch)
		if err != nil {
			return nil, "", err
		}
		more := len(invs) > batch.Limit
		if more {
			invs = invs[:batch.Limit]
		}
		for _, inv := range invs {
			if status == "" || inv.Status(now) == status {
				out = append(out, inv)
			}
		}
		if !more {
			break
		}
		batch.After = invs[len(invs)-1].ID
	}
	out, next := roster.NextCursor(out, p.Limit, func(i roster.Invitation) string { return i.ID })
	return out, next, nil
}

// MyInvitations lists the pending invitations to the caller's email.
func (s *Service) MyInvitations(ctx context.Context, p roster.Page) ([]roster.Invitation, string, error) {
	if err := refuseConfined(actor(ctx)); err != nil {
		return nil, "", err
	}
	u := actor(ctx).Subject()
	if u.Email == nil {
		return nil, "", nil
	}
	return s.listInvitations(ctx, roster.InvitationFilter{EmailKey: roster.EmailKey(*u.Email), OpenOnly: true}, roster.InvitationPending, p, s.now())
}

// invitationIn loads an invitation of a workspace the caller administers.
func (c *change) invitationIn(wsID, id string) (roster.Invitation, workspaceAuthority, error) {
	_, wa, err := c.workspace(wsID, false)
	if err != nil {
		return roster.Invitation{}, wa, err
	}
	if !wa.can(roster.PermMembersManage) {
		return roster.Invitation{}, wa, errForbidden
	}
	if !roster.ValidID(roster.PrefixInvitation, id) {
		return roster.Invitation{}, wa, errInvitationNotFound
	}
	inv, err := c.tx.GetInvitation(c.ctx, id)
	if errors.Is(err, roster.ErrNotFound) || (err == nil && inv.WorkspaceID != wsID) {
		return inv, wa, errInvitationNotFound
	}
	return inv, wa, err
}

// RevokeInvitation revokes a pending invitation; revoking twice is fine.
func (s *Service) RevokeInvitation(ctx context.Context, wsID, id string) error {
	return s.update(ctx, func(c *change) error {
		inv, _, err := c.invitationIn(wsID, id)
		if err != nil {
			return err
		}
		switch inv.Status(c.now) {
		case roster.InvitationRevoked:
			return nil
		case roster.InvitationAccepted:
			return roster.Errorf(roster.KindConflict, roster.CodeInvitationUsed, "the invitation was accepted; remove the member instead")
		}
		before := inv
		inv.RevokedAt, inv.Open, inv.UpdatedAt = &c.now, false, c.now
		if err := c.tx.UpdateInvitation(ctx, inv); err != nil {
			return err
		}
		return c.invitationChanged(roster.ActionInvitationRevoked, &before, &inv)
	})
}

// ResendInvitation issues a new secret (the old one stops working at once)
// and a fresh expiry of the same length.
func (s *Service) ResendInvitation(ctx context.Context, wsID, id string) (roster.IssuedInvitation, error) {
	var out roster.IssuedInvitation
	err := s.update(ctx, func(c *change) error {
		inv, wa, err := c.invitationIn(wsID, id)
		if err != nil {
			return err
		}
		if err := wa.mayGrant(inv.Role); err != nil {
			return err
		}
		switch inv.Status(c.now) {
		case roster.InvitationAccepted:
			return roster.Errorf(roster.KindConflict, roster.CodeInvitationUsed, "the invitation was accepted")
		case roster.InvitationRevoked:
			return roster.Errorf(roster.KindGone, roster.CodeInvitationRevoked, "the invitation was revoked")
		}
		if !inv.Open {
			return roster.Errorf(roster.KindGone, roster.CodeInvitationExpired, "the invitation was replaced by a newer one")
		}
		if inv.Status(c.now) == roster.InvitationExpired {
			// Pending again: the same checks as a new invitation.
			w, err := c.tx.GetWorkspace(c.ctx, wsID)
			if err != nil {
				return err
			}
			if err := c.checkInvitee(w, inv.Email, inv.Role); err != nil {
				return err
			}
			if err := c.checkInviteCapacity(inv.OrgID, inv.Email, inv.Role); err != nil {
				return err
			}
		}
		before := inv
		secret := roster.NewInviteSecret()
		// An open invitation was last written when it was last issued.
		lifetime := min(inv.ExpiresAt.Sub(inv.UpdatedAt), roster.MaxInvitationLifetime)
		inv.TokenHash, inv.ExpiresAt, inv.UpdatedAt = roster.HashToken(secret), c.now.Add(lifetime), c.now
		if err := c.tx.UpdateInvitation(ctx, inv); err != nil {
			return err
		}
		out = roster.IssuedInvitation{Invitation: inv, Secret: secret, AcceptURL: s.acceptURL(secret)}
		return c.invitationChanged(roster.ActionInvitationResent, &before, &inv)
	})
	return out, err
}

// AcceptInvitation accepts an invitation by its secret or id, as the invited
// person (email match) or a service token acting for them. A retried accept
// returns the same membership and never hits the seat cap. The inviter's
// authority is re-checked now (rule 12).
func (s *Service) AcceptInvitation(ctx context.Context, secret, id string) (roster.Accepted, error) {
	if err := refuseConfined(actor(ctx)); err != nil {
		return roster.Accepted{}, err
	}
	var out roster.Accepted
	err := s.update(ctx, func(c *change) error {
		inv, err := c.findInvitation(secret, id)
		if err != nil {
			return err
		}
		// Read it again under the organisation's lock, so that a revoke or
		// resend that committed meanwhile is seen and not written over.
		if _, err := c.lockOrg(inv.OrgID); err != nil {
			return err
		}
		if inv, err = c.findInvitation(secret, id); err != nil {
			return err
		}
		me := c.actor.Subject()
		if me.Email == nil || roster.EmailKey(*me.Email) != roster.EmailKey(inv.Email) {
			if id != "" {
				return errInvitationNotFound // others do not learn it exists
			}
			return roster.Errorf(roster.KindForbidden, roster.CodeInvitationEmail, "this invitation is for another email address")
		}
		switch inv.Status(c.now) {
		case roster.InvitationAccepted:
			if inv.AcceptedBy == nil || *inv.AcceptedBy != me.ID {
				return roster.Errorf(roster.KindConflict, roster.CodeInvitationUsed, "the invitation has been used")
			}
			m, err := c.tx.GetWorkspaceMembership(c.ctx, inv.WorkspaceID, me.ID)
			// An expired membership has ended, whether or not its row was
			// closed yet (rule 9).
			if errors.Is(err, roster.ErrNotFound) || (err == nil && !m.Live(c.now)) {
				return roster.Errorf(roster.KindConflict, roster.CodeInvitationUsed, "the invitation was used and the membership has since ended")
			}
			out = roster.Accepted{Invitation: inv, Membership: m}
			return err
		case roster.InvitationRevoked:
			return roster.Errorf(roster.KindGone, roster.CodeInvitationRevoked, "the invitation was revoked")
		case roster.InvitationExpired:
			return roster.Errorf(roster.KindGone, roster.CodeInvitationExpired, "the invitation expired at %s", inv.ExpiresAt.Format(time.RFC3339))
		}
		w, err := c.tx.GetWorkspace(c.ctx, inv.WorkspaceID)
		if errors.Is(err, roster.ErrNotFound) {
			return errWorkspaceNotFound
		}
		if err != nil {
			return err
		}
		if w.ArchivedAt != nil {
			return errWorkspaceArchived
		}
		if err := c.inviterStillMay(inv, w); err != nil {
			return err
		}
		m, err := c.tx.GetWorkspaceMembership(c.ctx, w.ID, me.ID)
		if err == nil && m.Live(c.now) && m.Source != roster.SourceStaffSupport && m.Role.AtLeast(inv.Role) {
			// Already a member with at least this role: nothing to grant.
		} else {
			c.requireCapacity(w.OrgID)
			m, _, err = c.setWorkspaceMember(grant{workspace: w, userID: me.ID, role: inv.Role, source: roster.SourceInvite, invitedBy: inv.InvitedBy})
			if err != nil {
				return err
			}
		}
		before := inv
		inv.AcceptedAt, inv.AcceptedBy, inv.Open, inv.UpdatedAt = &c.now, &me.ID, false, c.now
		if err := c.tx.UpdateInvitation(c.ctx, inv); err != nil {
			return err
		}
		out = roster.Accepted{Invitation: inv, Membership: m}
		return c.invitationChanged(roster.ActionInvitationAccepted, &before, &inv)
	})
	return out, err
}

func (c *change) findInvitation(secret, id string) (roster.Invitation, error) {
	var inv roster.Invitation
	var err error
	switch {
	case (secret == "") == (id == ""):
		return inv, roster.Errorf(roster.KindInvalid, roster.CodeInvalidRequest, "give token or invitation_id")
	case secret != "":
		inv, err = c.tx.GetInvitationByTokenHash(c.ctx, roster.HashToken(secret))
	case !roster.ValidID(roster.PrefixInvitation, id):
		return inv, errInvitationNotFound
	default:
		inv, err = c.tx.GetInvitation(c.ctx, id)
	}
	if errors.Is(err, roster.ErrNotFound) {
		return inv, errInvitationNotFound
	}
	return inv, err
}

// inviterStillMay re-checks, now, that whoever invited may still grant the
// role (rule 12): an active platform admin, or an active user whose
// workspace role allows it. Invitations by the host application stand.
func (c *change) inviterStillMay(inv roster.Invitation, w roster.Workspace) error {
	if inv.ByService || inv.InvitedBy == nil {
		return nil
	}
	denied := roster.Errorf(roster.KindForbidden, roster.CodeInviterNoAuthority, "whoever invited you may no longer grant this role; ask for a new invitation")
	inviter, err := c.tx.GetUser(c.ctx, *inv.InvitedBy)
	if errors.Is(err, roster.ErrNotFound) {
		return denied
	}
	if err != nil {
		return err
	}
	if !inviter.Active() {
		return denied
	}
	if inviter.PlatformRole == roster.PlatformAdmin {
		return nil
	}
	direct, org, err := memberships(c.ctx, c.tx, w, *inv.InvitedBy)
	if err != nil {
		return err
	}
	wa := workspaceAuthority{access: roster.EffectiveAccess(direct, org, c.now)}
	if wa.mayGrant(inv.Role) != nil {
		return denied
	}
	return nil
}

// fingerprint names a secret's hash without giving it away: a resend,
// which changes only the secret, shows as a change.
func fingerprint(hash string) string { return hash[:min(len(hash), 8)] }
