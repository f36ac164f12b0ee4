package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/httpapi"
	"github.com/roster-dev/roster/internal/rostertest"
	"github.com/roster-dev/roster/service"
)

// sseEvent is one event as a stream client parses it.
type sseEvent struct {
	ID, Type string
	Data     struct {
		ID          string         `json:"id"`
		Type        string         `json:"type"`
		OrgID       *string        `json:"org_id"`
		WorkspaceID *string        `json:"workspace_id"`
		ActorID     *string        `json:"actor_id"`
		Data        map[string]any `json:"data"`
	}
}

// sseClient reads an event stream the way a browser's EventSource does.
type sseClient struct {
	events     chan sseEvent
	heartbeats chan struct{}
	cancel     context.CancelFunc
	done       chan struct{}
}

// openStream connects to env's stream; query is added to the path and
// lastID, when set, sent as Last-Event-ID. It fails the test unless the
// stream answers 200.
func openStream(t testing.TB, env *rostertest.Env, token, query, lastID string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", env.HTTP.URL+"/v1/events/stream?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		res.Body.Close()
		cancel()
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	c := &sseClient{events: make(chan sseEvent, 100_000), heartbeats: make(chan struct{}, 100), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var e sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e.ID != "" {
					c.events <- e
				}
				e = sseEvent{}
			case strings.HasPrefix(line, ": heartbeat"):
				select {
				case c.heartbeats <- struct{}{}:
				default:
				}
			case strings.HasPrefix(line, "id: "):
				e.ID = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				e.Type = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e.Data); err != nil {
					panic(fmt.Sprintf("stream data is not an event: %s", line))
				}
			}
		}
	}()
	t.Cleanup(c.close)
	return c
}

func (c *sseClient) close() { c.cancel(); <-c.done }

// collect reads events until cond holds for what was read, or fails after
// ten seconds.
func (c *sseClient) collect(t *testing.T, what string, cond func([]sseEvent) bool) []sseEvent {
	t.Helper()
	var got []sseEvent
	deadline := time.After(10 * time.Second)
	for !cond(got) {
		select {
		case e := <-c.events:
			got = append(got, e)
		case <-deadline:
			t.Fatalf("after 10 s and %d events, still not: %s", len(got), what)
		}
	}
	return got
}

// quiet reports whether no event arrives for a while: a stream that
// delivers within milliseconds has had its chance.
func (c *sseClient) quiet(wait time.Duration) (sseEvent, bool) {
	select {
	case e := <-c.events:
		return e, false
	case <-time.After(wait):
		return sseEvent{}, true
	}
}

func has(id string) func([]sseEvent) bool {
	return func(evs []sseEvent) bool { return len(evs) > 0 && evs[len(evs)-1].ID == id }
}

// lastEventID returns the id of the newest event in the audit log.
func lastEventID(t *testing.T, env *rostertest.Env) string {
	t.Helper()
	var page struct{ Data []struct{ ID string } }
	env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit?limit=1", Token: env.AdminToken}).JSON(t, &page)
	return page.Data[0].ID
}

// TestEventStreamShowsEachCallerTheirEvents: over many random changes in
// two organisations, each owner receives exactly their organisation's
// events (and those about themselves), in order; an operator receives all.
func TestEventStreamShowsEachCallerTheirEvents(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		acme, beta := newTenant(t, env, "acme"), newTenant(t, env, "beta")
		users := make([]string, 20)
		for i := range users {
			users[i] = env.CreateUser(map[string]any{"email": fmt.Sprintf("u%d@example.com", i)}).ID
		}
		all := openStream(t, env, env.AdminToken, "", "")
		mine := map[string]*sseClient{acme.org.ID: openStream(t, env, acme.aliceToken, "", ""), beta.org.ID: openStream(t, env, beta.aliceToken, "", "")}

		changes := 1000
		if testing.Short() {
			changes = 200
		}
		rng := rand.New(rand.NewPCG(7, 7))
		for range changes {
			tn := []tenant{acme, beta}[rng.IntN(2)]
			user := users[rng.IntN(len(users))]
			switch rng.IntN(3) {
			case 0:
				env.Try(rostertest.Req{Method: "PUT", Path: "/v1/workspaces/" + tn.ws.ID + "/members/" + user, Token: tn.aliceToken,
					Body: map[string]any{"role": []string{"viewer", "member", "admin"}[rng.IntN(3)]}})
			case 1:
				env.Try(rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + tn.ws.ID + "/members/" + user, Token: tn.aliceToken})
			case 2:
				env.Try(rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + tn.ws.ID, Token: tn.aliceToken,
					Body: map[string]any{"name": fmt.Sprintf("name %d", rng.IntN(1000))}})
			}
		}
		last := lastEventID(t, env)
		everything := all.collect(t, "the operator receives every event", has(last))
		want := map[string][]string{}
		for i, e := range everything {
			if e.Data.ID != e.ID || e.Data.Type != e.Type {
				t.Fatalf("event %d: id %s type %s, data %+v", i, e.ID, e.Type, e.Data)
			}
			if i > 0 && everything[i-1].ID >= e.ID && b == rostertest.SQLite {
				t.Fatalf("out of order: %s after %s", e.ID, everything[i-1].ID)
			}
			if e.Data.OrgID != nil {
				want[*e.Data.OrgID] = append(want[*e.Data.OrgID], e.ID)
			}
		}
		for org, c := range mine {
			lastOfOrg := want[org][len(want[org])-1]
			got := c.collect(t, "an owner receives their organisation's events", has(lastOfOrg))
			var ids []string
			for _, e := range got {
				if e.Data.OrgID == nil || *e.Data.OrgID != org {
					t.Fatalf("an owner of %s received %s of %v", org, e.Type, e.Data.OrgID)
				}
				ids = append(ids, e.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(want[org]) {
				t.Errorf("owner of %s: %d events, want %d", org, len(ids), len(want[org]))
			}
		}
		if len(everything) < changes {
			t.Errorf("%d events for %d changes", len(everything), changes)
		}
	})
}

