// Package client is the Go client of Roster's HTTP API.
//
// A Client carries a bearer token; every call takes a context. Errors from
// Roster are *Problem values (RFC 9457) carrying the HTTP status and
// Roster's stable code:
//
//	var p *client.Problem
//	if errors.As(err, &p) && p.Code == "seat_cap_reached" { … }
//
// Lists are iterators that follow cursors. POST requests carry an
// Idempotency-Key, reused when a request is retried; requests are retried
// with backoff on 429, 502, 503 and 504 answers and on connection errors
// (and a retried POST on Roster's 409 idempotency_request_in_progress,
// which only its own earlier attempt can cause), and on nothing else.
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls one Roster server with one token. It is safe for concurrent
// use; OnBehalfOf returns a copy that acts for a user.
type Client struct {
	base       *url.URL
	token      string
	http       *http.Client
	onBehalfOf string
	retries    int
	backoff    time.Duration
	maxBackoff time.Duration
	timeout    time.Duration
	userAgent  string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: one with the default
// transport and no overall timeout; see WithTimeout). A Timeout set on h
// bounds every request, the audit export's whole stream included.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		if h != nil {
			c.http = h
		}
	}
}

// WithRetries sets how many times a request is retried after a retryable
// failure (default 3), and the first backoff (default 100 ms), which
// doubles each time up to 5 s. A Retry-After answer is honoured when it
// asks for at most a minute; a longer one is returned at once, as a
// *Problem whose RetryAfter says how long.
func WithRetries(n int, firstBackoff time.Duration) Option {
	return func(c *Client) { c.retries, c.backoff = max(n, 0), max(firstBackoff, 0) }
}

// WithTimeout bounds each attempt of a call, its answer read in full
// (default 30 s; 0 for none). An attempt that runs out of time is retried
// like a connection error. The audit export and verification, which may
// take long, are bounded by their context only.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = max(d, 0) } }

// WithUserAgent sets the User-Agent of every request.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client of the Roster server at baseURL (such as
// http://127.0.0.1:8080, or https://example.com/roster behind a proxy)
// that authenticates with token.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("roster: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Opaque != "" ||
		u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("roster: base URL %q: want http(s)://host[:port][/path]", baseURL)
	}
	c := &Client{base: u, token: token, http: &http.Client{},
		retries: 3, backoff: 100 * time.Millisecond, maxBackoff: 5 * time.Second,
		timeout: 30 * time.Second, userAgent: "roster-go-client"}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// OnBehalfOf returns a client that acts as the user userID (sending
// Roster-On-Behalf-Of): authorization is evaluated as that user, and the
// audit log records both. Only service tokens may do this.
func (c *Client) OnBehalfOf(userID string) *Client {
	cp := *c
	cp.onBehalfOf = userID
	return &cp
}

// request is one API call.
type request struct {
	method string
	path   string     // escaped by the caller, e.g. with pathf
	query  url.Values // may be nil
	body   any        // JSON-encoded; nil for none
	out    any        // decoded from a 2xx answer's JSON object; nil to discard
	status *int       // if set, receives the 2xx answer's status
	accept string     // default application/json
	// long calls (audit export and verification) are bounded by their
	// context only, not by the client's timeout.
	long bool
	// stream hands the 2xx answer's body to the caller of send unread
	// (which closes it); otherwise send reads it, retrying a cut answer.
	stream bool
}

// pathf builds a path, escaping each argument as one path segment.
func pathf(format string, args ...string) string {
	esc := make([]any, len(args))
	for i, a := range args {
		esc[i] = url.PathEscape(a)
	}
	return fmt.Sprintf(format, esc...)
}

// do sends r, retrying what may be retried, and decodes the answer.
func (c *Client) do(ctx context.Context, r request) error {
	res, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if r.status != nil {
		*r.status = res.StatusCode
	}
	if r.out == nil || res.StatusCode == http.StatusNoContent {
		return nil
	}
	raw, _ := io.ReadAll(res.Body) // read in full by send already
	if err := decodeObject(raw, r.out); err != nil {
		return fmt.Errorf("roster: %s %s: decoding the %d answer: %w", r.method, r.path, res.StatusCode, err)
	}
	return nil
}

// decodeObject decodes a JSON object into out: every answer of Roster's
// API is one.
func decodeObject(raw []byte, out any) error {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0:
		return errors.New("the body is empty")
	case raw[0] != '{':
		return fmt.Errorf("the body is not a JSON object: %s", snippet(raw))
	}
	return json.Unmarshal(raw, out)
}

// send sends r until it gets an answer that is not retried, and returns a
// 2xx response (whose body the caller closes) or an error.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	target, err := c.url(r)
	if err != nil {
		return nil, err
	}
	var body []byte
	if r.body != nil {
		if body, err = json.Marshal(r.body); err != nil {
			return nil, fmt.Errorf("roster: %s %s: encoding the body: %w", r.method, r.path, err)
		}
	}
	idempotencyKey := ""
	if r.method == http.MethodPost {
		idempotencyKey = rand.Text() // the same on every retry: Roster answers a repeat with the first answer
	}
	for attempt := 0; ; attempt++ {
		res, err := c.try(ctx, r, target, body, idempotencyKey)
		if err == nil {
			return res, nil
		}
		wait, retry := c.retryWait(ctx, r, err, attempt)
		if !retry {
			if attempt > 0 && !isProblem(err) {
				return nil, fmt.Errorf("%w (after %d attempts)", err, attempt+1)
			}
			return nil, err
		}
		if serr := sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("roster: %s %s: %w while waiting to retry; the last attempt: %v", r.method, r.path, serr, err)
		}
	}
}

