package httpapi_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/rostertest"
	"github.com/roster-dev/roster/service"
	"github.com/roster-dev/roster/webhook"
)

// verifySignatures checks a delivery as a receiver following the Standard
// Webhooks specification would, written here from the specification: the
// secrets (whsec_ + base64 key) whose v1 signature over
// "{webhook-id}.{webhook-timestamp}.{body}" the request carries.
func verifySignatures(h http.Header, body []byte, secrets ...string) []string {
	signed := h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "." + string(body)
	var ok []string
	for _, secret := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if err != nil {
			continue
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(signed))
		want := mac.Sum(nil)
		for _, sig := range strings.Fields(h.Get("webhook-signature")) {
			version, b64, found := strings.Cut(sig, ",")
			got, err := base64.StdEncoding.DecodeString(b64)
			if found && version == "v1" && err == nil && hmac.Equal(got, want) {
				ok = append(ok, secret)
				break
			}
		}
	}
	return ok
}

// receiver is a host application's endpoint that records what it gets and
// answers with the status it is told to.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	status int
	delay  time.Duration
}

type received struct {
	header http.Header
	body   []byte
	event  struct {
		Type string `json:"type"`
		Data struct {
			ID   string         `json:"id"`
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		} `json:"data"`
	}
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: 200}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var got received
		got.header, got.body = req.Header.Clone(), body
		json.Unmarshal(body, &got.event)
		r.mu.Lock()
		r.got = append(r.got, got)
		status, delay := r.status, r.delay
		r.mu.Unlock()
		time.Sleep(delay)
		w.WriteHeader(status)
		w.Write([]byte("answer " + strings.Repeat("x", 2000)))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) answer(status int, delay time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status, r.delay = status, delay
}

// wait returns the n-th request (1-based), waiting for it.
func (r *receiver) wait(t *testing.T, n int) received {
	t.Helper()
	var out received
	waitUntil(t, "the endpoint receives a delivery", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.got) >= n {
			out = r.got[n-1]
			return true
		}
		return false
	})
	return out
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

