// Package store persists Roster's domain on embedded SQLite or on
// PostgreSQL. It holds no business rule: it stores, queries and reports
// uniqueness conflicts; the service layer decides what they mean.
//
// One implementation serves both databases. SQL is written once with "?"
// placeholders in the subset both dialects share (ON CONFLICT, RETURNING,
// partial indexes); the few differences live in dialect.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/roster-dev/roster"
)

// Dialect names a supported database.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Options tune a store. Zero values take defaults.
type Options struct {
	// Timeout bounds, on PostgreSQL, each statement, each wait for a lock,
	// each connection attempt, and how long a session may sit idle inside a
	// transaction: a client that dies or is cut off mid-transaction releases
	// its locks after it. Roster never leaves a transaction idle on purpose.
	// Requests carry their own, usually equal, deadline.
	Timeout time.Duration
	// Tasks tune how this store runs tasks.
	Tasks TaskOptions
}

// DefaultTimeout is Options.Timeout when none is given.
const DefaultTimeout = 5 * time.Second

// DB is Roster's store on one database.
type DB struct {
	dialect Dialect
	pgConf  *pgx.ConnConfig // PostgreSQL: every connection's settings, the LISTEN one's too
	timeout time.Duration
	schema  string // the PostgreSQL schema Roster's tables live in
	channel string // the PostgreSQL notification channel
	write   *sql.DB
	read    *sql.DB // the same pool as write on PostgreSQL
	queries
	rebound sync.Map // SQL text with "?" -> SQL text for this dialect
	stmts   map[*sql.DB]*stmtCache
	// writers queues write transactions first come, first served; a pool
	// alone hands a free connection to a random waiter, which leaves some
	// writers waiting for many others.
	writers chan struct{}
	// Tasks: one River client inserts and administers them, another reads
	// them (the same on PostgreSQL), and RunTasks adds one that works them.
	taskOpts   TaskOptions
	taskWriter *taskClient
	taskReader *taskClient
}

var _ roster.Store = (*DB)(nil)

// ParseDSN splits a Roster database address into its dialect and the
// driver's own address. Roster accepts "sqlite:PATH" and postgres:// URLs.
func ParseDSN(dsn string) (Dialect, string, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return "", "", fmt.Errorf("database %q: sqlite: needs a file path", dsn)
		}
		return SQLite, path, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return Postgres, dsn, nil
	}
	return "", "", fmt.Errorf("database %q: use sqlite:PATH or a postgres:// URL", dsn)
}

// Open connects to the database named by dsn. It does not migrate; call
// Migrate for that.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	dialect, addr, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	db := &DB{dialect: dialect, timeout: opts.Timeout}
	switch dialect {
	case SQLite:
		err = db.openSQLite(addr)
	case Postgres:
		err = db.openPostgres(addr)
	}
	if err != nil {
		return nil, err
	}
	db.queries = queries{db: db, x: db.read, pool: db.read}
	if dialect == SQLite {
		db.stmts = map[*sql.DB]*stmtCache{db.write: {}, db.read: {}}
		db.writers = make(chan struct{}, 1) // one writer at a time
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", dialect, err)
	}
	if dialect == Postgres {
		var schema sql.NullString
		if err := db.write.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
			db.Close()
			return nil, fmt.Errorf("database %s: %w", dialect, err)
		}
		db.schema = schema.String
		db.channel = notifyChannel(schema.String)
	}
	if err := db.openTasks(opts.Tasks); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// sqlitePragmas make SQLite safe for a server: WAL so readers never block the
// writer, a busy timeout (another process writing, such as bootstrap)
// instead of "database is locked", enforced foreign keys, and transactions
// that take the write lock when they begin.
const sqlitePragmas = "_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"

func (db *DB) openSQLite(path string) error {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	sep += fmt.Sprintf("_pragma=busy_timeout(%d)&", db.timeout.Milliseconds())
	// The one writer keeps a larger page cache (64 MiB at most, against
	// SQLite's 2 MiB): every write reads index pages, and a bulk import
	// reads many.
	w, err := sql.Open("sqlite", path+sep+sqlitePragmas+"&_pragma=cache_size(-65536)&_txlock=immediate")
	if err != nil {
		return err
	}
	// One writer: SQLite allows one write transaction at a time, and a single
	// connection queues writers in Go instead of failing them.
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", path+sep+sqlitePragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return err
	}
	r.SetMaxOpenConns(max(4, runtime.NumCPU()*2))
	r.SetMaxIdleConns(max(4, runtime.NumCPU()*2))
	db.write, db.read = w, r
	return nil
}

// postgresReadReserve is how many PostgreSQL connections write transactions
// leave to reads.
const postgresReadReserve = 4

// postgresConns sizes the pool. Write transactions spend most of their
// time waiting for round trips and for the commit's WAL flush, which
// PostgreSQL shares between the transactions committing together: measured
// on two cores, 20 connections gave 1,170 membership writes/s where 8 gave
// 800 and 36 gave 850.
func postgresConns() int { return max(20, runtime.NumCPU()*4) }

