-- +goose Up
CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    event_types     JSONB NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    secret          TEXT NOT NULL,
    previous_secret TEXT,
    previous_until  TIMESTAMPTZ,
    failing_since   TIMESTAMPTZ,
    disabled_at     TIMESTAMPTZ,
    -- The event that created it: it receives the events after it.
    created_event   TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    deleted_at      TIMESTAMPTZ
);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL REFERENCES webhooks (id),
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    attempt         INTEGER NOT NULL,
    status          TEXT NOT NULL,
    response_status INTEGER,
    response_body   TEXT NOT NULL DEFAULT '',
    error           TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    next_attempt_at TIMESTAMPTZ
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

-- Where the dispatcher, which turns events into deliveries, has read the
-- event log to.
CREATE TABLE event_dispatch (
    name TEXT PRIMARY KEY,
    txid TEXT NOT NULL,
    seq  BIGINT NOT NULL
);
-- From the start of the log: events written before the first endpoint
-- are read once and go nowhere.
INSERT INTO event_dispatch (name, txid, seq) VALUES ('webhooks', '0', 0);

-- +goose Down
DROP TABLE event_dispatch;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
