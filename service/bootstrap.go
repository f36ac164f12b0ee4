package service

import (
	"context"
	"errors"

	"github.com/roster-dev/roster"
)

// BootstrapTokenName names the tokens the operator's commands issue.
const BootstrapTokenName = "bootstrap"

// FirstStart creates the first platform admin and a personal token for them
// when the database has no user yet. It returns the plaintext token, or ""
// when the database was not empty (including when another replica starting
// at the same moment won).
func (s *Service) FirstStart(ctx context.Context, email string) (string, error) {
	var plain string
	err := s.update(ctx, func(c *change) error {
		if has, err := c.tx.HasUsers(ctx); err != nil || has {
			return err
		}
		u, err := s.createAdmin(c, email)
		if err != nil {
			return err
		}
		plain, err = s.issueBootstrapToken(c, u.ID)
		return err
	})
	if errors.Is(err, roster.ErrUniqueViolation) {
		return "", nil
	}
	return plain, err
}

// EnsureAdmin makes sure an active platform admin with this email exists and
// issues a fresh personal token for them. It is safe to run again.
func (s *Service) EnsureAdmin(ctx context.Context, email string) (roster.User, string, error) {
	var u roster.User
	var plain string
	err := s.update(ctx, func(c *change) error {
		addr, err := roster.NormalizeEmail(email)
		if err != nil {
			return err
		}
		u, err = c.tx.GetUserByEmail(ctx, addr)
		switch {
		case errors.Is(err, roster.ErrNotFound):
			if u, err = s.createAdmin(c, addr); err != nil {
				return err
			}
		case err != nil:
			return err
		case !u.Active() || u.PlatformRole != roster.PlatformAdmin:
			before := u
			u.Status, u.PlatformRole, u.UpdatedAt = roster.UserActive, roster.PlatformAdmin, c.now
			if err := c.tx.UpdateUser(ctx, u); err != nil {
				return err
			}
			if err := c.markUserSeats(u.ID); err != nil { // reactivated: their seats count again
				return err
			}
			if err := c.audit(roster.ActionUserBootstrapped, roster.TargetUser, u.ID, userAudit(before), userAudit(u)); err != nil {
				return err
			}
		}
		plain, err = s.issueBootstrapToken(c, u.ID)
		return err
	})
	return u, plain, err
}

func (s *Service) createAdmin(c *change, email string) (roster.User, error) {
	addr, err := roster.NormalizeEmail(email)
	if err != nil {
		return roster.User{}, err
	}
	u := roster.User{ID: roster.NewID(roster.PrefixUser), Email: &addr, DisplayName: "Administrator",
		Status: roster.UserActive, PlatformRole: roster.PlatformAdmin, CreatedAt: c.now, UpdatedAt: c.now}
	if err := c.tx.CreateUser(c.ctx, u); err != nil {
		return roster.User{}, err
	}
	return u, c.audit(roster.ActionUserBootstrapped, roster.TargetUser, u.ID, nil, userAudit(u))
}

func (s *Service) issueBootstrapToken(c *change, userID string) (string, error) {
	tok, plain := roster.NewToken(userID, roster.TokenPersonal, BootstrapTokenName, nil, c.now)
	if err := c.tx.CreateToken(c.ctx, tok); err != nil {
		return "", err
	}
	return plain, c.audit(roster.ActionTokenCreated, roster.TargetToken, tok.ID, nil, tokenAudit(tok))
}