// TestEventStreamResumesAfterLastEventID: a client that reconnects with the
// last id it saw receives everything after it, once.
func TestEventStreamResumesAfterLastEventID(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		rename := func(i int) {
			env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + tn.ws.ID, Token: tn.aliceToken, Body: map[string]any{"name": fmt.Sprint("name ", i)}})
		}
		first := openStream(t, env, tn.aliceToken, "", "")
		for i := range 5 {
			rename(i)
		}
		seen := first.collect(t, "five renames", func(evs []sseEvent) bool { return len(evs) == 5 })
		first.close()
		for i := 5; i < 10; i++ { // while disconnected
			rename(i)
		}
		resumed := openStream(t, env, tn.aliceToken, "", seen[4].ID)
		rest := resumed.collect(t, "the five renames made while away", func(evs []sseEvent) bool { return len(evs) == 5 })
		for i, e := range rest {
			if e.Data.Data["name"] != fmt.Sprint("name ", i+5) {
				t.Errorf("resumed event %d: %v", i, e.Data.Data["name"])
			}
		}
		if e, quiet := resumed.quiet(100 * time.Millisecond); !quiet {
			t.Errorf("an extra event after resuming: %s %s", e.Type, e.ID)
		}
		byQuery := openStream(t, env, tn.aliceToken, "last_event_id="+seen[4].ID, "")
		byQuery.collect(t, "the same five through ?last_event_id", func(evs []sseEvent) bool { return len(evs) == 5 })
	})
}

// TestEventStreamFiltersAndRefusesBadInput: types= filters; unknown types
// and unknown Last-Event-IDs are 400s; an idle stream sends heartbeats;
// an update carries what changed.
func TestEventStreamFiltersAndRefusesBadInput(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b, rostertest.WithAPI(func(o *httpapi.Options) { o.StreamHeartbeat = 20 * time.Millisecond }))
		tn := newTenant(t, env, "acme")
		for path, code := range map[string]string{"?types=bogus.type": "unknown_event_type", "?last_event_id=evt_nope": "unknown_event"} {
			res := env.Do(rostertest.Req{Method: "GET", Path: "/v1/events/stream" + path, Token: tn.aliceToken})
			if res.Status != 400 || res.Map(t)["code"] != code {
				t.Errorf("%s: %d %s", path, res.Status, res.Body)
			}
		}
		env.Expect(401, rostertest.Req{Method: "GET", Path: "/v1/events/stream"})

		filtered := openStream(t, env, tn.aliceToken, "types=workspace.updated", "")
		select {
		case <-filtered.heartbeats:
		case <-time.After(10 * time.Second):
			t.Fatal("no heartbeat on an idle stream")
		}
		bob := env.CreateUser(map[string]any{"email": "bob@example.com"})
		env.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, map[string]any{"role": "member"}).Want(t, 201)
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + tn.ws.ID, Token: tn.aliceToken, Body: map[string]any{"name": "Renamed"}})
		got := filtered.collect(t, "the rename", func(evs []sseEvent) bool { return len(evs) == 1 })[0]
		if got.Type != "workspace.updated" || *got.Data.WorkspaceID != tn.ws.ID || *got.Data.ActorID != tn.alice.ID {
			t.Fatalf("filtered event: %+v", got.Data)
		}
		changes, _ := got.Data.Data["changes"].(map[string]any)
		if name, _ := changes["name"].(map[string]any); name["to"] != "Renamed" || name["from"] == nil {
			t.Errorf("the update does not say what changed: %v", got.Data.Data)
		}
	})
}

