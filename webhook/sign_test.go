package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/webhook"
)

// tolerance is the Standard Webhooks verifiers' default: a timestamp more
// than 5 minutes away from the receiver's clock is refused.
const tolerance = 5 * time.Minute

// verify checks a delivery's headers as a receiver does, written from the
// Standard Webhooks specification and not from the package's code: the
// timestamp must be within tolerance of now, and one of the space-separated
// "v1,<base64>" signatures must equal HMAC-SHA256 of id.timestamp.body keyed
// by the base64 secret after "whsec_", compared in constant time.
func verify(h http.Header, body []byte, secret string, now time.Time) error {
	id := h.Get("webhook-id")
	ts := h.Get("webhook-timestamp")
	sigs := h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing header")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("bad timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errors.New("timestamp outside tolerance")
	}
	enc, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return errors.New("bad secret")
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return errors.New("bad secret")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := mac.Sum(nil)
	for _, s := range strings.Split(sigs, " ") {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no matching signature")
}

func applied(hd webhook.Headers) http.Header {
	h := http.Header{}
	hd.Apply(h)
	return h
}

func mustSign(t *testing.T, id string, at time.Time, body []byte, secrets ...string) webhook.Headers {
	t.Helper()
	hd, err := webhook.Sign(id, at, body, secrets...)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return hd
}

// The example of the Standard Webhooks specification and its reference
// libraries.
const (
	katSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	katID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	katTime   = 1614265330
	katBody   = `{"test": 2432232314}`
	katSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestKnownAnswer(t *testing.T) {
	// The expected value, recomputed here from the specification.
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(katSecret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(katID + "." + strconv.Itoa(katTime) + "." + katBody))
	if got := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); got != katSig {
		t.Fatalf("independent computation = %s, want %s", got, katSig)
	}

	at := time.Unix(katTime, 0)
	hd := mustSign(t, katID, at, []byte(katBody), katSecret)
	want := webhook.Headers{ID: katID, Timestamp: "1614265330", Signature: katSig}
	if hd != want {
		t.Fatalf("Sign = %+v, want %+v", hd, want)
	}
	// Sub-second parts of the time are not signed.
	if hd := mustSign(t, katID, at.Add(999*time.Millisecond), []byte(katBody), katSecret); hd != want {
		t.Fatalf("Sign at +999ms = %+v, want %+v", hd, want)
	}
	if err := verify(applied(hd), []byte(katBody), katSecret, at); err != nil {
		t.Fatal(err)
	}
}

func TestSignVerifies(t *testing.T) {
	secret := webhook.NewSecret()
	now := time.Now()
	body := []byte(`{"type":"user.created","timestamp":"2026-01-02T03:04:05Z","data":{"id":"evt_1"}}`)
	h := applied(mustSign(t, "evt_1", now, body, secret))
	for _, name := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		if len(h.Values(name)) != 1 {
			t.Errorf("header %s = %q, want one value", name, h.Values(name))
		}
	}
	if got := h.Get("webhook-id"); got != "evt_1" {
		t.Errorf("webhook-id = %q", got)
	}
	if got, want := h.Get("webhook-timestamp"), strconv.FormatInt(now.Unix(), 10); got != want {
		t.Errorf("webhook-timestamp = %q, want %q", got, want)
	}
	if err := verify(h, body, secret, now); err != nil {
		t.Fatal(err)
	}
	// Apply replaces what was there.
	h.Set("webhook-signature", "v1,stale")
	mustSign(t, "evt_1", now, body, secret).Apply(h)
	if len(h.Values("webhook-signature")) != 1 || verify(h, body, secret, now) != nil {
		t.Fatalf("Apply did not replace the signature: %q", h.Values("webhook-signature"))
	}
}

func TestTampering(t *testing.T) {
	secret := webhook.NewSecret()
	now := time.Now()
	body := []byte(`{"type":"org.created","data":{"id":"evt_2"}}`)
	hd := mustSign(t, "evt_2", now, body, secret)
	tests := []struct {
		name   string
		edit   func(h http.Header)
		body   string
		secret string
		now    time.Time
	}{
		{name: "body", body: `{"type":"org.created","data":{"id":"evt_3"}}`},
		{name: "body with trailing newline", body: string(body) + "\n"},
		{name: "id", edit: func(h http.Header) { h.Set("webhook-id", "evt_3") }},
		{name: "timestamp", edit: func(h http.Header) {
			h.Set("webhook-timestamp", strconv.FormatInt(now.Unix()+1, 10))
		}},
		{name: "signature", edit: func(h http.Header) {
			sig := []byte(h.Get("webhook-signature"))
			sig[5] ^= 1
			h.Set("webhook-signature", string(sig))
		}},
		{name: "other version", edit: func(h http.Header) {
			h.Set("webhook-signature", "v2,"+strings.TrimPrefix(h.Get("webhook-signature"), "v1,"))
		}},
		{name: "other secret", secret: webhook.NewSecret()},
		{name: "too old", now: now.Add(tolerance + 2*time.Second)},
		{name: "too new", now: now.Add(-tolerance - 2*time.Second)},
	}
	if err := verify(applied(hd), body, secret, now); err != nil {
		t.Fatalf("untampered: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := applied(hd)
			if tt.edit != nil {
				tt.edit(h)
			}
			b, s, n := body, secret, now
			if tt.body != "" {
				b = []byte(tt.body)
			}
			if tt.secret != "" {
				s = tt.secret
			}
			if !tt.now.IsZero() {
				n = tt.now
			}
			if err := verify(h, b, s, n); err == nil {
				t.Fatal("verified")
			}
		})
	}
}

