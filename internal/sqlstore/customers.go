package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/gridd/gridd/internal/grid"
)

const customerCols = `id, platform_id, platform_customer_id, customer_type, region, uma_address, status, currencies, profile, sealed, created_at, updated_at, deleted_at`

func scanCustomer(sc interface{ Scan(...any) error }) (*grid.Customer, error) {
	var c grid.Customer
	var cur, profile string
	var created, updated int64
	var deleted sql.NullInt64
	if err := sc.Scan(&c.ID, &c.PlatformID, &c.PlatformCustomerID, &c.Type, &c.Region, &c.UMAAddress, &c.Status,
		&cur, &profile, &c.Sealed, &created, &updated, &deleted); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cur), &c.Currencies); err != nil {
		return nil, fmt.Errorf("customer %s currencies: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(profile), &c.Profile); err != nil {
		return nil, fmt.Errorf("customer %s profile: %w", c.ID, err)
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	if deleted.Valid {
		t := fromMicros(deleted.Int64)
		c.DeletedAt = &t
	}
	return &c, nil
}

func (r reader) GetCustomer(ctx context.Context, platformID, id string) (*grid.Customer, error) {
	c, err := scanCustomer(r.q.QueryRowContext(ctx, `SELECT `+customerCols+` FROM customers WHERE id = $1 AND platform_id = $2 `+r.forUpdate, id, platformID))
	if err != nil {
		return nil, fmt.Errorf("get customer %s: %w", id, notFound(err))
	}
	return c, nil
}

func customerWhere(platformID string, f grid.CustomerFilter) where {
	w := where{args: []any{platformID}}
	w.add("platform_id = $?")
	if !f.IncludeDeleted {
		w.add("deleted_at IS NULL")
	}
	if f.PlatformCustomerID != "" {
		w.add("platform_customer_id = $?", f.PlatformCustomerID)
	}
	if f.Type != "" {
		w.add("customer_type = $?", string(f.Type))
	}
	if f.Region != "" {
		w.add("region = $?", f.Region)
	}
	if f.UMAAddress != "" {
		w.add("uma_address = $?", f.UMAAddress)
	}
	if f.Currency != "" {
		w.add("id IN (SELECT customer_id FROM customer_currencies WHERE platform_id = $1 AND currency = $?)", f.Currency)
	}
	w.timeRange("created_at", f.Created)
	w.timeRange("updated_at", f.Updated)
	return w
}

func (r reader) ListCustomers(ctx context.Context, platformID string, f grid.CustomerFilter) (grid.CustomerPage, error) {
	w := customerWhere(platformID, f)
	page := grid.CustomerPage{TotalCount: -1}
	if !f.SkipCount {
		// Counting every active customer of a platform reads its whole customers_active
		// index; the kept count answers the same in one read of a few rows.
		var row *sql.Row
		if countsAllActive(f) {
			row = r.q.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(active), 0) AS BIGINT) FROM customer_counts WHERE platform_id = $1`, platformID)
		} else {
			row = r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers WHERE `+w.sql(), w.args...)
		}
		if err := row.Scan(&page.TotalCount); err != nil {
			return page, fmt.Errorf("count customers: %w", err)
		}
	}
	if f.AfterID != "" {
		w.add("id > $?", f.AfterID)
	}
	var err error
	page.Customers, page.HasMore, err = keysetPage(ctx, r.q, "list customers", `SELECT `+customerCols+` FROM customers`, w, f.Limit, scanCustomer)
	return page, err
}

func customerArgs(c *grid.Customer) ([]any, error) {
	cur, err := json.Marshal(c.Currencies)
	if err != nil {
		return nil, err
	}
	profile, err := json.Marshal(c.Profile)
	if err != nil {
		return nil, err
	}
	var deleted sql.NullInt64
	if c.DeletedAt != nil {
		deleted = sql.NullInt64{Int64: micros(*c.DeletedAt), Valid: true}
	}
	return []any{c.ID, c.PlatformID, c.PlatformCustomerID, string(c.Type), c.Region, c.UMAAddress, string(c.Status),
		string(cur), string(profile), c.Sealed, micros(c.CreatedAt), micros(c.UpdatedAt), deleted}, nil
}

