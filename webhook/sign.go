// Package webhook delivers Roster's events to the host application's
// endpoints, per Standard Webhooks (https://www.standardwebhooks.com/).
//
// A delivery is a POST of the event's JSON with three headers: webhook-id
// (the event id, the same on every retry, so receivers can dedupe),
// webhook-timestamp (Unix seconds) and webhook-signature, a space-separated
// list of "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)),
// one per secret the endpoint currently signs with (two while a rotated
// secret overlaps the new one).
//
// The package is pure logic: secrets, signing, key rotation, the retry
// schedule, one HTTP delivery and URL and address checks. Storing endpoints
// and deliveries, and scheduling retries, belong to its caller.
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of a signed delivery.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every endpoint secret.
const SecretPrefix = "whsec_"

// MinKeyLen is the shortest key, in bytes, that ParseSecret accepts.
const MinKeyLen = 24

const secretKeyLen = 32

// NewSecret returns a new endpoint secret: "whsec_" followed by the standard
// base64 encoding of 32 random bytes.
func NewSecret() string {
	key := make([]byte, secretKeyLen)
	// crypto/rand.Read never fails (it crashes the program instead).
	_, _ = rand.Read(key)
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// ParseSecret returns the HMAC key of an endpoint secret. It fails if the
// secret lacks the "whsec_" prefix, is not standard base64 after it, or its
// key is shorter than MinKeyLen bytes. Errors never quote the secret.
func ParseSecret(s string) ([]byte, error) {
	enc, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, errors.New("webhook: secret does not start with " + SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, errors.New("webhook: secret is not valid base64 after " + SecretPrefix)
	}
	if len(key) < MinKeyLen {
		return nil, errors.New("webhook: secret key is shorter than " + strconv.Itoa(MinKeyLen) + " bytes")
	}
	return key, nil
}

// Headers are the signature headers of one delivery.
type Headers struct {
	ID        string // webhook-id: the message (event) id
	Timestamp string // webhook-timestamp: Unix seconds, decimal
	Signature string // webhook-signature: "v1,<base64>" per secret, space separated
}

// Apply sets the three headers on h, replacing any values there.
func (hd Headers) Apply(h http.Header) {
	h.Set(HeaderID, hd.ID)
	h.Set(HeaderTimestamp, hd.Timestamp)
	h.Set(HeaderSignature, hd.Signature)
}

// Sign signs body as message msgID sent at at (truncated to the second) with
// every secret, in the order given. It fails if msgID is empty or holds
// spaces or control characters, if no secret is given, or if a secret does
// not parse (see ParseSecret).
func Sign(msgID string, at time.Time, body []byte, secrets ...string) (Headers, error) {
	if msgID == "" {
		return Headers{}, errors.New("webhook: empty message id")
	}
	for _, r := range msgID {
		if r <= ' ' || r == 0x7f {
			return Headers{}, errors.New("webhook: message id holds a space or control character")
		}
	}
	if len(secrets) == 0 {
		return Headers{}, errors.New("webhook: no secret to sign with")
	}
	ts := strconv.FormatInt(at.Unix(), 10)
	var sig strings.Builder
	for i, s := range secrets {
		key, err := ParseSecret(s)
		if err != nil {
			return Headers{}, err
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(msgID))
		mac.Write([]byte{'.'})
		mac.Write([]byte(ts))
		mac.Write([]byte{'.'})
		mac.Write(body)
		if i > 0 {
			sig.WriteByte(' ')
		}
		sig.WriteString("v1,")
		sig.WriteString(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return Headers{ID: msgID, Timestamp: ts, Signature: sig.String()}, nil
}

// RotationOverlap is how long a rotated-out secret keeps signing beside the
// new one, so receivers can switch without losing a delivery.
const RotationOverlap = 24 * time.Hour

// Keys are an endpoint's secrets: the current one and, for a while after a
// rotation, the previous one.
type Keys struct {
	Current       string
	Previous      string    // empty when there is none
	PreviousUntil time.Time // Previous signs while now is before this
}

// Signing returns the secrets to sign with at now: Current, then Previous if
// there is one and now is before PreviousUntil.
func (k Keys) Signing(now time.Time) []string {
	if k.Previous != "" && now.Before(k.PreviousUntil) {
		return []string{k.Current, k.Previous}
	}
	return []string{k.Current}
}

// Rotate returns k with a new current secret; the old current one stays as
// the previous secret until now + RotationOverlap. A secret that was still
// overlapping from an earlier rotation is dropped.
func Rotate(k Keys, now time.Time) Keys {
	return Keys{Current: NewSecret(), Previous: k.Current, PreviousUntil: now.Add(RotationOverlap)}
}
