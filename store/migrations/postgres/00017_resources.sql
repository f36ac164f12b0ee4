-- +goose Up
-- The host application's things, each owned by one workspace and known by
-- the host's own (type, external_id) as well as Roster's id.
CREATE TABLE resources (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    type         TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    name         TEXT NOT NULL,
    created_by   TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    deleted_at   TIMESTAMPTZ
);
CREATE UNIQUE INDEX resources_external ON resources (type, external_id) WHERE deleted_at IS NULL;
CREATE INDEX resources_workspace ON resources (workspace_id, id) WHERE deleted_at IS NULL;

-- A share gives another workspace's members, or one guest user, a role on
-- one resource.
CREATE TABLE resource_shares (
    resource_id  TEXT NOT NULL REFERENCES resources (id),
    grantee_kind TEXT NOT NULL,
    grantee_id   TEXT NOT NULL,
    role         TEXT NOT NULL,
    created_by   TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (resource_id, grantee_id)
);
CREATE INDEX resource_shares_grantee ON resource_shares (grantee_id);

-- +goose Down
DROP TABLE resource_shares;
DROP TABLE resources;
