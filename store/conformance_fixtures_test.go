package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/store"
)

// Fixtures for the conformance tests: rows with every required field set,
// created at t0, that a test changes where it matters.

func newOrg(slug string) roster.Org {
	return roster.Org{ID: roster.NewID(roster.PrefixOrg), Name: "Org " + slug, Slug: slug, MembersCanCreateWorkspaces: true,
		Plan: roster.DefaultPlan(), CreatedAt: t0, UpdatedAt: t0}
}

func newWorkspace(orgID, slug string) roster.Workspace {
	return roster.Workspace{ID: roster.NewID(roster.PrefixWorkspace), OrgID: orgID, Name: "Workspace " + slug, Slug: slug,
		Values: map[string]string{}, CreatedAt: t0, UpdatedAt: t0}
}

func newOrgMembership(orgID, userID string, role roster.OrgRole) roster.OrgMembership {
	return roster.OrgMembership{ID: roster.NewID(roster.PrefixMembership), OrgID: orgID, UserID: userID, Role: role,
		JoinedAt: t0, UpdatedAt: t0}
}

func newWorkspaceMembership(w roster.Workspace, userID string, role roster.WorkspaceRole) roster.WorkspaceMembership {
	return roster.WorkspaceMembership{ID: roster.NewID(roster.PrefixMembership), WorkspaceID: w.ID, OrgID: w.OrgID, UserID: userID,
		Role: role, Source: roster.SourceDirect, JoinedAt: t0, UpdatedAt: t0}
}

// newInvitation is an open invitation with a fresh token, expiring in a week.
func newInvitation(w roster.Workspace, email string, role roster.WorkspaceRole) roster.Invitation {
	return roster.Invitation{ID: roster.NewID(roster.PrefixInvitation), OrgID: w.OrgID, WorkspaceID: w.ID, Email: email, Role: role,
		TokenHash: roster.HashToken(roster.NewInviteSecret()), ExpiresAt: t0.Add(roster.DefaultInvitationLifetime), Open: true,
		CreatedAt: t0, UpdatedAt: t0}
}

// newAccessRequest is a pending access request.
func newAccessRequest(w roster.Workspace, userID string) roster.AccessRequest {
	return roster.AccessRequest{ID: roster.NewID(roster.PrefixAccessRequest), OrgID: w.OrgID, WorkspaceID: w.ID, UserID: userID,
		Message: "let me in", Status: roster.RequestPending, CreatedAt: t0}
}

// newSeat is a seat that expires (and is due for recheck) at until, or never when until is nil.
func newSeat(orgID, userID string, role roster.SeatRole, until *time.Time) roster.Seat {
	return roster.Seat{OrgID: orgID, UserID: userID, Role: role, Until: until, Recheck: until}
}

// seed writes rows, parents first, in one transaction through the store's
// own create methods, and fails the test unless every row was inserted.
// Seats are new seats (the user had none).
func seed(t *testing.T, db *store.DB, rows ...any) {
	t.Helper()
	ctx := context.Background()
	write(t, db, func(tx roster.Tx) error {
		for _, row := range rows {
			inserted, err := true, error(nil)
			switch r := row.(type) {
			case roster.User:
				err = tx.CreateUser(ctx, r)
			case roster.Org:
				err = tx.CreateOrg(ctx, r)
			case roster.Workspace:
				err = tx.CreateWorkspace(ctx, r)
			case roster.OrgMembership:
				inserted, err = tx.CreateOrgMembership(ctx, r)
			case roster.WorkspaceMembership:
				inserted, err = tx.CreateWorkspaceMembership(ctx, r)
			case roster.Invitation:
				inserted, err = tx.CreateInvitation(ctx, r)
			case roster.AccessRequest:
				inserted, err = tx.CreateAccessRequest(ctx, r)
			case roster.Token:
				err = tx.CreateToken(ctx, r)
			case roster.Seat:
				err = tx.ReplaceSeat(ctx, roster.Seat{OrgID: r.OrgID, UserID: r.UserID}, r)
			default:
				t.Fatalf("seed: cannot write a %T", row)
			}
			if err != nil {
				return err
			}
			if !inserted {
				t.Fatalf("seed: %+v was not inserted", row)
			}
		}
		return nil
	})
}

// idsOf maps items to their ids, keeping the order.
func idsOf[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, v := range items {
		out[i] = id(v)
	}
	return out
}

// sorted returns the ids in ascending order: the order of every id-paged list.
func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func userIDOfOrgMembership(m roster.OrgMembership) string             { return m.UserID }
func userIDOfWorkspaceMembership(m roster.WorkspaceMembership) string { return m.UserID }
func idOfOrg(o roster.Org) string                                     { return o.ID }
func idOfWorkspace(w roster.Workspace) string                         { return w.ID }
func idOfUser(u roster.User) string                                   { return u.ID }
func idOfInvitation(i roster.Invitation) string                       { return i.ID }
func idOfAccessRequest(r roster.AccessRequest) string                 { return r.ID }
func idOfToken(tok roster.Token) string                               { return tok.ID }
