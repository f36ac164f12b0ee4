package console

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/httpapi"
)

// view is what every template gets: the language, who is signed in, the
// page's error or notice, and the page's own data.
type view struct {
	*locale
	Title     string
	User      *roster.User
	Staff     bool // the signed-in user is one of the vendor's staff: their pages are in the menu
	CSRF      string
	Languages []languageLink
	Error     *shownError
	Notice    string
	Data      any
	now       time.Time
}

// languageLink switches the console to a language and comes back.
type languageLink struct {
	Code, Name, Href string
	Current          bool
}

// shownError is an error as a page shows it: in words, with the API's code.
type shownError struct {
	Status int
	Code   string
	Words  string
}

// pagerView is what the "links" template shows: a list's page links.
type pagerView struct {
	*locale
	links
}

// Pages is a list's page links, for the "links" template.
func (v view) Pages(l links) pagerView { return pagerView{v.locale, l} }

// Left says how long until t.
func (v view) Left(t time.Time) string { return v.locale.Left(t, v.now) }

// render writes page name with data, titled by the message titleID.
func (c *Console) render(q *request, status int, name, titleID string, data any) {
	v := view{locale: q.locale, Title: q.T(titleID), User: q.user, Data: data, now: q.now, Error: q.shown}
	if q.session != nil {
		v.CSRF, v.Staff = q.session.CSRF, q.user.PlatformRole.IsStaff()
	}
	if n := q.r.URL.Query().Get("done"); n != "" && q.Has("done."+n) && q.shown == nil {
		v.Notice = q.T("done." + n)
	}
	if q.notice != "" && q.shown == nil {
		v.Notice = q.T(q.notice)
	}
	back := q.r.URL.Path
	if q.r.Method != http.MethodGet {
		back = pageOf(back) // an action's answer: switch on the page it belongs to
	} else if query := q.r.URL.Query(); len(query) > 0 {
		query.Del("done") // a notice is said once
		if len(query) > 0 {
			back += "?" + query.Encode()
		}
	}
	for _, tag := range languages {
		code := tag.String()
		v.Languages = append(v.Languages, languageLink{Code: code, Name: c.catalog.languageName(code), Current: code == q.Code,
			Href: Base + "language?" + url.Values{"set": {code}, "back": {back}}.Encode()})
	}
	var buf bytes.Buffer
	if err := c.pages[name].Execute(&buf, v); err != nil {
		c.log.ErrorContext(q.r.Context(), "rendering a console page", "page", name, "error", err)
		http.Error(q.w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	q.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	q.w.WriteHeader(status)
	q.w.Write(buf.Bytes())
}

// pageOf is the page an action's path belongs to: an action's path is its
// page's path with the action after it (…/orgs/{id}/members/{user}).
func pageOf(action string) string {
	parts := strings.Split(strings.TrimPrefix(action, Base), "/")
	switch parts[0] {
	case "orgs", "workspaces", "staff", "login":
		if len(parts) >= 2 {
			return Base + parts[0] + "/" + parts[1]
		}
	case "audit", "sign-in":
		return Base + parts[0]
	}
	return Base
}

// show turns err into what a page shows, and its status.
func (c *Console) show(q *request, err error) *shownError {
	status, code, _ := httpapi.StatusOf(err)
	if status == http.StatusInternalServerError {
		c.log.ErrorContext(q.r.Context(), "internal error in the console", "error", err)
	}
	// Every code has its words in every language (a test sees to it); the
	// service's own message is English, for logs and API clients.
	return &shownError{Status: status, Code: code, Words: q.T("error." + code)}
}

// fail shows an error on a page of its own; actions that have a page to
// come back to show it there instead (retry).
func (c *Console) fail(q *request, err error) {
	q.shown = c.show(q, err)
	if q.shown.Status == http.StatusUnauthorized && q.r.Method == http.MethodGet {
		http.Redirect(q.w, q.r, Base+"sign-in", http.StatusSeeOther)
		return
	}
	c.render(q, q.shown.Status, "error", "error.title", nil)
}

// retry shows the page an action came from with the action's error on it,
// answered with the error's status. A page that fails to show itself
// fails on its own.
func (c *Console) retry(q *request, err error, p page) error {
	q.shown = c.show(q, err)
	q.status = q.shown.Status
	return p(c, q)
}

// done sends the browser back to a page after an action, with a notice.
func done(q *request, path, notice string) error {
	http.Redirect(q.w, q.r, path+"?done="+notice, http.StatusSeeOther)
	return nil
}
