package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/console"
	"github.com/roster-dev/roster/httpapi"
	"github.com/roster-dev/roster/service"
	"github.com/roster-dev/roster/store"
)

const (
	defaultDatabase   = "sqlite:roster.db"
	defaultListen     = "127.0.0.1:8080"
	defaultAdminEmail = "admin@localhost"
	shutdownTimeout   = 30 * time.Second
)

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "roster",
		Short:         "Roster: organisations, workspaces, members, roles and seats for B2B SaaS",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCommand(), newBootstrapCommand(), newMigrateCommand(), newVersionCommand(), newLoadtestCommand(), newAuditCommand(), newLoginLinkCommand())
	return root
}

// durationEnv reads a duration from the environment; an unreadable one is
// reported when the flag is parsed from it.
func durationEnv(name string, fallback time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return fallback
}

func databaseFlag(cmd *cobra.Command, dsn *string) {
	cmd.Flags().StringVar(dsn, "database", envOr("ROSTER_DATABASE", defaultDatabase),
		"database: sqlite:PATH or a postgres:// URL (env ROSTER_DATABASE)")
}

// openMigrated opens the database and applies pending migrations.
func openMigrated(ctx context.Context, dsn string, opts store.Options, log *slog.Logger) (*store.DB, error) {
	db, err := store.Open(ctx, dsn, opts)
	if err != nil {
		return nil, err
	}
	n, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if n > 0 {
		log.Info("applied migrations", "count", n)
	}
	return db, nil
}

// serveConfig is everything `serve` is told.
type serveConfig struct {
	dsn, listen, adminEmail string
	actionsFile             string
	inviteURL               string
	restrictOrgCreation     bool
	quiet                   bool // no per-request log lines
	timeout                 time.Duration
	webhookDenyPrivate      bool
	supportRole             string
}

func newServeCommand() *cobra.Command {
	var cfg serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Args:  cobra.NoArgs,
		Short: "Serve the API (migrates the database first)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), cmd.OutOrStdout(), cfg, nil)
		},
	}
	databaseFlag(cmd, &cfg.dsn)
	cmd.Flags().StringVar(&cfg.listen, "listen", envOr("ROSTER_LISTEN", defaultListen), "address to listen on (env ROSTER_LISTEN)")
	cmd.Flags().StringVar(&cfg.adminEmail, "admin-email", envOr("ROSTER_ADMIN_EMAIL", defaultAdminEmail),
		"email of the platform admin created on first start (env ROSTER_ADMIN_EMAIL)")
	cmd.Flags().StringVar(&cfg.actionsFile, "actions", os.Getenv("ROSTER_ACTIONS"),
		`JSON file of the host application's check actions, e.g. {"actions": {"chat": "member"}} (env ROSTER_ACTIONS)`)
	cmd.Flags().BoolVar(&cfg.restrictOrgCreation, "restrict-org-creation", false, "only staff and service tokens may create organisations")
	cmd.Flags().StringVar(&cfg.inviteURL, "invite-url", os.Getenv("ROSTER_INVITE_URL"),
		"the host application's invitation accept link, with {token} where the secret goes (env ROSTER_INVITE_URL)")
	cmd.Flags().BoolVar(&cfg.webhookDenyPrivate, "webhook-deny-private", false, "refuse webhook endpoints on loopback and private addresses")
	cmd.Flags().StringVar(&cfg.supportRole, "support-role", envOr("ROSTER_SUPPORT_ROLE", string(roster.RoleAdmin)),
		"the workspace role a staff support session grants (env ROSTER_SUPPORT_ROLE)")
	cmd.Flags().BoolVar(&cfg.quiet, "quiet", false, "log only requests that failed with a server error")
	cmd.Flags().DurationVar(&cfg.timeout, "request-timeout", durationEnv("ROSTER_REQUEST_TIMEOUT", store.DefaultTimeout),
		"how long a request, and each database statement, lock wait or idle transaction, may last before it is a 503 (env ROSTER_REQUEST_TIMEOUT)")
	return cmd
}

func loadActions(path string) (map[string]roster.WorkspaceRole, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return service.ParseActions(f)
}

