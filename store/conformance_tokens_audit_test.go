package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// TestTokenRoundTripAndPaging: every token field comes back as written, a
// hash is unique, lookups of nothing are not found, and a user's tokens
// page by id without another user's.
func TestTokenRoundTripAndPaging(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		u, other := newUser("owner@example.com"), newUser("other@example.com")
		support, _ := roster.NewToken(u.ID, roster.TokenSupport, "support session", ptr(t0.Add(time.Hour)), t0)
		support.WorkspaceID, support.LastUsedAt, support.RevokedAt = ptr("ws_1"), ptr(t0.Add(time.Minute)), ptr(t0.Add(2*time.Minute))
		rows, mine := []any{u, other, support}, []string{support.ID}
		for range 3 {
			tok, _ := roster.NewToken(u.ID, roster.TokenPersonal, "cli", nil, t0)
			rows, mine = append(rows, tok), append(mine, tok.ID)
		}
		theirs, _ := roster.NewToken(other.ID, roster.TokenPersonal, "cli", nil, t0)
		seed(t, db, append(rows, theirs)...)

		got, err := db.GetToken(ctx, support.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, support) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, support)
		}
		dup, _ := roster.NewToken(u.ID, roster.TokenPersonal, "dup", nil, t0)
		dup.Hash = support.Hash
		if err := db.Update(ctx, func(tx roster.Tx) error { return tx.CreateToken(ctx, dup) }); !errors.Is(err, roster.ErrUniqueViolation) {
			t.Errorf("a second token with the same hash: %v, want a unique violation", err)
		}
		if _, err := db.GetToken(ctx, roster.NewID(roster.PrefixToken)); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("unknown id: %v", err)
		}
		if _, err := db.GetTokenByHash(ctx, roster.HashToken("rst_pat_unknown")); !errors.Is(err, roster.ErrNotFound) {
			t.Errorf("unknown hash: %v", err)
		}

		mine = sorted(mine...)
		first, err := db.ListTokens(ctx, u.ID, roster.Page{Limit: 2})
		if ids := idsOf(first, idOfToken); err != nil || !slices.Equal(ids, mine[:3]) {
			t.Errorf("first page (Limit+1 rows): %v %v, want %v", ids, err, mine[:3])
		}
		rest, err := db.ListTokens(ctx, u.ID, roster.Page{Limit: 2, After: mine[1]})
		if ids := idsOf(rest, idOfToken); err != nil || !slices.Equal(ids, mine[2:]) {
			t.Errorf("second page: %v %v, want %v", ids, err, mine[2:])
		}

		// Revoking what is not there, or what is revoked already, changes nothing.
		write(t, db, func(tx roster.Tx) error {
			if ok, err := tx.RevokeToken(ctx, roster.NewID(roster.PrefixToken), t0); err != nil || ok {
				t.Errorf("revoking no token: %v %v", ok, err)
			}
			if ok, err := tx.RevokeToken(ctx, support.ID, t0.Add(time.Hour)); err != nil || ok {
				t.Errorf("revoking a revoked token: %v %v", ok, err)
			}
			return nil
		})
		if got, _ := db.GetToken(ctx, support.ID); !got.RevokedAt.Equal(*support.RevokedAt) {
			t.Errorf("revoked_at moved to %v", got.RevokedAt)
		}
	})
}

// TestAuditFiltersAndRoundTrip: every field of an event comes back, and the
// workspace and actor filters (the actor or whom it acted for) select
// exactly their events, newest first.
func TestAuditFiltersAndRoundTrip(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		db := rostertest.OpenStore(t, b)
		ctx := context.Background()
		full := roster.AuditEvent{ID: roster.NewID(roster.PrefixAudit), At: t0, ActorUserID: ptr("usr_staff"), ActorTokenID: ptr("tok_1"),
			Via: roster.ViaSupport, OnBehalfOf: ptr("usr_customer"), Action: "member.added", TargetType: "membership", TargetID: "mbr_1",
			OrgID: ptr("org_1"), WorkspaceID: ptr("ws_1"), Before: json.RawMessage(`{"role":"viewer"}`), After: json.RawMessage(`{"role":"admin"}`),
			RequestID: "req-1", IP: "192.0.2.1"}
		byCustomer := roster.AuditEvent{ID: roster.NewID(roster.PrefixAudit), At: t0.Add(time.Minute), ActorUserID: ptr("usr_customer"),
			Via: roster.ViaUser, Action: "token.created", TargetType: "token", TargetID: "tok_2"}
		elsewhere := roster.AuditEvent{ID: roster.NewID(roster.PrefixAudit), At: t0.Add(2 * time.Minute), Via: roster.ViaSystem,
			Action: "workspace.created", TargetType: "workspace", TargetID: "ws_2", OrgID: ptr("org_1"), WorkspaceID: ptr("ws_2")}
		write(t, db, func(tx roster.Tx) error { return tx.InsertAudit(ctx, full, byCustomer, elsewhere) })

		list := func(f roster.AuditFilter) []roster.AuditEvent {
			t.Helper()
			es, err := db.ListAudit(ctx, f, roster.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			return es
		}
		got := list(roster.AuditFilter{WorkspaceID: "ws_1"})
		if len(got) != 1 {
			t.Fatalf("workspace filter: %d events, want 1", len(got))
		}
		// JSON is compared as values: PostgreSQL's jsonb rewrites spacing.
		e := got[0]
		if e.ID != full.ID || !e.At.Equal(full.At) || *e.ActorUserID != "usr_staff" || *e.ActorTokenID != "tok_1" || e.Via != roster.ViaSupport ||
			*e.OnBehalfOf != "usr_customer" || e.Action != full.Action || e.TargetType != full.TargetType || e.TargetID != full.TargetID ||
			*e.OrgID != "org_1" || *e.WorkspaceID != "ws_1" || !sameJSON(e.Before, full.Before) || !sameJSON(e.After, full.After) ||
			e.RequestID != "req-1" || e.IP != "192.0.2.1" {
			t.Errorf("round trip: %+v", e)
		}
		if ids := idsOf(list(roster.AuditFilter{ActorID: "usr_customer"}), func(e roster.AuditEvent) string { return e.ID }); !slices.Equal(ids, []string{byCustomer.ID, full.ID}) {
			t.Errorf("actor filter (acting or acted for), newest first: %v", ids)
		}
		if es := list(roster.AuditFilter{ActorID: "usr_customer"}); es[0].Before != nil || es[0].OrgID != nil || es[0].ActorTokenID != nil {
			t.Errorf("absent fields came back set: %+v", es[0])
		}
		if ids := idsOf(list(roster.AuditFilter{OrgID: "org_1", WorkspaceID: "ws_2"}), func(e roster.AuditEvent) string { return e.ID }); !slices.Equal(ids, []string{elsewhere.ID}) {
			t.Errorf("organisation and workspace filters together: %v", ids)
		}
	})
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(a, b []byte) bool {
	var va, vb any
	return json.Unmarshal(a, &va) == nil && json.Unmarshal(b, &vb) == nil && reflect.DeepEqual(va, vb)
}
