-- Contact verification: one row per customer and channel ('email', 'phone'). code_hash is the
-- hash of the outstanding code (NULL once it was used), destination_hash that of the address or
-- number it went to; attempts counts wrong guesses at it. window_start and sends count the codes
-- sent in the current rate window. version grows with every write: writes compare and set it.
CREATE TABLE contact_codes (
    customer_id      TEXT NOT NULL REFERENCES customers (id),
    channel          TEXT NOT NULL,
    platform_id      TEXT NOT NULL REFERENCES platforms (id),
    code_hash        BYTEA,
    destination_hash BYTEA NOT NULL,
    expires_at       BIGINT NOT NULL,
    attempts         BIGINT NOT NULL,
    window_start     BIGINT NOT NULL,
    sends            BIGINT NOT NULL,
    version          BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (customer_id, channel)
);
