package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/client"
	"github.com/roster-dev/roster/client/webhooks"
)

// A delivery signed by Roster's own webhook.Sign (the server module) with
// two secrets, as during a rotation; the test keeps it byte for byte.
const (
	katID      = "evt_01HZX0000000000000000000AA"
	katTS      = "1714564800"
	katSecret1 = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	katSecret2 = "whsec_c2VjcmV0LXR3by0wMTIzNDU2Nzg5YWJjZGVmZ2hpag=="
	katBody    = `{"data":{"actor_id":"usr_01HZX0000000000000000000AB","created_at":"2024-05-01T12:00:00Z","data":{"id":"wsp_1","name":"Design"},"id":"evt_01HZX0000000000000000000AA","org_id":"org_1","type":"workspace.created","workspace_id":"wsp_1"},"timestamp":"2024-05-01T12:00:00Z","type":"workspace.created"}`
	katSig     = "v1,YjwsDhCxZgqgMs+YkVXM1v42PE57o4DkzLqCwAepJp8= v1,xpiRTrghpKHCotR5G72/C77JSMVh1dLRcMd9ozlwL/E="
)

var (
	secretOld = "whsec_" + base64.StdEncoding.EncodeToString([]byte("an old secret of 32 bytes......."))
	secretNew = "whsec_" + base64.StdEncoding.EncodeToString([]byte("a new secret of 32 bytes........"))
	now       = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
)

// sign is the Standard Webhooks v1 signature of id.ts.body by secret.
func sign(t *testing.T, secret, id, ts string, body []byte) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// body is a delivery of event id.
func body(id string) []byte {
	return fmt.Appendf(nil, `{"type":"membership.created","timestamp":"2024-05-01T12:00:00Z","data":{"id":%q,"type":"membership.created","created_at":"2024-05-01T12:00:00Z","org_id":"org_1","workspace_id":"wsp_1","actor_id":null,"data":{"user_id":"usr_1"}}}`, id)
}

// delivery returns the headers of body sent as id at at, signed by secrets.
func delivery(t *testing.T, id string, at time.Time, b []byte, secrets ...string) http.Header {
	t.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	var sigs []string
	for _, s := range secrets {
		sigs = append(sigs, sign(t, s, id, ts, b))
	}
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", ts)
	h.Set("webhook-signature", strings.Join(sigs, " "))
	return h
}

func verifier(secrets ...string) webhooks.Verifier {
	return webhooks.Verifier{Secrets: secrets, Now: func() time.Time { return now }}
}

func TestKnownAnswer(t *testing.T) {
	// The test's own signing agrees with the server's.
	if got := sign(t, katSecret1, katID, katTS, []byte(katBody)) + " " + sign(t, katSecret2, katID, katTS, []byte(katBody)); got != katSig {
		t.Fatalf("signed %q, Roster signs %q", got, katSig)
	}
	h := http.Header{}
	h.Set("Webhook-Id", katID)
	h.Set("Webhook-Timestamp", katTS)
	h.Set("Webhook-Signature", katSig)
	for _, secret := range []string{katSecret1, katSecret2} {
		e, err := verifier(secret).Verify(h, []byte(katBody))
		if err != nil {
			t.Fatalf("secret %s: %v", secret, err)
		}
		if e.ID != katID || e.Type != "workspace.created" || *e.OrgID != "org_1" || *e.WorkspaceID != "wsp_1" || *e.ActorID != "usr_01HZX0000000000000000000AB" ||
			!e.CreatedAt.Equal(now) || string(e.Data) != `{"id":"wsp_1","name":"Design"}` {
			t.Errorf("event %+v", e)
		}
	}
	if _, err := verifier(secretNew).Verify(h, []byte(katBody)); !errors.Is(err, webhooks.ErrBadSignature) {
		t.Errorf("another secret: %v", err)
	}
}

