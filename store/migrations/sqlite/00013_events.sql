-- +goose Up
-- Every audit event is also an event of the stream and of webhooks. SQLite
-- has one writer, so events commit in seq order; txid, which orders
-- PostgreSQL's concurrent transactions, is always 0 here.
ALTER TABLE audit_events ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_events ADD COLUMN txid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_events ADD COLUMN user_id TEXT;
ALTER TABLE audit_events ADD COLUMN notify_json TEXT;
UPDATE audit_events SET seq = rowid;
CREATE UNIQUE INDEX audit_stream ON audit_events (txid, seq);

-- +goose Down
DROP INDEX audit_stream;
ALTER TABLE audit_events DROP COLUMN notify_json;
ALTER TABLE audit_events DROP COLUMN user_id;
ALTER TABLE audit_events DROP COLUMN txid;
ALTER TABLE audit_events DROP COLUMN seq;
