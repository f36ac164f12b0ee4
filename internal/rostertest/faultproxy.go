package rostertest

import (
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// FaultProxy is a TCP proxy between Roster and its database that a test can
// break the way networks break: reset every connection, black-hole traffic
// (bytes are held, not delivered, as when packets are dropped and
// retransmitted), and restore it. The database server itself is never
// touched.
type FaultProxy struct {
	t      testing.TB
	ln     net.Listener
	target string

	mu     sync.Mutex
	open   *sync.Cond // signalled when traffic may flow again
	holes  bool       // black-holed
	closed bool
	conns  map[net.Conn]struct{}
}

// NewFaultProxy proxies target ("host:port") until the test ends.
func NewFaultProxy(t testing.TB, target string) *FaultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &FaultProxy{t: t, ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.open = sync.NewCond(&p.mu)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// ProxyPostgres returns dsn rewritten to reach its PostgreSQL server through
// a new FaultProxy.
func ProxyPostgres(t testing.TB, dsn string) (string, *FaultProxy) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := NewFaultProxy(t, u.Host)
	u.Host = p.Addr()
	return u.String(), p
}

// Addr is where the proxy listens.
func (p *FaultProxy) Addr() string { return p.ln.Addr().String() }

// Blackhole stops delivering bytes in both directions, on open connections
// and new ones alike, until Restore.
func (p *FaultProxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holes = true
}

// Restore delivers traffic again, including what was held.
func (p *FaultProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holes = false
	p.open.Broadcast()
}

// Reset closes every open connection abruptly (TCP RST on both sides).
func (p *FaultProxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
		delete(p.conns, c)
	}
}

// Close stops the proxy and resets its connections.
func (p *FaultProxy) Close() {
	p.mu.Lock()
	p.closed = true
	p.open.Broadcast()
	p.mu.Unlock()
	p.ln.Close()
	p.Reset()
}

// waitOpen blocks while traffic is black-holed; false once the proxy closed.
func (p *FaultProxy) waitOpen() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.holes && !p.closed {
		p.open.Wait()
	}
	return !p.closed
}

func (p *FaultProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *FaultProxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(client)
	}
}

func (p *FaultProxy) serve(client net.Conn) {
	if !p.track(client) || !p.waitOpen() { // a black-holed connect goes unanswered
		client.Close()
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(server) {
		client.Close()
		return
	}
	go p.pipe(server, client)
	p.pipe(client, server)
}

// pipe copies src to dst, holding each chunk while black-holed.
func (p *FaultProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if !p.waitOpen() {
			return
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				src.Close()
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if tc, ok := dst.(*net.TCPConn); ok {
					tc.CloseWrite()
					return
				}
			}
			dst.Close()
			return
		}
	}
}
