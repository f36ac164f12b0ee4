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
-- GET /v1/audit?since=&until= (the other filters have their indexes).
CREATE INDEX audit_at ON audit_events (at, id);

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
DROP INDEX audit_at;
DROP INDEX audit_unsealed;
DROP INDEX audit_chain;
ALTER TABLE audit_events DROP COLUMN hash;
ALTER TABLE audit_events DROP COLUMN prev_hash;
ALTER TABLE audit_events DROP COLUMN chain_pos;
ALTER TABLE audit_events DROP COLUMN actor_reason;
