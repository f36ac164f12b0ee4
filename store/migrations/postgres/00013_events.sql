-- +goose Up
-- Every audit event is also an event of the stream and of webhooks. Readers
-- follow the log in (txid, seq) order and read only rows whose transaction
-- is older than every transaction still running: a row committed late
-- cannot appear behind a reader's position.
ALTER TABLE audit_events ADD COLUMN seq BIGSERIAL;
ALTER TABLE audit_events ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE audit_events ADD COLUMN user_id TEXT;
ALTER TABLE audit_events ADD COLUMN notify_json JSONB;
CREATE UNIQUE INDEX audit_stream ON audit_events (txid, seq);

-- +goose Down
DROP INDEX audit_stream;
ALTER TABLE audit_events DROP COLUMN notify_json;
ALTER TABLE audit_events DROP COLUMN user_id;
ALTER TABLE audit_events DROP COLUMN txid;
ALTER TABLE audit_events DROP COLUMN seq;
