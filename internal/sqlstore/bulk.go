package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gridd/gridd/internal/grid"
)

// BulkBatchSize is how many customers BulkInsertCustomers writes in one transaction.
const BulkBatchSize = 5000

// BulkReason and BulkActor are written on the history row of every bulk-inserted customer:
// the customer's first status, set when it was created, by no API token.
const (
	BulkReason = "CREATED"
	BulkActor  = "bulk"
)

// Rows per multi-row INSERT. Both databases bound the placeholders of one statement (SQLite
// 32,766, PostgreSQL 65,535); these stay well under either.
const (
	bulkCustomerRows = 400  // 13 columns: 5,200 placeholders
	bulkCurrencyRows = 1500 // 3 columns: 4,500 placeholders
	bulkHistoryRows  = 600  // 8 columns: 4,800 placeholders
)

const bulkHistoryCols = `id, customer_id, platform_id, from_status, to_status, reason, actor, at`

// BulkInsertCustomers adds customers that grid.Service.PrepareCustomer built, each with its
// currency rows and one history row, in multi-row INSERTs: one transaction per BulkBatchSize
// customers, outside the group commit. It is the seeding and import path; batches before a
// failing one stay committed. A customer whose id, platformCustomerId or umaAddress is taken
// fails its whole batch with an error wrapping *grid.DuplicateError (without a key: SQLite does
// not say which index), and a busy database with grid.ErrRetry.
func (s *Store) BulkInsertCustomers(ctx context.Context, cs []*grid.Customer) error {
	for start := 0; start < len(cs); start += BulkBatchSize {
		batch := cs[start:min(start+BulkBatchSize, len(cs))]
		err := s.runTx(ctx, func(tx *sql.Tx) error { return bulkInsertBatch(ctx, tx, batch, s.dialect.Name == "sqlite") })
		if err == nil {
			continue
		}
		if _, dup := s.dialect.UniqueViolation(err); dup {
			return fmt.Errorf("%s: bulk insert customers %d..%d: %w (%v)", s.dialect.Name, start, start+len(batch)-1, &grid.DuplicateError{}, err)
		}
		if s.dialect.Retryable(err) {
			return fmt.Errorf("%s: bulk insert customers %d..%d: %w (%v)", s.dialect.Name, start, start+len(batch)-1, grid.ErrRetry, err)
		}
		return fmt.Errorf("%s: bulk insert customers %d..%d: %w", s.dialect.Name, start, start+len(batch)-1, err)
	}
	return nil
}

// bulkInsertBatch writes one batch inside tx: customers first, as the other two tables refer
// to them, and what the batch adds to the counts of active customers last. anon selects
// anonymous "?" placeholders: modernc.org/sqlite looks every numbered "$N" parameter up by
// name in a list, which makes binding thousands of them quadratic (it took 1.1 s per 5,000
// customers against 0.1 s with "?").
func bulkInsertBatch(ctx context.Context, tx *sql.Tx, cs []*grid.Customer, anon bool) error {
	custRows := make([][]any, 0, len(cs))
	var curRows, histRows [][]any
	histRows = make([][]any, 0, len(cs))
	var active activeDelta
	for _, c := range cs {
		if c == nil || c.ID == "" || c.PlatformID == "" {
			return errors.New("bulk insert: a customer without id or platform")
		}
		if c.DeletedAt == nil {
			active.add(c, 1)
		}
		args, err := customerArgs(c)
		if err != nil {
			return fmt.Errorf("customer %s: %w", c.ID, err)
		}
		custRows = append(custRows, args)
		for _, cur := range c.Currencies {
			curRows = append(curRows, []any{c.ID, c.PlatformID, cur})
		}
		histRows = append(histRows, []any{grid.NewID("StatusChange"), c.ID, c.PlatformID, "", string(c.Status), BulkReason, BulkActor, micros(c.CreatedAt)})
	}
	if err := bulkInsertRows(ctx, tx, "customers", customerCols, 13, bulkCustomerRows, custRows, anon); err != nil {
		return err
	}
	if err := bulkInsertRows(ctx, tx, "customer_currencies", "customer_id, platform_id, currency", 3, bulkCurrencyRows, curRows, anon); err != nil {
		return err
	}
	if err := bulkInsertRows(ctx, tx, "status_changes", bulkHistoryCols, 8, bulkHistoryRows, histRows, anon); err != nil {
		return err
	}
	// Last, so that concurrent batches hold the count row only while they commit.
	return active.write(ctx, tx)
}

// bulkInsertRows writes rows of ncols values each into table, per rows statements of at most per
// rows. The full-size statement is prepared once and reused.
func bulkInsertRows(ctx context.Context, tx *sql.Tx, table, cols string, ncols, per int, rows [][]any, anon bool) error {
	if len(rows) == 0 {
		return nil
	}
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, min(per, len(rows))*ncols)
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		args = args[:0]
		for _, r := range chunk {
			args = append(args, r...)
		}
		var err error
		if len(chunk) == per {
			if full == nil {
				full, err = tx.PrepareContext(ctx, bulkInsertSQL(table, cols, ncols, per, anon))
				if err != nil {
					return fmt.Errorf("prepare bulk insert into %s: %w", table, err)
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, bulkInsertSQL(table, cols, ncols, len(chunk), anon), args...)
		}
		if err != nil {
			return fmt.Errorf("bulk insert into %s: %w", table, err)
		}
	}
	return nil
}

// bulkInsertSQL returns "INSERT INTO table (cols) VALUES ($1, ...), (...)" for nrows rows,
// with "?" instead of "$N" when anon is set.
func bulkInsertSQL(table, cols string, ncols, nrows int, anon bool) string {
	var b strings.Builder
	b.Grow(len(table) + len(cols) + 32 + nrows*ncols*7)
	b.WriteString("INSERT INTO ")
	b.WriteString(table)
	b.WriteString(" (")
	b.WriteString(cols)
	b.WriteString(") VALUES ")
	n := 1
	for r := 0; r < nrows; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := 0; c < ncols; c++ {
			if c > 0 {
				b.WriteByte(',')
			}
			if anon {
				b.WriteByte('?')
			} else {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(n))
			}
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}
