package console_test

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/roster-dev/roster/internal/rostertest"
)

// browser is one browser of the console: its own cookies, and no
// redirect followed unless asked, so tests see each answer.
type browser struct {
	t      testing.TB
	env    *rostertest.Env
	client *http.Client
	lang   string // Accept-Language
}

func newBrowser(t testing.TB, env *rostertest.Env) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, env: env, lang: "en", client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is one answer of the console.
type page struct {
	Status int
	Header http.Header
	Body   string
	URL    string
}

func (b *browser) do(method, path string, form url.Values) *page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.env.HTTP.URL+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept-Language", b.lang)
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	p := &page{Status: res.StatusCode, Header: res.Header, Body: string(raw), URL: path}
	if p.Status >= 500 {
		b.t.Errorf("%s %s: server error %d:\n%s", method, path, p.Status, p.Body)
	}
	return p
}

func (b *browser) get(path string) *page { b.t.Helper(); return b.do(http.MethodGet, path, nil) }

// post sends a form as the page it is on would: with that page's CSRF
// token unless the form sets its own.
func (b *browser) post(path string, form url.Values) *page {
	b.t.Helper()
	return b.do(http.MethodPost, path, form)
}

// follow gets the page a redirect points to.
func (b *browser) follow(p *page) *page {
	b.t.Helper()
	if p.Status != http.StatusSeeOther {
		b.t.Fatalf("%s: status %d, want a 303:\n%s", p.URL, p.Status, p.Body)
	}
	return b.get(p.Header.Get("Location"))
}

// signIn signs in with a personal token and returns the start page.
func (b *browser) signIn(token string) *page {
	b.t.Helper()
	form := b.get("/console/sign-in").want(b.t, http.StatusOK)
	p := b.post("/console/sign-in", url.Values{"csrf": {form.csrf(b.t)}, "token": {token}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/console/" {
		b.t.Fatalf("signing in: %d %s:\n%s", p.Status, p.Header.Get("Location"), p.Body)
	}
	return b.follow(p).want(b.t, http.StatusOK)
}

// cookie is the browser's cookie of this name for the console.
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.env.HTTP.URL + "/console/")
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (p *page) want(t testing.TB, status int) *page {
	t.Helper()
	if p.Status != status {
		t.Fatalf("%s: status %d, want %d:\n%s", p.URL, p.Status, status, p.Body)
	}
	return p
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the page's forms.
func (p *page) csrf(t testing.TB) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("%s: no CSRF field:\n%s", p.URL, p.Body)
	}
	return html.UnescapeString(m[1])
}

var errorCode = regexp.MustCompile(`<code>([a-z_]+)</code></p></div>`)

// code is the API code of the error the page shows, "" when none.
func (p *page) code() string {
	if m := errorCode.FindStringSubmatch(p.Body); m != nil {
		return m[1]
	}
	return ""
}

// has reports whether the page's text contains s, as HTML would show it.
func (p *page) has(s string) bool { return strings.Contains(html.UnescapeString(p.Body), s) }

var nextLink = regexp.MustCompile(`<a rel="next" href="([^"]+)"`)
