package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/roster-dev/roster/client"
	"github.com/roster-dev/roster/client/middleware"
	"github.com/roster-dev/roster/client/webhooks"
)

// config is what the app is made of; main fills it from the environment,
// the end-to-end test by hand.
type config struct {
	// Roster carries the app's service token: it creates users and
	// organisations, issues a new user their personal token at signup,
	// introspects tokens, checks access, and acts for a signed-in user
	// through OnBehalfOf.
	Roster *client.Client
	// OnListening, if set, hears when the guard's Watch starts or stops
	// hearing Roster's revocations (err says why it stopped).
	OnListening func(listening bool, err error)
	// WebhookSecrets verify Roster's webhook deliveries; none turns the
	// webhook route off. Two during a secret rotation.
	WebhookSecrets []string
	Log            *slog.Logger
}

// app is the notes service: its handlers, the guard in front of them, and
// its store.
type app struct {
	roster  *client.Client
	guard   *middleware.Guard
	store   *store
	log     *slog.Logger
	secrets []string
}

func newApp(c config) *app {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	var opts []middleware.Option
	if c.OnListening != nil {
		opts = append(opts, middleware.WithListeningHook(c.OnListening))
	}
	return &app{roster: c.Roster, guard: middleware.New(c.Roster, opts...), store: newStore(), log: c.Log, secrets: c.WebhookSecrets}
}

// Handler routes the app's API. Every route but signup and the webhook
// needs a Roster token; those that touch a workspace or an organisation
// also need Roster to allow the action there, decided afresh on every
// request so that a removed member or an expired membership is refused at
// once.
func (a *app) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n") // a caller that went away has nothing to be told
	})
	mux.HandleFunc("POST /signup", a.signup)
	mux.Handle("GET /workspaces", a.signedIn(a.listWorkspaces))
	mux.Handle("GET /workspaces/{ws}/notes", a.allowed("resources.read", inWorkspace, a.listNotes))
	mux.Handle("POST /workspaces/{ws}/notes", a.allowed("resources.write", inWorkspace, a.createNote))
	mux.Handle("DELETE /workspaces/{ws}/notes/{id}", a.allowed("resources.delete", inWorkspace, a.deleteNote))
	mux.Handle("GET /workspaces/{ws}/members", a.allowed("members.read", inWorkspace, a.listMembers))
	mux.Handle("PUT /workspaces/{ws}/members/{user}", a.allowed("members.manage", inWorkspace, a.putMember))
	mux.Handle("POST /workspaces/{ws}/invitations", a.allowed("members.manage", inWorkspace, a.invite))
	mux.Handle("POST /invitations/accept", a.signedIn(a.acceptInvitation))
	mux.Handle("GET /orgs/{org}/seats", a.allowed("org.billing", inOrg, a.seats))
	mux.Handle("GET /activity", a.signedIn(a.activity))
	if len(a.secrets) > 0 {
		mux.Handle("POST /webhooks/roster", webhooks.Handler(webhooks.Verifier{Secrets: a.secrets}, a.onEvent))
	}
	return mux
}

// signedIn lets through requests with an active Roster token.
func (a *app) signedIn(h http.HandlerFunc) http.Handler { return a.guard.Authenticate(h) }

// allowed lets through requests whose user Roster allows action on the
// request's target: 404 for a target the user does not reach (they do not
// learn it exists), 403 for one where their role is too low.
func (a *app) allowed(action string, target func(*http.Request) middleware.Target, h http.HandlerFunc) http.Handler {
	return a.guard.Authenticate(a.guard.Require(action, target)(h))
}

func inWorkspace(r *http.Request) middleware.Target {
	return middleware.Target{WorkspaceID: r.PathValue("ws")}
}

func inOrg(r *http.Request) middleware.Target { return middleware.Target{OrgID: r.PathValue("org")} }

// asUser is Roster as the signed-in user: the service token acting on
// their behalf. Roster then applies the user's own rights (an admin
// cannot make an owner, a viewer cannot invite), whatever the route's
// guard said, and its audit log names both the user and the app.
//
// It must only be used behind the guard: without a signed-in user,
// OnBehalfOf("") would leave the app's service token acting with all of
// its own powers, so a route wired without Authenticate panics (net/http
// answers the request with an error) rather than act as the app.
func (a *app) asUser(r *http.Request) *client.Client {
	return a.roster.OnBehalfOf(userID(r))
}

// userID is the signed-in user's id, which the guard put in the request's
// context.
func userID(r *http.Request) string {
	id, ok := middleware.IdentityFrom(r.Context())
	if !ok || id.UserID == "" {
		panic("notes: " + r.Method + " " + r.URL.Path + " is not behind the guard's Authenticate")
	}
	return id.UserID
}

