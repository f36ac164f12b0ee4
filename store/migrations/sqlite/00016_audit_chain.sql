-- +goose Up
-- The audit log is a hash chain. The sealer gives each committed event, in
-- log order, its position in the chain and its hash; writers take no lock
-- of it. actor_reason is why the actor acted (a support session's reason).
ALTER TABLE audit_events ADD COLUMN actor_reason TEXT;
ALTER TABLE audit_events ADD COLUMN chain_pos INTEGER;
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_events ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_chain ON audit_events (chain_pos) WHERE chain_pos IS NOT NULL;
CREATE INDEX audit_unsealed ON audit_events (txid, seq) WHERE chain_pos IS NULL;
-- GET /v1/audit reads newest first by (at, id): each filter has an index
-- in that order, so a first page, with or without a time range, reads
-- about a page of rows.
DROP INDEX audit_org;
DROP INDEX audit_workspace;
DROP INDEX audit_actor;
DROP INDEX audit_on_behalf_of;
DROP INDEX audit_action;
CREATE INDEX audit_at ON audit_events (at, id);
CREATE INDEX audit_org ON audit_events (org_id, at, id) WHERE org_id IS NOT NULL;
CREATE INDEX audit_workspace ON audit_events (workspace_id, at, id) WHERE workspace_id IS NOT NULL;
CREATE INDEX audit_actor ON audit_events (actor_user_id, at, id);
CREATE INDEX audit_on_behalf_of ON audit_events (on_behalf_of, at, id) WHERE on_behalf_of IS NOT NULL;
CREATE INDEX audit_action ON audit_events (action, at, id);

-- Where the sealer has reached: the last event sealed, its place in the
-- log, its position and its hash. Events already written are sealed from
-- the start of the log.
CREATE TABLE audit_chain_head (
    name TEXT PRIMARY KEY,
    txid TEXT NOT NULL,
    seq  INTEGER NOT NULL,
    pos  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_chain_head (name, txid, seq, pos, hash) VALUES ('chain', '0', 0, 0, '');

-- +goose Down
DROP TABLE audit_chain_head;
DROP INDEX audit_action;
DROP INDEX audit_on_behalf_of;
DROP INDEX audit_actor;
DROP INDEX audit_workspace;
DROP INDEX audit_org;
DROP INDEX audit_at;
CREATE INDEX audit_org ON audit_events (org_id, id) WHERE org_id IS NOT NULL;
CREATE INDEX audit_workspace ON audit_events (workspace_id, id) WHERE workspace_id IS NOT NULL;
CREATE INDEX audit_actor ON audit_events (actor_user_id, id);
CREATE INDEX audit_on_behalf_of ON audit_events (on_behalf_of, id) WHERE on_behalf_of IS NOT NULL;
CREATE INDEX audit_action ON audit_events (action, id);
DROP INDEX audit_unsealed;
DROP INDEX audit_chain;
ALTER TABLE audit_events DROP COLUMN hash;
ALTER TABLE audit_events DROP COLUMN prev_hash;
ALTER TABLE audit_events DROP COLUMN chain_pos;
ALTER TABLE audit_events DROP COLUMN actor_reason;