// serve runs the API until ctx ends, then drains in-flight requests. It
// reports the address it listens on through listening, when given.
func serve(ctx context.Context, out io.Writer, cfg serveConfig, listening chan<- string) error {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	actions, err := loadActions(cfg.actionsFile)
	if err != nil {
		return err
	}
	if cfg.timeout <= 0 {
		cfg.timeout = store.DefaultTimeout
	}
	supportRole := roster.RoleAdmin
	if cfg.supportRole != "" {
		if supportRole, err = roster.ParseWorkspaceRole(cfg.supportRole); err != nil {
			return fmt.Errorf("--support-role: %w", err)
		}
	}
	// River, which runs tasks, reports at info level what Roster's own
	// logs already say; its warnings and errors are worth keeping.
	taskLog := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := openMigrated(ctx, cfg.dsn, store.Options{Timeout: cfg.timeout, Tasks: store.TaskOptions{Logger: taskLog}}, log)
	if err != nil {
		return err
	}
	defer db.Close()

	svc := service.New(db, service.Options{Logger: log, Actions: actions, RestrictOrgCreation: cfg.restrictOrgCreation, InviteURL: cfg.inviteURL,
		WebhookDenyPrivate: cfg.webhookDenyPrivate, SupportRole: supportRole})
	adminEmail := cfg.adminEmail
	system := roster.WithActor(ctx, roster.SystemActor())
	token, err := svc.FirstStart(system, adminEmail)
	if err != nil {
		return fmt.Errorf("first start: %w", err)
	}
	if token != "" {
		fmt.Fprintf(out, "Created the first platform admin, %s. Their token is shown this once:\n\n    %s\n\n", adminEmail, token)
	}

	listenCtx, stopListening := context.WithCancel(context.WithoutCancel(ctx))
	defer stopListening()
	go svc.Run(listenCtx)
	// Tasks stop after the last request has been answered: a request may
	// still schedule one.
	tasksCtx, stopTasks := context.WithCancel(context.WithoutCancel(ctx))
	defer stopTasks()
	tasksDone := make(chan error, 1)
	go func() { tasksDone <- svc.RunTasks(tasksCtx) }()

	con, err := console.New(svc, console.Options{Logger: log})
	if err != nil {
		return err
	}
	api := httpapi.New(svc, db, httpapi.Options{Logger: log, Pools: db.Pools(), QuietRequests: cfg.quiet, Ready: readiness(svc, db),
		RequestTimeout: cfg.timeout, BodyReadTimeout: cfg.timeout, Console: con, Unbounded: console.LongRunning})
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	srv.RegisterOnShutdown(api.CloseStreams) // streams last until their clients leave: end them
	log.Info("serving", "addr", ln.Addr().String(), "database", string(db.Dialect()))
	fmt.Fprintf(out, "Roster is listening on http://%s\n", ln.Addr())
	fmt.Fprintf(out, "The admin console is at http://%s%s (roster login-link --email E prints a sign-in link)\n", ln.Addr(), console.Base)
	if listening != nil {
		listening <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	stopTasks()
	if err := <-tasksDone; err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// readiness is /readyz: the replica hears other replicas' changes, its
// database answers, and its migrations are current.
func readiness(svc *service.Service, db *store.DB) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := svc.Hearing(); err != nil {
			return err
		}
		if err := db.Ping(ctx); err != nil {
			return fmt.Errorf("database unreachable: %w", err)
		}
		current, err := db.MigrationsCurrent(ctx)
		if err != nil {
			return err
		}
		if !current {
			return errors.New("migrations pending")
		}
		return nil
	}
}

// asOperator runs fn on a migrated database, as the operator's command
// line: the service with every right.
func asOperator(cmd *cobra.Command, dsn string, fn func(system context.Context, svc *service.Service) error) error {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	db, err := openMigrated(cmd.Context(), dsn, store.Options{}, log)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(roster.WithActor(cmd.Context(), roster.SystemActor()), service.New(db, service.Options{Logger: log}))
}

func newBootstrapCommand() *cobra.Command {
	var dsn, email string
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Args:  cobra.NoArgs,
		Short: "Ensure a platform admin with this email exists and print a fresh token for them",
		Long: "Ensures an active platform admin with the given email (creating or promoting the user) and\n" +
			"prints a new personal token for them as the last line of standard output.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return asOperator(cmd, dsn, func(system context.Context, svc *service.Service) error {
				u, token, err := svc.EnsureAdmin(system, email)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Platform admin %s (%s). New token:\n%s\n", email, u.ID, token)
				return nil
			})
		},
	}
	databaseFlag(cmd, &dsn)
	cmd.Flags().StringVar(&email, "email", "", "the admin's email (required)")
	cmd.MarkFlagRequired("email")
	return cmd
}

func newMigrateCommand() *cobra.Command {
	var dsn string
	cmd := &cobra.Command{
		Use:   "migrate",
		Args:  cobra.NoArgs,
		Short: "Apply pending database migrations",
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := store.Open(cmd.Context(), dsn, store.Options{})
			if err != nil {
				return err
			}
			defer db.Close()
			n, err := db.Migrate(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "applied %d migration(s)\n", n)
			return nil
		},
	}
	databaseFlag(cmd, &dsn)
	status := &cobra.Command{
		Use:   "status",
		Args:  cobra.NoArgs,
		Short: "List migrations and whether each is applied",
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := store.Open(cmd.Context(), dsn, store.Options{})
			if err != nil {
				return err
			}
			defer db.Close()
			states, err := db.MigrationStatus(cmd.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "VERSION\tSTATE\tNAME")
			for _, s := range states {
				state := "pending"
				if s.Applied {
					state = "applied"
				}
				fmt.Fprintf(w, "%d\t%s\t%s\n", s.Version, state, s.Name)
			}
			return w.Flush()
		},
	}
	databaseFlag(status, &dsn)
	cmd.AddCommand(status)
	return cmd
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Args:  cobra.NoArgs,
		Short: "Print Roster's version",
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "roster", roster.Version)
		},
	}
}
