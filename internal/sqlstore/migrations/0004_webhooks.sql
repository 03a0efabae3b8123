-- Delivery state of the webhook outbox. An event stays 'PENDING' until the dispatcher delivers
-- it ('DELIVERED'), gives up at the end of its retry window ('DEAD') or finds no endpoint
-- configured for its platform ('UNDELIVERABLE'). A node that sends an event holds a lease on it
-- (lease_owner until lease_until); a lease that runs out belongs to a node that died, and any
-- node may take the event again. scheduled_at starts the current retry window (0: created_at),
-- failures counts the failed attempts since then and drives the backoff.
ALTER TABLE events ADD COLUMN state TEXT NOT NULL DEFAULT 'PENDING';
ALTER TABLE events ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN scheduled_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN delivered_at BIGINT;
ALTER TABLE events ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
-- What a claim scans: a platform's pending events by due time, and the pending events of one
-- order key (an event waits while an earlier one of its key is pending).
CREATE INDEX events_due ON events (platform_id, next_attempt_at, id) WHERE state = 'PENDING';
CREATE INDEX events_pending_order ON events (order_key, id) WHERE state = 'PENDING';
CREATE INDEX events_platform_state ON events (platform_id, state, id);

-- One row per HTTP delivery attempt. status_code is 0 when no answer came back (connection
-- refused, timeout); error is empty for a success.
CREATE TABLE webhook_attempts (
    id           TEXT PRIMARY KEY,
    event_id     TEXT NOT NULL REFERENCES events (id),
    platform_id  TEXT NOT NULL,
    node         TEXT NOT NULL,
    attempted_at BIGINT NOT NULL,
    status_code  BIGINT NOT NULL,
    latency_ms   BIGINT NOT NULL,
    error        TEXT NOT NULL
);
CREATE INDEX webhook_attempts_event ON webhook_attempts (event_id, attempted_at, id);