// signup makes a Roster user, their organisation with a first workspace,
// and a personal token, which the answer carries: the user calls the app
// with it from then on. A real app would put it in a session cookie after
// its own login; the example hands it over to keep the walkthrough to
// curl.
//
// All three are made with the app's own service token. Roster lets a
// service token issue personal tokens (no other kind) to users without
// platform powers, such as the one just made, and not while it acts on a
// user's behalf: the token gives the app nothing it could not do already.
//
// Each step is its own call. Should a later one fail, the user is left
// half made and signing up again answers 409 (the email is taken): a real
// app would record the signup's progress and resume it.
func (a *app) signup(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	in.Email, in.Name = strings.TrimSpace(in.Email), strings.TrimSpace(in.Name)
	local, _, ok := strings.Cut(in.Email, "@")
	if !ok || local == "" {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "email is required")
		return
	}
	if in.Name == "" {
		in.Name = local
	}
	ctx := r.Context()
	u, err := a.roster.CreateUser(ctx, client.NewUser{Email: in.Email, DisplayName: in.Name})
	if err != nil {
		a.rosterError(w, err)
		return
	}
	org, err := a.roster.CreateOrg(ctx, client.NewOrg{Name: in.Name, Slug: slugFor(local), OwnerID: u.ID,
		Workspace: &client.NewOrgWorkspace{Name: "Notes", Slug: "notes"}})
	if err != nil {
		a.rosterError(w, err)
		return
	}
	if org.Workspace == nil {
		// Roster makes the first workspace with the organisation when asked:
		// an answer without it is not one this app understands.
		a.log.Error("Roster made an organisation without the workspace asked for", "user", u.ID, "org", org.ID)
		writeProblem(w, http.StatusInternalServerError, "internal_error", "the new organisation has no workspace")
		return
	}
	tok, err := a.roster.CreateUserToken(ctx, u.ID, client.NewToken{Name: "notes", Kind: "personal"})
	if err != nil {
		a.rosterError(w, err)
		return
	}
	a.log.Info("signed up", "user", u.ID, "org", org.ID)
	writeJSON(w, http.StatusCreated, map[string]string{
		"user_id": u.ID, "token": tok.Token, "token_id": tok.ID, "org_id": org.ID, "workspace_id": org.Workspace.ID,
	})
}

// slugFor makes an organisation slug from an email's local part, with a
// random tail: slugs are unique across Roster, and two people called Ann
// may sign up.
func slugFor(local string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(local) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
		if b.Len() >= 40 {
			break
		}
	}
	base := strings.TrimSuffix(b.String(), "-")
	if base == "" {
		base = "user"
	}
	return base + "-" + strings.ToLower(rand.Text()[:6])
}

// listWorkspaces lists the workspaces the user reaches, with their role:
// where an invited user finds what they joined.
func (a *app) listWorkspaces(w http.ResponseWriter, r *http.Request) {
	ws, err := client.Collect(a.asUser(r).ListWorkspaces(r.Context(), client.WorkspaceFilter{}))
	if err != nil {
		a.rosterError(w, err)
		return
	}
	type workspace struct {
		ID    string  `json:"id"`
		Name  string  `json:"name"`
		OrgID string  `json:"org_id"`
		Role  *string `json:"role"`
	}
	out := make([]workspace, len(ws))
	for i, x := range ws {
		out[i] = workspace{x.ID, x.Name, x.OrgID, x.Role}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

func (a *app) listNotes(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"data": a.store.Notes(r.PathValue("ws"))})
}

const (
	maxTitle = 200
	maxBody  = 10_000
)

func (a *app) createNote(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(in.Title)); n == 0 || n > maxTitle || utf8.RuneCountInString(in.Body) > maxBody {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "a note needs a title of 1 to 200 characters and a body of at most 10,000")
		return
	}
	n := a.store.AddNote(Note{WorkspaceID: r.PathValue("ws"), Title: strings.TrimSpace(in.Title), Body: in.Body,
		AuthorID: userID(r), CreatedAt: time.Now().UTC()})
	writeJSON(w, http.StatusCreated, n)
}

