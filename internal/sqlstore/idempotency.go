package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

const idempotencyCols = `platform_id, key, request_hash, state, created_at, claimed_at, status, content_type, body`

func (r reader) GetIdempotencyKey(ctx context.Context, platformID, key string) (*grid.IdempotencyRecord, error) {
	var rec grid.IdempotencyRecord
	var created, claimed, status int64
	err := r.q.QueryRowContext(ctx, `SELECT `+idempotencyCols+` FROM idempotency_keys WHERE platform_id = $1 AND key = $2`, platformID, key).
		Scan(&rec.PlatformID, &rec.Key, &rec.RequestHash, &rec.State, &created, &claimed, &status, &rec.ContentType, &rec.Body)
	if err != nil {
		return nil, fmt.Errorf("get idempotency key: %w", notFound(err))
	}
	rec.CreatedAt, rec.ClaimedAt, rec.Status = fromMicros(created), fromMicros(claimed), int(status)
	return &rec, nil
}

func (t *tx) InsertIdempotencyKey(ctx context.Context, r *grid.IdempotencyRecord) error {
	// ON CONFLICT keeps a PostgreSQL transaction usable after a taken key.
	res, err := t.q.ExecContext(ctx, `INSERT INTO idempotency_keys (`+idempotencyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (platform_id, key) DO NOTHING`,
		r.PlatformID, r.Key, r.RequestHash, r.State, micros(r.CreatedAt), micros(r.ClaimedAt), int64(r.Status), r.ContentType, r.Body)
	if err != nil {
		return fmt.Errorf("insert idempotency key: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("insert idempotency key: %w", err)
	}
	if n == 0 {
		return &grid.DuplicateError{Key: grid.KeyIdempotency}
	}
	return nil
}

func (t *tx) ReclaimIdempotencyKey(ctx context.Context, r, prev *grid.IdempotencyRecord) error {
	res, err := t.q.ExecContext(ctx, `UPDATE idempotency_keys
		SET request_hash = $3, state = $4, created_at = $5, claimed_at = $6, status = $7, content_type = $8, body = $9
		WHERE platform_id = $1 AND key = $2 AND state = $10 AND claimed_at = $11`,
		r.PlatformID, r.Key, r.RequestHash, r.State, micros(r.CreatedAt), micros(r.ClaimedAt), int64(r.Status), r.ContentType, r.Body,
		prev.State, micros(prev.ClaimedAt))
	if err != nil {
		return fmt.Errorf("reclaim idempotency key: %w", err)
	}
	return mustAffect(res, "idempotency key")
}

func (t *tx) CompleteIdempotencyKey(ctx context.Context, platformID, key string, claimedAt time.Time, status int, contentType string, body []byte) error {
	res, err := t.q.ExecContext(ctx, `UPDATE idempotency_keys SET state = $4, status = $5, content_type = $6, body = $7
		WHERE platform_id = $1 AND key = $2 AND claimed_at = $3 AND state = $8`,
		platformID, key, micros(claimedAt), grid.IdempotencyDone, int64(status), contentType, body, grid.IdempotencyPending)
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return mustAffect(res, "idempotency key claim")
}

func (t *tx) DeleteIdempotencyKey(ctx context.Context, platformID, key string, claimedAt time.Time) error {
	res, err := t.q.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE platform_id = $1 AND key = $2 AND claimed_at = $3 AND state = $4`,
		platformID, key, micros(claimedAt), grid.IdempotencyPending)
	if err != nil {
		return fmt.Errorf("delete idempotency key: %w", err)
	}
	return mustAffect(res, "idempotency key claim")
}

func (t *tx) DeleteIdempotencyKeysBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.q.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("delete expired idempotency keys: %w", err)
	}
	return res.RowsAffected()
}