func (t *tx) InsertCustomer(ctx context.Context, c *grid.Customer) error {
	args, err := customerArgs(c)
	if err != nil {
		return err
	}
	_, err = t.q.ExecContext(ctx, `INSERT INTO customers (`+customerCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, args...)
	if err != nil {
		return t.customerWriteError(ctx, c, err)
	}
	t.customerAdded(c)
	return t.writeCurrencies(ctx, c, false)
}

// customerAdded counts a customer just inserted, if it is active.
func (t *tx) customerAdded(c *grid.Customer) {
	if c.DeletedAt == nil {
		t.active.add(c, 1)
	}
}

// ListCustomers adds to the kept count what this transaction has not written to it yet, so
// that the transaction reads its own creates and deletes.
func (t *tx) ListCustomers(ctx context.Context, platformID string, f grid.CustomerFilter) (grid.CustomerPage, error) {
	page, err := t.reader.ListCustomers(ctx, platformID, f)
	if err == nil && page.TotalCount >= 0 && countsAllActive(f) {
		page.TotalCount += int(t.active.pending(platformID))
	}
	return page, err
}

const updateCustomerSQL = `UPDATE customers SET platform_customer_id = $3, customer_type = $4, region = $5, uma_address = $6, status = $7, currencies = $8, profile = $9, sealed = $10, created_at = $11, updated_at = $12, deleted_at = $13 WHERE id = $1 AND platform_id = $2`

// The two forms of the update: one changes the row only if the customer is active, the other
// only if it is deleted.
const (
	updateActiveCustomerSQL  = updateCustomerSQL + ` AND deleted_at IS NULL`
	updateDeletedCustomerSQL = updateCustomerSQL + ` AND deleted_at IS NOT NULL`
)

func (t *tx) UpdateCustomer(ctx context.Context, c *grid.Customer) error {
	args, err := customerArgs(c)
	if err != nil {
		return err
	}
	wasActive, err := t.updateCustomerRow(ctx, c, args)
	if err != nil {
		return err
	}
	switch active := c.DeletedAt == nil; {
	case wasActive && !active:
		t.active.add(c, -1)
	case !wasActive && active:
		t.active.add(c, 1)
	}
	return t.writeCurrencies(ctx, c, true)
}

// updateCustomerRow writes c's row and reports whether the customer was active before, which
// the count of active customers needs and the caller does not say. The update is tried on an
// active row first, then on a deleted one: whichever changes the row tells what it was, and
// the common case, an active customer that stays active, still takes one statement. Each
// condition is checked on the row as the UPDATE locks it, so two transactions deleting the
// same customer at once count one deletion.
func (t *tx) updateCustomerRow(ctx context.Context, c *grid.Customer, args []any) (wasActive bool, err error) {
	locked := false
	for {
		for _, q := range []struct {
			sql    string
			active bool
		}{{updateActiveCustomerSQL, true}, {updateDeletedCustomerSQL, false}} {
			res, err := t.q.ExecContext(ctx, q.sql, args...)
			if err != nil {
				return false, t.customerWriteError(ctx, c, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return false, err
			}
			if n > 0 {
				return q.active, nil
			}
		}
		if locked {
			return false, fmt.Errorf("update customer %s: neither form of the update matched the locked row", c.ID)
		}
		// Neither changed a row: the customer does not exist, or, on PostgreSQL, where each
		// statement reads what is committed when it starts, another transaction deleted or
		// restored it between the two. Lock the row and try again: it cannot change any more.
		var id string
		err := t.q.QueryRowContext(ctx, `SELECT id FROM customers WHERE id = $1 AND platform_id = $2 `+t.forUpdate, c.ID, c.PlatformID).Scan(&id)
		if err != nil {
			return false, fmt.Errorf("customer %s: %w", c.ID, notFound(err))
		}
		locked = true
	}
}

func (t *tx) writeCurrencies(ctx context.Context, c *grid.Customer, replace bool) error {
	if replace {
		if _, err := t.q.ExecContext(ctx, `DELETE FROM customer_currencies WHERE customer_id = $1`, c.ID); err != nil {
			return fmt.Errorf("clear currencies of %s: %w", c.ID, err)
		}
	}
	if len(c.Currencies) == 0 {
		return nil
	}
	// One statement for all of them: a statement per currency costs a round of the driver
	// (and, on PostgreSQL, of the network) each.
	var q strings.Builder
	q.WriteString(`INSERT INTO customer_currencies (customer_id, platform_id, currency) VALUES `)
	args := make([]any, 2, 2+len(c.Currencies))
	args[0], args[1] = c.ID, c.PlatformID
	for i, cur := range c.Currencies {
		if i > 0 {
			q.WriteString(", ")
		}
		args = append(args, cur)
		fmt.Fprintf(&q, "($1, $2, $%d)", len(args))
	}
	if _, err := t.q.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("insert currencies of %s: %w", c.ID, err)
	}
	return nil
}

