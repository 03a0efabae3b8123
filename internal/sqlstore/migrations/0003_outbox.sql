-- The webhook outbox: events are inserted in the transaction of the change they announce and
-- delivered by the dispatcher.
CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    platform_id TEXT NOT NULL REFERENCES platforms (id),
    type        TEXT NOT NULL,
    order_key   TEXT NOT NULL,
    body        BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX events_platform ON events (platform_id, id);
CREATE INDEX events_order ON events (order_key, id);
