package sqlstore

import (
	"context"
	"fmt"

	"github.com/gridd/gridd/internal/grid"
)

func (t *tx) InsertEvent(ctx context.Context, e *grid.Event) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO events (id, platform_id, type, order_key, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.ID, e.PlatformID, e.Type, e.OrderKey, e.Body, micros(e.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert event %s: %w", e.Type, err)
	}
	return nil
}
