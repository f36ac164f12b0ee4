package rostertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/console"
	"github.com/roster-dev/roster/httpapi"
	"github.com/roster-dev/roster/service"
	"github.com/roster-dev/roster/store"
)

// Env is one Roster replica served over real HTTP on a fresh database.
type Env struct {
	T          testing.TB
	Backend    Backend
	DSN        string
	DB         *store.DB
	Service    *service.Service
	API        *httpapi.Server
	HTTP       *httptest.Server
	Clock      *Clock
	AdminToken string
	AdminID    string
	validator  *OpenAPIValidator
}

// Config is what a test may set on a replica.
type Config struct {
	Service service.Options
	API     httpapi.Options
	Store   store.Options
	// RunTasks makes the replica work tasks (WithTasks).
	RunTasks bool
}

// Option changes a replica's Config.
type Option func(*Config)

// WithService changes the service's options.
func WithService(fn func(*service.Options)) Option {
	return func(c *Config) { fn(&c.Service) }
}

// WithAPI changes the HTTP API's options.
func WithAPI(fn func(*httpapi.Options)) Option {
	return func(c *Config) { fn(&c.API) }
}

// WithStore changes the store's options.
func WithStore(fn func(*store.Options)) Option {
	return func(c *Config) { fn(&c.Store) }
}

// WithTasks makes the replica work due tasks, as serve does. Tasks fall
// due by the test's clock; RunDueTasks runs those due now.
func WithTasks() Option {
	return func(c *Config) { c.RunTasks = true }
}

// System is a context in which the service acts for the operator, as the
// command line does.
func System() context.Context {
	return roster.WithActor(context.Background(), roster.SystemActor())
}

// NewEnv starts a replica on a fresh database of backend b, with a first
// platform admin.
func NewEnv(t testing.TB, b Backend, opts ...Option) *Env {
	t.Helper()
	env := NewReplica(t, b, NewDSN(t, b), NewClock(), opts...)
	token, err := env.Service.FirstStart(System(), "admin@example.com")
	if err != nil || token == "" {
		t.Fatalf("first start: %q, %v", token, err)
	}
	env.AdminToken = token
	env.AdminID = env.Me(token).ID
	return env
}

// NewReplica starts another replica on an existing database.
func NewReplica(t testing.TB, b Backend, dsn string, clock *Clock, opts ...Option) *Env {
	t.Helper()
	var conf Config
	for _, opt := range opts {
		opt(&conf)
	}
	conf.Store.Tasks = TaskOptions(conf.Store.Tasks, clock)
	db := OpenDSNWith(t, dsn, conf.Store)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	o := conf.Service
	o.Clock, o.Logger = clock.Now, log
	svc := service.New(db, o)
	ctx, cancel := context.WithCancel(context.Background())
	go svc.Run(ctx)
	select {
	case <-svc.Listening():
	case <-time.After(30 * time.Second):
		t.Fatal("the replica never started listening for other replicas' changes")
	}
	tasksDone := make(chan struct{})
	if conf.RunTasks {
		go func() {
			defer close(tasksDone)
			if err := svc.RunTasks(ctx); err != nil {
				t.Errorf("running tasks: %v", err)
			}
		}()
	} else {
		close(tasksDone)
	}
	con, err := console.New(svc, console.Options{Logger: log, Clock: clock.Now})
	if err != nil {
		t.Fatalf("console: %v", err)
	}
	apiOpts := conf.API
	apiOpts.Clock, apiOpts.Logger, apiOpts.Pools, apiOpts.Console, apiOpts.Unbounded = clock.Now, log, db.Pools(), con, console.LongRunning
	api := httpapi.New(svc, db, apiOpts)
	srv := httptest.NewServer(api)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-tasksDone // before the store closes
	})
	return &Env{T: t, Backend: b, DSN: dsn, DB: db, Service: svc, API: api, HTTP: srv, Clock: clock,
		validator: NewOpenAPIValidator(t, api.OpenAPI())}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// Response is what a request got back.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Want fails the test unless the response has the status.
func (r *Response) Want(t testing.TB, status int) *Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

// JSON decodes the body into v.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.Body, err)
	}
}

// Map decodes the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Field returns one top-level member of a JSON object body, or nil. Unlike
// Map it never fails the test, so goroutines may call it.
func (r *Response) Field(name string) any {
	var m map[string]any
	if json.Unmarshal(r.Body, &m) != nil {
		return nil
	}
	return m[name]
}

// Code returns the problem code of an error response.
func (r *Response) Code(t testing.TB) string {
	t.Helper()
	code, _ := r.Map(t)["code"].(string)
	return code
}

// Req describes a request.
type Req struct {
	Method  string
	Path    string
	Token   string
	Body    any // marshalled to JSON unless it is a string or []byte
	Headers map[string]string
}

// Do sends a request and checks the response against the OpenAPI document.
// A server error fails the test. Do, Try and TryWith may be called from any
// goroutine: they report failures with Errorf (a request that could not be
// sent answers status 0), never FailNow.
func (e *Env) Do(r Req) *Response {
	e.T.Helper()
	out := e.Try(r)
	if out.Status >= 500 {
		e.T.Errorf("%s %s: server error %d: %s", r.Method, r.Path, out.Status, out.Body)
	}
	return out
}

// Try is Do for requests where a server error is a possible answer (the
// database is cut off, say): it is checked against the OpenAPI document but
// does not fail the test. A transport error does.
func (e *Env) Try(r Req) *Response {
	e.T.Helper()
	return e.TryWith(http.DefaultClient, r)
}

