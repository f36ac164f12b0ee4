-- +goose Up
-- A support session: a staff member's consented, time-boxed presence in a
-- workspace. Ended sessions stay, for the customer's view and the audit.
CREATE TABLE support_sessions (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    user_id       TEXT NOT NULL REFERENCES users (id),
    role          TEXT NOT NULL,
    reason        TEXT NOT NULL,
    membership_id TEXT NOT NULL,
    token_id      TEXT NOT NULL,
    end_task_id   TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    ended_at      TEXT,
    end_reason    TEXT,
    updated_at    TEXT NOT NULL
);
-- One open session per staff member and workspace: concurrent joins end in one.
CREATE UNIQUE INDEX support_sessions_open ON support_sessions (workspace_id, user_id) WHERE ended_at IS NULL;
CREATE INDEX support_sessions_user ON support_sessions (user_id, id) WHERE ended_at IS NULL;
CREATE INDEX support_sessions_expiry ON support_sessions (expires_at) WHERE ended_at IS NULL;
CREATE INDEX support_sessions_workspace ON support_sessions (workspace_id, id);

-- +goose Down
DROP TABLE support_sessions;
