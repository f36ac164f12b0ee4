-- +goose Up
CREATE TABLE invitations (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES orgs (id),
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id),
    email            TEXT NOT NULL,
    email_key        TEXT NOT NULL,
    role             TEXT NOT NULL,
    token_hash       TEXT NOT NULL UNIQUE,
    invited_by       TEXT,
    by_service       BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at       TIMESTAMPTZ NOT NULL,
    accepted_at      TIMESTAMPTZ,
    accepted_by      TEXT,
    revoked_at       TIMESTAMPTZ,
    open             BOOLEAN NOT NULL DEFAULT TRUE,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
-- One open invitation per email and workspace; accepted, revoked and
-- superseded ones are closed.
CREATE UNIQUE INDEX invitations_open ON invitations (workspace_id, email_key) WHERE open;
CREATE INDEX invitations_org_open ON invitations (org_id, email_key) WHERE open;
CREATE INDEX invitations_email ON invitations (email_key);

CREATE TABLE access_requests (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    user_id      TEXT NOT NULL REFERENCES users (id),
    message      TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL,
    role         TEXT,
    decided_by   TEXT,
    decided_at   TIMESTAMPTZ,
    open         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX access_requests_open ON access_requests (workspace_id, user_id) WHERE open;
CREATE INDEX access_requests_workspace ON access_requests (workspace_id, id);

-- +goose Down
DROP TABLE access_requests;
DROP TABLE invitations;
