package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster"
)

// idempotencyWindow is how long a key's first response is replayed.
const idempotencyWindow = 24 * time.Hour

// abandonedAfter is how long a claimed key may wait for its response: no
// request runs that long, so an older claim died with its process and a
// retry may run.
const abandonedAfter = 5 * time.Minute

const maxIdempotencyKeyLen = 255

// readOnlyPost reports whether a POST only reads: a check, a batch of
// checks, an introspection or a seat preview. Their answers are not
// replayed for a repeated key: a replayed decision could allow what has
// since been taken away, and repeating a read changes nothing anyway.
func readOnlyPost(path string) bool {
	switch path {
	case "/v1/check", "/v1/check/batch", "/v1/tokens/introspect":
		return true
	}
	rest, ok := strings.CutPrefix(path, "/v1/orgs/")
	return ok && strings.Count(rest, "/") == 2 && strings.HasSuffix(rest, "/seats/preview")
}

// maxBodyBytes is the request body limit of every operation.
const maxBodyBytes = 1 << 20

// idempotencyState lets a handler mark response fields that must never be
// stored (one-time secrets); a replay omits them.
type idempotencyState struct {
	redact []string
}

// redactOnReplay marks a response field as a one-time secret.
func redactOnReplay(ctx context.Context, field string) {
	if st := info(ctx).idem; st != nil {
		st.redact = append(st.redact, field)
	}
}

// idempotent replays the first response to a POST with the same
// Idempotency-Key and body from the same caller within 24 hours. The same key
// with a different request is 409 idempotency_key_reused.
func (s *Server) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		ri := info(r.Context())
		if r.Method != http.MethodPost || key == "" || ri.actor == nil || readOnlyPost(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > maxIdempotencyKeyLen {
			writeProblem(w, r, newProblem(http.StatusBadRequest, roster.CodeInvalidIdempotencyKey,
				"Idempotency-Key must be at most "+strconv.Itoa(maxIdempotencyKeyLen)+" characters"))
			return
		}
		limit := s.bodyLimit(r)
		body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil || int64(len(body)) > limit {
			next.ServeHTTP(w, r) // the operation reports the body problem itself
			return
		}
		now := roster.Now(s.clock)
		rec := roster.IdempotencyRecord{
			Scope:       ri.actor.User.ID,
			Key:         key,
			Fingerprint: fingerprint(r, ri.actor, body),
			CreatedAt:   now,
		}
		claimed, err := s.store.ClaimIdempotency(r.Context(), rec, now.Add(-idempotencyWindow), now.Add(-abandonedAfter))
		if err != nil {
			writeProblem(w, r, problemFrom(r.Context(), err))
			return
		}
		if !claimed {
			s.replay(w, r, rec)
			return
		}
		ri.idem = &idempotencyState{}
		cw := &statusWriter{ResponseWriter: w, body: &bytes.Buffer{}}
		completed := false
		defer func() {
			if !completed { // the handler failed or panicked: let a retry run again
				ctx, cancel := s.afterwards(r.Context())
				defer cancel()
				s.store.ReleaseIdempotency(ctx, rec)
			}
		}()
		next.ServeHTTP(cw, r)
		if cw.status >= 500 || cw.status == 0 {
			return
		}
		rec.Status, rec.ContentType = cw.status, cw.Header().Get("Content-Type")
		rec.Body = redact(cw.body.Bytes(), ri.idem.redact)
		ctx, cancel := s.afterwards(r.Context())
		defer cancel()
		if err := s.store.CompleteIdempotency(ctx, rec); err != nil {
			logger(r.Context()).ErrorContext(r.Context(), "storing idempotent response", "error", err)
			return
		}
		completed = true
	})
}

// afterwards is the context of the bookkeeping that must follow a request
// even when its own deadline has passed: as long again.
func (s *Server) afterwards(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
}

func (s *Server) replay(w http.ResponseWriter, r *http.Request, rec roster.IdempotencyRecord) {
	prev, err := s.store.GetIdempotency(r.Context(), rec.Scope, rec.Key)
	switch {
	case errors.Is(err, roster.ErrNotFound):
		writeProblem(w, r, newProblem(http.StatusConflict, roster.CodeIdempotencyInProgress,
			"a request with this Idempotency-Key is in progress; retry shortly"))
	case err != nil:
		writeProblem(w, r, problemFrom(r.Context(), err))
	case prev.Fingerprint != rec.Fingerprint:
		writeProblem(w, r, newProblem(http.StatusConflict, roster.CodeIdempotencyKeyReused,
			"this Idempotency-Key was used for a different request"))
	case prev.Status == 0:
		writeProblem(w, r, newProblem(http.StatusConflict, roster.CodeIdempotencyInProgress,
			"a request with this Idempotency-Key is in progress; retry shortly"))
	default:
		if prev.ContentType != "" {
			w.Header().Set("Content-Type", prev.ContentType)
		}
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(prev.Status)
		w.Write(prev.Body)
	}
}

// fingerprint identifies a request: same key with another fingerprint is a
// reused key.
func fingerprint(r *http.Request, a *roster.Actor, body []byte) string {
	h := sha256.New()
	io.WriteString(h, r.Method+"\n"+r.URL.Path+"\n"+r.URL.RawQuery+"\n")
	if a.OnBehalfOf != nil {
		io.WriteString(h, a.OnBehalfOf.ID)
	}
	h.Write([]byte("\n"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// redact drops one-time secrets from a JSON response before it is stored.
func redact(body []byte, fields []string) []byte {
	if len(fields) == 0 {
		return body
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil // not an object: store nothing rather than risk a secret
	}
	for _, f := range fields {
		delete(m, f)
	}
	out, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return out
}
