package console_test

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/internal/rostertest"
)

func TestSignInWithATokenAndOut(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		_, token := env.NewUserWithToken("ann@example.com")
		env.CreateOrg(token, "acme")
		br := newBrowser(t, env)

		if p := br.get("/console/"); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/console/sign-in" {
			t.Fatalf("signed out, the start page: %d %s, want a 303 to the sign-in page", p.Status, p.Header.Get("Location"))
		}
		_, ws := env.CreateOrg(token, "second")
		env.Expect(http.StatusOK, rostertest.Req{Method: "PUT", Path: "/v1/me/default-workspace", Token: token, Body: map[string]any{"workspace_id": ws.ID}})
		home := br.signIn(token)
		if !home.has("acme") || !home.has("ann@example.com") {
			t.Errorf("the start page does not show the organisation and who is signed in:\n%s", home.Body)
		}
		if !regexp.MustCompile(`href="/console/workspaces/`+ws.ID+`">second</a> <span class="role">[^<]*</span> <span class="badge default">`).MatchString(home.Body) ||
			strings.Count(home.Body, `badge default`) != 1 {
			t.Errorf("the default workspace is not the one marked:\n%s", home.Body)
		}
		secret := br.cookie("roster_session")
		if secret == "" || strings.Contains(secret, token) {
			t.Fatalf("session cookie %q: want a secret of its own, never the token", secret)
		}
		for _, c := range home.Header.Values("Set-Cookie") {
			t.Errorf("a signed-in page sets a cookie: %s", c)
		}

		// A second browser holding the same cookie is the same session.
		thief := newBrowser(t, env)
		thief.client.Jar.SetCookies(mustURL(env.HTTP.URL+"/console/"), []*http.Cookie{{Name: "roster_session", Value: secret}})
		thief.get("/console/").want(t, http.StatusOK)

		out := br.post("/console/sign-out", url.Values{"csrf": {home.csrf(t)}})
		if out.Status != http.StatusSeeOther || !strings.HasPrefix(out.Header.Get("Location"), "/console/sign-in") {
			t.Fatalf("signing out: %d %s", out.Status, out.Header.Get("Location"))
		}
		if !br.follow(out).has("You have signed out.") {
			t.Error("the sign-in page does not say the user signed out")
		}
		if br.cookie("roster_session") != "" {
			t.Error("signing out leaves the session cookie in the browser")
		}
		if p := thief.get("/console/"); p.Status != http.StatusSeeOther {
			t.Errorf("the cookie of a signed-out session still opens the console: %d", p.Status)
		}
		if p := thief.post("/console/sign-out", url.Values{"csrf": {home.csrf(t)}}); p.Status != http.StatusUnauthorized || p.code() != roster.CodeSessionEnded {
			t.Errorf("a form of a signed-out session: %d %q, want 401 %s", p.Status, p.code(), roster.CodeSessionEnded)
		}
	})
}