func TestRotation(t *testing.T) {
	b := body("evt_1")
	for _, c := range []struct {
		name      string
		verifier  []string
		signed    []string
		extraSigs string
		ok        bool
	}{
		{"both secrets, both signatures", []string{secretNew, secretOld}, []string{secretNew, secretOld}, "", true},
		{"both secrets, new signature", []string{secretOld, secretNew}, []string{secretNew}, "", true},
		{"both secrets, old signature", []string{secretNew, secretOld}, []string{secretOld}, "", true},
		{"new secret, both signatures", []string{secretNew}, []string{secretOld, secretNew}, "", true},
		{"old secret, both signatures", []string{secretOld}, []string{secretNew, secretOld}, "", true},
		{"a malformed signature beside a good one", []string{secretNew}, []string{secretNew}, "v1,!!notbase64 v2,abc", true},
		{"neither secret", []string{secretNew}, []string{secretOld}, "", false},
	} {
		h := delivery(t, "evt_1", now, b, c.signed...)
		if c.extraSigs != "" {
			h.Set("webhook-signature", c.extraSigs+" "+h.Get("webhook-signature"))
		}
		_, err := verifier(c.verifier...).Verify(h, b)
		if c.ok && err != nil || !c.ok && !errors.Is(err, webhooks.ErrBadSignature) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// Signatures on several header lines count as one list.
	h := delivery(t, "evt_1", now, b, secretOld)
	h.Add("webhook-signature", sign(t, secretNew, "evt_1", h.Get("webhook-timestamp"), b))
	if _, err := verifier(secretNew).Verify(h, b); err != nil {
		t.Errorf("two header lines: %v", err)
	}
}

func TestTolerance(t *testing.T) {
	b := body("evt_1")
	for _, c := range []struct {
		name      string
		at        time.Time
		tolerance time.Duration
		ok        bool
	}{
		{"now", now, 0, true},
		{"4m59s old", now.Add(-4*time.Minute - 59*time.Second), 0, true},
		{"4m59s ahead", now.Add(4*time.Minute + 59*time.Second), 0, true},
		{"too old", now.Add(-5*time.Minute - time.Second), 0, false},
		{"too far in the future", now.Add(5*time.Minute + time.Second), 0, false},
		{"an hour old, tolerance 2h", now.Add(-time.Hour), 2 * time.Hour, true},
		{"2s old, tolerance 1s", now.Add(-2 * time.Second), time.Second, false},
	} {
		v := verifier(secretNew)
		v.Tolerance = c.tolerance
		_, err := v.Verify(delivery(t, "evt_1", c.at, b, secretNew), b)
		if c.ok && err != nil || !c.ok && !errors.Is(err, webhooks.ErrTimestamp) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// A timestamp that is not Unix seconds, correctly signed.
	h := delivery(t, "evt_1", now, b, secretNew)
	h.Set("webhook-timestamp", "2024-05-01T12:00:00Z")
	h.Set("webhook-signature", sign(t, secretNew, "evt_1", "2024-05-01T12:00:00Z", b))
	if _, err := verifier(secretNew).Verify(h, b); !errors.Is(err, webhooks.ErrTimestamp) {
		t.Errorf("RFC 3339 timestamp: %v", err)
	}
	// The default clock is the real one.
	if _, err := (webhooks.Verifier{Secrets: []string{secretNew}}).Verify(delivery(t, "evt_1", time.Now(), b, secretNew), b); err != nil {
		t.Errorf("time.Now: %v", err)
	}
}

func TestRefusals(t *testing.T) {
	b := body("evt_1")
	good := func() http.Header { return delivery(t, "evt_1", now, b, secretNew) }
	for _, c := range []struct {
		name   string
		header func() http.Header
		body   []byte
		want   error
	}{
		{"tampered body", good, []byte(strings.Replace(string(b), "usr_1", "usr_2", 1)), webhooks.ErrBadSignature},
		{"tampered id", func() http.Header { h := good(); h.Set("webhook-id", "evt_2"); return h }, b, webhooks.ErrBadSignature},
		{"tampered timestamp", func() http.Header {
			h := good()
			h.Set("webhook-timestamp", strconv.FormatInt(now.Unix()+1, 10))
			return h
		}, b, webhooks.ErrBadSignature},
		{"no webhook-id", func() http.Header { h := good(); h.Del("webhook-id"); return h }, b, webhooks.ErrMissingHeader},
		{"no webhook-timestamp", func() http.Header { h := good(); h.Del("webhook-timestamp"); return h }, b, webhooks.ErrMissingHeader},
		{"no webhook-signature", func() http.Header { h := good(); h.Del("webhook-signature"); return h }, b, webhooks.ErrMissingHeader},
		{"blank webhook-signature", func() http.Header { h := good(); h.Set("webhook-signature", "  "); return h }, b, webhooks.ErrMissingHeader},
		{"no header at all", func() http.Header { return http.Header{} }, b, webhooks.ErrMissingHeader},
		{"malformed base64", func() http.Header { h := good(); h.Set("webhook-signature", "v1,***"); return h }, b, webhooks.ErrNoSignature},
		{"a signature too short", func() http.Header { h := good(); h.Set("webhook-signature", "v1,c2hvcnQ="); return h }, b, webhooks.ErrNoSignature},
		{"no version", func() http.Header {
			h := good()
			h.Set("webhook-signature", strings.TrimPrefix(h.Get("webhook-signature"), "v1,"))
			return h
		}, b, webhooks.ErrNoSignature},
		{"another version only", func() http.Header {
			h := good()
			h.Set("webhook-signature", "v1a,"+strings.TrimPrefix(h.Get("webhook-signature"), "v1,"))
			return h
		}, b, webhooks.ErrNoSignature},
	} {
		if _, err := verifier(secretNew).Verify(c.header(), c.body); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestBodies(t *testing.T) {
	for name, b := range map[string][]byte{
		"not JSON":                 []byte("hello"),
		"no data":                  []byte(`{"type":"membership.created","timestamp":"2024-05-01T12:00:00Z"}`),
		"data not an event":        []byte(`{"type":"membership.created","data":[1,2]}`),
		"the event bare":           []byte(`{"id":"evt_1","type":"membership.created","data":{}}`),
		"another event's delivery": body("evt_2"),
	} {
		_, err := verifier(secretNew).Verify(delivery(t, "evt_1", now, b, secretNew), b)
		if !errors.Is(err, webhooks.ErrBody) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSecrets(t *testing.T) {
	b := body("evt_1")
	h := delivery(t, "evt_1", now, b, secretNew)
	for name, secrets := range map[string][]string{
		"none":             nil,
		"no whsec_ prefix": {strings.TrimPrefix(secretNew, "whsec_")},
		"not base64":       {"whsec_not*base64"},
		"too short":        {"whsec_" + base64.StdEncoding.EncodeToString([]byte("short"))},
		"one bad of two":   {secretNew, "whsec_"},
	} {
		_, err := verifier(secrets...).Verify(h, b)
		if !errors.Is(err, webhooks.ErrSecret) {
			t.Errorf("%s: %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), strings.TrimPrefix(secretNew, "whsec_")) {
			t.Errorf("%s: the error quotes the secret: %v", name, err)
		}
	}
}

func TestHandler(t *testing.T) {
	b := body("evt_1")
	failing := errors.New("the database is down")
	for _, c := range []struct {
		name     string
		method   string
		header   http.Header
		body     []byte
		secrets  []string
		fnErr    error
		want     int
		wantCall bool
	}{
		{"a good delivery", http.MethodPost, delivery(t, "evt_1", now, b, secretNew), b, []string{secretNew}, nil, http.StatusNoContent, true},
		{"fn fails", http.MethodPost, delivery(t, "evt_1", now, b, secretNew), b, []string{secretNew}, failing, http.StatusInternalServerError, true},
		{"a bad signature", http.MethodPost, delivery(t, "evt_1", now, b, secretOld), b, []string{secretNew}, nil, http.StatusBadRequest, false},
		{"too old", http.MethodPost, delivery(t, "evt_1", now.Add(-time.Hour), b, secretNew), b, []string{secretNew}, nil, http.StatusBadRequest, false},
		{"no headers", http.MethodPost, http.Header{}, b, []string{secretNew}, nil, http.StatusBadRequest, false},
		{"a bad body", http.MethodPost, delivery(t, "evt_1", now, []byte("{}"), secretNew), []byte("{}"), []string{secretNew}, nil, http.StatusBadRequest, false},
		{"a body too large", http.MethodPost, http.Header{}, make([]byte, webhooks.MaxBodyBytes+1), []string{secretNew}, nil, http.StatusRequestEntityTooLarge, false},
		{"a bad secret", http.MethodPost, delivery(t, "evt_1", now, b, secretNew), b, []string{"whsec_x"}, nil, http.StatusInternalServerError, false},
		{"GET", http.MethodGet, delivery(t, "evt_1", now, b, secretNew), b, []string{secretNew}, nil, http.StatusMethodNotAllowed, false},
	} {
		var got []client.Event
		h := webhooks.Handler(verifier(c.secrets...), func(ctx context.Context, e client.Event) error {
			if ctx == nil {
				t.Error("no context")
			}
			got = append(got, e)
			return c.fnErr
		})
		req := httptest.NewRequest(c.method, "/hooks", strings.NewReader(string(c.body)))
		for k, v := range c.header {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, rec.Code, rec.Body, c.want)
		}
		if c.wantCall != (len(got) == 1) || c.wantCall && got[0].ID != "evt_1" {
			t.Errorf("%s: fn called with %v", c.name, got)
		}
		if strings.Contains(rec.Body.String(), failing.Error()) {
			t.Errorf("%s: the answer tells fn's error: %s", c.name, rec.Body)
		}
	}
}

// Roster's delivery through a real connection: the test server plays the
// receiver.
func TestHandlerOverHTTP(t *testing.T) {
	received := make(chan client.Event, 1)
	srv := httptest.NewServer(webhooks.Handler(webhooks.Verifier{Secrets: []string{secretNew}}, func(_ context.Context, e client.Event) error {
		received <- e
		return nil
	}))
	defer srv.Close()
	b := body("evt_9")
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(string(b)))
	req.Header = delivery(t, "evt_9", time.Now(), b, secretOld, secretNew)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", res.StatusCode)
	}
	if e := <-received; e.ID != "evt_9" || e.Type != "membership.created" || e.ActorID != nil {
		t.Errorf("event %+v", e)
	}
}
