-- Hosted KYC/KYB links: one row per link. token_hash is the SHA-256 of the random token in the
-- link's URL (the token itself is never stored). consumed_at is set, with the verification
-- that consumed it, when a submission through the link is accepted; a link is usable while
-- consumed_at is NULL and expires_at lies ahead.
CREATE TABLE kyc_links (
    id              TEXT PRIMARY KEY,
    platform_id     TEXT NOT NULL REFERENCES platforms (id),
    customer_id     TEXT NOT NULL REFERENCES customers (id),
    token_hash      BYTEA NOT NULL,
    redirect_uri    TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    consumed_at     BIGINT,
    verification_id TEXT NOT NULL
);
CREATE UNIQUE INDEX kyc_links_token ON kyc_links (token_hash);
CREATE INDEX kyc_links_customer ON kyc_links (platform_id, customer_id, id);
