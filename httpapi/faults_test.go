package httpapi_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/roster-dev/roster"
	"github.com/roster-dev/roster/httpapi"
	"github.com/roster-dev/roster/internal/rostertest"
	"github.com/roster-dev/roster/store"
)

// holdOrg keeps a write transaction open that holds organisation orgID (its
// row lock on PostgreSQL, the one writer on SQLite) until release is called.
// On PostgreSQL it holds it through a store of its own, with the default
// timeouts, so that the replica's shorter ones cannot end it.
func holdOrg(t *testing.T, env *rostertest.Env, orgID string) (release func()) {
	t.Helper()
	db := env.DB
	if env.Backend == rostertest.Postgres {
		db = rostertest.OpenDSN(t, env.DSN)
	}
	held, done := make(chan struct{}), make(chan struct{})
	stop := make(chan struct{})
	go func() {
		defer close(done)
		err := db.Update(context.Background(), func(tx roster.Tx) error {
			if _, err := tx.LockOrg(context.Background(), orgID); err != nil {
				return err
			}
			close(held)
			<-stop
			return nil
		})
		if err != nil {
			t.Errorf("holding the organisation: %v", err)
		}
	}()
	select {
	case <-held:
	case <-done:
		t.FailNow()
	}
	var once atomic.Bool
	release = func() {
		if once.CompareAndSwap(false, true) {
			close(stop)
			<-done
		}
	}
	t.Cleanup(release)
	return release
}

// oneConnection is a client that keeps every request on one keep-alive
// connection and counts the connections it opened.
func oneConnection() (*http.Client, *atomic.Int32) {
	var opened atomic.Int32
	tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		opened.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: tr}, &opened
}

// TestSlowWriteLeavesItsConnectionUsable: a request whose body arrived at
// once but whose work waited longer than the body read deadline (behind
// another writer) succeeds, and the next requests on the same keep-alive
// connection are served, not cancelled.
func TestSlowWriteLeavesItsConnectionUsable(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		const bodyDeadline = 100 * time.Millisecond
		env := rostertest.NewEnv(t, b, rostertest.WithAPI(func(o *httpapi.Options) { o.BodyReadTimeout = bodyDeadline }))
		tn := newTenant(t, env, "acme")
		bob := env.CreateUser(map[string]any{"email": "bob@example.com"})
		client, opened := oneConnection()
		env.TryWith(client, rostertest.Req{Method: "GET", Path: "/v1/me", Token: tn.aliceToken}).Want(t, 200)

		release := holdOrg(t, env, tn.org.ID)
		answered := make(chan *rostertest.Response, 1)
		go func() {
			answered <- env.TryWith(client, rostertest.Req{Method: "PUT", Path: "/v1/workspaces/" + tn.ws.ID + "/members/" + bob.ID,
				Token: tn.aliceToken, Body: map[string]any{"role": "member"}})
		}()
		time.Sleep(5 * bodyDeadline) // the write waits well past the body read deadline
		release()
		if res := <-answered; res.Status != 201 {
			t.Fatalf("the slow write: %d %s", res.Status, res.Body)
		}
		for _, path := range []string{"/v1/me", "/readyz", "/v1/workspaces/" + tn.ws.ID + "/members"} {
			if res := env.TryWith(client, rostertest.Req{Method: "GET", Path: path, Token: tn.aliceToken}); res.Status != 200 {
				t.Errorf("GET %s on the same connection after the slow write: %d %s", path, res.Status, res.Body)
			}
		}
		if n := opened.Load(); n != 1 {
			t.Errorf("the client opened %d connections, want 1", n)
		}
	})
}

// TestSlowBodyIsARequestTimeout: a client that stops sending its body gets
// a 408 once the body read deadline passes.
func TestSlowBodyIsARequestTimeout(t *testing.T) {
	env := rostertest.NewEnv(t, rostertest.SQLite, rostertest.WithAPI(func(o *httpapi.Options) { o.BodyReadTimeout = 100 * time.Millisecond }))
	conn, err := net.Dial("tcp", strings.TrimPrefix(env.HTTP.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/users HTTP/1.1\r\nHost: roster\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"em", env.AdminToken)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), `"code":"request_timeout"`) {
		t.Errorf("a stalled body: %d %s", res.StatusCode, body)
	}
}

