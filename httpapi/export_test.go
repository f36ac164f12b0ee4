package httpapi

import "net/http"

// SetSlowChecks sends every check through huma, the way the short one
// (fastChecks) must answer alike.
func SetSlowChecks(s *Server, slow bool) { s.slowChecks = slow }

// ServeFastChecksOnly serves r through the server's middleware ending in
// the short way of checks alone, and reports whether that way answered.
func ServeFastChecksOnly(s *Server, w http.ResponseWriter, r *http.Request) (served bool) {
	s.observe(s.bounded(s.authenticate(s.plainText(s.idempotent(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served = s.fastChecks(w, r, info(r.Context()))
	})))))).ServeHTTP(w, r)
	return served
}

// ReadAll is readAll, for its test.
var ReadAll = readAll
