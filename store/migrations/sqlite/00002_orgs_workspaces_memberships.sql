-- +goose Up
CREATE TABLE orgs (
    id                            TEXT PRIMARY KEY,
    name                          TEXT NOT NULL,
    slug                          TEXT NOT NULL,
    search_text                   TEXT NOT NULL DEFAULT '',
    members_can_create_workspaces BOOLEAN NOT NULL DEFAULT TRUE,
    created_at                    TEXT NOT NULL,
    updated_at                    TEXT NOT NULL,
    deleted_at                    TEXT
);
CREATE UNIQUE INDEX orgs_slug_live ON orgs (slug) WHERE deleted_at IS NULL;

CREATE TABLE workspaces (
    id                   TEXT PRIMARY KEY,
    org_id               TEXT NOT NULL REFERENCES orgs (id),
    name                 TEXT NOT NULL,
    slug                 TEXT NOT NULL,
    allow_support_access BOOLEAN NOT NULL DEFAULT FALSE,
    settings_values      TEXT NOT NULL DEFAULT '{}',
    archived_at          TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    deleted_at           TEXT
);
CREATE UNIQUE INDEX workspaces_slug_live ON workspaces (org_id, slug) WHERE deleted_at IS NULL;

CREATE TABLE org_memberships (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    role       TEXT NOT NULL,
    joined_at  TEXT NOT NULL,
    invited_by TEXT,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE UNIQUE INDEX org_memberships_live ON org_memberships (org_id, user_id) WHERE deleted_at IS NULL;
CREATE INDEX org_memberships_user ON org_memberships (user_id) WHERE deleted_at IS NULL;

CREATE TABLE workspace_memberships (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    user_id      TEXT NOT NULL REFERENCES users (id),
    role         TEXT NOT NULL,
    source       TEXT NOT NULL,
    joined_at    TEXT NOT NULL,
    invited_by   TEXT,
    expires_at   TEXT,
    updated_at   TEXT NOT NULL,
    deleted_at   TEXT
);
CREATE UNIQUE INDEX workspace_memberships_live ON workspace_memberships (workspace_id, user_id) WHERE deleted_at IS NULL;
CREATE INDEX workspace_memberships_user ON workspace_memberships (user_id) WHERE deleted_at IS NULL;
CREATE INDEX workspace_memberships_org_user ON workspace_memberships (org_id, user_id) WHERE deleted_at IS NULL;

-- +goose Down
DROP TABLE workspace_memberships;
DROP TABLE org_memberships;
DROP TABLE workspaces;
DROP TABLE orgs;
