package console

import (
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/roster-dev/roster"
)

// preCSRF is the CSRF token of the sign-in forms, which come before any
// session: a random value in a cookie that the form must repeat.
func preCSRF(q *request) string {
	if ck, err := q.r.Cookie(preCSRFCookie); err == nil && ck.Value != "" {
		return ck.Value
	}
	v := roster.NewCSRFToken()
	setCookie(q.w, q.r, preCSRFCookie, v, roster.ConsoleIdleTimeout)
	return v
}

// checkPreCSRF reports whether a sign-in form repeats its cookie's token.
func checkPreCSRF(r *http.Request) bool {
	ck, err := r.Cookie(preCSRFCookie)
	return err == nil && sameSecret(r.PostFormValue("csrf"), ck.Value)
}

// signInData is what the sign-in pages show.
type signInData struct {
	PreCSRF string
	Action  string
}

func (c *Console) signInForm(w http.ResponseWriter, r *http.Request) {
	q, err := c.begin(w, r)
	if err != nil {
		c.fail(q, err)
		return
	}
	if q.session != nil {
		http.Redirect(w, r, Base, http.StatusSeeOther)
		return
	}
	c.render(q, http.StatusOK, "sign-in", "signin.title", signInData{PreCSRF: preCSRF(q), Action: Base + "sign-in"})
}

func (c *Console) signInWithToken(w http.ResponseWriter, r *http.Request) {
	c.signIn(w, r, "sign-in", func(q *request) (roster.ConsoleSignIn, error) {
		return c.svc.SignInWithToken(q.ctx, strings.TrimSpace(r.PostFormValue("token")))
	})
}

func (c *Console) loginLinkForm(w http.ResponseWriter, r *http.Request) {
	q, err := c.begin(w, r)
	if err != nil {
		c.fail(q, err)
		return
	}
	// Opening the link only shows a button: a mail scanner that fetches
	// the link does not spend it.
	c.render(q, http.StatusOK, "login-link", "signin.title", signInData{PreCSRF: preCSRF(q), Action: r.URL.Path})
}

func (c *Console) signInWithLink(w http.ResponseWriter, r *http.Request) {
	c.signIn(w, r, "login-link", func(q *request) (roster.ConsoleSignIn, error) {
		return c.svc.SignInWithLink(q.ctx, r.PathValue("secret"))
	})
}

// signIn runs a sign-in form's POST: on success the browser gets the new
// session's cookie; on failure the form comes back with the error.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request, form string, start func(*request) (roster.ConsoleSignIn, error)) {
	q, err := c.begin(w, r)
	if err != nil {
		c.fail(q, err)
		return
	}
	var in roster.ConsoleSignIn
	if !checkPreCSRF(r) {
		err = errCSRF
	} else {
		in, err = start(q)
	}
	if err != nil {
		q.shown = c.show(q, err)
		c.render(q, q.shown.Status, form, "signin.title", signInData{PreCSRF: preCSRF(q), Action: r.URL.Path})
		return
	}
	if q.session != nil { // signing in as someone else ends the old session
		if ck, err := r.Cookie(sessionCookie); err == nil {
			c.svc.SignOut(r.Context(), ck.Value)
		}
	}
	setCookie(w, r, sessionCookie, in.Secret, 0)
	http.Redirect(w, r, Base, http.StatusSeeOther)
}

func signOut(c *Console, q *request) error {
	ck, err := q.r.Cookie(sessionCookie)
	if err == nil {
		if err := c.svc.SignOut(q.ctx, ck.Value); err != nil {
			return err
		}
	}
	clearCookie(q.w, q.r, sessionCookie)
	http.Redirect(q.w, q.r, Base+"sign-in?done=signed_out", http.StatusSeeOther)
	return nil
}

// chooseLanguage remembers the language a visitor picked and goes back to
// the page they picked it on (a console page only: never elsewhere).
func (c *Console) chooseLanguage(w http.ResponseWriter, r *http.Request) {
	set := r.URL.Query().Get("set")
	if isLanguage(set) {
		http.SetCookie(w, &http.Cookie{Name: languageCookie, Value: strings.ToLower(set), Path: Base, MaxAge: int(365 * 24 * time.Hour / time.Second),
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: behindTLS(r)})
	}
	http.Redirect(w, r, localPath(r.URL.Query().Get("back")), http.StatusSeeOther)
}

// localPath is back when it is a path of the console, else the console's
// start page.
func localPath(back string) string {
	u, err := url.Parse(back)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(path.Clean(u.Path)+"/", Base) ||
		strings.HasPrefix(back, "//") || strings.Contains(back, "\\") {
		return Base
	}
	return back
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	q, err := c.begin(w, r)
	if err != nil {
		c.fail(q, err)
		return
	}
	c.fail(q, roster.Errorf(roster.KindNotFound, roster.CodeRouteNotFound, "no console page %s %s", r.Method, r.URL.Path))
}
