-- KYC/KYB: beneficial owners of business customers, verification documents (with their files,
-- sealed by the service, so that every node sees them), verification submissions, and the
-- internal accounts opened with each customer, one per currency.
CREATE TABLE beneficial_owners (
    id                   TEXT PRIMARY KEY,
    platform_id          TEXT NOT NULL REFERENCES platforms (id),
    customer_id          TEXT NOT NULL REFERENCES customers (id),
    status               TEXT NOT NULL,
    roles                TEXT NOT NULL,
    ownership_percentage BIGINT NOT NULL,
    personal_info        TEXT NOT NULL,
    sealed               BYTEA,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX beneficial_owners_customer ON beneficial_owners (platform_id, customer_id, id);

CREATE TABLE documents (
    id                TEXT PRIMARY KEY,
    platform_id       TEXT NOT NULL REFERENCES platforms (id),
    holder_id         TEXT NOT NULL,
    customer_id       TEXT NOT NULL REFERENCES customers (id),
    document_type     TEXT NOT NULL,
    side              TEXT NOT NULL,
    country           TEXT NOT NULL,
    document_number   TEXT NOT NULL,
    issuing_authority TEXT NOT NULL,
    file_name         TEXT NOT NULL,
    content_type      TEXT NOT NULL,
    size              BIGINT NOT NULL,
    content           BYTEA NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX documents_platform ON documents (platform_id, id);
CREATE INDEX documents_holder ON documents (platform_id, holder_id, id);
CREATE INDEX documents_customer ON documents (platform_id, customer_id, id);

CREATE TABLE verifications (
    id          TEXT PRIMARY KEY,
    platform_id TEXT NOT NULL REFERENCES platforms (id),
    customer_id TEXT NOT NULL REFERENCES customers (id),
    status      TEXT NOT NULL,
    errors      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX verifications_platform ON verifications (platform_id, id);
CREATE INDEX verifications_customer ON verifications (platform_id, customer_id, status, id);
CREATE INDEX verifications_status ON verifications (platform_id, status, id);

CREATE TABLE internal_accounts (
    id           TEXT PRIMARY KEY,
    platform_id  TEXT NOT NULL REFERENCES platforms (id),
    customer_id  TEXT NOT NULL REFERENCES customers (id),
    currency     TEXT NOT NULL,
    account_type TEXT NOT NULL,
    status       TEXT NOT NULL,
    balance      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX internal_accounts_customer_currency ON internal_accounts (customer_id, currency);
CREATE INDEX internal_accounts_platform ON internal_accounts (platform_id, id);
CREATE INDEX internal_accounts_customer ON internal_accounts (platform_id, customer_id, id);
CREATE INDEX internal_accounts_currency ON internal_accounts (platform_id, currency, id);
CREATE INDEX internal_accounts_type ON internal_accounts (platform_id, account_type, id);
