-- +goose Up
-- A signed-in browser of the admin console. Only the hash of its secret is
-- kept; ended sessions stay until the user is gone, for the record.
CREATE TABLE console_sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    hash         TEXT NOT NULL UNIQUE,
    csrf         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at     TEXT
);
CREATE INDEX console_sessions_user ON console_sessions (user_id) WHERE ended_at IS NULL;

-- A one-time sign-in link, printed by the command line.
CREATE TABLE login_links (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    hash       TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    created_at TEXT NOT NULL
);

-- +goose Down
DROP TABLE login_links;
DROP TABLE console_sessions;
