-- The number of active (not deleted) customers of each platform, which the first page of an
-- unfiltered list answers as totalCount instead of counting the rows. Every write that creates,
-- deletes or restores a customer adds to it in the same transaction. A platform's count is the
-- sum of its rows: on PostgreSQL a transaction that adds to a row holds its lock until it
-- commits, and spreading the additions over 16 rows (shard 0 to 15) keeps concurrent creates
-- from all queueing on one. A single row may go negative; only the sum means anything.
CREATE TABLE customer_counts (
    platform_id TEXT NOT NULL,
    shard       INTEGER NOT NULL,
    active      BIGINT NOT NULL,
    PRIMARY KEY (platform_id, shard)
);
INSERT INTO customer_counts (platform_id, shard, active)
SELECT platform_id, 0, COUNT(*) FROM customers WHERE deleted_at IS NULL GROUP BY platform_id;

-- customerType and region together: customers_by_region alone made the count read every row
-- of the region and check its type. Partial, like customers_active, so that counting the
-- active customers of a region (with or without a type) reads the index alone; lists that
-- include deleted customers keep customers_by_region.
CREATE INDEX customers_by_region_type ON customers (platform_id, region, customer_type, id) WHERE deleted_at IS NULL;
