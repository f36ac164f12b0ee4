-- +goose Up
CREATE TABLE users (
    id                   TEXT PRIMARY KEY,
    email                TEXT,
    email_key            TEXT,
    display_name         TEXT NOT NULL DEFAULT '',
    search_text          TEXT NOT NULL DEFAULT '',
    status               TEXT NOT NULL,
    platform_role        TEXT NOT NULL,
    external_id          TEXT,
    default_workspace_id TEXT,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    deleted_at           TIMESTAMPTZ
);
CREATE UNIQUE INDEX users_email_key_live ON users (email_key) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX users_external_id_live ON users (external_id) WHERE deleted_at IS NULL;
CREATE INDEX users_platform_role ON users (platform_role) WHERE deleted_at IS NULL;

CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    prefix       TEXT NOT NULL,
    hint         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    workspace_id TEXT,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX tokens_user ON tokens (user_id, id);

CREATE TABLE audit_events (
    id             TEXT PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL,
    actor_user_id  TEXT,
    actor_token_id TEXT,
    via            TEXT NOT NULL,
    on_behalf_of   TEXT,
    action         TEXT NOT NULL,
    target_type    TEXT NOT NULL,
    target_id      TEXT NOT NULL,
    org_id         TEXT,
    workspace_id   TEXT,
    before_json    JSONB,
    after_json     JSONB,
    request_id     TEXT NOT NULL DEFAULT '',
    ip             TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_org ON audit_events (org_id, id) WHERE org_id IS NOT NULL;
CREATE INDEX audit_workspace ON audit_events (workspace_id, id) WHERE workspace_id IS NOT NULL;
CREATE INDEX audit_actor ON audit_events (actor_user_id, id);
CREATE INDEX audit_on_behalf_of ON audit_events (on_behalf_of, id) WHERE on_behalf_of IS NOT NULL;
CREATE INDEX audit_action ON audit_events (action, id);

CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL DEFAULT '',
    body         BYTEA,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE audit_events;
DROP TABLE tokens;
DROP TABLE users;
