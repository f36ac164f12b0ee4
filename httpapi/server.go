// Package httpapi serves Roster's JSON API. Handlers are thin: decode,
// call the service, encode. Every route is registered in routes(), and the
// OpenAPI document is generated from the same definitions.
package httpapi

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/roster-dev/roster"
)

// DefaultRequestTimeout is Options.RequestTimeout and Options.BodyReadTimeout
// when none is given.
const DefaultRequestTimeout = 5 * time.Second

// Idempotency is what the API needs of the store to remember responses.
type Idempotency interface {
	roster.IdempotencyStore
	roster.IdempotencyWriter
}

// Options configure a Server.
type Options struct {
	Logger *slog.Logger
	Clock  roster.Clock
	// Ready reports whether the server can take traffic (database reachable,
	// migrations current); /readyz answers 503 while it returns an error.
	Ready func(context.Context) error
	// Pools are exported as metrics, by name.
	Pools map[string]*sql.DB
	// QuietRequests logs only failed requests (5xx), not every one.
	QuietRequests bool
	// RequestTimeout bounds one request from its headers on, database work
	// included; database work that overruns it is a 503. Default 5 s.
	RequestTimeout time.Duration
	// BodyReadTimeout bounds reading one request's body (a slow client);
	// the bound ends with the read. Default 5 s.
	BodyReadTimeout time.Duration
	// StreamHeartbeat is how often an idle event stream sends a comment
	// line. Default 10 s.
	StreamHeartbeat time.Duration
	// MaxImportBytes bounds the body of POST /v1/import (every other body:
	// 1 MiB). Default DefaultMaxImportBytes.
	MaxImportBytes int64
	// ImportTimeout bounds one POST /v1/import in place of RequestTimeout.
	// Default DefaultImportTimeout.
	ImportTimeout time.Duration
	// Console, when set, serves the admin console at /console/, behind the
	// same logging, metrics and deadlines as the API.
	Console http.Handler
	// Unbounded names requests besides the API's own streams that last as
	// long as their client, without RequestTimeout (the console's audit
	// export and verification).
	Unbounded func(*http.Request) bool
}

// consolePath is where the admin console is served.
const consolePath = "/console/"

// Server is Roster's HTTP API.
type Server struct {
	svc         roster.Services
	store       Idempotency
	log         *slog.Logger
	clock       roster.Clock
	ready       func(context.Context) error
	quiet       bool
	timeout     time.Duration
	bodyTimeout time.Duration
	mux         *http.ServeMux
	api         huma.API
	metrics     metrics
	handler     http.Handler
	heartbeat   time.Duration
	maxImport   int64
	importTime  time.Duration
	unbounded   func(*http.Request) bool
	// checkOps are the check operations, whose errors the short way of
	// checks (fastChecks) writes as huma does; slowChecks turns that way
	// off, for tests comparing the two.
	checkOps   map[string]*huma.Operation
	slowChecks bool
	// closing ends when the server shuts down, and with it every stream.
	closing      context.Context
	closeStreams context.CancelFunc
}

type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// routes holds the series of each method, route and status seen, by
	// routeKey: finding them in the vectors hashes the labels and takes a
	// lock shared by every request.
	routes *sync.Map
}

type routeKey struct {
	method, route string
	status        int
}

type routeMetrics struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// of returns the series of a request's method, route and status.
func (m metrics) of(method, route string, status int) *routeMetrics {
	key := routeKey{method, route, status}
	if rm, ok := m.routes.Load(key); ok {
		return rm.(*routeMetrics)
	}
	rm, _ := m.routes.LoadOrStore(key, &routeMetrics{
		requests: m.requests.WithLabelValues(method, route, strconv.Itoa(status)),
		latency:  m.latency.WithLabelValues(method, route),
	})
	return rm.(*routeMetrics)
}