// TryWith is Try through client.
func (e *Env) TryWith(client *http.Client, r Req) *Response {
	e.T.Helper()
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.T.Errorf("%s %s: %v", r.Method, r.Path, err)
			return &Response{}
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(r.Method, e.HTTP.URL+r.Path, body)
	if err != nil {
		e.T.Errorf("%s %s: %v", r.Method, r.Path, err)
		return &Response{}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		e.T.Errorf("%s %s: %v", r.Method, r.Path, err)
		return &Response{}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.T.Errorf("%s %s: reading the body: %v", r.Method, r.Path, err)
	}
	out := &Response{Status: res.StatusCode, Header: res.Header, Body: raw}
	e.validator.Check(e.T, r.Method, req.URL.Path, out)
	return out
}

// Expect sends a request and fails the test unless the status matches.
func (e *Env) Expect(status int, r Req) *Response {
	e.T.Helper()
	res := e.Do(r)
	if res.Status != status {
		e.T.Fatalf("%s %s: status %d, want %d: %s", r.Method, r.Path, res.Status, status, res.Body)
	}
	return res
}

// User is the part of a user response tests look at.
type User struct {
	ID           string  `json:"id"`
	Email        *string `json:"email"`
	DisplayName  string  `json:"display_name"`
	Status       string  `json:"status"`
	PlatformRole string  `json:"platform_role"`
	ExternalID   *string `json:"external_id"`
}

// Token is the part of a token response tests look at.
type Token struct {
	ID         string  `json:"id"`
	UserID     string  `json:"user_id"`
	Kind       string  `json:"kind"`
	Prefix     string  `json:"prefix"`
	Hint       string  `json:"hint"`
	Token      string  `json:"token"`
	ExpiresAt  *string `json:"expires_at"`
	LastUsedAt *string `json:"last_used_at"`
	RevokedAt  *string `json:"revoked_at"`
}

// Me returns the caller of token.
func (e *Env) Me(token string) User {
	e.T.Helper()
	var u User
	e.Expect(http.StatusOK, Req{Method: http.MethodGet, Path: "/v1/me", Token: token}).JSON(e.T, &u)
	return u
}

// CreateUser creates a user as the admin.
func (e *Env) CreateUser(body map[string]any) User {
	e.T.Helper()
	var u User
	e.Expect(http.StatusCreated, Req{Method: http.MethodPost, Path: "/v1/users", Token: e.AdminToken, Body: body}).JSON(e.T, &u)
	return u
}

// IssueToken has the admin issue a token to a user.
func (e *Env) IssueToken(userID string, body map[string]any) Token {
	if body == nil {
		body = map[string]any{}
	}
	e.T.Helper()
	var tok Token
	e.Expect(http.StatusCreated, Req{Method: http.MethodPost, Path: "/v1/users/" + userID + "/tokens", Token: e.AdminToken, Body: body}).JSON(e.T, &tok)
	return tok
}

// NewUserWithToken creates a user with a personal token.
func (e *Env) NewUserWithToken(email string) (User, string) {
	e.T.Helper()
	u := e.CreateUser(map[string]any{"email": email, "display_name": email})
	return u, e.IssueToken(u.ID, map[string]any{"name": "test"}).Token
}

// Org is the part of an organisation response tests look at.
type Org struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// Workspace is the part of a workspace response tests look at.
type Workspace struct {
	ID         string  `json:"id"`
	OrgID      string  `json:"org_id"`
	Slug       string  `json:"slug"`
	Role       *string `json:"role"`
	Via        *string `json:"via"`
	Derived    bool    `json:"derived"`
	ArchivedAt *string `json:"archived_at"`
}

// Member is the part of a member response tests look at.
type Member struct {
	UserID    string  `json:"user_id"`
	Role      string  `json:"role"`
	Derived   bool    `json:"derived"`
	Source    *string `json:"source"`
	JoinedAt  string  `json:"joined_at"`
	InvitedBy *string `json:"invited_by"`
	ExpiresAt *string `json:"expires_at"`
}

// Decision is a check answer.
type Decision struct {
	Allowed   bool    `json:"allowed"`
	Role      *string `json:"role"`
	Via       *string `json:"via"`
	ExpiresAt *string `json:"expires_at"`
	Reason    string  `json:"reason"`
}

// CreateOrg has token's user create an organisation (and a first workspace
// with the same slug).
func (e *Env) CreateOrg(token, slug string) (Org, Workspace) {
	e.T.Helper()
	var out struct {
		Org
		Workspace Workspace `json:"workspace"`
	}
	e.Expect(http.StatusCreated, Req{Method: "POST", Path: "/v1/orgs", Token: token,
		Body: map[string]any{"name": slug, "slug": slug, "workspace": map[string]any{"name": slug, "slug": slug}}}).JSON(e.T, &out)
	return out.Org, out.Workspace
}

// PutMember sets a workspace role and returns the status.
func (e *Env) PutMember(token, wsID, userID string, body map[string]any) *Response {
	e.T.Helper()
	return e.Do(Req{Method: "PUT", Path: "/v1/workspaces/" + wsID + "/members/" + userID, Token: token, Body: body})
}

// PutOrgMember sets an organisation role and returns the status.
func (e *Env) PutOrgMember(token, orgID, userID, role string) *Response {
	e.T.Helper()
	return e.Do(Req{Method: "PUT", Path: "/v1/orgs/" + orgID + "/members/" + userID, Token: token, Body: map[string]any{"role": role}})
}

// Check asks, as the admin, whether user may take action in workspace.
func (e *Env) Check(userID, action, wsID string) Decision {
	e.T.Helper()
	var d Decision
	e.Expect(http.StatusOK, Req{Method: "POST", Path: "/v1/check", Token: e.AdminToken,
		Body: map[string]any{"user_id": userID, "action": action, "workspace_id": wsID}}).JSON(e.T, &d)
	return d
}
