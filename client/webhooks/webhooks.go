// Package webhooks receives Roster's webhook deliveries: it checks their
// Standard Webhooks signatures (https://www.standardwebhooks.com/) and
// decodes the event they carry.
//
// A delivery is a POST whose body is {"type", "timestamp", "data"}, data
// being the event, with three headers: webhook-id (the event's id),
// webhook-timestamp (Unix seconds) and webhook-signature, a space-separated
// list of "v1,<base64 HMAC-SHA256 of id.timestamp.body>", one per secret
// Roster signs with (two for 24 hours after a secret is rotated).
//
// Roster delivers at least once: a delivery that got no 2xx answer is sent
// again, with the same webhook-id. Receivers dedupe on Event.ID, which
// Verify guarantees equals webhook-id.
//
//	v := webhooks.Verifier{Secrets: []string{os.Getenv("ROSTER_WEBHOOK_SECRET")}}
//	http.Handle("POST /roster/webhooks", webhooks.Handler(v, func(ctx context.Context, e client.Event) error {
//		if seen(e.ID) {
//			return nil
//		}
//		return handle(ctx, e)
//	}))
package webhooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/roster-dev/roster/client"
)

// Header names of a delivery.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// DefaultTolerance is how far a delivery's timestamp may be from the
// receiver's clock, either way, when Verifier.Tolerance is zero.
const DefaultTolerance = 5 * time.Minute

// MaxBodyBytes is the largest body Handler reads; Roster's deliveries are a
// few KiB.
const MaxBodyBytes = 1 << 20

// Why Verify refuses a delivery; test with errors.Is.
var (
	// ErrMissingHeader: webhook-id, webhook-timestamp or
	// webhook-signature is absent or empty.
	ErrMissingHeader = errors.New("webhooks: missing header")
	// ErrNoSignature: webhook-signature holds no v1 signature that can be
	// checked (each is of another version, or not base64 of a SHA-256
	// MAC).
	ErrNoSignature = errors.New("webhooks: no v1 signature")
	// ErrBadSignature: no signature matches any of the secrets. The body
	// was changed, or the delivery was signed with another secret (or not
	// by Roster).
	ErrBadSignature = errors.New("webhooks: no signature matches")
	// ErrTimestamp: webhook-timestamp is not Unix seconds, or is further
	// from now than the tolerance. It is only reported for a correctly
	// signed delivery, so it points at a replay or at clock skew.
	ErrTimestamp = errors.New("webhooks: timestamp out of tolerance")
	// ErrBody: the body, although correctly signed, is not a delivery of
	// an event whose id is webhook-id.
	ErrBody = errors.New("webhooks: not a delivery body")
	// ErrSecret: the Verifier has no secret, or one that is not "whsec_"
	// followed by the base64 of at least 24 bytes. This is the receiver's
	// misconfiguration, not the sender's fault.
	ErrSecret = errors.New("webhooks: bad secret")
)

// secretPrefix starts every secret Roster issues.
const secretPrefix = "whsec_"

// minKeyLen is the shortest key Roster issues, in bytes: a shorter one is a
// secret cut when it was copied.
const minKeyLen = 24

// Verifier checks deliveries. The zero Tolerance and a nil Now mean the
// defaults; Secrets is required.
type Verifier struct {
	// Secrets are the endpoint's secrets ("whsec_…"). A delivery passes
	// when any of its signatures matches any of them: while rotating,
	// list the new secret and the old one, and drop the old one later.
	Secrets []string
	// Tolerance bounds the gap between webhook-timestamp and Now, either
	// way, so that a captured delivery cannot be replayed later (default
	// DefaultTolerance).
	Tolerance time.Duration
	// Now is the receiver's clock (default time.Now).
	Now func() time.Time
}

