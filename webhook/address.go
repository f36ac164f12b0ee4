package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"syscall"
)

// MaxURLLen is the longest endpoint URL ValidateURL accepts.
const MaxURLLen = 2048

// ValidateURL checks an endpoint URL given at registration: an absolute
// http or https URL with a host, no user name or password, at most
// MaxURLLen bytes. Its errors are plain messages for the caller to answer
// with (a 400). Loopback and private hosts are accepted: see CheckPublic.
func ValidateURL(raw string) error {
	_, err := parseURL(raw)
	return err
}

func parseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("url is required")
	}
	if len(raw) > MaxURLLen {
		return nil, fmt.Errorf("url is longer than %d bytes", MaxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("url is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("url must be an absolute http or https URL")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, errors.New("url has no host")
	}
	if u.User != nil {
		return nil, errors.New("url must not hold a user name or password")
	}
	return u, nil
}

// ErrPrivateAddress is the error (under errors.Is) of a refusal to reach a
// loopback, private or otherwise local address.
var ErrPrivateAddress = errors.New("webhook: refusing a loopback or private address")

// CheckPublic is ValidateURL followed, for a deny-private mode, by a check
// that the URL's host is not, and does not resolve to, an address that
// PrivateAddress refuses. Deliveries must still dial through DenyPrivate:
// a name can resolve differently later.
func CheckPublic(ctx context.Context, raw string) error {
	u, err := parseURL(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if PrivateAddress(net.IP(ip.WithZone("").AsSlice())) {
			return fmt.Errorf("url host %s is a loopback or private address", host)
		}
		return nil
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return fmt.Errorf("url host %s does not resolve", host)
	}
	for _, ip := range ips {
		if PrivateAddress(ip.IP) {
			return fmt.Errorf("url host %s resolves to a loopback or private address", host)
		}
	}
	return nil
}

var (
	thisNetwork  = netip.MustParsePrefix("0.0.0.0/8")     // "this host on this network"; 0.0.0.0 dials the local host
	sharedSpace  = netip.MustParsePrefix("100.64.0.0/10") // carrier-grade NAT, some clouds' metadata services
	nat64Prefix  = netip.MustParsePrefix("64:ff9b::/96")  // NAT64: the IPv4 address is in the last 4 bytes
	broadcastAll = netip.MustParseAddr("255.255.255.255")
)

// PrivateAddress reports whether ip is one a deny-private mode refuses:
// unspecified, loopback, private (RFC 1918 and IPv6 unique-local fc00::/7),
// link-local (169.254.0.0/16, where cloud metadata lives, and fe80::/10),
// 0.0.0.0/8, the shared address space 100.64.0.0/10, link- or
// interface-local multicast, broadcast, and IPv4 addresses so classified
// when mapped into IPv6 (::ffff:0:0/96) or behind NAT64 (64:ff9b::/96).
// An invalid ip counts as private.
func PrivateAddress(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return true
	}
	a = a.Unmap()
	if a.Is6() && nat64Prefix.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte(b[12:]))
	}
	return a.IsUnspecified() || a.IsLoopback() || a.IsPrivate() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() ||
		thisNetwork.Contains(a) || sharedSpace.Contains(a) || a == broadcastAll
}

// DenyPrivate returns a DialContext, for an http.Transport, that dials like
// d (nil means a zero net.Dialer) but refuses any address PrivateAddress
// refuses. The check is made on the very address being connected to, after
// name resolution, so a name that resolves to a private address is refused
// too; the error is ErrPrivateAddress under errors.Is. Give the Transport no
// Proxy, or the proxy's address is the one checked.
func DenyPrivate(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var dd net.Dialer
	if d != nil {
		dd = *d
	}
	control, controlContext := dd.Control, dd.ControlContext
	dd.Control = nil
	dd.ControlContext = func(ctx context.Context, network, address string, c syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrPrivateAddress, address)
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || PrivateAddress(net.IP(ip.WithZone("").AsSlice())) {
			return fmt.Errorf("%w: %s", ErrPrivateAddress, host)
		}
		switch {
		case controlContext != nil:
			return controlContext(ctx, network, address, c)
		case control != nil:
			return control(network, address, c)
		}
		return nil
	}
	return dd.DialContext
}
