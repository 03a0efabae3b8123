package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

const deliveryCols = `id, platform_id, type, order_key, body, created_at, state, attempts, failures, next_attempt_at, scheduled_at, delivered_at, lease_owner, lease_until`

func scanDelivery(sc interface{ Scan(...any) error }) (*grid.EventDelivery, error) {
	var e grid.EventDelivery
	var state string
	var created, attempts, failures, next, scheduled, leaseUntil int64
	var delivered sql.NullInt64
	if err := sc.Scan(&e.ID, &e.PlatformID, &e.Type, &e.OrderKey, &e.Body, &created, &state, &attempts, &failures,
		&next, &scheduled, &delivered, &e.LeaseOwner, &leaseUntil); err != nil {
		return nil, err
	}
	e.State, e.Attempts, e.Failures = grid.DeliveryState(state), int(attempts), int(failures)
	// Zero columns are the defaults of a fresh event: due and scheduled at its creation.
	e.CreatedAt = fromMicros(created)
	e.ScheduledAt, e.NextAttemptAt = e.CreatedAt, e.CreatedAt
	if scheduled != 0 {
		e.ScheduledAt = fromMicros(scheduled)
	}
	if next != 0 {
		e.NextAttemptAt = fromMicros(next)
	}
	if leaseUntil != 0 {
		e.LeaseUntil = fromMicros(leaseUntil)
	}
	if delivered.Valid {
		e.DeliveredAt = fromMicros(delivered.Int64)
	}
	return &e, nil
}

// inTx runs fn in a write transaction of its own, through SQLite's group commit where there is
// one, and reports a retryable failure as grid.ErrRetry.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	var err error
	if s.Begin != nil {
		err = s.Begin(ctx, fn)
	} else {
		err = s.runTx(ctx, fn)
	}
	if err != nil && s.dialect.Retryable(err) {
		return fmt.Errorf("%s: %w: %w", s.dialect.Name, grid.ErrRetry, err)
	}
	return err
}

// ClaimEvents leases due events in one statement. On PostgreSQL the inner SELECT locks the
// rows it picks and skips rows another claim has locked, so that nodes claiming at the same
// moment take different events; the lease then keeps the event out of every later claim. On
// SQLite the single writer serialises claims.
func (s *Store) ClaimEvents(ctx context.Context, c grid.EventClaim) ([]*grid.EventDelivery, error) {
	q := `UPDATE events SET lease_owner = $3, lease_until = $4
		WHERE id IN (
			SELECT e.id FROM events e
			WHERE e.platform_id = $1 AND e.state = 'PENDING' AND e.next_attempt_at <= $2 AND e.lease_until <= $2
			  AND (e.order_key = '' OR NOT EXISTS (
				SELECT 1 FROM events p WHERE p.order_key = e.order_key AND p.state = 'PENDING' AND p.id < e.id))
			ORDER BY e.next_attempt_at, e.id
			LIMIT $5 ` + s.dialect.SkipLocked + `
		)
		RETURNING ` + deliveryCols
	limit := c.Limit
	if limit <= 0 {
		limit = 1
	}
	var out []*grid.EventDelivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		rows, err := tx.QueryContext(ctx, q, c.PlatformID, micros(c.Now), c.Owner, micros(c.LeaseUntil), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanDelivery(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim events of %s: %w", c.PlatformID, err)
	}
	return out, nil
}

func (s *Store) FinishDelivery(ctx context.Context, o grid.DeliveryOutcome) error {
	var delivered any
	if !o.DeliveredAt.IsZero() {
		delivered = micros(o.DeliveredAt)
	}
	inc := 0
	if o.Attempt != nil {
		inc = 1
	}
	lost := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		lost = false
		if a := o.Attempt; a != nil {
			_, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (id, event_id, platform_id, node, attempted_at, status_code, latency_ms, error)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				a.ID, a.EventID, a.PlatformID, a.Node, micros(a.At), int64(a.StatusCode), a.Latency.Milliseconds(), a.Error)
			if err != nil {
				return fmt.Errorf("insert attempt: %w", err)
			}
		}
		// The lease is compare-and-set: a node whose lease ran out and was taken over must not
		// overwrite what the new owner does. Its attempt is history all the same.
		res, err := tx.ExecContext(ctx, `UPDATE events SET state = $4, attempts = attempts + $5, failures = $6, next_attempt_at = $7,
				delivered_at = COALESCE(CAST($8 AS BIGINT), delivered_at), lease_owner = '', lease_until = 0
			WHERE id = $1 AND lease_owner = $2 AND lease_until = $3`,
			o.EventID, o.Owner, micros(o.LeaseUntil), string(o.State), inc, int64(o.Failures), microsOrZero(o.NextAttemptAt), delivered)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		lost = n == 0
		return nil
	})
	if err != nil {
		return fmt.Errorf("finish delivery of %s: %w", o.EventID, err)
	}
	if lost {
		return fmt.Errorf("finish delivery of %s: lease of %s lost: %w", o.EventID, o.Owner, grid.ErrNotFound)
	}
	return nil
}