// url is the address of r, or an error when one of its path segments (an
// id) is empty, "." or "..", which would name another path.
func (c *Client) url(r request) (string, error) {
	for _, seg := range strings.Split(strings.TrimPrefix(r.path, "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("roster: %s %s: an empty, \".\" or \"..\" id", r.method, r.path)
		}
	}
	unescaped, err := url.PathUnescape(r.path)
	if err != nil {
		return "", fmt.Errorf("roster: %s %s: %w", r.method, r.path, err)
	}
	u := *c.base
	u.RawPath = c.base.EscapedPath() + r.path
	u.Path = c.base.Path + unescaped
	u.RawQuery = r.query.Encode()
	return u.String(), nil
}

// try makes one attempt at r: it returns a 2xx response (read in full
// unless r.stream), a *Problem, or the error that left it without an answer.
func (c *Client) try(ctx context.Context, r request, target string, body []byte, idempotencyKey string) (*http.Response, error) {
	actx, cancel := ctx, context.CancelFunc(func() {})
	if c.timeout > 0 && !r.long && !r.stream {
		actx, cancel = context.WithTimeout(ctx, c.timeout)
	}
	defer cancel()
	req, err := http.NewRequestWithContext(actx, r.method, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("roster: %s %s: %w", r.method, r.path, err)
	}
	c.header(req, r, idempotencyKey, body != nil)
	res, err := c.http.Do(req)
	switch {
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the method and the whole URL
		}
		if actx.Err() != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("roster: %s %s: no answer within %v: %w", r.method, r.path, c.timeout, err)
		}
		return nil, fmt.Errorf("roster: %s %s: no answer: %w", r.method, r.path, err)
	case res.StatusCode < 200 || res.StatusCode > 299:
		return nil, readProblem(r.method, r.path, res)
	case r.stream:
		return res, nil
	}
	raw, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("roster: %s %s: the %d answer was cut off: %w", r.method, r.path, res.StatusCode, err)
	}
	res.Body = io.NopCloser(bytes.NewReader(raw))
	return res, nil
}

func (c *Client) header(req *http.Request, r request, idempotencyKey string, hasBody bool) {
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("User-Agent", c.userAgent)
	accept := r.accept
	if accept == "" {
		accept = "application/json"
	}
	req.Header.Set("Accept", accept+", application/problem+json")
	if hasBody {
		req.Header.Set("Content-Type", "application/json")
	}
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	if c.onBehalfOf != "" {
		req.Header.Set("Roster-On-Behalf-Of", c.onBehalfOf)
	}
}

// maxRetryAfter is the longest Retry-After the client waits for;
// maxRetryAfterSeconds bounds what is read of one (a year) so that it fits
// a Duration.
const (
	maxRetryAfter        = time.Minute
	maxRetryAfterSeconds = 365 * 24 * 3600
)

// codeIdempotencyInProgress is Roster's answer to a POST whose
// Idempotency-Key belongs to a request still running: a retry's earlier
// attempt that the client gave up on.
const codeIdempotencyInProgress = "idempotency_request_in_progress"

// retryWait tells whether attempt's failure err is retried, and after how
// long.
func (c *Client) retryWait(ctx context.Context, r request, err error, attempt int) (time.Duration, bool) {
	if attempt >= c.retries || ctx.Err() != nil {
		return 0, false
	}
	var p *Problem
	if !errors.As(err, &p) {
		return c.backoffFor(attempt), retryableError(err)
	}
	inProgress := attempt > 0 && r.method == http.MethodPost && p.Status == http.StatusConflict && p.Code == codeIdempotencyInProgress
	if !retryableStatus(p.Status) && !inProgress || p.RetryAfter > maxRetryAfter {
		return 0, false
	}
	return max(p.RetryAfter, c.backoffFor(attempt)), true
}

func isProblem(err error) bool {
	var p *Problem
	return errors.As(err, &p)
}

// backoffFor is the wait before retry attempt+1: exponential, with jitter.
func (c *Client) backoffFor(attempt int) time.Duration {
	d := c.backoff
	for i := 0; i < attempt && d < c.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.maxBackoff)
	if d <= 0 {
		return 0
	}
	return d/2 + mathrand.N(d/2+1)
}

func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryableError reports whether an attempt failed on the way (a refused,
// reset, cut or timed-out connection) rather than in the caller's hands
// (a bad certificate, a malformed request, a cancelled context). The
// caller's own context is checked before.
func retryableError(err error) bool {
	var certErr *tls.CertificateVerificationError
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, context.Canceled), errors.As(err, &certErr):
		return false
	case errors.As(err, &dnsErr):
		return !dnsErr.IsNotFound
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true // the attempt's own timeout, or a connection closed under it
	}
	var oe *net.OpError
	var ne net.Error
	return errors.As(err, &oe) || errors.As(err, &ne) && ne.Timeout() ||
		// net/http's error for a connection closed before any answer
		// (a server closing it at once, or a restart) is unexported.
		strings.Contains(err.Error(), "server closed idle connection")
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryAfter reads a Retry-After header: seconds (the form Roster sends)
// or an HTTP date.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if s, err := strconv.Atoi(v); err == nil {
		return time.Duration(min(max(s, 0), maxRetryAfterSeconds)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