func (db *DB) openPostgres(url string) error {
	conf, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	boundSessions(conf, db.timeout)
	db.pgConf = conf
	p := sql.OpenDB(retryingConnector{stdlib.GetConnector(*conf)})
	conns := postgresConns()
	p.SetMaxOpenConns(conns)
	p.SetMaxIdleConns(conns)
	// Write transactions queue first come, first served for all but a few
	// connections, which stay free for reads and heartbeats.
	db.writers = make(chan struct{}, conns-postgresReadReserve)
	db.write, db.read = p, p
	return nil
}

// Dialect reports which database this store uses.
func (db *DB) Dialect() Dialect { return db.dialect }

// Pools returns the connection pools, for metrics.
func (db *DB) Pools() map[string]*sql.DB {
	if db.write == db.read {
		return map[string]*sql.DB{"main": db.write}
	}
	return map[string]*sql.DB{"write": db.write, "read": db.read}
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return err
	}
	return db.read.PingContext(ctx)
}

// Close closes every pool.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Update runs fn in a write transaction. On PostgreSQL a transaction chosen
// as a deadlock victim, or one whose connection broke before it could have
// committed, is run again from the start (fn must not keep state between
// attempts); SQLite's single writer cannot deadlock.
func (db *DB) Update(ctx context.Context, fn func(roster.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.update(ctx, fn)
		var pgErr *pgconn.PgError
		deadlock := errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
		if !(deadlock || errors.Is(err, errUncommitted)) || attempt == 3 || ctx.Err() != nil {
			return err
		}
	}
}

// errUncommitted marks a transaction that failed on a broken connection
// before its commit could have reached the database: running it again
// cannot apply it twice.
var errUncommitted = errors.New("the connection broke before the commit was sent")

func (db *DB) update(ctx context.Context, fn func(roster.Tx) error) (err error) {
	if db.writers != nil {
		select {
		case db.writers <- struct{}{}:
		case <-ctx.Done():
			// Waiting behind other writers: the database is there, but busy.
			return fmt.Errorf("waiting to write: %w: %w", roster.ErrBusy, ctx.Err())
		}
		defer func() { <-db.writers }()
	}
	if cache := db.stmts[db.write]; cache != nil {
		defer cache.prepareMissing(ctx, db.write) // once the transaction has let the connection go
	}
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", translate(err)) // database/sql retried a broken connection already
	}
	defer func() {
		if err != nil {
			sqlTx.Rollback()
		}
	}()
	t := &tx{queries: queries{db: db, x: sqlTx, pool: db.write, sqlTx: sqlTx, inTx: true}}
	if err := fn(t); err != nil {
		if db.dialect == Postgres && brokenConnection(err) {
			return fmt.Errorf("%w: %w", errUncommitted, err)
		}
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		if db.dialect == Postgres && pgconn.SafeToRetry(err) {
			return fmt.Errorf("commit: %w: %w", errUncommitted, translate(err))
		}
		return fmt.Errorf("commit: %w", translate(err))
	}
	return nil
}

// rebind turns "?" placeholders into the dialect's own.
func (db *DB) rebind(query string) string {
	if db.dialect != Postgres {
		return query
	}
	if q, ok := db.rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	q := b.String()
	db.rebound.Store(query, q)
	return q
}

// execer is what *sql.DB and *sql.Tx have in common.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queries runs SQL on a pool or inside a transaction.
type queries struct {
	db    *DB
	x     execer
	pool  *sql.DB // the pool x is, or runs its transaction on
	sqlTx *sql.Tx // the transaction, if any
	inTx  bool
}

// forUpdate locks the selected rows until the transaction ends. SQLite needs
// no row locks: its write transactions already run one at a time.
func (q queries) forUpdate() string {
	if q.inTx && q.db.dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

func (q queries) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	x, err := q.on(ctx, query)
	if err != nil {
		return nil, failed(query, err)
	}
	res, err := x.ExecContext(ctx, args...)
	return res, failed(query, err)
}

func (q queries) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	x, err := q.on(ctx, query)
	if err != nil {
		return nil, failed(query, err)
	}
	rows, err := x.QueryContext(ctx, args...)
	return rows, failed(query, err)
}

func (q queries) queryRow(ctx context.Context, query string, args ...any) row {
	x, err := q.on(ctx, query)
	if err != nil {
		// A Row can only carry the error through a query that fails the
		// same way; ask the pool, which reports the context's error.
		return row{q.x.QueryRowContext(ctx, q.db.rebind(query), args...), query}
	}
	return row{x.QueryRowContext(ctx, args...), query}
}

// row is a single-row result whose errors name their query.
type row struct {
	r     *sql.Row
	query string
}

func (r row) Scan(dest ...any) error { return failed(r.query, r.r.Scan(dest...)) }

