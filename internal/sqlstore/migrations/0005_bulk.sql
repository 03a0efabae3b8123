-- Bulk customer imports. An uploaded CSV file is stored sealed, in pieces of chunk_size
-- bytes (bulk_job_chunks), so that every node can read it and nothing holds it whole. A
-- worker leases a job (lease_owner, lease_until), and commits each batch of customers with
-- the job's progress and cursor (the last committed row and the byte offset after it) in
-- one transaction; version makes every update of a job a compare-and-set. The file is
-- removed when the job ends; row errors stay.
CREATE TABLE bulk_jobs (
    id            TEXT PRIMARY KEY,
    platform_id   TEXT NOT NULL REFERENCES platforms (id),
    token_id      TEXT NOT NULL,
    status        TEXT NOT NULL,
    size          BIGINT NOT NULL,
    chunk_size    BIGINT NOT NULL,
    chunks        BIGINT NOT NULL,
    total         BIGINT NOT NULL,
    processed     BIGINT NOT NULL,
    succeeded     BIGINT NOT NULL,
    failed        BIGINT NOT NULL,
    cursor_row    BIGINT NOT NULL,
    cursor_offset BIGINT NOT NULL,
    attempts      BIGINT NOT NULL,
    lease_owner   TEXT NOT NULL,
    lease_until   BIGINT NOT NULL,
    version       BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    completed_at  BIGINT
);
CREATE INDEX bulk_jobs_claim ON bulk_jobs (status, lease_until);
CREATE INDEX bulk_jobs_platform ON bulk_jobs (platform_id, id);

CREATE TABLE bulk_job_chunks (
    job_id TEXT NOT NULL REFERENCES bulk_jobs (id),
    seq    BIGINT NOT NULL,
    data   BYTEA NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- One row per failed row of a file; entry is the error as JSON.
CREATE TABLE bulk_job_errors (
    job_id TEXT NOT NULL REFERENCES bulk_jobs (id),
    row_no BIGINT NOT NULL,
    entry  TEXT NOT NULL,
    PRIMARY KEY (job_id, row_no)
);