func TestSignSeveralSecrets(t *testing.T) {
	a, b := webhook.NewSecret(), webhook.NewSecret()
	now := time.Now()
	body := []byte(`{}`)
	hd := mustSign(t, "evt_4", now, body, a, b)
	sigs := strings.Split(hd.Signature, " ")
	if len(sigs) != 2 {
		t.Fatalf("signature = %q, want two", hd.Signature)
	}
	for i, s := range []string{a, b} {
		one := applied(hd)
		one.Set("webhook-signature", sigs[i])
		if err := verify(one, body, s, now); err != nil {
			t.Errorf("signature %d by secret %d: %v", i, i, err)
		}
	}
}

func TestRotation(t *testing.T) {
	now := time.Now()
	old := webhook.Keys{Current: webhook.NewSecret()}
	if got := old.Signing(now); len(got) != 1 || got[0] != old.Current {
		t.Fatalf("Signing before rotation = %q", got)
	}
	k := webhook.Rotate(old, now)
	if k.Current == old.Current || !strings.HasPrefix(k.Current, "whsec_") {
		t.Fatalf("Rotate kept or broke the secret: %q", k.Current)
	}
	if k.Previous != old.Current || !k.PreviousUntil.Equal(now.Add(webhook.RotationOverlap)) {
		t.Fatalf("Rotate = %+v", k)
	}
	if webhook.RotationOverlap != 24*time.Hour {
		t.Fatalf("RotationOverlap = %s", webhook.RotationOverlap)
	}
	body := []byte(`{"type":"membership.created"}`)

	for _, at := range []time.Time{now, k.PreviousUntil.Add(-time.Nanosecond)} {
		signing := k.Signing(at)
		if len(signing) != 2 || signing[0] != k.Current || signing[1] != old.Current {
			t.Fatalf("Signing(%s) = %q, want the new then the old secret", at, signing)
		}
		h := applied(mustSign(t, "evt_5", at, body, signing...))
		for _, s := range []string{k.Current, old.Current} {
			if err := verify(h, body, s, at); err != nil {
				t.Errorf("during the overlap: %v", err)
			}
		}
	}

	for _, at := range []time.Time{k.PreviousUntil, k.PreviousUntil.Add(time.Hour)} {
		signing := k.Signing(at)
		if len(signing) != 1 || signing[0] != k.Current {
			t.Fatalf("Signing(%s) = %q, want only the new secret", at, signing)
		}
		h := applied(mustSign(t, "evt_5", at, body, signing...))
		if err := verify(h, body, k.Current, at); err != nil {
			t.Errorf("new secret after the overlap: %v", err)
		}
		if err := verify(h, body, old.Current, at); err == nil {
			t.Error("old secret verifies after the overlap")
		}
	}

	// A second rotation drops the oldest secret.
	k2 := webhook.Rotate(k, now.Add(time.Hour))
	if got := k2.Signing(now.Add(time.Hour)); len(got) != 2 || got[1] != k.Current || got[0] == old.Current {
		t.Fatalf("Signing after a second rotation = %q", got)
	}
}

func TestNewSecret(t *testing.T) {
	a, b := webhook.NewSecret(), webhook.NewSecret()
	if a == b {
		t.Fatal("two equal secrets")
	}
	if !strings.HasPrefix(a, "whsec_") {
		t.Fatalf("secret %q lacks the prefix", a)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(a, "whsec_"))
	if err != nil || len(raw) != 32 {
		t.Fatalf("secret decodes to %d bytes, %v; want 32", len(raw), err)
	}
	key, err := webhook.ParseSecret(a)
	if err != nil || string(key) != string(raw) {
		t.Fatalf("ParseSecret = %x, %v; want %x", key, err, raw)
	}
}

func TestParseSecret(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	tests := []struct {
		secret string
		len    int // 0: an error
	}{
		{katSecret, 24},
		{"whsec_" + b64(24), 24},
		{"whsec_" + b64(64), 64},
		{"whsec_" + b64(23), 0},
		{"whsec_", 0},
		{"", 0},
		{b64(32), 0},
		{"WHSEC_" + b64(32), 0},
		{"whsec_" + b64(32)[1:], 0},
		{"whsec_" + strings.ReplaceAll(b64(32), "A", "-"), 0},
		{"whsec_" + base64.RawStdEncoding.EncodeToString(make([]byte, 32)), 0},
		{"whsec_" + base64.URLEncoding.EncodeToString([]byte(strings.Repeat("\xff", 30))), 0},
	}
	for _, tt := range tests {
		key, err := webhook.ParseSecret(tt.secret)
		switch {
		case tt.len == 0 && err == nil:
			t.Errorf("ParseSecret(%q) = %x, want an error", tt.secret, key)
		case tt.len == 0 && len(tt.secret) > len("whsec_") && strings.Contains(err.Error(), tt.secret[len("whsec_"):]):
			t.Errorf("ParseSecret(%q): error %q quotes the secret", tt.secret, err)
		case tt.len != 0 && (err != nil || len(key) != tt.len):
			t.Errorf("ParseSecret(%q) = %d bytes, %v; want %d", tt.secret, len(key), err, tt.len)
		}
	}
}

func TestSignErrors(t *testing.T) {
	good := webhook.NewSecret()
	tests := []struct {
		name    string
		id      string
		secrets []string
	}{
		{"no secret", "evt_1", nil},
		{"bad secret", "evt_1", []string{"nope"}},
		{"one bad secret of two", "evt_1", []string{good, "whsec_AAAA"}},
		{"empty id", "", []string{good}},
		{"id with space", "evt 1", []string{good}},
		{"id with newline", "evt_1\r\nx-injected: 1", []string{good}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if hd, err := webhook.Sign(tt.id, time.Now(), []byte("{}"), tt.secrets...); err == nil {
				t.Fatalf("Sign = %+v, want an error", hd)
			}
		})
	}
}
