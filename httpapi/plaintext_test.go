package httpapi_test

import (
	"database/sql"
	"net/url"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/roster-dev/roster/internal/rostertest"
	"github.com/roster-dev/roster/service"
)

// TestNoPlaintextTokenInDatabase mints tokens through every path that makes
// one, including an idempotent replay, then reads every text column of every
// table: neither a token nor its secret part may be there.
func TestNoPlaintextTokenInDatabase(t *testing.T) {
	rostertest.Each(t, func(t *testing.T, b rostertest.Backend) {
		env := rostertest.NewEnv(t, b, rostertest.WithService(func(o *service.Options) { o.InviteURL = "https://app.example/join?t={token}" }))
		ann, annToken := env.NewUserWithToken("ann@example.com")
		bot := env.CreateUser(map[string]any{})
		secrets := []string{env.AdminToken, annToken,
			env.IssueToken(bot.ID, map[string]any{"kind": "service"}).Token,
			env.IssueToken(ann.ID, map[string]any{"expires_in": 600}).Token}
		idem := map[string]string{"Idempotency-Key": "mint-once"}
		first := env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/me/tokens", Token: annToken, Body: map[string]any{"name": "cli"}, Headers: idem})
		replay := env.Expect(201, rostertest.Req{Method: "POST", Path: "/v1/me/tokens", Token: annToken, Body: map[string]any{"name": "cli"}, Headers: idem})
		var minted, replayed rostertest.Token
		first.JSON(t, &minted)
		replay.JSON(t, &replayed)
		secrets = append(secrets, minted.Token)
		// Invitation secrets too, issued and re-issued, with the accept link
		// that carries them, and replayed.
		_, ws := env.CreateOrg(annToken, "acme")
		var inv struct {
			ID    string `json:"id"`
			Token string `json:"token"`
		}
		invite := rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + ws.ID + "/invitations", Token: annToken,
			Body: map[string]any{"email": "guest@example.com", "role": "member"}, Headers: map[string]string{"Idempotency-Key": "invite-once"}}
		env.Expect(201, invite).JSON(t, &inv)
		secrets = append(secrets, inv.Token)
		if again := env.Expect(201, invite); strings.Contains(string(again.Body), "rst_inv_") {
			t.Errorf("a replayed invitation shows its secret: %s", again.Body)
		}
		resend := rostertest.Req{Method: "POST", Path: "/v1/workspaces/" + ws.ID + "/invitations/" + inv.ID + "/resend", Token: annToken, Headers: map[string]string{"Idempotency-Key": "resend-once"}}
		env.Expect(200, resend).JSON(t, &inv)
		secrets = append(secrets, inv.Token)
		if again := env.Expect(200, resend); strings.Contains(string(again.Body), "rst_inv_") {
			t.Errorf("a replayed resend shows the secret: %s", again.Body)
		}
		if replay.Header.Get("Idempotent-Replayed") != "true" || replayed.ID != minted.ID || replayed.Token != "" || strings.Contains(string(replay.Body), `"token"`) {
			t.Errorf("replay of a token creation: %s", replay.Body)
		}
		for _, s := range secrets {
			if s == "" {
				t.Fatal("a token was not returned")
			}
		}

		dump := dumpDatabase(t, env)
		for _, s := range secrets {
			secretPart := s[len("rst_xxx_"):]
			if strings.Contains(dump, s) || strings.Contains(dump, secretPart) {
				t.Errorf("a plaintext token is stored in the database")
			}
		}
		if !strings.Contains(dump, minted.ID) {
			t.Fatal("the dump misses the tokens table; the test proves nothing")
		}
	})
}

// rawDatabase opens env's database behind Roster's back, for tests that
// must see what the API does not show.
func rawDatabase(t *testing.T, env *rostertest.Env) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", env.DSN
	if env.Backend == rostertest.SQLite {
		driver, dsn = "sqlite", strings.TrimPrefix(env.DSN, "sqlite:")
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// dumpDatabase returns every value of every table as text.
func dumpDatabase(t *testing.T, env *rostertest.Env) string {
	t.Helper()
	db := rawDatabase(t, env)
	tablesQuery := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if env.Backend == rostertest.Postgres {
		u, _ := url.Parse(env.DSN)
		tablesQuery = `SELECT table_name FROM information_schema.tables WHERE table_schema = '` + u.Query().Get("search_path") + `'`
	}
	tables := queryStrings(t, db, tablesQuery)
	if len(tables) < 5 {
		t.Fatalf("found only tables %v", tables)
	}
	var out strings.Builder
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM ` + table)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				switch v := v.(type) {
				case []byte:
					out.Write(v)
				case string:
					out.WriteString(v)
				}
				out.WriteByte('\n')
			}
		}
		rows.Close()
	}
	return out.String()
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	return out
}
