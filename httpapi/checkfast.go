package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/roster-dev/roster"
)

// Checks are the hot path of a host application: one or more per request
// it serves. huma's way through an operation (decoding the body into a
// generic value to validate it against the schema, then decoding it again
// into the input struct, and encoding the answer by reflection) costs many
// times the decision itself, so POST /v1/check and /v1/check/batch take a
// shorter way when they can.
//
// The short way accepts only bodies in the plain form every client sends:
// one JSON object with no key but the documented ones, none twice, string
// values without escapes, the required keys present, nothing after it.
// huma accepts every such body and decodes it to the same input, so the
// answer is the same. Anything else (a malformed body, an unknown or
// repeated key, a null, an escape, a wrong type, a missing field, a body too
// large, another content type, an unauthenticated caller) goes the
// ordinary way through huma, which refuses it as it always has. Answers and
// errors are written byte for byte as huma writes them; checkfast_test.go
// compares the two ways on good and bad bodies.

const (
	checkPath      = "/v1/check"
	checkBatchPath = "/v1/check/batch"
)

// fastChecks serves a check or a batch of checks the short way, and reports
// whether it did; when it did not, nothing has been written and the request
// goes on to huma.
func (s *Server) fastChecks(w http.ResponseWriter, r *http.Request, ri *requestInfo) bool {
	if s.slowChecks || ri.actor == nil || r.Method != http.MethodPost || ri.body == nil || len(ri.body) >= maxBodyBytes {
		return false // huma answers: unauthenticated, or 413 for a body at its limit
	}
	var batch bool
	switch {
	case r.URL.Path == checkPath && ri.route == http.MethodPost+" "+checkPath:
	case r.URL.Path == checkBatchPath && ri.route == http.MethodPost+" "+checkBatchPath:
		batch = true
	default:
		return false // a path the mux cleans or redirects, or another route
	}
	switch r.Header.Get("Content-Type") {
	case "", "application/json", "application/json; charset=utf-8":
	default:
		return false
	}
	if ct, err := s.api.Negotiate(r.Header.Get("Accept")); err != nil || ct != "application/json" {
		return false
	}
	sc := scanner{b: ri.body}
	if batch {
		reqs, ok := sc.batch()
		if !ok || !sc.end() {
			return false
		}
		ds, err := s.svc.CheckBatch(r.Context(), reqs)
		if err != nil {
			return s.writeCheckError(w, r, checkBatchPath, err)
		}
		buf := getBuffer()
		defer putBuffer(buf)
		b := append(*buf, `{"results":[`...)
		for i, d := range ds {
			if i > 0 {
				b = append(b, ',')
			}
			if b, ok = appendDecision(b, d); !ok {
				*buf = b[:0]
				return s.writeDecisions(w, r, checkBatchPath, decisionsOutput(ds))
			}
		}
		b = append(b, "]}\n"...)
		*buf = b
		writeJSON(w, b)
		return true
	}
	body, ok := sc.check()
	if !ok || !sc.end() {
		return false
	}
	d, err := s.svc.Check(r.Context(), body.request())
	if err != nil {
		return s.writeCheckError(w, r, checkPath, err)
	}
	buf := getBuffer()
	defer putBuffer(buf)
	b, ok := appendDecision(*buf, d)
	*buf = b[:0]
	if !ok {
		return s.writeDecisions(w, r, checkPath, toDecision(d))
	}
	writeJSON(w, append(b, '\n'))
	return true
}

func writeJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b) // in one write, as huma's encoder does: the same framing (Content-Length or chunks)
}

func decisionsOutput(ds []roster.Decision) any {
	out := &checkBatchOutput{}
	out.Body.Results = make([]Decision, len(ds))
	for i, d := range ds {
		out.Body.Results[i] = toDecision(d)
	}
	return out.Body
}

// writeDecisions writes an answer the short encoder declined (a time JSON
// cannot carry) as huma writes a response: status and type first, then
// what the encoder makes of it.
func (s *Server) writeDecisions(w http.ResponseWriter, r *http.Request, path string, body any) bool {
	ctx := humago.NewContext(s.checkOps[path], r, w)
	ctx.SetHeader("Content-Type", "application/json")
	ctx.SetStatus(http.StatusOK)
	if err := s.api.Marshal(ctx.BodyWriter(), "application/json", body); err != nil {
		w.Write([]byte("error marshaling response"))
		panic(errors.New("error marshaling response for POST " + path + " 200: " + err.Error()))
	}
	return true
}

// writeCheckError writes a failed check as huma writes an operation's
// error. An error that carries its own HTTP status or headers (none the
// service returns) is left to huma itself, which then decides the check
// again: the short way has not read the request's body, only plainText's
// copy of it.
func (s *Server) writeCheckError(w http.ResponseWriter, r *http.Request, path string, err error) bool {
	var se huma.StatusError
	var he huma.HeadersError
	if errors.As(err, &se) || errors.As(err, &he) {
		return false
	}
	huma.WriteErr(s.api, humago.NewContext(s.checkOps[path], r, w), http.StatusInternalServerError, "unexpected error occurred", err)
	return true
}

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func getBuffer() *[]byte { return buffers.Get().(*[]byte) }

func putBuffer(b *[]byte) {
	if cap(*b) <= 1<<20 { // a batch's answer is about 100 kB
		*b = (*b)[:0]
		buffers.Put(b)
	}
}

