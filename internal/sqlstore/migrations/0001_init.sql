-- Types are chosen so that one script serves SQLite and PostgreSQL: TEXT, BIGINT, BOOLEAN,
-- BYTEA (a BLOB in SQLite). Timestamps are UTC microseconds since the Unix epoch.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);

CREATE TABLE platforms (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    uma_domain           TEXT NOT NULL,
    webhook              TEXT NOT NULL,
    currencies           TEXT NOT NULL,
    regulated            BOOLEAN NOT NULL,
    sandbox              BOOLEAN NOT NULL,
    contact_verification TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);

CREATE TABLE tokens (
    id          TEXT PRIMARY KEY,
    platform_id TEXT NOT NULL REFERENCES platforms (id),
    name        TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    secret_hash BYTEA NOT NULL,
    permissions TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX tokens_client_id ON tokens (client_id);
CREATE INDEX tokens_platform ON tokens (platform_id, id);

CREATE TABLE customers (
    id                   TEXT PRIMARY KEY,
    platform_id          TEXT NOT NULL REFERENCES platforms (id),
    platform_customer_id TEXT NOT NULL,
    customer_type        TEXT NOT NULL,
    region               TEXT NOT NULL,
    uma_address          TEXT NOT NULL,
    status               TEXT NOT NULL,
    currencies           TEXT NOT NULL,
    profile              TEXT NOT NULL,
    sealed               BYTEA,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    deleted_at           BIGINT
);
-- Identifiers are unique among a platform's active customers; deleting frees them.
CREATE UNIQUE INDEX customers_platform_customer_id ON customers (platform_id, platform_customer_id) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX customers_uma_address ON customers (platform_id, uma_address) WHERE deleted_at IS NULL;
-- Keyset paging: one index per list filter, each ending in id.
CREATE INDEX customers_active ON customers (platform_id, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_all ON customers (platform_id, id);
CREATE INDEX customers_by_pcid ON customers (platform_id, platform_customer_id, id);
CREATE INDEX customers_by_uma ON customers (platform_id, uma_address, id);
CREATE INDEX customers_by_type ON customers (platform_id, customer_type, id);
CREATE INDEX customers_by_region ON customers (platform_id, region, id);
CREATE INDEX customers_by_created ON customers (platform_id, created_at, id);
CREATE INDEX customers_by_updated ON customers (platform_id, updated_at, id);

CREATE TABLE customer_currencies (
    customer_id TEXT NOT NULL REFERENCES customers (id),
    platform_id TEXT NOT NULL,
    currency    TEXT NOT NULL,
    PRIMARY KEY (customer_id, currency)
);
CREATE INDEX customer_currencies_filter ON customer_currencies (platform_id, currency, customer_id);

CREATE TABLE status_changes (
    id          TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    platform_id TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX status_changes_customer ON status_changes (customer_id, id);
