package store

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/roster-dev/roster"
)

// TestClosedConnectionIsUnavailable: a statement sent on a connection a
// reset has closed never reaches PostgreSQL; it is a 503 to retry, not an
// internal error (pgx reports it as its own "conn closed").
func TestClosedConnectionIsUnavailable(t *testing.T) {
	url := os.Getenv("ROSTER_TEST_POSTGRES_URL")
	if url == "" {
		t.Skip("ROSTER_TEST_POSTGRES_URL is not set: skipping the PostgreSQL run")
	}
	ctx := context.Background()
	conn, err := pgconn.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	_, err = conn.Exec(ctx, "SELECT 1").ReadAll()
	if err == nil {
		t.Fatal("a closed connection ran a statement")
	}
	if got := classifyFault(err); got != roster.ErrUnavailable {
		t.Errorf("%v: classified %v, want roster.ErrUnavailable", err, got)
	}
}