// appendDecision appends d as encoding/json encodes toDecision(d) without
// HTML escaping (huma's JSON format), or reports that it cannot: a time
// outside what RFC 3339 allows, which encoding/json fails on too.
func appendDecision(b []byte, d roster.Decision) ([]byte, bool) {
	out := toDecision(d)
	if out.Allowed {
		b = append(b, `{"allowed":true,"role":`...)
	} else {
		b = append(b, `{"allowed":false,"role":`...)
	}
	b = appendOptionalString(b, out.Role)
	b = append(b, `,"via":`...)
	if out.Via == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, string(*out.Via))
	}
	b = append(b, `,"expires_at":`...)
	if out.ExpiresAt == nil {
		b = append(b, "null"...)
	} else {
		t, err := out.ExpiresAt.MarshalJSON()
		if err != nil {
			return b, false
		}
		b = append(b, t...)
	}
	if out.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendString(b, out.Reason)
	}
	return append(b, '}'), true
}

func appendOptionalString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}

// appendString appends s as a JSON string. Roles, ways of access and
// reasons are plain ASCII words; anything else is left to encoding/json, so
// that escapes come out exactly as huma writes them.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.Encode(s)
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// scanner reads the plain form of check bodies; any method answering false
// means the body is not in it (not that it is invalid).
type scanner struct {
	b []byte
	i int
}

func (sc *scanner) space() {
	for sc.i < len(sc.b) {
		switch sc.b[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// next consumes c, after any whitespace, if it comes next.
func (sc *scanner) next(c byte) bool {
	sc.space()
	if sc.i < len(sc.b) && sc.b[sc.i] == c {
		sc.i++
		return true
	}
	return false
}

// end reports whether only whitespace is left.
func (sc *scanner) end() bool {
	sc.space()
	return sc.i == len(sc.b)
}

// raw reads a string without escapes or control characters, in valid
// UTF-8: what encoding/json decodes to its bytes unchanged.
func (sc *scanner) raw() ([]byte, bool) {
	if !sc.next('"') {
		return nil, false
	}
	ascii := true
	for j := sc.i; j < len(sc.b); j++ {
		switch c := sc.b[j]; {
		case c == '"':
			s := sc.b[sc.i:j]
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			sc.i = j + 1
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, false
}

func (sc *scanner) str() (string, bool) {
	s, ok := sc.raw()
	return string(s), ok
}

// object reads an object whose every key field accepts, each at most once
// (field numbers them, up to 8), and reports which keys it saw.
func (sc *scanner) object(field func(key []byte) (bit uint8, ok bool)) (seen uint8, ok bool) {
	if !sc.next('{') {
		return 0, false
	}
	if sc.next('}') {
		return 0, true
	}
	for {
		key, ok := sc.raw()
		if !ok || !sc.next(':') {
			return 0, false
		}
		bit, ok := field(key)
		if !ok || seen&bit != 0 {
			return 0, false
		}
		seen |= bit
		if sc.next('}') {
			return seen, true
		}
		if !sc.next(',') {
			return 0, false
		}
	}
}

// check reads one check: user_id and action are required, the rest is
// optional, as in checkBody's schema.
func (sc *scanner) check() (checkBody, bool) {
	var c checkBody
	var set *string
	seen, ok := sc.object(func(key []byte) (uint8, bool) {
		var bit uint8
		switch string(key) {
		case "user_id":
			bit, set = 1, &c.UserID
		case "action":
			bit, set = 2, &c.Action
		case "workspace_id":
			bit, set = 4, &c.WorkspaceID
		case "org_id":
			bit, set = 8, &c.OrgID
		case "resource_id":
			bit, set = 16, &c.ResourceID
		case "resource":
			ref, ok := sc.resource()
			c.Resource = &ref
			return 32, ok
		default:
			return 0, false
		}
		v, ok := sc.str()
		*set = v
		return bit, ok
	})
	return c, ok && seen&3 == 3
}

// resource reads a resource by the host application's id: both keys are
// required.
func (sc *scanner) resource() (resourceRef, bool) {
	var ref resourceRef
	seen, ok := sc.object(func(key []byte) (uint8, bool) {
		var v string
		var ok bool
		switch string(key) {
		case "type":
			v, ok = sc.str()
			ref.Type = v
			return 1, ok
		case "external_id":
			v, ok = sc.str()
			ref.ExternalID = v
			return 2, ok
		}
		return 0, false
	})
	return ref, ok && seen == 3
}

// maxBatchItems is the batch schema's maxItems.
const maxBatchItems = roster.MaxCheckBatch

// batch reads {"checks": [...]} with at most maxBatchItems checks.
func (sc *scanner) batch() ([]roster.CheckRequest, bool) {
	var reqs []roster.CheckRequest
	seen, ok := sc.object(func(key []byte) (uint8, bool) {
		if string(key) != "checks" || !sc.next('[') {
			return 0, false
		}
		reqs = make([]roster.CheckRequest, 0, min(maxBatchItems, bytes.Count(sc.b[sc.i:], []byte(`"user_id"`))))
		if sc.next(']') {
			return 1, true
		}
		for {
			c, ok := sc.check()
			if !ok || len(reqs) == maxBatchItems {
				return 0, false
			}
			reqs = append(reqs, c.request())
			if sc.next(']') {
				return 1, true
			}
			if !sc.next(',') {
				return 0, false
			}
		}
	})
	return reqs, ok && seen == 1
}

// checkOpsOf finds the registered check operations, for writing their
// errors as huma does.
func checkOpsOf(api huma.API) map[string]*huma.Operation {
	ops := map[string]*huma.Operation{}
	for _, path := range []string{checkPath, checkBatchPath} {
		ops[path] = api.OpenAPI().Paths[path].Post
	}
	return ops
}
