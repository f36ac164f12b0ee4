package roster_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/roster-dev/roster"
)

func TestRoleOrder(t *testing.T) {
	order := roster.WorkspaceRoles // highest first
	for i, hi := range order {
		for j, lo := range order {
			if got := hi.AtLeast(lo); got != (i <= j) {
				t.Errorf("%s.AtLeast(%s) = %v", hi, lo, got)
			}
		}
	}
	if roster.WorkspaceRole("").AtLeast(roster.RoleViewer) || roster.WorkspaceRole("root").AtLeast(roster.RoleViewer) {
		t.Error("no role, or an unknown one, is at least viewer")
	}
	if roster.RoleViewer.Max(roster.RoleAdmin) != roster.RoleAdmin || roster.WorkspaceRole("").Max(roster.RoleViewer) != roster.RoleViewer {
		t.Error("Max")
	}
	for _, p := range roster.Permissions {
		if !roster.RoleOwner.Can(p) {
			t.Errorf("owner lacks %s", p)
		}
	}
	if roster.RoleOwner.Can("made.up") {
		t.Error("an unknown permission is granted")
	}
}

func TestEffectiveAccess(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	later := now.Add(time.Hour)
	direct := func(role roster.WorkspaceRole, expires *time.Time) *roster.WorkspaceMembership {
		return &roster.WorkspaceMembership{Role: role, Source: roster.SourceDirect, ExpiresAt: expires}
	}
	org := func(role roster.OrgRole) *roster.OrgMembership { return &roster.OrgMembership{Role: role} }
	for _, c := range []struct {
		name string
		d    *roster.WorkspaceMembership
		o    *roster.OrgMembership
		at   time.Time
		role roster.WorkspaceRole
		via  roster.AccessVia
	}{
		{"nothing", nil, nil, now, "", ""},
		{"direct", direct(roster.RoleMember, nil), nil, now, roster.RoleMember, roster.AccessDirect},
		{"expiring, before", direct(roster.RoleMember, &later), nil, now, roster.RoleMember, roster.AccessDirect},
		{"expiring, at expiry", direct(roster.RoleMember, &later), nil, later, "", ""},
		{"org owner", nil, org(roster.OrgOwner), now, roster.RoleOwner, roster.AccessOrgOwner},
		{"org admin over direct viewer", direct(roster.RoleViewer, nil), org(roster.OrgAdmin), now, roster.RoleAdmin, roster.AccessOrgAdmin},
		{"direct owner over org admin", direct(roster.RoleOwner, nil), org(roster.OrgAdmin), now, roster.RoleOwner, roster.AccessDirect},
		{"tie, permanent direct: the member's own row", direct(roster.RoleOwner, nil), org(roster.OrgOwner), now, roster.RoleOwner, roster.AccessDirect},
		{"tie, expiring direct: the organisation, which lasts", direct(roster.RoleAdmin, &later), org(roster.OrgAdmin), now, roster.RoleAdmin, roster.AccessOrgAdmin},
		{"org member gives nothing", nil, org(roster.OrgMember), now, "", ""},
		{"billing gives nothing", nil, org(roster.OrgBilling), now, "", ""},
		{"support session", &roster.WorkspaceMembership{Role: roster.RoleAdmin, Source: roster.SourceStaffSupport}, nil, now, roster.RoleAdmin, roster.AccessSupport},
	} {
		a := roster.EffectiveAccess(c.d, c.o, c.at)
		if a.Role != c.role || a.Via != c.via {
			t.Errorf("%s: %+v, want %s via %s", c.name, a, c.role, c.via)
		}
	}
}

func TestTokenShape(t *testing.T) {
	now := time.Now()
	seen := map[string]bool{}
	for _, kind := range roster.TokenKinds {
		tok, plain := roster.NewToken("usr_x", kind, "n", nil, now)
		if !strings.HasPrefix(plain, kind.Prefix()) || len(plain)-len(kind.Prefix()) < 43 || tok.Hash != roster.HashToken(plain) {
			t.Errorf("%s token %q", kind, plain)
		}
		if got, ok := roster.TokenKindOf(plain); !ok || got != kind {
			t.Errorf("kind of %q: %v", plain, got)
		}
		if seen[plain] {
			t.Error("repeated token")
		}
		seen[plain] = true
	}
	// Display prefixes count characters, never splitting one.
	if got := roster.DisplayPrefix("héllo wörld", 8); got != "héllo wö" || !utf8.ValidString(got) {
		t.Errorf("display prefix %q", got)
	}
	if got := roster.DisplayPrefix("日本語のトークン文字列", 8); utf8.RuneCountInString(got) != 8 || !utf8.ValidString(got) {
		t.Errorf("display prefix %q", got)
	}
}

