package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultTimeout bounds a delivery when Client.Timeout is zero: no answer
// within it is a failure.
const DefaultTimeout = 15 * time.Second

// MaxResponseBody is how much of a response body a Result keeps, in bytes.
const MaxResponseBody = 1024

// drainLimit is how much more of a response body Deliver reads, and throws
// away, so that a short answer leaves its connection reusable; a longer one
// is cut off by closing the connection.
const drainLimit = 4 << 10

// UserAgent is the User-Agent of every delivery.
const UserAgent = "Roster-Webhooks/1"

// Client delivers webhooks. The zero value is ready to use; a Client is safe
// for concurrent use.
type Client struct {
	// HTTP sends the requests; nil means a client on
	// http.DefaultTransport. Its CheckRedirect is ignored: redirects are
	// never followed. To refuse private addresses, give it a Transport whose
	// DialContext is DenyPrivate (and whose Proxy is nil).
	HTTP *http.Client
	// Timeout bounds each delivery, from sending the request to reading
	// the response body; zero means DefaultTimeout.
	Timeout time.Duration
}

// Result is the outcome of one delivery attempt.
type Result struct {
	// Status is the response's status code; 0 if there was no answer.
	Status int
	// Body is the start of the response body: at most MaxResponseBody
	// bytes, made valid UTF-8 without NUL bytes (anything else becomes
	// "?", and a character cut by the limit is dropped) so it can be
	// stored as text.
	Body string
	// Err says why there was no answer (a bad URL or secret, a refused
	// connection, a timeout, ...); nil whenever Status is set.
	Err error
	// Duration is how long the attempt took.
	Duration time.Duration
}

// OK reports whether the endpoint accepted the delivery: a 2xx answer.
// Anything else, redirects included, is a failure to retry.
func (r Result) OK() bool {
	return r.Err == nil && r.Status >= 200 && r.Status <= 299
}

// Deliver POSTs body (JSON) to url as message msgID sent at at, signed with
// every one of secrets, and reports the outcome. It follows no redirect,
// gives up after the client's Timeout, and reads no more than a few KiB of
// the response.
func (c *Client) Deliver(ctx context.Context, url string, msgID string, at time.Time, body []byte, secrets []string) Result {
	start := time.Now()
	res := c.deliver(ctx, url, msgID, at, body, secrets)
	res.Duration = time.Since(start)
	return res
}

func (c *Client) deliver(ctx context.Context, url string, msgID string, at time.Time, body []byte, secrets []string) Result {
	hd, err := Sign(msgID, at, body, secrets...)
	if err != nil {
		return Result{Err: err}
	}
	var hc http.Client
	timeout := DefaultTimeout
	if c != nil {
		if c.HTTP != nil {
			hc = *c.HTTP
		}
		if c.Timeout > 0 {
			timeout = c.Timeout
		}
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errTimeout{timeout})
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Result{Err: fmt.Errorf("webhook: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	hd.Apply(req.Header)

	resp, err := hc.Do(req)
	if err != nil {
		if cause := context.Cause(ctx); errors.As(cause, new(errTimeout)) {
			err = fmt.Errorf("%w: %w", cause, err)
		}
		return Result{Err: err}
	}
	defer resp.Body.Close()
	// A body that cannot be read to the end changes nothing: the status
	// is the answer, the body only a hint for whoever reads the log.
	buf, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	if len(buf) == MaxResponseBody {
		_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
	}
	return Result{Status: resp.StatusCode, Body: printable(buf, len(buf) == MaxResponseBody)}
}

// errTimeout is the cause of a delivery's own deadline, to tell it from
// the caller's.
type errTimeout struct{ d time.Duration }

func (e errTimeout) Error() string { return fmt.Sprintf("webhook: no answer within %s", e.d) }

// Is makes errors.Is(err, context.DeadlineExceeded) hold, as for any
// deadline.
func (e errTimeout) Is(target error) bool { return target == context.DeadlineExceeded }

// printable returns b as valid UTF-8 without NUL bytes, no longer than b. If
// b may have been cut, a partial character at its end is dropped.
func printable(b []byte, cut bool) string {
	if cut {
		// A character is at most utf8.UTFMax bytes: look back no further.
		for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
			if utf8.RuneStart(b[i]) {
				if !utf8.FullRune(b[i:]) {
					b = b[:i]
				}
				break
			}
		}
	}
	s := strings.ToValidUTF8(string(b), "?")
	return strings.ReplaceAll(s, "\x00", "?")
}
