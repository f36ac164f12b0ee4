package service

import (
	"context"

	"github.com/roster-dev/roster"
)

// ListAudit reads the audit log, newest first (platform admins only).
func (s *Service) ListAudit(ctx context.Context, f roster.AuditFilter, p roster.Page) ([]roster.AuditEvent, string, error) {
	if !actor(ctx).IsPlatformAdmin() {
		return nil, "", errForbidden
	}
	events, err := s.store.ListAudit(ctx, f, p)
	if err != nil {
		return nil, "", err
	}
	events, next := roster.NextCursor(events, p.Limit, func(e roster.AuditEvent) string { return e.ID })
	return events, next, nil
}

// Me is the caller as GET /v1/me shows them.
type Me struct {
	User       roster.User
	Token      *roster.Token
	OnBehalfOf bool
}

// Me returns the caller.
func (s *Service) Me(ctx context.Context) (Me, error) {
	a := actor(ctx)
	return Me{User: a.Subject(), Token: a.Token, OnBehalfOf: a.Delegated()}, nil
}
