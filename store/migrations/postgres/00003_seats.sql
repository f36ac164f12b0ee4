-- +goose Up
ALTER TABLE orgs ADD COLUMN seat_cap INTEGER;
ALTER TABLE orgs ADD COLUMN free_roles JSONB NOT NULL DEFAULT '["viewer"]';
ALTER TABLE orgs ADD COLUMN owner_seat_free BOOLEAN NOT NULL DEFAULT FALSE;

-- One row per user who holds a seat in an organisation, with the role that
-- accounts for it and, when every membership giving the seat expires, the
-- last such expiry.
CREATE TABLE seat_holders (
    org_id  TEXT NOT NULL REFERENCES orgs (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    role    TEXT NOT NULL,
    until   TIMESTAMPTZ,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX seat_holders_expiring ON seat_holders (org_id, until) WHERE until IS NOT NULL;

-- Seat holders without an expiry, counted by role, kept in step with
-- seat_holders so that reading seat counts never scans an organisation.
CREATE TABLE seat_counts (
    org_id TEXT NOT NULL REFERENCES orgs (id),
    role   TEXT NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (org_id, role)
);

-- +goose Down
DROP TABLE seat_counts;
DROP TABLE seat_holders;
ALTER TABLE orgs DROP COLUMN owner_seat_free;
ALTER TABLE orgs DROP COLUMN free_roles;
ALTER TABLE orgs DROP COLUMN seat_cap;
