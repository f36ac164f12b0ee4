// Command notes is an example host application of Roster: a small notes
// service whose users, organisations, workspaces, roles, invitations and
// seats live in Roster, while the notes themselves stay in the app.
//
// It reads its settings from the environment:
//
//	ROSTER_URL             Roster's base URL (default http://127.0.0.1:8080)
//	ROSTER_SERVICE_TOKEN   required: a service token (rst_svc_…) of a bot user;
//	                       the app's only credential, signup included
//	ROSTER_WEBHOOK_SECRET  the webhook endpoint's secret (whsec_…; two,
//	                       space-separated, while rotating); unset, the
//	                       webhook route is off
//	NOTES_LISTEN           where to listen (default 127.0.0.1:8090)
//
// See README.md for a walkthrough.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/roster-dev/roster/client"
)

func main() {
	listen := flag.String("listen", envOr("NOTES_LISTEN", "127.0.0.1:8090"), "address to listen on (env NOTES_LISTEN)")
	rosterURL := flag.String("roster", envOr("ROSTER_URL", "http://127.0.0.1:8080"), "Roster's base URL (env ROSTER_URL)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, log, *listen, *rosterURL); err != nil {
		log.Error("notes", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, listen, rosterURL string) error {
	cfg, err := configure(ctx, log, rosterURL)
	if err != nil {
		return err
	}
	cfg.OnListening = listeningLog(ctx, log)
	a := newApp(cfg)

	// Watch follows Roster's event stream and drops a cached token as soon
	// as it is revoked (or its user suspended), so that the guard may
	// trust an introspection for a minute and still refuse a revoked token
	// within a second. While the stream is down, and should it end for
	// good, the guard introspects every token at least once a second
	// instead: slower, never laxer. The listening hook logs each change.
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		if err := a.guard.Watch(ctx); err != nil && ctx.Err() == nil {
			log.Error("Roster's event stream ended for good; tokens are re-checked every second until the app restarts", "err", err)
		}
	}()

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	log.Info("notes is listening", "url", "http://"+ln.Addr().String(), "roster", rosterURL)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// In-flight requests finish; new ones are refused.
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	<-watched // ctx is done: Watch returns at once
	return err
}

// listeningLog is the guard's listening hook: it logs when the app starts
// or stops hearing Roster's revocations. While Roster stays away, every
// failed attempt to reconnect reports "not listening" again; only the
// first of them is logged above debug level.
func listeningLog(ctx context.Context, log *slog.Logger) func(listening bool, err error) {
	var (
		mu    sync.Mutex
		known bool // whether a state was reported yet
		was   bool
	)
	return func(listening bool, err error) {
		mu.Lock()
		defer mu.Unlock()
		changed := !known || listening != was
		known, was = true, listening
		switch {
		case listening && changed:
			log.Info("hearing Roster's revocations: a revoked token is refused at once")
		case ctx.Err() != nil:
			log.Info("stopped hearing Roster's revocations: shutting down")
		case changed:
			log.Warn("not hearing Roster's revocations; tokens are re-checked every second until the event stream is back", "err", err)
		default:
			log.Debug("still not hearing Roster's revocations", "err", err)
		}
	}
}

// configure reads the environment and makes sure the service token is
// one, so that a wrong token is reported now rather than as a 500 on
// every request.
func configure(ctx context.Context, log *slog.Logger, rosterURL string) (config, error) {
	opts := []client.Option{client.WithUserAgent("roster-notes-example")}
	token := os.Getenv("ROSTER_SERVICE_TOKEN")
	if !strings.HasPrefix(token, "rst_svc_") {
		return config{}, errors.New("ROSTER_SERVICE_TOKEN must be a Roster service token (rst_svc_…): see README.md")
	}
	rc, err := client.New(rosterURL, token, opts...)
	if err != nil {
		return config{}, err
	}
	checkCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	// Introspecting itself needs a live service token: the one call that
	// proves both that Roster is there and that the token is good.
	self, err := rc.IntrospectToken(checkCtx, token)
	if err != nil {
		return config{}, fmt.Errorf("checking ROSTER_SERVICE_TOKEN with Roster at %s: %w", rosterURL, err)
	}
	if !self.Active {
		return config{}, errors.New("ROSTER_SERVICE_TOKEN is not active (revoked or expired)")
	}

	cfg := config{Roster: rc, Log: log, WebhookSecrets: strings.Fields(os.Getenv("ROSTER_WEBHOOK_SECRET"))}
	if len(cfg.WebhookSecrets) == 0 {
		log.Info("ROSTER_WEBHOOK_SECRET is unset: POST /webhooks/roster is off")
	}
	return cfg, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
