package webhook_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/roster-dev/roster/webhook"
)

func TestValidateURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://example.com/hooks", true},
		{"http://example.com", true},
		{"HTTPS://Example.COM/hooks?x=1#f", true},
		{"http://127.0.0.1:8081/hooks", true},
		{"http://localhost:3000/webhooks/roster", true},
		{"http://[::1]:8080/", true},
		{"https://example.com/" + strings.Repeat("a", 2000), true},

		{"", false},
		{"example.com/hooks", false},
		{"/hooks", false},
		{"//example.com/hooks", false},
		{"ftp://example.com/", false},
		{"ws://example.com/", false},
		{"file:///etc/passwd", false},
		{"javascript:alert(1)", false},
		{"http:example.com", false},
		{"http://", false},
		{"http:///hooks", false},
		{"http://:8080/", false},
		{"https://user:pass@example.com/", false},
		{"https://user@example.com/", false},
		{"http://example.com:port/", false},
		{"http://exa mple.com/", false},
		{" http://example.com/", false},
		{"http://example.com/\n", false},
		{"https://example.com/" + strings.Repeat("a", 2100), false},
	}
	for _, tt := range tests {
		err := webhook.ValidateURL(tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateURL(%q) = %v, want ok %v", tt.url, err, tt.ok)
		}
		if err != nil && (err.Error() == "" || strings.HasPrefix(err.Error(), "parse ")) {
			t.Errorf("ValidateURL(%q): unclear error %q", tt.url, err)
		}
	}
}

func TestPrivateAddress(t *testing.T) {
	tests := []struct {
		ip      string
		private bool
	}{
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"0.0.0.0", true},
		{"0.1.2.3", true},
		{"::", true},
		{"10.0.0.1", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"192.168.1.1", true},
		{"169.254.169.254", true},
		{"100.64.0.1", true},
		{"100.100.100.200", true},
		{"255.255.255.255", true},
		{"fe80::1", true},
		{"fc00::1", true},
		{"fd12:3456::1", true},
		{"ff02::1", true},
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.1.2.3", true},
		{"64:ff9b::7f00:1", true},    // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", true}, // NAT64 of 169.254.169.254

		{"8.8.8.8", false},
		{"93.184.215.14", false},
		{"172.32.0.1", false},
		{"172.15.255.255", false},
		{"192.169.0.1", false},
		{"100.128.0.1", false},
		{"1.1.1.1", false},
		{"2606:4700:4700::1111", false},
		{"2001:4860:4860::8888", false},
		{"::ffff:8.8.8.8", false},
		{"64:ff9b::808:808", false}, // NAT64 of 8.8.8.8
	}
	for _, tt := range tests {
		ip := net.ParseIP(tt.ip)
		if ip == nil {
			t.Fatalf("bad test address %q", tt.ip)
		}
		if got := webhook.PrivateAddress(ip); got != tt.private {
			t.Errorf("PrivateAddress(%s) = %v, want %v", tt.ip, got, tt.private)
		}
		if got := webhook.PrivateAddress(ip.To4()); ip.To4() != nil && got != tt.private {
			t.Errorf("PrivateAddress(%s in 4 bytes) = %v, want %v", tt.ip, got, tt.private)
		}
	}
	for _, ip := range []net.IP{nil, {}, {1, 2, 3}} {
		if !webhook.PrivateAddress(ip) {
			t.Errorf("PrivateAddress(%v) = false, want true for an invalid address", ip)
		}
	}
}

func TestDenyPrivate(t *testing.T) {
	srv, got := endpoint(t, 200, "")
	secret := webhook.NewSecret()
	deliver := func(c *webhook.Client, url string) webhook.Result {
		return c.Deliver(context.Background(), url, "evt_1", time.Now(), []byte("{}"), []string{secret})
	}

	// Without the guard, a loopback endpoint is reached.
	if res := deliver(&webhook.Client{}, srv.URL); !res.OK() {
		t.Fatalf("without DenyPrivate: %+v", res)
	}

	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	for _, d := range []*net.Dialer{nil, {Timeout: time.Second}} {
		c := &webhook.Client{HTTP: &http.Client{Transport: &http.Transport{DialContext: webhook.DenyPrivate(d)}}}
		for _, url := range []string{srv.URL, "http://localhost:" + port + "/"} {
			res := deliver(c, url)
			if res.OK() || !errors.Is(res.Err, webhook.ErrPrivateAddress) {
				t.Errorf("with DenyPrivate, %s: %+v; want ErrPrivateAddress", url, res)
			}
		}
	}
	if n := len(got()); n != 1 {
		t.Errorf("%d requests reached the endpoint, want 1", n)
	}
}

// DenyPrivate keeps the dialer's own Control or ControlContext, after its
// check. 192.0.2.1 (TEST-NET-1) is not private; the control function aborts
// before any connection is attempted.
func TestDenyPrivateKeepsControl(t *testing.T) {
	errStop := errors.New("stop")
	var seen []string
	control := func(network, address string, _ syscall.RawConn) error {
		seen = append(seen, address)
		return errStop
	}
	controlContext := func(_ context.Context, network, address string, c syscall.RawConn) error {
		return control(network, address, c)
	}
	for _, d := range []*net.Dialer{{Control: control}, {ControlContext: controlContext}} {
		seen = nil
		dial := webhook.DenyPrivate(d)
		if _, err := dial(context.Background(), "tcp", "192.0.2.1:80"); !errors.Is(err, errStop) {
			t.Errorf("dial 192.0.2.1: %v, want the dialer's control error", err)
		}
		if _, err := dial(context.Background(), "tcp", "127.0.0.1:80"); !errors.Is(err, webhook.ErrPrivateAddress) {
			t.Errorf("dial 127.0.0.1: %v, want ErrPrivateAddress", err)
		}
		if len(seen) != 1 || seen[0] != "192.0.2.1:80" {
			t.Errorf("the dialer's control saw %q, want only 192.0.2.1:80", seen)
		}
	}
}

func TestCheckPublic(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://93.184.215.14/hooks", true},
		{"http://[2606:4700:4700::1111]:8080/", true},
		{"http://127.0.0.1:8080/", false},
		{"http://[::1]/", false},
		{"http://10.1.2.3/", false},
		{"http://169.254.169.254/latest/meta-data/", false},
		{"http://[fe80::1%25eth0]/", false},
		{"http://localhost:3000/", false},
		{"ftp://93.184.215.14/", false},
		{"", false},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tt := range tests {
		if err := webhook.CheckPublic(ctx, tt.url); (err == nil) != tt.ok {
			t.Errorf("CheckPublic(%q) = %v, want ok %v", tt.url, err, tt.ok)
		}
	}
}