// New builds the API on svc.
func New(svc roster.Services, store Idempotency, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Ready == nil {
		opts.Ready = func(context.Context) error { return nil }
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.BodyReadTimeout <= 0 {
		opts.BodyReadTimeout = DefaultRequestTimeout
	}
	if opts.StreamHeartbeat <= 0 {
		opts.StreamHeartbeat = DefaultStreamHeartbeat
	}
	if opts.MaxImportBytes <= 0 {
		opts.MaxImportBytes = DefaultMaxImportBytes
	}
	if opts.ImportTimeout <= 0 {
		opts.ImportTimeout = DefaultImportTimeout
	}
	s := &Server{svc: svc, store: store, log: opts.Logger, clock: opts.Clock, ready: opts.Ready, quiet: opts.QuietRequests,
		timeout: opts.RequestTimeout, bodyTimeout: opts.BodyReadTimeout, mux: http.NewServeMux(), heartbeat: opts.StreamHeartbeat,
		maxImport: opts.MaxImportBytes, importTime: opts.ImportTimeout, unbounded: opts.Unbounded}
	s.closing, s.closeStreams = context.WithCancel(context.Background())
	s.metrics = newMetrics(opts.Pools, svc)
	useRosterProblems()
	s.api = humago.New(s.mux, apiConfig())
	s.api.UseMiddleware(s.requireAuth)
	s.routes()
	if opts.Console != nil {
		s.mux.Handle(consolePath, opts.Console)
	}
	s.checkOps = checkOpsOf(s.api)
	s.handler = s.observe(s.bounded(s.authenticate(s.plainText(s.idempotent(http.HandlerFunc(s.route))))))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// OpenAPI returns the generated OpenAPI document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

func apiConfig() huma.Config {
	cfg := huma.DefaultConfig("Roster", roster.Version)
	cfg.Info.Description = "Organisations, workspaces, members, roles, invitations, seats and staff support access for B2B SaaS."
	cfg.OpenAPIPath = "/v1/openapi"
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.CreateHooks = nil // no $schema links in responses
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		bearerScheme: {Type: "http", Scheme: "bearer", Description: "A Roster token: rst_pat_…, rst_svc_… or rst_sup_…"},
	}
	return cfg
}

const bearerScheme = "bearer"

// requireAuth refuses secured operations to callers without a valid token.
func (s *Server) requireAuth(ctx huma.Context, next func(huma.Context)) {
	if len(ctx.Operation().Security) == 0 {
		next(ctx)
		return
	}
	ri := info(ctx.Context())
	if ri.actor != nil {
		next(ctx)
		return
	}
	err := ri.authErr
	if err == nil {
		err = roster.Errorf(roster.KindUnauthenticated, roster.CodeUnauthenticated, "this operation needs a bearer token")
	}
	p := problemFrom(ctx.Context(), err)
	if p.Status == http.StatusUnauthorized {
		ctx.SetHeader("WWW-Authenticate", `Bearer realm="roster"`)
	}
	huma.WriteErr(s.api, ctx, p.Status, p.Detail, err)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"status":"ok"}` + "\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		logger(ctx).WarnContext(ctx, "not ready", "error", err)
		writeProblem(w, r, newProblem(http.StatusServiceUnavailable, roster.CodeNotReady, err.Error()))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"status": "ready"})
}

func newMetrics(pools map[string]*sql.DB, svc roster.Services) metrics {
	m := metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "roster_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route"}),
		routes: &sync.Map{},
	}
	m.registry.MustRegister(m.requests, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "roster_invalidation_listener_drops_total",
			Help: "Times the connection hearing other replicas' cache invalidations was lost.",
		}, func() float64 { return float64(svc.ListenerDrops()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "roster_invalidation_listener_current",
			Help: "1 while this replica provably hears other replicas' invalidations and answers from its caches, 0 while it reads the database instead.",
		}, func() float64 {
			if svc.Hearing() != nil {
				return 0
			}
			return 1
		}))
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "roster_stream_clients", Help: "Event streams this replica serves.",
	}, func() float64 { return float64(svc.StreamClients()) }))
	for _, outcome := range []string{"succeeded", "retried", "failed"} {
		m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "roster_webhook_deliveries_total", Help: "Webhook delivery attempts by outcome (retried: failed, to be tried again).",
			ConstLabels: prometheus.Labels{"outcome": outcome},
		}, func() float64 { return float64(svc.Deliveries()[outcome]) }))
	}
	m.registry.MustRegister(taskCollector{svc})
	for name, db := range pools {
		m.registry.MustRegister(collectors.NewDBStatsCollector(db, name))
	}
	return m
}

// taskCollector reports every replica's tasks by type and status, read
// from the database when scraped.
type taskCollector struct{ svc roster.Stats }

var taskDesc = prometheus.NewDesc("roster_tasks", "Tasks by type and status, across replicas.", []string{"type", "status"}, nil)

func (c taskCollector) Describe(ch chan<- *prometheus.Desc) { ch <- taskDesc }

func (c taskCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.svc.CountTasks(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(taskDesc, err)
		return
	}
	for _, typ := range roster.TaskTypes {
		for _, status := range roster.TaskStatuses {
			ch <- prometheus.MustNewConstMetric(taskDesc, prometheus.GaugeValue, float64(counts[typ][status]), string(typ), string(status))
		}
	}
}