// Verify checks a delivery's headers and body and returns the event it
// carries. Its errors wrap ErrMissingHeader, ErrNoSignature,
// ErrBadSignature, ErrTimestamp, ErrBody or ErrSecret.
func (v Verifier) Verify(header http.Header, body []byte) (client.Event, error) {
	keys, err := v.keys()
	if err != nil {
		return client.Event{}, err
	}
	id, ts := header.Get(HeaderID), header.Get(HeaderTimestamp)
	// Several webhook-signature lines are read as one space-separated list.
	sigs := strings.Fields(strings.Join(header.Values(HeaderSignature), " "))
	for _, h := range []struct{ name, value string }{{HeaderID, id}, {HeaderTimestamp, ts}, {HeaderSignature, strings.Join(sigs, " ")}} {
		if h.value == "" {
			return client.Event{}, fmt.Errorf("%w: %s", ErrMissingHeader, h.name)
		}
	}

	// The signature is checked before the timestamp so that ErrTimestamp
	// is only ever about a genuine delivery.
	var macs [][]byte
	for _, sig := range sigs {
		version, enc, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue // another scheme, which a later Roster may add beside v1
		}
		mac, err := base64.StdEncoding.DecodeString(enc)
		if err != nil || len(mac) != sha256.Size {
			continue // the others may still match
		}
		macs = append(macs, mac)
	}
	if len(macs) == 0 {
		return client.Event{}, fmt.Errorf("%w in %s", ErrNoSignature, HeaderSignature)
	}
	if !matches(keys, macs, id, ts, body) {
		return client.Event{}, ErrBadSignature
	}

	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return client.Event{}, fmt.Errorf("%w: %s is not Unix seconds", ErrTimestamp, HeaderTimestamp)
	}
	tolerance := v.Tolerance
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	at := time.Unix(sec, 0)
	if gap := now().Sub(at); gap > tolerance || gap < -tolerance {
		return client.Event{}, fmt.Errorf("%w: signed at %s, %s from now (tolerance %s)", ErrTimestamp, at.UTC().Format(time.RFC3339), gap.Round(time.Second), tolerance)
	}

	var delivery struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &delivery); err != nil {
		return client.Event{}, fmt.Errorf("%w: %v", ErrBody, err)
	}
	var e client.Event
	if len(delivery.Data) == 0 || json.Unmarshal(delivery.Data, &e) != nil {
		return client.Event{}, fmt.Errorf("%w: data is not an event", ErrBody)
	}
	// Receivers dedupe on Event.ID: it must be what Roster keeps the same
	// on every retry.
	if e.ID != id {
		return client.Event{}, fmt.Errorf("%w: the event id %q is not %s %q", ErrBody, e.ID, HeaderID, id)
	}
	if e.Type == "" {
		e.Type = delivery.Type
	}
	return e, nil
}

// keys decodes the secrets; errors never quote them.
func (v Verifier) keys() ([][]byte, error) {
	if len(v.Secrets) == 0 {
		return nil, fmt.Errorf("%w: none given", ErrSecret)
	}
	keys := make([][]byte, len(v.Secrets))
	for i, s := range v.Secrets {
		enc, ok := strings.CutPrefix(strings.TrimSpace(s), secretPrefix)
		if !ok {
			return nil, fmt.Errorf("%w: secret %d does not start with %s", ErrSecret, i+1, secretPrefix)
		}
		key, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil, fmt.Errorf("%w: secret %d is not base64 after %s", ErrSecret, i+1, secretPrefix)
		}
		if len(key) < minKeyLen {
			return nil, fmt.Errorf("%w: secret %d is shorter than %d bytes", ErrSecret, i+1, minKeyLen)
		}
		keys[i] = key
	}
	return keys, nil
}

// matches reports whether any of macs is the HMAC-SHA256 of
// "id.timestamp.body" under any of keys.
func matches(keys, macs [][]byte, id, ts string, body []byte) bool {
	for _, key := range keys {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(id))
		h.Write([]byte{'.'})
		h.Write([]byte(ts))
		h.Write([]byte{'.'})
		h.Write(body)
		want := h.Sum(nil)
		for _, mac := range macs {
			if hmac.Equal(mac, want) { // constant time: a timing leak would let a forger guess byte by byte
				return true
			}
		}
	}
	return false
}

// Handler receives deliveries: it reads the body (at most MaxBodyBytes),
// verifies it with v and calls fn with the event. It answers
//
//   - 204 when fn returns nil;
//   - 400 for a delivery that fails verification (413 for a body too
//     large, 405 for a method other than POST);
//   - 500 when fn fails, so that Roster delivers the event again later,
//     and when v's secrets are malformed, so that deliveries are kept
//     until the receiver is fixed.
//
// fn may be called more than once for one event (Roster delivers at least
// once, and retries after a 500); dedupe on e.ID.
func Handler(v Verifier, fn func(ctx context.Context, e client.Event) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "deliveries are POSTed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
			return
		}
		e, err := v.Verify(r.Header, body)
		if errors.Is(err, ErrSecret) {
			// Not the sender's fault: the message names the problem, never
			// the secret.
			http.Error(w, "the receiver's webhook secret is misconfigured", http.StatusInternalServerError)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := fn(r.Context(), e); err != nil {
			// The answer's start is kept in Roster's delivery log, which
			// the receiver's error may not belong in: say only that it
			// failed.
			http.Error(w, "handling the event failed", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