func (s *Store) SkipEvents(ctx context.Context, platformID string, createdBefore, now time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE events SET state = 'UNDELIVERABLE'
			WHERE platform_id = $1 AND state = 'PENDING' AND created_at < $2 AND lease_until <= $3
			  AND EXISTS (SELECT 1 FROM platforms WHERE id = $1 AND webhook = '')`,
			platformID, micros(createdBefore), micros(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("skip events of %s: %w", platformID, err)
	}
	return n, nil
}

func (s *Store) RescheduleEvent(ctx context.Context, platformID, id string, at time.Time) error {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE events SET state = 'PENDING', next_attempt_at = $3, scheduled_at = $3, failures = 0
			WHERE platform_id = $1 AND id = $2`, platformID, id, micros(at))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("reschedule event %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("reschedule event %s: %w", id, grid.ErrNotFound)
	}
	return nil
}

func (s *Store) GetEvent(ctx context.Context, platformID, id string) (*grid.EventDelivery, error) {
	e, err := scanDelivery(s.reader.q.QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM events WHERE platform_id = $1 AND id = $2`, platformID, id))
	if err != nil {
		return nil, fmt.Errorf("get event %s: %w", id, notFound(err))
	}
	return e, nil
}

func (s *Store) ListEvents(ctx context.Context, platformID string, f grid.EventFilter) (grid.EventPage, error) {
	w := where{args: []any{platformID}}
	w.add("platform_id = $?")
	if f.State != "" {
		w.add("state = $?", string(f.State))
	}
	var page grid.EventPage
	if err := s.reader.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE `+w.sql(), w.args...).Scan(&page.TotalCount); err != nil {
		return page, fmt.Errorf("count events: %w", err)
	}
	if f.BeforeID != "" {
		w.add("id < $?", f.BeforeID)
	}
	limit := clampLimit(f.Limit)
	rows, err := s.reader.q.QueryContext(ctx, `SELECT `+deliveryCols+` FROM events WHERE `+w.sql()+` ORDER BY id DESC LIMIT `+fmt.Sprint(limit+1), w.args...)
	if err != nil {
		return page, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanDelivery(rows)
		if err != nil {
			return page, err
		}
		page.Events = append(page.Events, e)
	}
	if len(page.Events) > limit {
		page.Events, page.HasMore = page.Events[:limit], true
	}
	return page, rows.Err()
}

func (s *Store) ListDeliveryAttempts(ctx context.Context, platformID, eventID string) ([]grid.DeliveryAttempt, error) {
	rows, err := s.reader.q.QueryContext(ctx, `SELECT id, event_id, platform_id, node, attempted_at, status_code, latency_ms, error
		FROM webhook_attempts WHERE event_id = $1 AND platform_id = $2 ORDER BY attempted_at, id`, eventID, platformID)
	if err != nil {
		return nil, fmt.Errorf("list attempts of %s: %w", eventID, err)
	}
	defer rows.Close()
	var out []grid.DeliveryAttempt
	for rows.Next() {
		var a grid.DeliveryAttempt
		var at, status, latency int64
		if err := rows.Scan(&a.ID, &a.EventID, &a.PlatformID, &a.Node, &at, &status, &latency, &a.Error); err != nil {
			return nil, err
		}
		a.At, a.StatusCode, a.Latency = fromMicros(at), int(status), time.Duration(latency)*time.Millisecond
		out = append(out, a)
	}
	return out, rows.Err()
}

// microsOrZero is micros, with the zero time stored as 0.
func microsOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}