func TestSessionCookieAttributes(t *testing.T) {
	env := rostertest.NewEnv(t, rostertest.SQLite)
	br := newBrowser(t, env)
	form := br.get("/console/sign-in")
	p := br.post("/console/sign-in", url.Values{"csrf": {form.csrf(t)}, "token": {env.AdminToken}})
	var session *http.Cookie
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == "roster_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("no session cookie: %v", p.Header.Values("Set-Cookie"))
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/console/" || session.Secure {
		t.Errorf("session cookie over plain HTTP: %+v, want HttpOnly, SameSite=Strict, Path=/console/, not Secure", session)
	}

	// Behind a proxy that terminates TLS, the cookie is Secure.
	req, _ := http.NewRequest(http.MethodPost, env.HTTP.URL+"/console/sign-in", strings.NewReader(url.Values{"csrf": {"x"}, "token": {env.AdminToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.AddCookie(&http.Cookie{Name: "roster_csrf", Value: "x"})
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == "roster_session" && !c.Secure {
			t.Errorf("behind TLS the session cookie is not Secure: %+v", c)
		}
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
		if form.Header.Get(h) == "" {
			t.Errorf("console pages carry no %s", h)
		}
	}
}

func TestSignInRefusals(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		ann, token := env.NewUserWithToken("ann@example.com")
		svc := env.IssueToken(ann.ID, map[string]any{"name": "backend", "kind": "service"})
		br := newBrowser(t, env)
		csrf := br.get("/console/sign-in").csrf(t)
		for _, c := range []struct {
			name, token, csrf string
			status            int
			code              string
		}{
			{"no CSRF token", token, "", http.StatusForbidden, roster.CodeCSRFInvalid},
			{"a forged CSRF token", token, "forged", http.StatusForbidden, roster.CodeCSRFInvalid},
			{"not a token", "hello", csrf, http.StatusUnauthorized, roster.CodeInvalidToken},
			{"an unknown token", "rst_pat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", csrf, http.StatusUnauthorized, roster.CodeInvalidToken},
			{"a service token", svc.Token, csrf, http.StatusUnauthorized, roster.CodeInvalidToken},
		} {
			p := br.post("/console/sign-in", url.Values{"csrf": {c.csrf}, "token": {c.token}})
			if p.Status != c.status || p.code() != c.code {
				t.Errorf("%s: %d %q, want %d %s", c.name, p.Status, p.code(), c.status, c.code)
			}
			if br.cookie("roster_session") != "" {
				t.Errorf("%s: signed in", c.name)
			}
		}
		env.Expect(http.StatusOK, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + ann.ID, Token: env.AdminToken, Body: map[string]any{"status": "suspended"}})
		if p := br.post("/console/sign-in", url.Values{"csrf": {csrf}, "token": {token}}); p.Status != http.StatusUnauthorized || p.code() != roster.CodeUserInactive {
			t.Errorf("a suspended user's token: %d %q, want 401 %s", p.Status, p.code(), roster.CodeUserInactive)
		}
	})
}

func TestLoginLinks(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		env.NewUserWithToken("ann@example.com")
		_, secret, err := env.Service.CreateLoginLink(rostertest.System(), "Ann@Example.com")
		if err != nil {
			t.Fatal(err)
		}
		path := "/console/login/" + secret

		br := newBrowser(t, env)
		br.get(path).want(t, http.StatusOK)
		form := br.get(path).want(t, http.StatusOK) // opening it twice spends nothing
		p := br.post(path, url.Values{"csrf": {form.csrf(t)}})
		if p.Status != http.StatusSeeOther {
			t.Fatalf("using the link: %d\n%s", p.Status, p.Body)
		}
		if !br.follow(p).has("ann@example.com") {
			t.Error("the link did not sign in its user")
		}

		again := newBrowser(t, env)
		form = again.get(path).want(t, http.StatusOK)
		if p := again.post(path, url.Values{"csrf": {form.csrf(t)}}); p.Status != http.StatusUnauthorized || p.code() != roster.CodeLoginLinkInvalid {
			t.Errorf("a used link: %d %q, want 401 %s", p.Status, p.code(), roster.CodeLoginLinkInvalid)
		}

		_, late, err := env.Service.CreateLoginLink(rostertest.System(), "ann@example.com")
		if err != nil {
			t.Fatal(err)
		}
		env.Clock.Advance(roster.LoginLinkLifetime)
		form = again.get("/console/login/" + late)
		if p := again.post("/console/login/"+late, url.Values{"csrf": {form.csrf(t)}}); p.Status != http.StatusUnauthorized || p.code() != roster.CodeLoginLinkInvalid {
			t.Errorf("a link 15 minutes old: %d %q, want 401 %s", p.Status, p.code(), roster.CodeLoginLinkInvalid)
		}
		if p := again.post("/console/login/rst_lnk_made-up", url.Values{"csrf": {form.csrf(t)}}); p.Status != http.StatusUnauthorized {
			t.Errorf("a made-up link: %d, want 401", p.Status)
		}

		if _, _, err := env.Service.CreateLoginLink(rostertest.System(), "nobody@example.com"); !isCode(err, roster.CodeUserNotFound) {
			t.Errorf("a link for an unknown email: %v, want %s", err, roster.CodeUserNotFound)
		}
	})
}

