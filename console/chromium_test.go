package console_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

// chromium starts a headless Chromium for the test, or skips it where
// there is none (CI fails instead: .ci/run installs Debian's chromium).
func chromium(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("no chromium on PATH; CI installs Debian's chromium package")
		}
		t.Skip("browser tests need Debian's chromium package (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		// A machine without a network: no background fetches to wait on.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	return alloc
}

// tab opens a browser tab: the first starts the browser; each next one
// (from the first) has a browser context of its own, with its own cookies,
// as a second person's browser would.
func tab(t *testing.T, parent context.Context, opts ...chromedp.ContextOption) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, opts...)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// read runs an action that reads something from the page.
func read[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return read(t, ctx, "reading "+sel, chromedp.Text(chromedp.CSS(sel)))
}

func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	return read(t, ctx, "reading "+sel+" "+name, chromedp.AttributeValue(chromedp.CSS(sel), name)).Value
}

// TestInChromium walks the console in a real browser: sign in with a
// login link, add a member and watch the seat bar move, change a role,
// invite someone who accepts in a second browser context, switch the
// language to Dutch, and join and leave a workspace as support staff.
func TestInChromium(t *testing.T) {
	alloc := chromium(t)
	env := rostertest.NewEnv(t, rostertest.SQLite)
	_, ownerToken := env.NewUserWithToken("owner@example.com")
	org, _ := env.CreateOrg(ownerToken, "acme")
	env.Expect(http.StatusOK, rostertest.Req{Method: "PUT", Path: "/v1/orgs/" + org.ID + "/plan", Token: env.AdminToken, Body: map[string]any{"seat_cap": 5}})
	bob, _ := env.NewUserWithToken("bob@example.com")
	_, secret, err := env.Service.CreateLoginLink(rostertest.System(), "owner@example.com")
	if err != nil {
		t.Fatal(err)
	}
	base := env.HTTP.URL

	owner := tab(t, alloc)
	run(t, owner, "signing in with the login link",
		chromedp.Navigate(base+"/console/login/"+secret),
		chromedp.Click(chromedp.CSS(`main form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/console/orgs/`+org.ID+`"]`)),
	)
	if h := text(t, owner, "h1"); h != "Your organisations" {
		t.Errorf("after signing in the page says %q", h)
	}

	run(t, owner, "opening the organisation",
		chromedp.Click(chromedp.CSS(`a[href="/console/orgs/`+org.ID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`meter.seat-bar`)),
	)
	before := attr(t, owner, "meter.seat-bar", "value")
	run(t, owner, "adding a member",
		chromedp.SendKeys(chromedp.CSS(`#user_id`), bob.ID),
		chromedp.SetValue(chromedp.CSS(`#role`), string(roster.OrgMember)),
		chromedp.Click(chromedp.CSS(`form.card button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	)
	if after := attr(t, owner, "meter.seat-bar", "value"); before != "1" || after != "2" {
		t.Errorf("the seat bar went from %q to %q, want 1 to 2", before, after)
	}

	change := `form[action="/console/orgs/` + org.ID + `/members/` + bob.ID + `"]`
	run(t, owner, "changing a role",
		chromedp.Navigate(base+"/console/orgs/"+org.ID), // without the last notice
		chromedp.SetValue(chromedp.CSS(change+` select`), string(roster.OrgAdmin)),
		chromedp.Click(chromedp.CSS(change+` button`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	)
	if n := text(t, owner, "p.notice"); n != "The role has been changed." {
		t.Errorf("after changing the role the page says %q", n)
	}
	if got := orgMembers(env, org.ID)[bob.ID]; got != string(roster.OrgAdmin) {
		t.Errorf("bob is %q after the change in the browser", got)
	}

	// Invite carol; she accepts in a browser context of her own.
	ws := listOf(env, "/v1/workspaces?org_id="+org.ID)[0]["id"].(string)
	env.NewUserWithToken("carol@example.com")
	run(t, owner, "inviting carol",
		chromedp.Navigate(base+"/console/workspaces/"+ws),
		chromedp.SendKeys(chromedp.CSS(`#email`), "carol@example.com"),
		chromedp.Click(chromedp.CSS(`form[action$="/invitations"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`section.issued input.copy`)),
	)
	_, carolLink, err := env.Service.CreateLoginLink(rostertest.System(), "carol@example.com")
	if err != nil {
		t.Fatal(err)
	}
	carol := tab(t, owner, chromedp.WithNewBrowserContext())
	run(t, carol, "carol signs in and accepts",
		chromedp.Navigate(base+"/console/login/"+carolLink),
		chromedp.Click(chromedp.CSS(`main form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/accept"] button`)),
		chromedp.Click(chromedp.CSS(`form[action$="/accept"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	)
	if h := text(t, carol, "h2"); h != "acme acme" && h != "acme" {
		t.Errorf("after accepting, carol is on %q, want the acme workspace", h)
	}
	var carolIn bool
	for _, m := range listOf(env, "/v1/workspaces/"+ws+"/members") {
		if m["role"] == "member" && !m["derived"].(bool) {
			carolIn = true
		}
	}
	if !carolIn {
		t.Error("carol accepted in the browser but is no member")
	}

	run(t, owner, "switching to Dutch",
		chromedp.Navigate(base+"/console/orgs/"+org.ID),
		chromedp.Click(chromedp.CSS(`nav.languages a[lang=nl]`)),
		chromedp.WaitVisible(chromedp.CSS(`html[lang=nl] h1`)),
	)
	if h := text(t, owner, "h1"); h != "Organisatie" {
		t.Errorf("after choosing Nederlands the page is titled %q", h)
	}
	run(t, owner, "the next page", chromedp.Navigate(base+"/console/"))
	if h := text(t, owner, "h1"); h != "Je organisaties" {
		t.Errorf("the next page is titled %q, want it in Dutch", h)
	}

	// A member of the vendor's support staff joins the workspace and
	// leaves it again.
	env.Expect(http.StatusOK, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + ws + "/settings", Token: ownerToken, Body: map[string]any{"allow_support_access": true}})
	staffUser(env, "sam@example.com", roster.PlatformSupport)
	_, samLink, err := env.Service.CreateLoginLink(rostertest.System(), "sam@example.com")
	if err != nil {
		t.Fatal(err)
	}
	sam := tab(t, owner, chromedp.WithNewBrowserContext())
	run(t, sam, "sam joins as support",
		chromedp.Navigate(base+"/console/login/"+samLink),
		chromedp.Click(chromedp.CSS(`main form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.staff`)),
		chromedp.Click(chromedp.CSS(`nav.staff a[href="/console/staff/support"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#workspace_id`)),
		chromedp.SendKeys(chromedp.CSS(`#workspace_id`), ws),
		chromedp.SendKeys(chromedp.CSS(`#reason`), "ticket 42"),
		chromedp.Click(chromedp.CSS(`form.card button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	)
	if n := text(t, sam, "p.notice"); n != "You have joined the workspace as support." {
		t.Errorf("after joining, the page says %q", n)
	}
	if left := text(t, sam, "main table time"); !strings.Contains(left, "minutes left") {
		t.Errorf("the session's time left reads %q", left)
	}
	run(t, sam, "sam leaves",
		chromedp.Click(chromedp.CSS(`a[href="/console/staff/support/`+ws+`/leave"]`)),
		chromedp.WaitVisible(chromedp.CSS(`button.danger`)),
		chromedp.Click(chromedp.CSS(`button.danger`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	)
	if n := text(t, sam, "p.notice"); n != "You have left the workspace." {
		t.Errorf("after leaving, the page says %q", n)
	}

	// A second browser holds no session: it is sent to sign in.
	stranger := tab(t, owner, chromedp.WithNewBrowserContext())
	run(t, stranger, "a second browser", chromedp.Navigate(base+"/console/orgs/"+org.ID))
	if url := read(t, stranger, "its location", chromedp.Location()); !strings.HasSuffix(url, "/console/sign-in") {
		t.Errorf("a browser without a session is at %s, want the sign-in page", url)
	}
}