// customerWriteError turns a unique violation into a DuplicateError naming the key.
func (t *tx) customerWriteError(ctx context.Context, c *grid.Customer, err error) error {
	index, ok := t.d.UniqueViolation(err)
	if !ok {
		return fmt.Errorf("write customer %s: %w", c.ID, err)
	}
	switch index {
	case "customers_platform_customer_id":
		return &grid.DuplicateError{Key: grid.KeyPlatformCustomerID}
	case "customers_uma_address":
		return &grid.DuplicateError{Key: grid.KeyUMAAddress}
	case "":
		// The driver does not name the index (SQLite); its transaction is still usable, so ask.
		var n int
		qerr := t.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers WHERE platform_id = $1 AND platform_customer_id = $2 AND deleted_at IS NULL AND id <> $3`,
			c.PlatformID, c.PlatformCustomerID, c.ID).Scan(&n)
		if qerr != nil {
			return errors.Join(err, qerr)
		}
		if n > 0 {
			return &grid.DuplicateError{Key: grid.KeyPlatformCustomerID}
		}
		return &grid.DuplicateError{Key: grid.KeyUMAAddress}
	}
	return fmt.Errorf("write customer %s: %w", c.ID, err)
}

// ---- history ----

func (t *tx) InsertStatusChange(ctx context.Context, s *grid.StatusChange) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO status_changes (id, customer_id, platform_id, from_status, to_status, reason, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		s.ID, s.CustomerID, s.PlatformID, string(s.From), string(s.To), s.Reason, s.Actor, micros(s.At))
	if err != nil {
		return fmt.Errorf("insert status change of %s: %w", s.CustomerID, err)
	}
	return nil
}

func (r reader) ListStatusChanges(ctx context.Context, platformID, customerID string) ([]grid.StatusChange, error) {
	rows, err := r.q.QueryContext(ctx, `SELECT id, customer_id, platform_id, from_status, to_status, reason, actor, at FROM status_changes WHERE customer_id = $1 AND platform_id = $2 ORDER BY id`, customerID, platformID)
	if err != nil {
		return nil, fmt.Errorf("list status changes of %s: %w", customerID, err)
	}
	defer rows.Close()
	var out []grid.StatusChange
	for rows.Next() {
		var s grid.StatusChange
		var at int64
		if err := rows.Scan(&s.ID, &s.CustomerID, &s.PlatformID, &s.From, &s.To, &s.Reason, &s.Actor, &at); err != nil {
			return nil, err
		}
		s.At = fromMicros(at)
		out = append(out, s)
	}
	return out, rows.Err()
}
