package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"golang.org/x/sys/unix"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/roster-dev/roster"
)

// boundSessions gives every PostgreSQL connection deadlines, so that no
// request, lock or transaction outlives timeout because the database or the
// network went quiet. Settings already in the URL are kept.
func boundSessions(conf *pgx.ConnConfig, timeout time.Duration) {
	ms := strconv.FormatInt(timeout.Milliseconds(), 10)
	defaults := map[string]string{
		"statement_timeout": ms,
		// A lock wait ends well before the request's deadline, so that it
		// is reported as what it is: busy, not unreachable.
		"lock_timeout": strconv.FormatInt(timeout.Milliseconds()/2, 10),
		// A session idle inside a transaction holds its locks: its client
		// died or was cut off. End it, and with it the locks.
		"idle_in_transaction_session_timeout": ms,
		// The server notices a peer that vanished without closing.
		"tcp_keepalives_idle":     "5",
		"tcp_keepalives_interval": "2",
		"tcp_keepalives_count":    "3",
		"tcp_user_timeout":        ms,
	}
	for name, value := range defaults {
		if _, set := conf.RuntimeParams[name]; !set {
			conf.RuntimeParams[name] = value
		}
	}
	if conf.ConnectTimeout == 0 || conf.ConnectTimeout > timeout {
		conf.ConnectTimeout = timeout
	}
	dialer := &net.Dialer{
		Timeout:         timeout,
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3},
		Control:         userTimeout(timeout),
	}
	conf.DialFunc = dialer.DialContext
}

// userTimeout makes the kernel drop a connection whose sent data stays
// unacknowledged for longer than d (a black-holed peer), instead of
// retransmitting for a quarter of an hour.
func userTimeout(d time.Duration) func(network, address string, c syscall.RawConn) error {
	return func(network, _ string, c syscall.RawConn) error {
		if !strings.HasPrefix(network, "tcp") {
			return nil
		}
		var sockErr error
		err := c.Control(func(fd uintptr) {
			sockErr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(d.Milliseconds()))
		})
		return errors.Join(err, sockErr)
	}
}

// brokenConnection reports whether err is the connection failing (as
// opposed to the database refusing a statement or the deadline passing).
func brokenConnection(err error) bool {
	var pgErr *pgconn.PgError
	var netErr net.Error
	switch {
	case errors.As(err, &pgErr), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), pgconn.Timeout(err):
		return false
	case pgconn.SafeToRetry(err), errors.Is(err, driver.ErrBadConn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	}
	return errors.As(err, &netErr)
}

// retryingConnector makes PostgreSQL connections whose queries report a
// failure to send (a connection the network reset while it sat in the pool)
// as driver.ErrBadConn, as its Exec does already: database/sql then runs
// the query again on another connection instead of failing the request.
type retryingConnector struct{ driver.Connector }

func (c retryingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return retryingConn{conn.(*stdlib.Conn)}, nil
}

type retryingConn struct{ *stdlib.Conn }

func (c retryingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.Conn.QueryContext(ctx, query, args)
	if err != nil && pgconn.SafeToRetry(err) {
		return nil, driver.ErrBadConn
	}
	return rows, err
}

// classifyFault names database errors that are about the database's state,
// not the request: busy (a lock or statement timeout, SQLite's lock) or
// unavailable (the connection failed, or no answer came in time). It
// returns nil for every other error.
func classifyFault(err error) *roster.Error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "55P03", pgErr.Code == "57014": // lock_not_available, query_canceled (statement_timeout)
			return roster.ErrBusy
		case pgErr.Code == "53300", pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03",
			pgErr.Code == "25P03", strings.HasPrefix(pgErr.Code, "08"): // too many connections, shutdown, idle in transaction, connection exception
			return roster.ErrUnavailable
		}
		return nil
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		if liteErr.Code()&0xff == sqlite3.SQLITE_BUSY || liteErr.Code()&0xff == sqlite3.SQLITE_LOCKED {
			return roster.ErrBusy
		}
		return nil
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &connectErr),
		errors.As(err, &netErr),
		pgconn.Timeout(err),
		// pgx's own "conn closed" (a connection a reset has closed, handed
		// out again) and the like: the statement never reached the server.
		pgconn.SafeToRetry(err):
		return roster.ErrUnavailable
	}
	return nil
}