func TestIDsAndCursors(t *testing.T) {
	a, b := roster.NewID(roster.PrefixUser), roster.NewID(roster.PrefixUser)
	if !roster.ValidID(roster.PrefixUser, a) || roster.ValidID(roster.PrefixToken, a) || !(a < b) {
		t.Errorf("ids %s %s", a, b)
	}
	for _, c := range []string{"w", "A", "_", "/", ":", "é"} { // outside base32hex's lower-case alphabet
		if bad := a[:10] + c + a[10+len(c):]; roster.ValidID(roster.PrefixUser, bad) {
			t.Errorf("%q is not an id", bad)
		}
	}
	if roster.ValidID(roster.PrefixUser, a+"0") || roster.ValidID(roster.PrefixUser, a[:len(a)-1]) {
		t.Error("an id of the wrong length")
	}
	p, err := roster.ParsePage(0, roster.EncodeCursor(a), roster.PrefixUser)
	if err != nil || p.After != a || p.Limit != roster.DefaultPageLimit {
		t.Errorf("page %+v %v", p, err)
	}
	for _, bad := range []string{"x", roster.EncodeCursor("usr_short"), roster.EncodeCursor(roster.NewID(roster.PrefixToken))} {
		if _, err := roster.ParsePage(10, bad, roster.PrefixUser); roster.ErrorCode(err) != roster.CodeInvalidCursor {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
}

func TestEnumErrorsListAllowedValues(t *testing.T) {
	_, err := roster.ParseWorkspaceRole("root")
	var e *roster.Error
	if !asError(err, &e) || e.Code != roster.CodeInvalidRole || e.Kind != roster.KindInvalid {
		t.Fatalf("%v", err)
	}
	allowed, _ := e.Details["allowed"].([]string)
	if len(allowed) != len(roster.WorkspaceRoles) {
		t.Errorf("allowed values %v", e.Details)
	}
}

func asError(err error, target **roster.Error) bool {
	e, ok := err.(*roster.Error)
	*target = e
	return ok
}

func TestSeatFor(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	soon, later := now.Add(time.Hour), now.Add(2*time.Hour)
	plan := roster.DefaultPlan()
	ws := func(role roster.WorkspaceRole, source roster.MembershipSource, expires *time.Time) roster.WorkspaceMembership {
		return roster.WorkspaceMembership{Role: role, Source: source, ExpiresAt: expires}
	}
	org := &roster.OrgMembership{Role: roster.OrgBilling}
	for _, c := range []struct {
		name    string
		active  bool
		org     *roster.OrgMembership
		ms      []roster.WorkspaceMembership
		role    roster.SeatRole
		until   *time.Time
		recheck *time.Time
	}{
		{"viewer is free", true, nil, []roster.WorkspaceMembership{ws(roster.RoleViewer, roster.SourceDirect, nil)}, "", nil, nil},
		{"external pays", true, nil, []roster.WorkspaceMembership{ws(roster.RoleExternal, roster.SourceDirect, nil)}, "external", nil, nil},
		{"support never", true, nil, []roster.WorkspaceMembership{ws(roster.RoleAdmin, roster.SourceStaffSupport, nil)}, "", nil, nil},
		{"inactive never", false, org, nil, "", nil, nil},
		{"org role pays", true, org, nil, "billing", nil, nil},
		// The admin role ends before the seat: recheck then.
		{"highest role", true, org, []roster.WorkspaceMembership{ws(roster.RoleAdmin, roster.SourceDirect, &soon)}, "admin", nil, &soon},
		{"latest expiry", true, nil, []roster.WorkspaceMembership{ws(roster.RoleMember, roster.SourceDirect, &soon), ws(roster.RoleExternal, roster.SourceDirect, &later)}, "member", &later, &soon},
		{"expired", true, nil, []roster.WorkspaceMembership{ws(roster.RoleMember, roster.SourceDirect, &now)}, "", nil, nil},
	} {
		seat := roster.SeatFor(plan, c.active, c.org, c.ms, now)
		if seat.Role != c.role || !roster.SameTime(seat.Until, c.until) || !roster.SameTime(seat.Recheck, c.recheck) {
			t.Errorf("%s: %q until %v recheck %v, want %q until %v recheck %v", c.name, seat.Role, seat.Until, seat.Recheck, c.role, c.until, c.recheck)
		}
	}
	counts := roster.SeatCounts{"owner": 2, "member": 3}
	if counts.Used(plan) != 5 || counts.Used(roster.Plan{OwnerSeatFree: true}) != 4 {
		t.Errorf("used: %d, %d", counts.Used(plan), counts.Used(roster.Plan{OwnerSeatFree: true}))
	}
}

func TestResourceTypes(t *testing.T) {
	for _, good := range []string{"document", "site.page", "a", "x-1_y.z", strings.Repeat("a", roster.MaxResourceTypeLen)} {
		if err := roster.CheckResourceFields(good, "ext", "name"); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
	for _, bad := range []string{"", "Document", "1doc", "_doc", ".doc", "doc/x", "doc type", "doc:x", "dé", strings.Repeat("a", roster.MaxResourceTypeLen+1)} {
		if err := roster.CheckResourceFields(bad, "ext", "name"); roster.ErrorCode(err) != roster.CodeInvalidResourceType {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
