package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"testing"
	"time"
)

// TestRetryableError covers the errors a race decides between (net/http
// reports a connection closed at once as "EOF" or as its unexported
// "server closed idle connection"), and those never retried.
func TestRetryableError(t *testing.T) {
	wrap := func(err error) error {
		return fmt.Errorf("roster: GET /v1/me: no answer: %w", err)
	}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{wrap(errors.New("http: server closed idle connection")), true},
		{wrap(io.EOF), true},
		{wrap(io.ErrUnexpectedEOF), true},
		{wrap(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), true},
		{wrap(&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), true},
		{wrap(context.DeadlineExceeded), true},
		{wrap(&net.DNSError{Err: "no such host", Name: "roster.invalid", IsNotFound: true}), false},
		{wrap(&net.DNSError{Err: "server misbehaving", Name: "roster.example", IsTemporary: true}), true},
		{wrap(context.Canceled), false},
		{wrap(&tls.CertificateVerificationError{Err: errors.New("x509: certificate signed by unknown authority")}), false},
		{wrap(errors.New(`net/http: invalid header field value for "Authorization"`)), false},
		{&url.Error{Op: "Get", URL: "http://x", Err: errors.New("malformed HTTP response")}, false},
	} {
		if got := retryableError(tc.err); got != tc.want {
			t.Errorf("retryableError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestBackoffStaysInBounds(t *testing.T) {
	c := &Client{backoff: 100 * time.Millisecond, maxBackoff: 5 * time.Second}
	for attempt := range 100 {
		if d := c.backoffFor(attempt); d < 0 || d > c.maxBackoff {
			t.Fatalf("backoffFor(%d) = %v", attempt, d)
		}
	}
	if d := (&Client{maxBackoff: time.Second}).backoffFor(3); d != 0 {
		t.Errorf("no backoff: %v", d)
	}
}
