package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roster-dev/roster/client"
	"github.com/roster-dev/roster/client/middleware"
	"github.com/roster-dev/roster/internal/rostertest"
)

// hostApp is a host application guarded by the middleware: GET
// /ws/{ws}/notes needs resources.read there, POST needs resources.write.
type hostApp struct {
	*httptest.Server
	guard  *middleware.Guard
	served atomic.Int32 // requests that reached the handlers
}

func newHostApp(t *testing.T, env *rostertest.Env, opts ...middleware.Option) *hostApp {
	t.Helper()
	bot := env.CreateUser(map[string]any{"display_name": "Notes backend"})
	svc := env.IssueToken(bot.ID, map[string]any{"name": "notes", "kind": "service"}).Token
	app := &hostApp{guard: middleware.New(newClient(t, env, svc), opts...)}
	inWorkspace := func(r *http.Request) middleware.Target { return middleware.Target{WorkspaceID: r.PathValue("ws")} }
	notes := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app.served.Add(1)
		id, _ := middleware.IdentityFrom(r.Context())
		w.Write([]byte(id.UserID))
	})
	mux := http.NewServeMux()
	mux.Handle("GET /ws/{ws}/notes", app.guard.Authenticate(app.guard.Require("resources.read", inWorkspace)(notes)))
	mux.Handle("POST /ws/{ws}/notes", app.guard.Authenticate(app.guard.Require("resources.write", inWorkspace)(notes)))
	app.Server = httptest.NewServer(mux)
	t.Cleanup(app.Close)
	return app
}

// status sends a request to the host application with an Authorization header.
func (app *hostApp) status(t *testing.T, method, path, authorization string) int {
	t.Helper()
	req, _ := http.NewRequest(method, app.URL+path, nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode >= 400 && res.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s %s: %d without problem+json", method, path, res.StatusCode)
	}
	return res.StatusCode
}

// TestMiddlewareGuardsRoutes: the middleware lets through only what Roster
// allows, refuses like Roster (401, 403, 404) without calling the handler,
// denies an expired membership at once and a revoked token as soon as the
// revocation arrives on the event stream.
func TestMiddlewareGuardsRoutes(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		// Introspections are trusted for an hour: only the event stream can
		// make the guard forget a revoked token in this test.
		heard := make(chan bool, 8)
		app := newHostApp(t, env, middleware.WithCacheTTL(time.Hour, time.Hour),
			middleware.WithListeningHook(func(listening bool, _ error) { heard <- listening }))
		ctx, cancel := context.WithCancel(context.Background())
		watched := make(chan error, 1)
		go func() { watched <- app.guard.Watch(ctx) }()
		t.Cleanup(func() { cancel(); <-watched })

		acme := newTenant(t, env, "acme")
		bob, bobToken := env.NewUserWithToken("bob@example.com")
		viewer, viewerToken := env.NewUserWithToken("vic@example.com")
		_, outsiderToken := env.NewUserWithToken("out@example.com")
		env.PutMember(acme.aliceToken, acme.ws.ID, bob.ID, map[string]any{"role": "member", "expires_at": env.Clock.Now().Add(time.Hour)}).Want(t, 201)
		env.PutMember(acme.aliceToken, acme.ws.ID, viewer.ID, map[string]any{"role": "viewer"}).Want(t, 201)
		notes := "/ws/" + acme.ws.ID + "/notes"

		for _, c := range []struct {
			method, authorization string
			want                  int
		}{
			{"GET", "Bearer " + bobToken, 200},
			{"POST", "Bearer " + bobToken, 200},
			{"GET", "Bearer " + viewerToken, 200},
			{"POST", "Bearer " + viewerToken, 403},
			{"GET", "Bearer " + outsiderToken, 404},
			{"GET", "", 401},
			{"GET", "Basic Ym9iOnB3", 401},
			{"GET", "Bearer not-a-token", 401},
			{"GET", "Bearer rst_pat_forged", 401},
		} {
			before := app.served.Load()
			if got := app.status(t, c.method, notes, c.authorization); got != c.want {
				t.Errorf("%s %q: %d, want %d", c.method, c.authorization, got, c.want)
			}
			if served := app.served.Load() > before; served != (c.want == 200) {
				t.Errorf("%s %q: handler called: %v", c.method, c.authorization, served)
			}
		}
		if got := app.status(t, "GET", "/ws/ws_unknown/notes", "Bearer "+bobToken); got != 404 {
			t.Errorf("an unknown workspace: %d", got)
		}

		// An expired membership is refused at once: nothing is cached.
		env.Clock.Advance(2 * time.Hour)
		if got := app.status(t, "GET", notes, "Bearer "+bobToken); got != 404 {
			t.Errorf("after bob's membership expired: %d", got)
		}

		// A revoked token is refused once its revocation is heard.
		waitUntil(t, "the guard hears Roster's events", app.guard.Listening)
		if !<-heard {
			t.Error("the listening hook did not hear the connection")
		}
		if got := app.status(t, "GET", notes, "Bearer "+viewerToken); got != 200 { // cached now
			t.Fatalf("viewer before the revocation: %d", got)
		}
		tokens := newClient(t, env, env.AdminToken).ListUserTokens(context.Background(), viewer.ID, client.ListOptions{})
		for tok, err := range tokens {
			if err != nil {
				t.Fatal(err)
			}
			env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/users/" + viewer.ID + "/tokens/" + tok.ID, Token: env.AdminToken})
		}
		took := waitUntil(t, "the guard refuses the revoked token", func() bool {
			return app.status(t, "GET", notes, "Bearer "+viewerToken) == 401
		})
		t.Logf("a revoked token was refused %v after its revocation", took)
	})
}