func (a *app) deleteNote(w http.ResponseWriter, r *http.Request) {
	if !a.store.DeleteNote(r.PathValue("ws"), r.PathValue("id")) {
		writeProblem(w, http.StatusNotFound, "not_found", "no such note")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *app) listMembers(w http.ResponseWriter, r *http.Request) {
	members, err := client.Collect(a.asUser(r).ListMembers(r.Context(), r.PathValue("ws"), client.MemberFilter{}))
	if err != nil {
		a.rosterError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": members})
}

// putMember changes a member's role (or adds a user to the workspace).
// Roster keeps the rules: only owners make owners, the last owner stays,
// and a seat cap holds.
func (a *app) putMember(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Role string `json:"role"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	m, err := a.asUser(r).PutMember(r.Context(), r.PathValue("ws"), r.PathValue("user"), client.MemberUpdate{Role: in.Role})
	if err != nil {
		a.rosterError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// invite invites an email address into the workspace. The answer carries
// the accept token; a real app would email a link with it instead
// (serve --invite-url makes Roster build that link), but the walkthrough
// hands it to the invitee by hand.
func (a *app) invite(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	inv, err := a.asUser(r).CreateInvitation(r.Context(), r.PathValue("ws"), client.NewInvitation{Email: in.Email, Role: in.Role})
	if err != nil {
		a.rosterError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, inv)
}

// acceptInvitation accepts an invitation as the signed-in user, who must
// be the one it was sent to (Roster compares the emails).
func (a *app) acceptInvitation(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token string `json:"token"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	acc, err := a.asUser(r).AcceptInvitation(r.Context(), client.AcceptInvitation{Token: in.Token})
	if err != nil {
		a.rosterError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, acc)
}

// seats shows the organisation's seat counts as Roster keeps them; a
// billing page would price them.
func (a *app) seats(w http.ResponseWriter, r *http.Request) {
	s, err := a.asUser(r).Seats(r.Context(), r.PathValue("org"))
	if err != nil {
		a.rosterError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

// activity lists the recent changes (heard through the webhook) in the
// workspaces the user reaches now; the others' are not theirs to see.
func (a *app) activity(w http.ResponseWriter, r *http.Request) {
	reach := map[string]bool{}
	for ws, err := range a.asUser(r).ListWorkspaces(r.Context(), client.WorkspaceFilter{}) {
		if err != nil {
			a.rosterError(w, err)
			return
		}
		reach[ws.ID] = true
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": a.store.Activity(reach)})
}

// onEvent handles one verified webhook delivery. The workspace's events
// feed the activity list; a deleted workspace takes its notes with it,
// since the app learns of the deletion only this way.
func (a *app) onEvent(_ context.Context, e client.Event) error {
	if e.WorkspaceID == nil {
		return nil // organisation, user and token events: nothing of the app's
	}
	var data struct {
		UserID string `json:"user_id"`
	}
	_ = json.Unmarshal(e.Data, &data) // user_id is there only when the change is about a user
	switch e.Type {
	case "workspace.deleted":
		a.store.DropWorkspace(*e.WorkspaceID)
	case "membership.deleted", "membership.expired":
		a.log.Info("a member left", "event", e.Type, "workspace", *e.WorkspaceID, "user", data.UserID)
	}
	a.store.Record(Activity{EventID: e.ID, Type: e.Type, At: e.CreatedAt, WorkspaceID: *e.WorkspaceID,
		ActorID: deref(e.ActorID), UserID: data.UserID})
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// rosterError answers for a failed call to Roster. Roster's refusals of
// the user (400, 403, 404, 409, 402 over the seat cap, …) are passed on
// as they are, code included. A 401 is about the app's own token (the
// user's was checked by the guard): the operator's problem, a 500. Roster
// unreachable or failing is a 503 the caller may retry.
func (a *app) rosterError(w http.ResponseWriter, err error) {
	var p *client.Problem
	switch {
	case errors.As(err, &p) && p.Status == http.StatusUnauthorized:
		a.log.Error("Roster refused the app's token", "err", err)
		writeProblem(w, http.StatusInternalServerError, "roster_misconfigured", "the app's Roster token was refused")
	case errors.As(err, &p) && p.Status >= 400 && p.Status < 500 && p.Status != http.StatusTooManyRequests:
		body := map[string]any{"type": p.Type}
		for k, v := range p.Extensions {
			body[k] = v // such as used, pending and cap on seat_cap_reached
		}
		writeProblemWith(w, p.Status, p.Code, p.Detail, body)
	default:
		a.log.Error("calling Roster", "err", err)
		w.Header().Set("Retry-After", "1")
		writeProblem(w, http.StatusServiceUnavailable, "roster_unavailable", "Roster is unavailable; try again")
	}
}

// maxRequestBytes bounds a request body: notes are small.
const maxRequestBytes = 64 << 10

// readJSON decodes a request's JSON body into v, or answers 400.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBytes)).Decode(v); err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_json", "the body must be a JSON object: "+err.Error())
		return false
	}
	return true
}

// writeJSON answers with v as JSON. v is encoded before anything is
// written, so that a value that cannot be encoded is a 500 rather than a
// success status followed by a cut body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		slog.Error("encoding an answer", "err", err)
		writeProblem(w, http.StatusInternalServerError, "internal_error", "the answer could not be encoded")
		return
	}
	writeBody(w, status, "application/json", b)
}

// writeBody writes an answer. An error writing it means the caller went
// away: there is no one left to tell.
func writeBody(w http.ResponseWriter, status int, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeProblem answers with an RFC 9457 problem shaped like Roster's (and
// the guard's), so that clients of the app read one kind of error.
func writeProblem(w http.ResponseWriter, status int, code, detail string) {
	writeProblemWith(w, status, code, detail, map[string]any{})
}

func writeProblemWith(w http.ResponseWriter, status int, code, detail string, body map[string]any) {
	if body["type"] == nil || body["type"] == "" {
		body["type"] = "urn:roster-notes:problem:" + code
	}
	body["title"], body["status"], body["detail"], body["code"] = http.StatusText(status), status, detail, code
	b, err := json.Marshal(body)
	if err != nil {
		// Only an extension copied from Roster's problem could do this:
		// answer without the extensions.
		slog.Error("encoding a problem", "err", err)
		b, _ = json.Marshal(map[string]any{"type": "urn:roster-notes:problem:" + code, "title": http.StatusText(status),
			"status": status, "detail": detail, "code": code})
	}
	writeBody(w, status, "application/problem+json", b)
}
