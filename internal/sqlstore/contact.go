package sqlstore

import (
	"context"
	"fmt"

	"github.com/gridd/gridd/internal/grid"
)

const contactCodeCols = `customer_id, channel, platform_id, code_hash, destination_hash, expires_at, attempts, window_start, sends, version, updated_at`

func (r reader) GetContactCode(ctx context.Context, platformID, customerID, channel string) (*grid.ContactCode, error) {
	var c grid.ContactCode
	var expires, attempts, window, sends, updated int64
	err := r.q.QueryRowContext(ctx, `SELECT `+contactCodeCols+` FROM contact_codes WHERE platform_id = $1 AND customer_id = $2 AND channel = $3`,
		platformID, customerID, channel).
		Scan(&c.CustomerID, &c.Channel, &c.PlatformID, &c.CodeHash, &c.DestinationHash, &expires, &attempts, &window, &sends, &c.Version, &updated)
	if err != nil {
		return nil, fmt.Errorf("get %s code of customer %s: %w", channel, customerID, notFound(err))
	}
	if len(c.CodeHash) == 0 {
		c.CodeHash = nil
	}
	c.ExpiresAt, c.WindowStart, c.UpdatedAt = fromMicros(expires), fromMicros(window), fromMicros(updated)
	c.Attempts, c.Sends = int(attempts), int(sends)
	return &c, nil
}

func (t *tx) SaveContactCode(ctx context.Context, c *grid.ContactCode, prevVersion int64) error {
	// A used code is NULL, never an empty value, so that both databases read it back alike.
	var code any
	if len(c.CodeHash) > 0 {
		code = c.CodeHash
	}
	args := []any{c.CustomerID, c.Channel, c.PlatformID, code, c.DestinationHash, micros(c.ExpiresAt),
		int64(c.Attempts), micros(c.WindowStart), int64(c.Sends), c.Version, micros(c.UpdatedAt)}
	what := fmt.Sprintf("%s code of customer %s at version %d", c.Channel, c.CustomerID, prevVersion)
	if prevVersion == 0 {
		// ON CONFLICT keeps a PostgreSQL transaction usable when another one inserted first.
		res, err := t.q.ExecContext(ctx, `INSERT INTO contact_codes (`+contactCodeCols+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (customer_id, channel) DO NOTHING`, args...)
		if err != nil {
			return fmt.Errorf("insert %s code of customer %s: %w", c.Channel, c.CustomerID, err)
		}
		return mustAffect(res, what)
	}
	res, err := t.q.ExecContext(ctx, `UPDATE contact_codes
		SET code_hash = $4, destination_hash = $5, expires_at = $6, attempts = $7, window_start = $8, sends = $9, version = $10, updated_at = $11
		WHERE customer_id = $1 AND channel = $2 AND platform_id = $3 AND version = $12`, append(args, prevVersion)...)
	if err != nil {
		return fmt.Errorf("update %s code of customer %s: %w", c.Channel, c.CustomerID, err)
	}
	return mustAffect(res, what)
}