// TestLoginLinkIsUsedOnce races browsers for one link: exactly one signs in.
func TestLoginLinkIsUsedOnce(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		_, secret, err := env.Service.CreateLoginLink(rostertest.System(), "admin@example.com")
		if err != nil {
			t.Fatal(err)
		}
		const browsers = 6
		statuses := make(chan int, browsers)
		forms := make([]*browser, browsers)
		csrfs := make([]string, browsers)
		for i := range forms {
			forms[i] = newBrowser(t, env)
			csrfs[i] = forms[i].get("/console/login/" + secret).csrf(t)
		}
		for i := range forms {
			go func() {
				statuses <- forms[i].do(http.MethodPost, "/console/login/"+secret, url.Values{"csrf": {csrfs[i]}}).Status
			}()
		}
		won := 0
		for range browsers {
			switch s := <-statuses; s {
			case http.StatusSeeOther:
				won++
			case http.StatusUnauthorized:
			default:
				t.Errorf("a browser racing for a link: %d", s)
			}
		}
		if won != 1 {
			t.Errorf("%d browsers signed in with one link, want 1", won)
		}
	})
}

func TestSessionsEndWhenIdleOrSuspended(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		ann, token := env.NewUserWithToken("ann@example.com")
		br := newBrowser(t, env)
		br.signIn(token)

		// Use keeps a session alive; 12 hours without any ends it.
		env.Clock.Advance(roster.ConsoleIdleTimeout - time.Minute)
		br.get("/console/").want(t, http.StatusOK)
		env.Clock.Advance(roster.ConsoleIdleTimeout - time.Minute)
		br.get("/console/").want(t, http.StatusOK)
		env.Clock.Advance(roster.ConsoleIdleTimeout)
		if p := br.get("/console/"); p.Status != http.StatusSeeOther {
			t.Errorf("after 12 hours idle: %d, want a 303 to the sign-in page", p.Status)
		}

		br.signIn(token)
		patch := func(status string) {
			env.Expect(http.StatusOK, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + ann.ID, Token: env.AdminToken, Body: map[string]any{"status": status}})
		}
		patch("suspended")
		if p := br.get("/console/"); p.Status != http.StatusSeeOther {
			t.Errorf("a suspended user's session: %d, want a 303 to the sign-in page", p.Status)
		}
		patch("active")
		if p := br.get("/console/"); p.Status != http.StatusSeeOther {
			t.Errorf("reactivation revived a session that suspension ended: %d", p.Status)
		}
		br.signIn(token) // the token itself works again
	})
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func isCode(err error, code string) bool {
	var e *roster.Error
	return errors.As(err, &e) && e.Code == code
}

// TestExternalsSeeTheirWorkspaces: a workspace's external member, who sees
// nothing of its organisation, has the workspace on their start page.
func TestExternalsSeeTheirWorkspaces(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		_, ownerToken := env.NewUserWithToken("owner@example.com")
		org, ws := env.CreateOrg(ownerToken, "acme")
		ext, extToken := env.NewUserWithToken("ext@example.com")
		env.PutMember(ownerToken, ws.ID, ext.ID, map[string]any{"role": "external"}).Want(t, http.StatusCreated)
		home := newBrowser(t, env).signIn(extToken)
		if !home.has(`href="/console/workspaces/`+ws.ID+`"`) || strings.Contains(home.Body, "/console/orgs/"+org.ID) {
			t.Errorf("an external's start page: want the workspace, and no link to the organisation:\n%s", home.Body)
		}
	})
}