// TestWriteBehindALockIs503AndLeavesNothing: a write that cannot get its
// organisation within the deadline is a 503 busy with Retry-After, and
// nothing of it is stored.
func TestWriteBehindALockIs503AndLeavesNothing(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		const deadline = 300 * time.Millisecond
		env := rostertest.NewEnv(t, b,
			rostertest.WithAPI(func(o *httpapi.Options) { o.RequestTimeout = deadline }),
			rostertest.WithStore(func(o *store.Options) { o.Timeout = deadline }))
		tn := newTenant(t, env, "acme")
		bob := env.CreateUser(map[string]any{"email": "bob@example.com"})
		auditCount := func() int {
			var page struct{ Data []any }
			env.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/audit?limit=500", Token: env.AdminToken}).JSON(t, &page)
			return len(page.Data)
		}
		before := auditCount()
		release := holdOrg(t, env, tn.org.ID)
		start := time.Now()
		res := env.Try(rostertest.Req{Method: "PUT", Path: "/v1/workspaces/" + tn.ws.ID + "/members/" + bob.ID,
			Token: tn.aliceToken, Body: map[string]any{"role": "member"}})
		elapsed := time.Since(start)
		release()
		if res.Status != 503 || res.Header.Get("Retry-After") == "" {
			t.Fatalf("a write behind a lock: %d (Retry-After %q) %s", res.Status, res.Header.Get("Retry-After"), res.Body)
		}
		if code := res.Code(t); code != "busy" && code != "database_unavailable" {
			t.Errorf("code %q", code)
		}
		t.Logf("answered %s after %v", res.Code(t), elapsed)
		if _, ok := tn.members(t, tn.aliceToken)[bob.ID]; ok {
			t.Error("the timed-out write added the member")
		}
		if after := auditCount(); after != before {
			t.Errorf("the timed-out write left %d audit events", after-before)
		}
		// The organisation is writable again.
		env.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, map[string]any{"role": "member"}).Want(t, 201)
	})
}

// patient is a client for requests that may hang on a broken server: it
// gives up after 15 s instead of hanging the suite.
var patient = &http.Client{Timeout: 15 * time.Second}