type apiDelivery struct {
	ID             string     `json:"id"`
	EventID        string     `json:"event_id"`
	EventType      string     `json:"event_type"`
	Attempt        int        `json:"attempt"`
	Status         string     `json:"status"`
	ResponseStatus *int       `json:"response_status"`
	ResponseBody   string     `json:"response_body"`
	Error          *string    `json:"error"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
}

func deliveries(t *testing.T, env *rostertest.Env, webhookID string) []apiDelivery {
	t.Helper()
	var page struct{ Data []apiDelivery }
	env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/webhooks/" + webhookID + "/deliveries", Token: env.AdminToken}).JSON(t, &page)
	return page.Data
}

func webhookEnv(t *testing.T, b rostertest.Backend, schedule webhook.Schedule) *rostertest.Env {
	return rostertest.NewEnv(t, b, rostertest.WithTasks(), rostertest.WithService(func(o *service.Options) {
		o.WebhookSchedule = schedule
		o.WebhookClient = &webhook.Client{Timeout: 200 * time.Millisecond}
	}))
}

// TestWebhookDeliveries: an endpoint receives the events it asked for,
// signed; a failed delivery (an error status, no answer in time) is retried
// on the schedule and logged; a rotated secret signs alongside the new one
// for a day.
func TestWebhookDeliveries(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := webhookEnv(t, b, webhook.Schedule{time.Minute, time.Minute, time.Minute})
		tn := newTenant(t, env, "acme")
		r := newReceiver(t)
		created := env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/webhooks", Token: env.AdminToken,
			Body: map[string]any{"url": r.URL, "event_types": []string{"workspace.updated"}, "description": "ours"}}).Map(t)
		id, secret := created["id"].(string), created["secret"].(string)
		if !strings.HasPrefix(secret, "whsec_") || created["disabled"] != false {
			t.Fatalf("created: %v", created)
		}
		if got := env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/webhooks/" + id, Token: env.AdminToken}).Map(t); got["secret"] != nil {
			t.Error("the secret is shown again")
		}
		rename := func(name string) {
			env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + tn.ws.ID, Token: tn.aliceToken, Body: map[string]any{"name": name}})
		}

		// Delivered, signed, to the type asked for only.
		bob := env.CreateUser(map[string]any{"email": "bob@example.com"})
		env.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, map[string]any{"role": "member"}).Want(t, 201)
		rename("First")
		first := r.wait(t, 1)
		if first.event.Type != "workspace.updated" || first.event.Data.Type != "workspace.updated" || first.event.Data.Data["name"] != "First" {
			t.Fatalf("delivered: %s", first.body)
		}
		if first.header.Get("webhook-id") != first.event.Data.ID || !strings.HasPrefix(first.header.Get("webhook-id"), "evt_") {
			t.Errorf("webhook-id %q, event %q", first.header.Get("webhook-id"), first.event.Data.ID)
		}
		if ok := verifySignatures(first.header, first.body, secret); len(ok) != 1 {
			t.Fatalf("the signature does not verify: %v", first.header)
		}
		waitUntil(t, "the delivery is logged as succeeded", func() bool {
			ds := deliveries(t, env, id)
			return len(ds) == 1 && ds[0].Status == "succeeded" && ds[0].Attempt == 1 && *ds[0].ResponseStatus == 200
		})
		if d := deliveries(t, env, id)[0]; len(d.ResponseBody) != webhook.MaxResponseBody || d.EventType != "workspace.updated" {
			t.Errorf("logged: %d bytes of response, type %s", len(d.ResponseBody), d.EventType)
		}

		// A 500 is retried on the schedule, with the same webhook-id.
		r.answer(500, 0)
		rename("Second")
		failed := r.wait(t, 2)
		waitUntil(t, "the failure is logged", func() bool {
			ds := deliveries(t, env, id)
			return ds[0].Status == "pending" && ds[0].Attempt == 1 && ds[0].NextAttemptAt != nil && *ds[0].ResponseStatus == 500
		})
		r.answer(200, 300*time.Millisecond) // answers, but too late
		env.RunDueTasks()
		env.Clock.Advance(time.Minute)
		env.RunDueTasks()
		waitUntil(t, "the retry that timed out is logged", func() bool {
			d := deliveries(t, env, id)[0]
			return d.Attempt == 2 && d.Status == "pending" && d.Error != nil && strings.Contains(*d.Error, "no answer")
		})
		r.answer(200, 0)
		env.RunDueTasks()
		env.Clock.Advance(time.Minute)
		env.RunDueTasks()
		waitUntil(t, "the third attempt succeeds", func() bool {
			d := deliveries(t, env, id)[0]
			return d.Attempt == 3 && d.Status == "succeeded"
		})
		if third := r.wait(t, 4); third.header.Get("webhook-id") != failed.header.Get("webhook-id") {
			t.Errorf("a retry changed webhook-id: %s, then %s", failed.header.Get("webhook-id"), third.header.Get("webhook-id"))
		}

		// Rotation: both secrets sign for a day, then the new one alone.
		rotated := env.Expect(200, rostertest.Req{Method: "POST", Path: "/v1/webhooks/" + id + "/rotate-secret", Token: env.AdminToken}).Map(t)
		newSecret := rotated["secret"].(string)
		rename("Third")
		during := r.wait(t, 5)
		if ok := verifySignatures(during.header, during.body, secret, newSecret); len(ok) != 2 {
			t.Errorf("during the rotation %d of the two secrets verify", len(ok))
		}
		env.Clock.Advance(24 * time.Hour)
		rename("Fourth")
		after := r.wait(t, 6)
		if ok := verifySignatures(after.header, after.body, secret, newSecret); len(ok) != 1 || ok[0] != newSecret {
			t.Errorf("after the rotation: %v verify", ok)
		}
		if n := r.count(); n != 6 {
			t.Errorf("%d requests, want 6 (the membership was not asked for)", n)
		}
		stream := openStream(t, env, env.AdminToken, "", "")
		defer stream.close()
		var metrics string
		defer func() {
			if t.Failed() {
				for _, l := range strings.Split(metrics, "\n") {
					if strings.HasPrefix(l, "roster_") {
						t.Log(l)
					}
				}
			}
		}()
		waitUntil(t, "the metrics count deliveries, tasks and the stream", func() bool {
			metrics = string(env.Expect(200, rostertest.Req{Method: "GET", Path: "/metrics"}).Body)
			return strings.Contains(metrics, `roster_webhook_deliveries_total{outcome="succeeded"} 4`) &&
				strings.Contains(metrics, `roster_webhook_deliveries_total{outcome="retried"} 2`) &&
				strings.Contains(metrics, `roster_tasks{status="completed",type="webhook_delivery"} 4`) &&
				strings.Contains(metrics, "roster_stream_clients 1")
		})
	})
}

// TestFailingWebhookIsDisabled: an endpoint that fails for five days in a
// row is disabled, and recorded so; a delivery that runs out of attempts
// is failed.
func TestFailingWebhookIsDisabled(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		day := 24 * time.Hour
		env := webhookEnv(t, b, webhook.Schedule{day, day, day, day, day, day})
		tn := newTenant(t, env, "acme")
		r := newReceiver(t)
		r.answer(503, 0)
		id := env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/webhooks", Token: env.AdminToken,
			Body: map[string]any{"url": r.URL}}).Map(t)["id"].(string)
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + tn.ws.ID, Token: tn.aliceToken, Body: map[string]any{"name": "Renamed"}})
		r.wait(t, 1)
		for attempt := 2; attempt <= 6; attempt++ {
			env.RunDueTasks() // the last attempt has finished: its retry waits for its time
			env.Clock.Advance(day)
			env.RunDueTasks()
			r.wait(t, attempt)
		}
		waitUntil(t, "the endpoint is disabled", func() bool {
			return env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/webhooks/" + id, Token: env.AdminToken}).Map(t)["disabled"] == true
		})
		if n := auditCount(t, env, "webhook.disabled"); n != 1 {
			t.Errorf("%d webhook.disabled events", n)
		}
		env.RunDueTasks()
		env.Clock.Advance(day)
		env.RunDueTasks()
		waitUntil(t, "the delivery is failed for good", func() bool {
			return deliveries(t, env, id)[0].Status == "failed"
		})
		if n := r.count(); n != 6 {
			t.Errorf("%d attempts, want 6 (none once disabled)", n)
			for _, d := range deliveries(t, env, id) {
				t.Logf("%+v", d)
			}
			r.mu.Lock()
			for _, g := range r.got[:10] {
				t.Logf("%s %s", g.header.Get("webhook-id"), g.event.Type)
			}
			r.mu.Unlock()
		}
	})
}

// TestCallbacks: a callback becomes a signed callback.due event at its
// time, to the endpoint it names only.
func TestCallbacks(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := webhookEnv(t, b, nil)
		named, other := newReceiver(t), newReceiver(t)
		create := func(url string, types []string) string {
			return env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/webhooks", Token: env.AdminToken,
				Body: map[string]any{"url": url, "event_types": types}}).Map(t)["id"].(string)
		}
		target := create(named.URL, []string{"callback.due"})
		create(other.URL, []string{"callback.due"})
		runAt := env.Clock.Now().Add(time.Hour)
		task := env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/tasks/callbacks", Token: env.AdminToken,
			Body: map[string]any{"run_at": runAt.Format(time.RFC3339), "payload": map[string]any{"trial": "ends"}, "webhook_id": target}}).Map(t)
		if task["type"] != "callback" || task["status"] != "scheduled" {
			t.Fatalf("callback task: %v", task)
		}
		env.RunDueTasks()
		env.Clock.Advance(time.Hour)
		env.RunDueTasks()
		got := named.wait(t, 1)
		if got.event.Type != "callback.due" || got.event.Data.Data["task_id"] != task["id"] {
			t.Fatalf("callback: %s", got.body)
		}
		if payload, _ := got.event.Data.Data["payload"].(map[string]any); payload["trial"] != "ends" {
			t.Errorf("payload: %v", got.event.Data.Data)
		}
		if other.count() != 0 {
			t.Error("a callback for one endpoint reached another")
		}
		// A run_at in the past runs at once, without the clock moving.
		env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/tasks/callbacks", Token: env.AdminToken,
			Body: map[string]any{"run_at": env.Clock.Now().Add(-time.Hour).Format(time.RFC3339), "webhook_id": target}})
		if late := named.wait(t, 2); late.event.Type != "callback.due" {
			t.Errorf("the past callback: %s", late.body)
		}

		for _, tc := range []struct {
			body map[string]any
			code string
		}{
			{map[string]any{"run_at": runAt.Add(2 * 365 * 24 * time.Hour).Format(time.RFC3339)}, "invalid_run_at"},
			{map[string]any{"run_at": runAt.Format(time.RFC3339), "payload": strings.Repeat("x", 65<<10)}, "payload_too_large"},
			{map[string]any{"run_at": runAt.Format(time.RFC3339), "webhook_id": "whk_06h4000000000000000000000"}, "unknown_webhook"},
		} {
			if got := env.Expect(400, rostertest.Req{Method: "POST", Path: "/v1/tasks/callbacks", Token: env.AdminToken, Body: tc.body}).Map(t)["code"]; got != tc.code {
				t.Errorf("%v: %v, want %s", tc.body["run_at"], got, tc.code)
			}
		}
	})
}

// TestWebhookInput: bad endpoints are 400s; to a non-operator no endpoint
// exists.
func TestWebhookInput(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		for _, tc := range []struct {
			body map[string]any
			code string
		}{
			{map[string]any{"url": "ftp://example.com/hook"}, "invalid_webhook_url"},
			{map[string]any{"url": "not a url"}, "invalid_webhook_url"},
			{map[string]any{"url": "https://example.com/hook", "event_types": []string{"no.such"}}, "unknown_event_type"},
		} {
			if got := env.Expect(400, rostertest.Req{Method: "POST", Path: "/v1/webhooks", Token: env.AdminToken, Body: tc.body}).Map(t)["code"]; got != tc.code {
				t.Errorf("%v: %v, want %s", tc.body, got, tc.code)
			}
		}
		id := env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/webhooks", Token: env.AdminToken,
			Body: map[string]any{"url": "http://127.0.0.1:1/hook"}}).Map(t)["id"].(string)
		env.Expect(403, rostertest.Req{Method: "POST", Path: "/v1/webhooks", Token: tn.aliceToken, Body: map[string]any{"url": "https://example.com"}})
		env.Expect(403, rostertest.Req{Method: "GET", Path: "/v1/webhooks", Token: tn.aliceToken})
		for _, req := range []rostertest.Req{
			{Method: "GET", Path: "/v1/webhooks/" + id},
			{Method: "DELETE", Path: "/v1/webhooks/" + id},
			{Method: "POST", Path: "/v1/webhooks/" + id + "/rotate-secret"},
			{Method: "GET", Path: "/v1/webhooks/" + id + "/deliveries"},
		} {
			req.Token = tn.aliceToken
			if got := env.Expect(404, req).Map(t)["code"]; got != "webhook_not_found" {
				t.Errorf("%s %s: %v", req.Method, req.Path, got)
			}
		}
		env.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/webhooks/" + id, Token: env.AdminToken})
		env.Expect(404, rostertest.Req{Method: "GET", Path: "/v1/webhooks/" + id, Token: env.AdminToken})
	})
}

// TestWebhookDenyPrivate: with deny-private on, endpoints on loopback and
// private addresses are refused at registration.
func TestWebhookDenyPrivate(t *testing.T) {
	t.Parallel()
	env := rostertest.NewEnv(t, rostertest.SQLite, rostertest.WithService(func(o *service.Options) { o.WebhookDenyPrivate = true }))
	for _, url := range []string{"http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "http://localhost/hook"} {
		if got := env.Expect(400, rostertest.Req{Method: "POST", Path: "/v1/webhooks", Token: env.AdminToken,
			Body: map[string]any{"url": url}}).Map(t)["code"]; got != "invalid_webhook_url" {
			t.Errorf("%s: %v", url, got)
		}
	}
}
