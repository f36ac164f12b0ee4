package service

import (
	"context"
	"errors"

	"github.com/roster-dev/roster"
)

var (
	errForbidden    = forbidden("you are not allowed to do this")
	errUserNotFound = roster.Errorf(roster.KindNotFound, roster.CodeUserNotFound, "no such user")
)

// denyUser is the refusal for a user-scoped action: 403 when the caller may
// know the user exists, 404 (as if it did not) otherwise.
func denyUser(a roster.Actor, id string) error {
	if operator(a) || a.IsSelf(id) {
		return errForbidden
	}
	return errUserNotFound
}

// operator says whether the caller administers the deployment: platform
// admins and the host application's service tokens manage every user and
// every tenant.
func operator(a roster.Actor) bool { return a.IsPlatformAdmin() || a.IsService() }

// CreateUser adds a user. Only admins may create staff.
func (s *Service) CreateUser(ctx context.Context, in roster.NewUser) (roster.User, error) {
	a := actor(ctx)
	if !operator(a) {
		return roster.User{}, errForbidden
	}
	u := roster.User{ID: roster.NewID(roster.PrefixUser), DisplayName: in.DisplayName,
		Status: roster.UserActive, PlatformRole: roster.PlatformNone}
	var err error
	if u.Email, err = normalizeOptionalEmail(in.Email); err != nil {
		return roster.User{}, err
	}
	if err := roster.CheckDisplayName(in.DisplayName); err != nil {
		return roster.User{}, err
	}
	if in.ExternalID != nil {
		if err := roster.CheckExternalID(*in.ExternalID); err != nil {
			return roster.User{}, err
		}
		u.ExternalID = in.ExternalID
	}
	if in.Status != "" {
		if u.Status, err = roster.ParseUserStatus(in.Status); err != nil {
			return roster.User{}, err
		}
	}
	if in.PlatformRole != "" {
		if u.PlatformRole, err = roster.ParsePlatformRole(in.PlatformRole); err != nil {
			return roster.User{}, err
		}
	}
	if u.PlatformRole != roster.PlatformNone && !a.IsPlatformAdmin() {
		return roster.User{}, forbidden("only a platform admin may grant a platform role")
	}
	err = s.update(ctx, func(c *change) error {
		u.CreatedAt, u.UpdatedAt = c.now, c.now
		if err := c.tx.CreateUser(ctx, u); err != nil {
			return uniqueUserConflict(ctx, c.tx, u, err)
		}
		return c.audit(roster.ActionUserCreated, roster.TargetUser, u.ID, nil, userAudit(u))
	})
	return u, err
}

// uniqueUserConflict names which unique field of u another user holds; it
// returns err unchanged when none does (or err is not a uniqueness clash).
func uniqueUserConflict(ctx context.Context, r roster.Reader, u roster.User, err error) error {
	if !errors.Is(err, roster.ErrUniqueViolation) {
		return err
	}
	if u.Email != nil {
		if other, e := r.GetUserByEmail(ctx, *u.Email); e == nil && other.ID != u.ID {
			return roster.Errorf(roster.KindConflict, roster.CodeEmailTaken, "a user with this email already exists").With("user_id", other.ID)
		}
	}
	if u.ExternalID != nil {
		if other, e := r.GetUserByExternalID(ctx, *u.ExternalID); e == nil && other.ID != u.ID {
			return roster.Errorf(roster.KindConflict, roster.CodeExternalIDTaken, "a user with this external_id already exists").With("user_id", other.ID)
		}
	}
	return err
}