func withParam(t *testing.T, dsn, name, value string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// killListener terminates the PostgreSQL session of the replica named
// application that LISTENs for invalidations, once it has one.
func killListener(t *testing.T, application string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, rostertest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for ctx.Err() == nil {
		var killed int
		err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = $1 AND query LIKE 'LISTEN %'`, application).Scan(&killed)
		if err != nil {
			t.Fatal(err)
		}
		if killed > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the replica never listened again")
}

// TestInvalidationsSurviveListenerDrops: a replica whose listening
// connection is killed again and again still honours a revocation made on
// another replica within a second, every time, and counts the drops.
func TestInvalidationsSurviveListenerDrops(t *testing.T) {
	t.Parallel()
	a := rostertest.NewEnv(t, rostertest.Postgres)
	const application = "roster_replica_b"
	b := rostertest.NewReplica(t, rostertest.Postgres, withParam(t, a.DSN, "application_name", application), a.Clock)
	ann, annToken := a.NewUserWithToken("ann@example.com")
	var worst time.Duration
	for round := range 10 {
		// Each round drops a listening connection that is up: one drop each.
		waitUntil(t, "replica b hears again", func() bool { return b.Service.Hearing() == nil })
		tok := a.IssueToken(ann.ID, nil)
		b.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/me", Token: tok.Token}) // cached on b, if b is current
		killListener(t, application)
		a.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/me/tokens/" + tok.ID, Token: annToken})
		took := waitForStatus(t, b, tok.Token, 401)
		t.Logf("drop %d: revocation honoured after %v", round+1, took)
		worst = max(worst, took)
	}
	if worst > time.Second {
		t.Errorf("after repeated listener drops a revoked token was accepted for %v", worst)
	}
	metrics := string(b.Expect(200, rostertest.Req{Method: "GET", Path: "/metrics"}).Body)
	var drops float64
	for line := range strings.SplitSeq(metrics, "\n") {
		if v, ok := strings.CutPrefix(line, "roster_invalidation_listener_drops_total "); ok {
			fmt.Sscan(v, &drops)
		}
	}
	if drops < 10 {
		t.Errorf("/metrics counts %v listener drops, want at least 10", drops)
	}
}

// deadline is the request and database deadline of proxied replicas.
const deadline = 400 * time.Millisecond

// proxiedReplica starts a second replica of a's database that reaches
// PostgreSQL through a fault proxy, with a short request and database
// deadline.
func proxiedReplica(t *testing.T, a *rostertest.Env, deadline time.Duration) (*rostertest.Env, *rostertest.FaultProxy) {
	t.Helper()
	proxied, proxy := rostertest.ProxyPostgres(t, a.DSN)
	b := rostertest.NewReplica(t, rostertest.Postgres, proxied, a.Clock,
		rostertest.WithAPI(func(o *httpapi.Options) { o.RequestTimeout = deadline }),
		rostertest.WithStore(func(o *store.Options) { o.Timeout = deadline }))
	return b, proxy
}

// TestPartitionedReplicaDoesNotGrantFromItsCache: a replica cut off from
// the database (black-holed, not closed) stops answering from its caches
// within about a second: a revoked user and a removed member are refused or
// answered 503, never allowed; once the network heals it answers correctly.
func TestPartitionedReplicaDoesNotGrantFromItsCache(t *testing.T) {
	t.Parallel()
	a := rostertest.NewEnv(t, rostertest.Postgres)
	b, proxy := proxiedReplica(t, a, deadline)
	b.AdminToken = a.AdminToken
	tn := newTenant(t, a, "acme")
	bob := a.CreateUser(map[string]any{"email": "bob@example.com"})
	a.PutMember(tn.aliceToken, tn.ws.ID, bob.ID, map[string]any{"role": "member"}).Want(t, 201)
	ann, annToken := a.NewUserWithToken("ann@example.com")
	b.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/me", Token: annToken}) // warm on b
	if !b.Check(bob.ID, "resources.write", tn.ws.ID).Allowed {
		t.Fatal("bob cannot write on replica b")
	}

	proxy.Blackhole()
	a.Expect(204, rostertest.Req{Method: "DELETE", Path: "/v1/workspaces/" + tn.ws.ID + "/members/" + bob.ID, Token: tn.aliceToken})
	a.Expect(200, rostertest.Req{Method: "PATCH", Path: "/v1/users/" + ann.ID, Token: a.AdminToken, Body: map[string]any{"status": "suspended"}})
	cut := time.Now()
	var lastAllowed time.Duration
	for time.Since(cut) < 3*time.Second {
		me := b.TryWith(patient, rostertest.Req{Method: "GET", Path: "/v1/me", Token: annToken})
		check := b.TryWith(patient, rostertest.Req{Method: "POST", Path: "/v1/check", Token: b.AdminToken,
			Body: map[string]any{"user_id": bob.ID, "action": "resources.write", "workspace_id": tn.ws.ID}})
		for _, res := range []*rostertest.Response{me, check} {
			if res.Status != 200 && res.Status != 401 && res.Status != 503 {
				t.Fatalf("partitioned replica answered %d %s", res.Status, res.Body)
			}
		}
		if me.Status == 200 || check.Status == 200 && check.Map(t)["allowed"] == true {
			lastAllowed = time.Since(cut)
		}
	}
	t.Logf("partitioned replica allowed up to %v after the change", lastAllowed)
	if lastAllowed > 1500*time.Millisecond {
		t.Errorf("a partitioned replica allowed from its cache %v after the change", lastAllowed)
	}

	proxy.Restore()
	healed := time.Now()
	for {
		me := b.TryWith(patient, rostertest.Req{Method: "GET", Path: "/v1/me", Token: annToken})
		if me.Status == 401 && !b.Check(bob.ID, "resources.write", tn.ws.ID).Allowed {
			break
		}
		if time.Since(healed) > 10*time.Second {
			t.Fatalf("after healing the replica answers %d %s", me.Status, me.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSilentDatabaseIs503WithinTheDeadline: while the database does not
// answer at all, reads and writes end at the request deadline with a 503
// database_unavailable and Retry-After, instead of hanging.
func TestSilentDatabaseIs503WithinTheDeadline(t *testing.T) {
	t.Parallel()
	a := rostertest.NewEnv(t, rostertest.Postgres)
	b, proxy := proxiedReplica(t, a, deadline)
	b.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/orgs", Token: a.AdminToken})
	proxy.Blackhole()
	for _, r := range []rostertest.Req{
		{Method: "GET", Path: "/v1/orgs", Token: a.AdminToken},
		{Method: "POST", Path: "/v1/users", Token: a.AdminToken, Body: map[string]any{"email": "late@example.com"}},
	} {
		start := time.Now()
		res := b.TryWith(patient, r)
		took := time.Since(start)
		if res.Status != 503 || res.Code(t) != "database_unavailable" || res.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s against a silent database: %d %s", r.Method, r.Path, res.Status, res.Body)
		}
		t.Logf("%s %s: 503 after %v (deadline %v)", r.Method, r.Path, took, deadline)
		if took > deadline+2*time.Second {
			t.Errorf("%s %s took %v, deadline %v", r.Method, r.Path, took, deadline)
		}
	}
	proxy.Restore()
	a.Expect(200, rostertest.Req{Method: "GET", Path: "/v1/orgs", Token: a.AdminToken})
}

// TestStuckTransactionReleasesTheOrganisation: a replica that goes silent
// inside a transaction holding an organisation's lock (its network dropped)
// leaves PostgreSQL with a session idle in transaction; the session timeout
// ends it, and another replica's write to the organisation goes through.
func TestStuckTransactionReleasesTheOrganisation(t *testing.T) {
	t.Parallel()
	a := rostertest.NewEnv(t, rostertest.Postgres)
	tn := newTenant(t, a, "acme")
	bob := a.CreateUser(map[string]any{"email": "bob@example.com"})
	proxied, proxy := rostertest.ProxyPostgres(t, a.DSN)
	stuck := rostertest.OpenDSNWith(t, proxied, store.Options{Timeout: 500 * time.Millisecond})

	ctx, cancel := context.WithCancel(context.Background())
	locked, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		stuck.Update(ctx, func(tx roster.Tx) error {
			if _, err := tx.LockOrg(ctx, tn.org.ID); err != nil {
				return err
			}
			proxy.Blackhole() // the network drops while the lock is held
			close(locked)
			<-ctx.Done()
			return ctx.Err()
		})
	}()
	t.Cleanup(func() {
		cancel()
		proxy.Close()
		<-done
	})
	<-locked
	start := time.Now()
	res := a.TryWith(patient, rostertest.Req{Method: "PUT", Path: "/v1/workspaces/" + tn.ws.ID + "/members/" + bob.ID,
		Token: tn.aliceToken, Body: map[string]any{"role": "member"}})
	if res.Status != 201 {
		t.Fatalf("a write to the organisation a stuck session locked: %d %s", res.Status, res.Body)
	}
	t.Logf("the stuck session's lock was released and the write done after %v", time.Since(start))
}

// TestResetConnectionsAreNever500: connections to the database reset under
// a replica's feet, again and again, give each request a correct answer or
// a 503, never a 500 (a query that could not be sent runs again on a new
// connection, so 503s are rare); once the resets stop every request
// succeeds.
func TestResetConnectionsAreNever500(t *testing.T) {
	t.Parallel()
	a := rostertest.NewEnv(t, rostertest.Postgres)
	proxied, proxy := rostertest.ProxyPostgres(t, a.DSN)
	b := rostertest.NewReplica(t, rostertest.Postgres, proxied, a.Clock)
	tn := newTenant(t, a, "acme")
	unavailable := 0
	for i := range 20 {
		proxy.Reset()
		for _, r := range []rostertest.Req{
			{Method: "GET", Path: "/v1/orgs", Token: a.AdminToken},
			{Method: "POST", Path: "/v1/users", Token: a.AdminToken, Body: map[string]any{"email": fmt.Sprintf("u%d@example.com", i)}},
			{Method: "POST", Path: "/v1/check", Token: a.AdminToken, Body: map[string]any{"user_id": tn.alice.ID, "action": "workspace.read", "workspace_id": tn.ws.ID}},
		} {
			res := b.TryWith(patient, r)
			switch {
			case res.Status == 503:
				unavailable++
			case res.Status >= 500:
				t.Errorf("%s %s after a reset: %d %s", r.Method, r.Path, res.Status, res.Body)
			}
		}
	}
	t.Logf("%d of 60 requests after a reset answered 503", unavailable)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if b.TryWith(patient, rostertest.Req{Method: "GET", Path: "/v1/orgs", Token: a.AdminToken}).Status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replica did not recover after the resets stopped")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
