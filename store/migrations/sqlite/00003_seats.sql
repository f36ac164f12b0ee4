-- +goose Up
ALTER TABLE orgs ADD COLUMN seat_cap INTEGER;
ALTER TABLE orgs ADD COLUMN free_roles TEXT NOT NULL DEFAULT '["viewer"]';
ALTER TABLE orgs ADD COLUMN owner_seat_free BOOLEAN NOT NULL DEFAULT FALSE;

-- One row per user who holds a seat in an organisation, with the role that
-- accounts for it and, when every membership giving the seat expires, the
-- last such expiry; recheck_at is when the first of those memberships
-- expires, from which time the row is due to be recomputed.
CREATE TABLE seat_holders (
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    role       TEXT NOT NULL,
    until      TEXT,
    recheck_at TEXT,
    PRIMARY KEY (org_id, user_id)
);
-- Reading counts subtracts the seats that expired and are not yet recomputed.
CREATE INDEX seat_holders_expiring ON seat_holders (org_id, until, role) WHERE until IS NOT NULL;
CREATE INDEX seat_holders_recheck ON seat_holders (recheck_at) WHERE recheck_at IS NOT NULL;

-- Every row of seat_holders counted by role, kept in step with it so that
-- reading seat counts never scans an organisation.
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
