package httpapi

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/roster-dev/roster"
)

// requestInfo travels in the request context; inner layers fill it in for
// the outer ones (the route for metrics, the actor for logs).
type requestInfo struct {
	id      string
	route   string
	base    *slog.Logger                // the server's; log adds the request id
	logger  atomic.Pointer[slog.Logger] // base with the request id, once asked for
	actor   *roster.Actor
	authErr error
	idem    *idempotencyState
	body    []byte // the request's body, once plainText has read it
}

type infoKey struct{}

func info(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return ri
	}
	ri := &requestInfo{}
	ri.logger.Store(slog.Default())
	return ri
}

// log is the request's logger, made on first use: most requests log nothing
// (with QuietRequests, only failures are logged), and adding an attribute
// to a handler copies and formats.
func (ri *requestInfo) log() *slog.Logger {
	if l := ri.logger.Load(); l != nil {
		return l
	}
	ri.logger.CompareAndSwap(nil, ri.base.With("request_id", ri.id))
	return ri.logger.Load()
}

func requestID(ctx context.Context) string { return info(ctx).id }
func logger(ctx context.Context) *slog.Logger {
	return info(ctx).log()
}

// validRequestID accepts a caller's X-Request-Id only if it is short and
// plain, so it is safe to log and echo.
func validRequestID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:", r)
		if !ok {
			return false
		}
	}
	return true
}

// statusWriter remembers the status a handler wrote and, when body is set,
// a copy of the body.
type statusWriter struct {
	http.ResponseWriter
	status int
	body   *bytes.Buffer
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.body != nil {
		w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe assigns the request id, recovers panics as problems, logs every
// request and records its metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = uuid.Must(uuid.NewV7()).String()
		}
		ri := &requestInfo{id: id, route: unmatchedRoute, base: s.log}
		if _, pattern := s.mux.Handler(r); pattern != "" {
			ri.route = pattern // known before any middleware answers (a replay, a refusal)
		}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, ri))
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				ri.log().ErrorContext(r.Context(), "panic", "panic", v)
				if sw.status == 0 {
					writeProblem(sw, r, newProblem(http.StatusInternalServerError, roster.CodeInternal, "an unexpected error occurred; it has been logged"))
				}
			}
			elapsed := time.Since(start)
			m := s.metrics.of(r.Method, ri.route, sw.status)
			m.requests.Inc()
			m.latency.Observe(elapsed.Seconds())
			if s.quiet && sw.status < 500 {
				return
			}
			attrs := []any{"method", r.Method, "path", r.URL.Path, "route", ri.route, "status", sw.status,
				"duration_ms", float64(elapsed.Microseconds()) / 1000}
			if ri.actor != nil {
				attrs = append(attrs, "actor", ri.actor.User.ID)
				if ri.actor.OnBehalfOf != nil {
					attrs = append(attrs, "on_behalf_of", ri.actor.OnBehalfOf.ID)
				}
			}
			ri.log().LogAttrs(r.Context(), slog.LevelInfo, "request", slog.Group("http", attrs...))
		}()
		next.ServeHTTP(sw, r)
	})
}

// bounded gives the request a deadline: database work that cannot finish
// within it fails as a 503 instead of holding the request, a connection
// and perhaps a lock.
func (s *Server) bounded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == streamPath || r.URL.Path == exportPath || r.URL.Path == verifyPath || // as long as the log, or the client
			(s.unbounded != nil && s.unbounded(r)) {
			next.ServeHTTP(w, r)
			return
		}
		timeout := s.timeout
		if r.URL.Path == importPath {
			timeout = s.importTime
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// authenticate resolves the bearer token, if any, into an actor. Whether an
// operation needs one is decided per operation (requireAuth).
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" {
			next.ServeHTTP(w, r)
			return
		}
		ri := info(r.Context())
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			ri.authErr = roster.Errorf(roster.KindUnauthenticated, roster.CodeInvalidToken, "Authorization must be \"Bearer <token>\"")
			next.ServeHTTP(w, r)
			return
		}
		a, err := s.svc.Authenticate(r.Context(), strings.TrimSpace(token), r.Header.Get("Roster-On-Behalf-Of"))
		if err != nil {
			ri.authErr = err
			next.ServeHTTP(w, r)
			return
		}
		a.RequestID, a.IP = ri.id, ClientIP(r)
		ri.actor = &a
		next.ServeHTTP(w, r.WithContext(roster.WithActor(r.Context(), a)))
	})
}

// ClientIP is the address a request came from, as the audit log records
// it (the console's too).
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// unmatchedRoute labels requests that match no route.
const unmatchedRoute = "unmatched"

// route serves matched routes and answers unknown paths and wrong methods
// with problems instead of the mux's plain text.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if ri := info(r.Context()); ri.route != unmatchedRoute { // matched in observe
		if s.fastChecks(w, r, ri) {
			return
		}
		s.mux.ServeHTTP(w, r)
		return
	}
	h, _ := s.mux.Handler(r)
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		writeProblem(w, r, newProblem(http.StatusMethodNotAllowed, roster.CodeMethodNotAllowed,
			r.Method+" is not allowed here; allowed: "+probe.header.Get("Allow")))
		return
	}
	if probe.status >= 300 && probe.status < 400 {
		// The mux redirects to a cleaned path; pass that on.
		for k, v := range probe.header {
			w.Header()[k] = v
		}
		w.WriteHeader(probe.status)
		return
	}
	writeProblem(w, r, newProblem(http.StatusNotFound, roster.CodeRouteNotFound, "no route "+r.Method+" "+r.URL.Path))
}

// headerProbe captures what the mux's fallback handler would answer.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(code int)        { p.status = code }
