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
// with backoff on 429, 502, 503 and 504 answers and on connection errors,
// and on nothing else.
package client

import (
	"bytes"
	"context"
	"crypto/rand"
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
	userAgent  string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: one with a 30 s timeout).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithRetries sets how many times a request is retried after a retryable
// failure (default 3), and the first backoff (default 100 ms), which
// doubles each time up to 5 s; a Retry-After answer is honoured.
func WithRetries(n int, firstBackoff time.Duration) Option {
	return func(c *Client) { c.retries, c.backoff = max(n, 0), firstBackoff }
}

// WithUserAgent sets the User-Agent of every request.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client of the Roster server at baseURL (such as
// http://127.0.0.1:8080) that authenticates with token.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("roster: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("roster: base URL %q: want http(s)://host[:port]", baseURL)
	}
	c := &Client{base: u, token: token, http: &http.Client{Timeout: 30 * time.Second},
		retries: 3, backoff: 100 * time.Millisecond, maxBackoff: 5 * time.Second, userAgent: "roster-go-client"}
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
	out    any        // decoded from a 2xx answer's JSON; nil to discard
	accept string     // default application/json
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
	if r.out == nil || res.StatusCode == http.StatusNoContent {
		io.Copy(io.Discard, res.Body)
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(r.out); err != nil {
		return fmt.Errorf("roster: %s %s: decoding the %d answer: %w", r.method, r.path, res.StatusCode, err)
	}
	return nil
}

// send sends r until it gets an answer that is not retried, and returns a
// 2xx response (whose body the caller closes) or an error.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return nil, fmt.Errorf("roster: %s %s: encoding the body: %w", r.method, r.path, err)
		}
	}
	idempotencyKey := ""
	if r.method == http.MethodPost {
		idempotencyKey = rand.Text() // the same on every retry: Roster answers a repeat with the first answer
	}
	u := *c.base
	u.Path += r.path
	u.RawQuery = r.query.Encode()
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, r.method, u.String(), bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("roster: %s %s: %w", r.method, r.path, err)
		}
		c.header(req, r, idempotencyKey, body != nil)
		res, err := c.http.Do(req)
		var retryAfter time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil || !retryableError(err) || attempt >= c.retries {
				return nil, fmt.Errorf("roster: %s %s: %w", r.method, r.path, err)
			}
		case res.StatusCode >= 200 && res.StatusCode < 300:
			return res, nil
		default:
			p := readProblem(r.method, r.path, res)
			if !retryableStatus(res.StatusCode) || attempt >= c.retries {
				return nil, p
			}
			retryAfter = p.RetryAfter
		}
		if err := sleep(ctx, max(retryAfter, c.backoffFor(attempt))); err != nil {
			return nil, fmt.Errorf("roster: %s %s: %w", r.method, r.path, err)
		}
	}
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

// backoffFor is the wait before retry attempt+1: exponential, with jitter.
func (c *Client) backoffFor(attempt int) time.Duration {
	d := min(c.backoff<<attempt, c.maxBackoff)
	return d/2 + mathrand.N(d/2+1)
}

func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryableError reports whether a request failed on the way (a refused,
// reset or timed-out connection) rather than in the caller's hands.
func retryableError(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &oe) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
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

// retryAfter reads a Retry-After header in seconds (the form Roster sends).
func retryAfter(h http.Header) time.Duration {
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}