func normalizeOptionalEmail(email *string) (*string, error) {
	if email == nil {
		return nil, nil
	}
	e, err := roster.NormalizeEmail(*email)
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// GetUser returns a user the caller may see: admins and services see all,
// anyone else only themselves (others are 404, as if they did not exist).
func (s *Service) GetUser(ctx context.Context, id string) (roster.User, error) {
	a := actor(ctx)
	if !operator(a) && !a.IsSelf(id) {
		return roster.User{}, errUserNotFound
	}
	return s.getUser(ctx, s.store, id)
}

func (s *Service) getUser(ctx context.Context, r roster.Reader, id string) (roster.User, error) {
	if !roster.ValidID(roster.PrefixUser, id) {
		return roster.User{}, errUserNotFound
	}
	u, err := r.GetUser(ctx, id)
	if errors.Is(err, roster.ErrNotFound) {
		return roster.User{}, errUserNotFound
	}
	return u, err
}

// ListUsers lists users for admins and services.
func (s *Service) ListUsers(ctx context.Context, f roster.UserFilter, p roster.Page) ([]roster.User, string, error) {
	if !operator(actor(ctx)) {
		return nil, "", errForbidden
	}
	if f.EmailKey != "" {
		f.EmailKey = roster.EmailKey(f.EmailKey)
	}
	users, err := s.store.ListUsers(ctx, f, p)
	if err != nil {
		return nil, "", err
	}
	users, next := roster.NextCursor(users, p.Limit, func(u roster.User) string { return u.ID })
	return users, next, nil
}

// UpdateUser changes the present fields of a user. Users may change their own
// display name; admins and services change the rest, and only admins change
// platform roles.
func (s *Service) UpdateUser(ctx context.Context, id string, p roster.UserPatch) (roster.User, error) {
	a := actor(ctx)
	if err := refuseConfined(a); err != nil {
		return roster.User{}, err
	}
	if !operator(a) && !a.IsSelf(id) {
		return roster.User{}, errUserNotFound
	}
	adminOnly := p.PlatformRole.Present
	managerOnly := p.Email.Present || p.Status.Present || p.ExternalID.Present
	if (adminOnly && !a.IsPlatformAdmin()) || (managerOnly && !operator(a)) {
		return roster.User{}, errForbidden
	}
	var after roster.User
	err := s.update(ctx, func(c *change) error {
		before, err := s.getUser(ctx, c.tx, id)
		if err != nil {
			return err
		}
		if managerOnly && before.PlatformRole.IsStaff() && !a.IsPlatformAdmin() {
			// The host application manages its users, not the vendor's staff.
			return forbidden("only a platform admin may change a staff account")
		}
		after, err = applyUserPatch(before, p)
		if err != nil {
			return err
		}
		if ws := p.DefaultWorkspaceID; ws.Present && ws.Value != nil {
			if err := c.checkReachable(id, *ws.Value); err != nil {
				return err
			}
		}
		if err := keepOneAdmin(ctx, c.tx, before, after); err != nil {
			return err
		}
		if before.Active() != after.Active() {
			if err := c.markUserSeats(id); err != nil {
				return err
			}
		}
		if before.Active() && !after.Active() {
			orgs, wss, err := c.soleOwnerships(id)
			if err != nil {
				return err
			}
			if len(orgs)+len(wss) > 0 {
				return roster.Errorf(roster.KindConflict, roster.CodeLastOwner, "the user is the last active owner of %d organisation(s) and %d workspace(s)", len(orgs), len(wss)).
					With("org_ids", orgs).With("workspace_ids", wss)
			}
			// Signed-in consoles end for good: reactivation signs nobody back in.
			if err := c.tx.EndUserConsoleSessions(ctx, id, c.now); err != nil {
				return err
			}
		}
		if reason, ends := supportEndFor(before, after); ends {
			if err := c.endSupportSessions(roster.SupportFilter{UserID: id}, reason, true); err != nil {
				return err
			}
		}
		after.UpdatedAt = c.now
		// Name the clash before writing: on PostgreSQL a failed UPDATE aborts
		// the transaction, so it could not be looked up afterwards. A racing
		// writer still meets the unique index (a plain 409).
		if err := uniqueUserConflict(ctx, c.tx, after, roster.ErrUniqueViolation); !errors.Is(err, roster.ErrUniqueViolation) {
			return err
		}
		if err := c.tx.UpdateUser(ctx, after); err != nil {
			return err
		}
		return c.audit(roster.ActionUserUpdated, roster.TargetUser, id, userAudit(before), userAudit(after))
	})
	return after, err
}

// supportEndFor says whether a change to a user ends their support
// sessions: a staff member who may no longer act, or is no longer staff,
// loses every session at once.
func supportEndFor(before, after roster.User) (roster.SupportEndReason, bool) {
	switch {
	case before.Active() && !after.Active():
		return roster.SupportStaffSuspended, true
	case before.PlatformRole.IsStaff() && !after.PlatformRole.IsStaff():
		return roster.SupportStaffDemoted, true
	}
	return "", false
}

func applyUserPatch(u roster.User, p roster.UserPatch) (roster.User, error) {
	var err error
	if p.Email.Present {
		if u.Email, err = normalizeOptionalEmail(p.Email.Value); err != nil {
			return u, err
		}
	}
	if p.DisplayName.Present {
		if err := roster.CheckDisplayName(p.DisplayName.Value); err != nil {
			return u, err
		}
		u.DisplayName = p.DisplayName.Value
	}
	if p.Status.Present {
		if u.Status, err = roster.ParseUserStatus(p.Status.Value); err != nil {
			return u, err
		}
	}
	if p.PlatformRole.Present {
		if u.PlatformRole, err = roster.ParsePlatformRole(p.PlatformRole.Value); err != nil {
			return u, err
		}
	}
	if p.ExternalID.Present {
		if v := p.ExternalID.Value; v != nil {
			if err := roster.CheckExternalID(*v); err != nil {
				return u, err
			}
		}
		u.ExternalID = p.ExternalID.Value
	}
	if p.DefaultWorkspaceID.Present {
		u.DefaultWorkspaceID = p.DefaultWorkspaceID.Value
	}
	return u, nil
}

// keepOneAdmin refuses a change that would leave the deployment without an
// active platform admin: nobody could administer it any more.
func keepOneAdmin(ctx context.Context, r roster.Reader, before, after roster.User) error {
	isAdmin := func(u roster.User) bool { return u.Active() && u.PlatformRole == roster.PlatformAdmin }
	if !isAdmin(before) || isAdmin(after) {
		return nil
	}
	n, err := r.CountActiveAdmins(ctx)
	if err != nil {
		return err
	}
	if n <= 1 {
		return roster.Errorf(roster.KindConflict, roster.CodeLastAdmin, "this is the last active platform admin")
	}
	return nil
}

// DeleteUser removes a user: the row is kept for history (deleted_at), its
// email and external id become free again, and its tokens are revoked.
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	if a := actor(ctx); !a.IsPlatformAdmin() {
		return denyUser(a, id)
	}
	return s.update(ctx, func(c *change) error {
		before, err := s.getUser(ctx, c.tx, id)
		if err != nil {
			return err
		}
		after := before
		after.DeletedAt, after.UpdatedAt = &c.now, c.now
		if err := keepOneAdmin(ctx, c.tx, before, after); err != nil {
			return err
		}
		orgs, wss, err := c.soleOwnerships(id)
		if err != nil {
			return err
		}
		if len(orgs)+len(wss) > 0 {
			return roster.Errorf(roster.KindConflict, roster.CodeSoleOwner, "the user is the sole owner of %d organisation(s) and %d workspace(s)", len(orgs), len(wss)).
				With("org_ids", orgs).With("workspace_ids", wss)
		}
		if err := c.endSupportSessions(roster.SupportFilter{UserID: id}, roster.SupportStaffSuspended, true); err != nil {
			return err
		}
		if err := c.endAllMemberships(id); err != nil {
			return err
		}
		if err := c.tx.UpdateUser(ctx, after); err != nil {
			return err
		}
		if _, err := c.tx.RevokeUserTokens(ctx, id, c.now); err != nil {
			return err
		}
		if err := c.tx.EndUserConsoleSessions(ctx, id, c.now); err != nil {
			return err
		}
		return c.audit(roster.ActionUserDeleted, roster.TargetUser, id, userAudit(before), nil)
	})
}

// userAudit is the audited form of a user.
func userAudit(u roster.User) map[string]any {
	return map[string]any{
		"id": u.ID, "email": u.Email, "display_name": u.DisplayName, "status": u.Status,
		"platform_role": u.PlatformRole, "external_id": u.ExternalID, "default_workspace_id": u.DefaultWorkspaceID,
	}
}
