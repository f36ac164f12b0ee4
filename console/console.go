// Package console is Roster's admin console: server-rendered pages at
// /console/ for the people who manage organisations and workspaces, and for
// the vendor's staff. Every page and action goes through the same service
// calls as the API, with the signed-in user's authority and no other.
package console

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/httpapi"
)

// Base is where the console is served.
const Base = "/console/"

// Cookies the console sets, all on Base only.
const (
	sessionCookie  = "roster_session" // the session's secret (HttpOnly)
	preCSRFCookie  = "roster_csrf"    // the CSRF token of the sign-in forms, before a session exists
	languageCookie = "roster_lang"    // the language the visitor chose
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Options configure the console.
type Options struct {
	Logger *slog.Logger
	Clock  roster.Clock
}

// Console serves the admin console.
type Console struct {
	svc     roster.Services
	log     *slog.Logger
	now     roster.Clock
	mux     *http.ServeMux
	pages   map[string]*template.Template
	catalog *catalog
}

// New returns the console over svc.
func New(svc roster.Services, opts Options) (*Console, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	cat, err := loadCatalog()
	if err != nil {
		return nil, err
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	c := &Console{svc: svc, log: opts.Logger, now: opts.Clock, mux: http.NewServeMux(), pages: pages, catalog: cat}
	c.routes()
	return c, nil
}

func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Pages hold secrets (CSRF tokens, accept links): never cached, never
	// framed, no script at all, and no Referer that could carry a login link.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

// parsePages parses each page with the layout it is shown in.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").ParseFS(templateFiles, "templates/layout.html", name)
		if err != nil {
			return nil, err
		}
		pages[base] = t
	}
	return pages, nil
}

// request is one console request: who is signed in, in which language.
type request struct {
	*locale
	w       http.ResponseWriter
	r       *http.Request
	ctx     context.Context // carries the actor when signed in
	session *roster.ConsoleSession
	user    *roster.User
	now     time.Time
	shown   *shownError // an action's error, shown on the page it came from
	status  int         // the status to answer with; 200 unless an action failed
	notice  string      // a notice's message id, for a page that answers an action itself
	// What an action made that its page shows once: an invitation's
	// link, a support token, a webhook's secret, a verification.
	issued   *roster.IssuedInvitation
	joined   *roster.SupportJoin
	secret   *roster.Webhook
	verified *roster.Verification
}

// begin reads the request's language and, when there is one, its session.
// A session that has ended is no error here: pages that need one ask
// signedIn, and the sign-in pages need none.
func (c *Console) begin(w http.ResponseWriter, r *http.Request) (*request, error) {
	lang := ""
	if ck, err := r.Cookie(languageCookie); err == nil {
		lang = ck.Value
	}
	req := &request{locale: c.catalog.choose(lang, r.Header.Get("Accept-Language")), w: w, r: r, ctx: r.Context(), now: c.now()}
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return req, nil
	}
	a, sess, err := c.svc.ResumeSession(r.Context(), ck.Value)
	var de *roster.Error
	if errors.As(err, &de) && de.Kind == roster.KindUnauthenticated {
		clearCookie(w, r, sessionCookie)
		return req, nil
	}
	if err != nil {
		return req, err
	}
	a.RequestID, a.IP = w.Header().Get("X-Request-Id"), httpapi.ClientIP(r)
	req.ctx = roster.WithActor(r.Context(), a)
	req.session, req.user = &sess, &a.User
	return req, nil
}

// page is a handler of a page that needs a signed-in user.
type page func(c *Console, q *request) error

// signedIn serves a page to a signed-in user and sends anyone else to the
// sign-in page. A POST must carry the session's CSRF token.
func (c *Console) signedIn(p page) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := c.begin(w, r)
		if err != nil {
			c.fail(q, err)
			return
		}
		if q.session == nil {
			if r.Method != http.MethodGet {
				c.fail(q, roster.ErrSessionEnded)
				return
			}
			http.Redirect(w, r, Base+"sign-in", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !sameSecret(r.PostFormValue("csrf"), q.session.CSRF) {
			c.fail(q, errCSRF)
			return
		}
		if err := p(c, q); err != nil {
			c.fail(q, err)
		}
	}
}

var (
	errCSRF = roster.Errorf(roster.KindForbidden, roster.CodeCSRFInvalid, "the form's CSRF token is missing or wrong; reload the page and try again")
)

func sameSecret(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// setCookie sets a console cookie: HttpOnly, SameSite=Strict, Secure behind
// TLS (directly or through a proxy that says so).
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: Base, MaxAge: int(maxAge / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: behindTLS(r)})
}

func clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: Base, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: behindTLS(r)})
}

func behindTLS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}
