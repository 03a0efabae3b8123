-- Idempotency-Key: one row per platform and key. A request claims its key by inserting a
-- 'pending' row in its own transaction before it runs; when it finishes, the response is
-- recorded and the row becomes 'done'. claimed_at identifies the current claim (takeovers and
-- completions compare and set it). Rows older than the key lifetime (created_at) count as
-- absent and are swept now and then. body is sealed by the service.
CREATE TABLE idempotency_keys (
    platform_id  TEXT NOT NULL REFERENCES platforms (id),
    key          TEXT NOT NULL,
    request_hash BYTEA NOT NULL,
    state        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    claimed_at   BIGINT NOT NULL,
    status       BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    body         BYTEA,
    PRIMARY KEY (platform_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