// failed translates a query's error and, unless the service expects it (a
// missing row, a taken unique value), names the query it came from, for
// whoever reads the log.
func failed(query string, err error) error {
	err = translate(err)
	if err == nil || errors.Is(err, roster.ErrNotFound) || errors.Is(err, roster.ErrUniqueViolation) {
		return err
	}
	return fmt.Errorf("%s: %w", queryLabel(query), err)
}

// queryLabel names a query by its verb and first table, e.g. "UPDATE
// seat_holders" or "SELECT … FROM users".
func queryLabel(query string) string {
	words := strings.Fields(query)
	if len(words) == 0 {
		return "query"
	}
	verb := strings.ToUpper(words[0])
	for i, w := range words[:len(words)-1] {
		switch strings.ToUpper(w) {
		case "FROM", "INTO", "UPDATE":
			if verb == "SELECT" || verb == "WITH" {
				return verb + " … FROM " + words[i+1]
			}
			return verb + " " + words[i+1]
		}
	}
	if verb == "UPDATE" && len(words) > 1 {
		return "UPDATE " + words[1]
	}
	return verb
}

// statement is one query ready to run with arguments.
type statement interface {
	ExecContext(ctx context.Context, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, args ...any) *sql.Row
}

// unprepared runs its query text afresh each time.
type unprepared struct {
	x     execer
	query string
}

func (u unprepared) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return u.x.ExecContext(ctx, u.query, args...)
}

func (u unprepared) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	return u.x.QueryContext(ctx, u.query, args...)
}

func (u unprepared) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	return u.x.QueryRowContext(ctx, u.query, args...)
}

// on returns query ready to run where q runs. On SQLite, statements are
// prepared once per connection and reused: parsing SQL costs more than
// running it, and the one writer's time is everyone's. pgx caches prepared
// statements per connection by itself.
func (q queries) on(ctx context.Context, query string) (statement, error) {
	query = q.db.rebind(query)
	cache := q.db.stmts[q.pool]
	if cache == nil {
		return unprepared{q.x, query}, nil
	}
	if q.sqlTx != nil {
		// Preparing on the pool would wait for the connection this
		// transaction holds: reuse what is prepared, note the rest.
		if st := cache.lookup(query); st != nil {
			return q.sqlTx.StmtContext(ctx, st), nil
		}
		return unprepared{q.x, query}, nil
	}
	st, err := cache.get(ctx, q.pool, query)
	if err != nil || st == nil {
		return unprepared{q.x, query}, err
	}
	return st, nil
}

// stmtCache holds a pool's prepared statements by their text.
type stmtCache struct {
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	missing map[string]bool // looked up inside transactions, to prepare after them
}

// lookup returns the prepared statement for query, or nil, noting it for
// prepareMissing.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.stmts[query]
	if !ok && len(c.stmts)+len(c.missing) < maxCachedStatements {
		if c.missing == nil {
			c.missing = map[string]bool{}
		}
		c.missing[query] = true
	}
	return st
}

// prepareMissing prepares the statements lookup missed. A failure is left
// for the next time: the query runs unprepared meanwhile.
func (c *stmtCache) prepareMissing(ctx context.Context, pool *sql.DB) {
	c.mu.Lock()
	missing := slices.Collect(maps.Keys(c.missing))
	c.missing = nil
	c.mu.Unlock()
	for _, query := range missing {
		c.get(ctx, pool, query)
	}
}

// maxCachedStatements bounds the cache; Roster's queries are a few hundred
// texts, built from fixed parts.
const maxCachedStatements = 1000

func (c *stmtCache) get(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.stmts[query]
	full := len(c.stmts) >= maxCachedStatements
	c.mu.Unlock()
	if ok || full {
		return st, nil
	}
	// Not under mu: preparing waits for a connection, which a transaction
	// may hold while it looks up its statements.
	st, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prior, ok := c.stmts[query]; ok {
		st.Close()
		return prior, nil
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = st
	return st, nil
}

// tx is a write transaction.
type tx struct {
	queries
}

var _ roster.Tx = (*tx)(nil)

// translate turns driver errors that carry meaning for the domain into domain
// errors, by their structured codes. An error already translated is left as
// it is.
func translate(err error) error {
	var domain *roster.Error
	if err == nil || errors.As(err, &domain) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return roster.ErrNotFound
	}
	if fault := classifyFault(err); fault != nil {
		return fmt.Errorf("%w: %w", fault, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return fmt.Errorf("%w: %s", roster.ErrUniqueViolation, pgErr.ConstraintName)
	}
	if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22") { // class 22: data exception
		return fmt.Errorf("%w: %s", roster.ErrUnstorableValue, pgErr.Code)
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) && (liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return fmt.Errorf("%w: %v", roster.ErrUniqueViolation, err)
	}
	return err
}

// scanOne maps sql.ErrNoRows (from Row.Scan) to roster.ErrNotFound.
func scanOne(err error) error { return translate(err) }

// collect reads every row with scan.
func collect[T any](rows *sql.Rows, err error, scan func(*sql.Rows) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