// TestEventStreamCrossesReplicas: an event written through one replica
// reaches a stream client of another.
func TestEventStreamCrossesReplicas(t *testing.T) {
	t.Parallel()
	a := rostertest.NewEnv(t, rostertest.Postgres)
	b := rostertest.NewReplica(t, rostertest.Postgres, a.DSN, a.Clock)
	b.AdminToken = a.AdminToken
	tn := newTenant(t, a, "acme")
	onB := openStream(t, b, tn.aliceToken, "", "")
	a.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + tn.ws.ID, Token: tn.aliceToken, Body: map[string]any{"name": "From A"}})
	start := time.Now()
	got := onB.collect(t, "replica b's client receives replica a's event", func(evs []sseEvent) bool { return len(evs) == 1 })
	if got[0].Type != "workspace.updated" {
		t.Fatalf("got %s", got[0].Type)
	}
	t.Logf("the event reached the other replica's client after %v", time.Since(start))
}

// TestNothingChangedNoEvent: a write that changes nothing (the same role
// again, a rename to the same name) answers as usual and emits no event.
func TestNothingChangedNoEvent(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b)
		tn := newTenant(t, env, "acme")
		bob := env.CreateUser(map[string]any{"email": "bob@example.com"})
		env.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, map[string]any{"role": "member"}).Want(t, 201)
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + tn.ws.ID, Token: tn.aliceToken, Body: map[string]any{"name": "Same"}})
		last := lastEventID(t, env)
		env.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, map[string]any{"role": "member"}).Want(t, 200)
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + tn.ws.ID, Token: tn.aliceToken, Body: map[string]any{"name": "Same"}})
		env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + tn.ws.ID, Token: tn.aliceToken, Body: map[string]any{}})
		if got := lastEventID(t, env); got != last {
			t.Errorf("a write that changed nothing emitted %s", got)
		}
	})
}

// TestSlowStreamClientIsCutOffAndResumes: a client that falls a buffer
// behind is disconnected, and resuming after the last event it received
// loses nothing.
func TestSlowStreamClientIsCutOffAndResumes(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b, rostertest.WithService(func(o *service.Options) { o.StreamBuffer = 4 }))
		tn := newTenant(t, env, "acme")
		admin, err := env.Service.Authenticate(context.Background(), env.AdminToken, "")
		if err != nil {
			t.Fatal(err)
		}
		ctx := roster.WithActor(context.Background(), admin)
		watch, err := env.Service.WatchEvents(ctx, "", []string{"workspace.updated"})
		if err != nil {
			t.Fatal(err)
		}
		defer watch.Close()
		if _, ok, err := watch.Next(ctx, time.Millisecond); ok || err != nil { // attached, nothing yet
			t.Fatalf("an event before any change: %v %v", ok, err)
		}
		const renames = 20
		for i := range renames {
			env.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/workspaces/" + tn.ws.ID, Token: tn.aliceToken, Body: map[string]any{"name": fmt.Sprint("name ", i)}})
		}
		// The hub hands the events over without this client reading, fills
		// its buffer and lets it go.
		waitUntil(t, "the slow client is cut off", func() bool { return env.Service.StreamClients() == 0 })
		var got []string
		var last string
		for {
			e, ok, err := watch.Next(ctx, time.Second)
			if err != nil {
				if roster.ErrorCode(err) != roster.CodeStreamLagging {
					t.Fatalf("the slow client ended with %v", err)
				}
				break
			}
			if !ok {
				t.Fatal("the slow client was not cut off")
			}
			got, last = append(got, e.ID), e.ID
		}
		if len(got) == 0 || len(got) >= renames {
			t.Fatalf("the slow client read %d events before it was cut off", len(got))
		}
		// Every rename is in the log before resuming: the resumed watch reads
		// them from the log, not through its four-event buffer.
		from, err := env.DB.EventCursorOf(ctx, last)
		if err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the log offers every rename", func() bool {
			evs, err := env.DB.EventsAfter(ctx, from, 1000)
			n := 0
			for _, e := range evs {
				if e.Action == "workspace.updated" {
					n++
				}
			}
			return err == nil && n == renames-len(got)
		})
		resumed, err := env.Service.WatchEvents(ctx, last, []string{"workspace.updated"})
		if err != nil {
			t.Fatal(err)
		}
		defer resumed.Close()
		for len(got) < renames {
			e, ok, err := resumed.Next(ctx, 5*time.Second)
			if err != nil || !ok {
				t.Fatalf("resuming after %d events: %v %v", len(got), ok, err)
			}
			got = append(got, e.ID)
		}
		if e, ok, _ := resumed.Next(ctx, 100*time.Millisecond); ok {
			t.Errorf("an extra event: %s", e.ID)
		}
	})
}
