package service

import (
	"context"
	"errors"
	"time"

	"github.com/roster-dev/roster"
)

var (
	errLoginLinkInvalid = roster.Errorf(roster.KindUnauthenticated, roster.CodeLoginLinkInvalid, "the login link is not valid: it was used already, has expired, or never existed")
	errConsoleTokenKind = roster.Errorf(roster.KindUnauthenticated, roster.CodeInvalidToken, "only a personal token signs in to the console")
)

// CreateLoginLink mints a one-time console link for the active user with
// this email. Only the operator's command line and platform admins mint
// them: a link signs its holder in as that user.
func (s *Service) CreateLoginLink(ctx context.Context, email string) (roster.LoginLink, string, error) {
	if !actor(ctx).IsPlatformAdmin() {
		return roster.LoginLink{}, "", errForbidden
	}
	addr, err := roster.NormalizeEmail(email)
	if err != nil {
		return roster.LoginLink{}, "", err
	}
	var link roster.LoginLink
	var secret string
	err = s.update(ctx, func(c *change) error {
		u, err := c.tx.GetUserByEmail(ctx, addr)
		if errors.Is(err, roster.ErrNotFound) {
			return errUserNotFound
		}
		if err != nil {
			return err
		}
		if !u.Active() {
			return roster.Errorf(roster.KindConflict, roster.CodeUserInactive, "the user is %s", u.Status)
		}
		link, secret = roster.NewLoginLink(u.ID, c.now)
		return c.tx.CreateLoginLink(ctx, link)
	})
	return link, secret, err
}

// SignInWithToken starts a console session for the owner of a personal
// token, checked exactly as a request bearing it would be.
func (s *Service) SignInWithToken(ctx context.Context, bearer string) (roster.ConsoleSignIn, error) {
	a, err := s.Authenticate(ctx, bearer, "")
	if err != nil {
		return roster.ConsoleSignIn{}, err
	}
	if a.Token.Kind != roster.TokenPersonal {
		return roster.ConsoleSignIn{}, errConsoleTokenKind
	}
	return s.startConsoleSession(ctx, func(roster.Tx, time.Time) (string, error) { return a.User.ID, nil })
}

// SignInWithLink uses a login link once and starts a session for its user.
// Claiming the link and starting the session commit together, so a link is
// never spent without signing someone in.
func (s *Service) SignInWithLink(ctx context.Context, secret string) (roster.ConsoleSignIn, error) {
	return s.startConsoleSession(ctx, func(tx roster.Tx, now time.Time) (string, error) {
		link, err := tx.UseLoginLink(ctx, roster.HashToken(secret), now)
		if errors.Is(err, roster.ErrNotFound) {
			return "", errLoginLinkInvalid
		}
		if err != nil {
			return "", err
		}
		if !now.Before(link.ExpiresAt) {
			return "", errLoginLinkInvalid
		}
		return link.UserID, nil
	})
}

// startConsoleSession starts a session for the user whom, in the same
// transaction, find names; the user must be active.
func (s *Service) startConsoleSession(ctx context.Context, find func(roster.Tx, time.Time) (string, error)) (roster.ConsoleSignIn, error) {
	var in roster.ConsoleSignIn
	err := s.store.Update(ctx, func(tx roster.Tx) error {
		now := s.now()
		userID, err := find(tx, now)
		if err != nil {
			return err
		}
		u, err := tx.GetUser(ctx, userID)
		if err != nil {
			return err
		}
		if !u.Active() {
			return roster.Errorf(roster.KindUnauthenticated, roster.CodeUserInactive, "the user is %s", u.Status)
		}
		in = roster.NewConsoleSession(u.ID, now)
		return tx.CreateConsoleSession(ctx, in.Session)
	})
	return in, err
}

// ResumeSession turns a browser's secret into its session and the user's
// actor. A session ends on sign-out, on its user's suspension and after
// ConsoleIdleTimeout unused; the user must still be active.
func (s *Service) ResumeSession(ctx context.Context, secret string) (roster.Actor, roster.ConsoleSession, error) {
	sess, err := s.store.GetConsoleSessionByHash(ctx, roster.HashToken(secret))
	if errors.Is(err, roster.ErrNotFound) {
		return roster.Actor{}, roster.ConsoleSession{}, roster.ErrSessionEnded
	}
	if err != nil {
		return roster.Actor{}, roster.ConsoleSession{}, err
	}
	now := s.now()
	if sess.EndedAt != nil || sess.Idle(now) {
		return roster.Actor{}, roster.ConsoleSession{}, roster.ErrSessionEnded
	}
	u, err := s.actingUser(ctx, sess.UserID, roster.ErrSessionEnded)
	if err != nil {
		return roster.Actor{}, roster.ConsoleSession{}, err
	}
	if now.Sub(sess.LastSeenAt) >= roster.ConsoleTouchInterval {
		if err := s.store.TouchConsoleSession(ctx, sess.ID, now, now.Add(-roster.ConsoleTouchInterval)); err != nil {
			// Failing to record use shortens the session at worst.
			s.log.WarnContext(ctx, "recording console use", "session_id", sess.ID, "error", err)
		}
	}
	return roster.ConsoleActor(u, sess), sess, nil
}

// SignOut ends the session of a secret.
func (s *Service) SignOut(ctx context.Context, secret string) error {
	sess, err := s.store.GetConsoleSessionByHash(ctx, roster.HashToken(secret))
	if errors.Is(err, roster.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx roster.Tx) error { return tx.EndConsoleSession(ctx, sess.ID, s.now()) })
}
