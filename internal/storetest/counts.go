package storetest

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/sqlstore"
)

// CustomerCounts checks the TotalCount of an unfiltered list, which a store may keep rather
// than count: after every write that creates, deletes or restores customers, committed or
// rolled back, alone or concurrent, it equals the number of the platform's active customers.
func CustomerCounts(t *testing.T, st grid.Store) {
	t.Run("WritePaths", func(t *testing.T) { countsWritePaths(t, st) })
	t.Run("BulkInsert", func(t *testing.T) { countsBulkInsert(t, st) })
	t.Run("Concurrent", func(t *testing.T) { countsConcurrent(t, st) })
	t.Run("Backfill", func(t *testing.T) { countsBackfill(t, st) })
}

// sqlHandle is implemented by stores over database/sql; DB returns the handle they write with.
type sqlHandle interface{ DB() *sql.DB }

// bulkInserter is implemented by stores with a bulk insert path for seeding and imports.
type bulkInserter interface {
	BulkInsertCustomers(ctx context.Context, cs []*grid.Customer) error
}

// activeRows counts a platform's active customers row by row: with a query through the store's
// SQL handle where it has one, otherwise with a list filtered on a creation time every
// customer matches, which a store cannot answer from a kept count.
func activeRows(t testing.TB, st grid.Store, platformID string) int {
	t.Helper()
	if h, ok := st.(sqlHandle); ok {
		var n int
		err := h.DB().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM customers WHERE platform_id = $1 AND deleted_at IS NULL`, platformID).Scan(&n)
		if err != nil {
			t.Fatalf("count active customers: %v", err)
		}
		return n
	}
	f := grid.CustomerFilter{Created: grid.TimeRange{Before: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)}, Limit: 1}
	page, err := st.ListCustomers(t.Context(), platformID, f)
	if err != nil {
		t.Fatalf("count active customers: %v", err)
	}
	return page.TotalCount
}

// wantActive checks that platform p has want active customers, and that the first page of its
// unfiltered list says so.
func wantActive(t testing.TB, st grid.Store, what string, p *grid.Platform, want int) {
	t.Helper()
	if got := activeRows(t, st, p.ID); got != want {
		t.Fatalf("%s: %d active customers stored, the test expects %d", what, got, want)
	}
	page, err := st.ListCustomers(t.Context(), p.ID, grid.CustomerFilter{Limit: 1})
	if err != nil {
		t.Fatalf("%s: ListCustomers: %v", what, err)
	}
	if page.TotalCount != want {
		t.Errorf("%s: TotalCount %d, want %d (the active customers)", what, page.TotalCount, want)
	}
}

// deletedCopy returns c soft-deleted at at.
func deletedCopy(c *grid.Customer, at time.Time) *grid.Customer {
	d := *c
	d.DeletedAt, d.UpdatedAt = &at, at
	return &d
}

func countsWritePaths(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	pa, pb := newPlatform(base), newPlatform(base)
	insertPlatforms(t, st, pa, pb)
	wantActive(t, st, "no customers", pa, 0)
	delAt := base.Add(time.Minute)

	// InsertCustomer: three active customers and one created deleted on pa, one on pb.
	a := []*grid.Customer{newCustomer(pa.ID, base), newCustomer(pa.ID, base), newCustomer(pa.ID, base)}
	b := newCustomer(pb.ID, base)
	insertCustomers(t, st, a[0], deletedCopy(newCustomer(pa.ID, base), delAt), b, a[1], a[2])
	wantActive(t, st, "after InsertCustomer", pa, 3)
	wantActive(t, st, "after InsertCustomer", pb, 1)

	dup := newCustomer(pa.ID, base)
	dup.PlatformCustomerID = a[0].PlatformCustomerID
	wantDuplicate(t, "InsertCustomer(taken platformCustomerId)", insertCustomer(ctx, st, dup), grid.KeyPlatformCustomerID)
	wantActive(t, st, "after a refused InsertCustomer", pa, 3)

	// InsertCustomerIfAbsent counts what it inserted, not what it refused; the transaction
	// goes on after a refusal and commits.
	fresh := newCustomer(pa.ID, base)
	refused := newCustomer(pa.ID, base)
	refused.UMAAddress = a[1].UMAAddress
	mustTx(t, st, func(tx grid.Tx) error {
		if err := tx.InsertCustomerIfAbsent(ctx, fresh); err != nil {
			return err
		}
		wantDuplicate(t, "InsertCustomerIfAbsent(taken umaAddress)", tx.InsertCustomerIfAbsent(ctx, refused), grid.KeyUMAAddress)
		if err := tx.InsertCustomerIfAbsent(ctx, fresh); err == nil {
			t.Error("InsertCustomerIfAbsent of an id that exists succeeded")
		}
		return tx.InsertCustomerIfAbsent(ctx, deletedCopy(newCustomer(pa.ID, base), delAt))
	})
	wantActive(t, st, "after InsertCustomerIfAbsent", pa, 4)

	// A transaction's count includes its own creates and deletes.
	mustTx(t, st, func(tx grid.Tx) error {
		c := newCustomer(pa.ID, base)
		if err := tx.InsertCustomer(ctx, c); err != nil {
			return err
		}
		for _, step := range []struct {
			what string
			want int
		}{{"create", 5}, {"delete", 4}} {
			page, err := tx.ListCustomers(ctx, pa.ID, grid.CustomerFilter{Limit: 1})
			if err != nil {
				return err
			}
			if page.TotalCount != step.want {
				t.Errorf("TotalCount inside the transaction after its %s: %d, want %d", step.what, page.TotalCount, step.want)
			}
			if step.what == "create" {
				if err := tx.UpdateCustomer(ctx, deletedCopy(c, delAt)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	wantActive(t, st, "after a customer created and deleted in one transaction", pa, 4)

	// Soft delete; deleting again; updates that leave a customer active, or deleted.
	del := deletedCopy(a[0], delAt)
	if err := updateCustomer(ctx, st, del); err != nil {
		t.Fatalf("UpdateCustomer(delete): %v", err)
	}
	wantActive(t, st, "after a delete", pa, 3)
	again := deletedCopy(del, delAt.Add(time.Second))
	again.Region = "CA"
	if err := updateCustomer(ctx, st, again); err != nil {
		t.Fatalf("UpdateCustomer(delete a deleted customer): %v", err)
	}
	wantActive(t, st, "after deleting a deleted customer again", pa, 3)
	renamed := *a[1]
	renamed.Status, renamed.Region, renamed.UpdatedAt = grid.StatusPending, "MX", base.Add(time.Hour)
	if err := updateCustomer(ctx, st, &renamed); err != nil {
		t.Fatalf("UpdateCustomer(active, stays active): %v", err)
	}
	wantActive(t, st, "after an update that deletes nothing", pa, 3)

	// Restoring a deleted customer counts it again, unless its key is taken meanwhile.
	restored := *again
	restored.DeletedAt = nil
	if err := updateCustomer(ctx, st, &restored); err != nil {
		t.Fatalf("UpdateCustomer(restore): %v", err)
	}
	wantActive(t, st, "after a restore", pa, 4)
	if err := updateCustomer(ctx, st, deletedCopy(&restored, delAt)); err != nil {
		t.Fatalf("UpdateCustomer(delete the restored customer): %v", err)
	}
	taker := newCustomer(pa.ID, base)
	taker.PlatformCustomerID = restored.PlatformCustomerID
	insertCustomers(t, st, taker)
	wantActive(t, st, "after another customer took a deleted one's key", pa, 4)
	wantDuplicate(t, "UpdateCustomer(restore onto a taken key)", updateCustomer(ctx, st, &restored), grid.KeyPlatformCustomerID)
	wantActive(t, st, "after a refused restore", pa, 4)

	// Another platform cannot delete the customer.
	foreign := deletedCopy(a[2], delAt)
	foreign.PlatformID = pb.ID
	wantNotFound(t, "UpdateCustomer(delete through another platform)", updateCustomer(ctx, st, foreign))
	wantNotFound(t, "UpdateCustomer(delete a missing customer)", updateCustomer(ctx, st, deletedCopy(newCustomer(pa.ID, base), delAt)))
	wantActive(t, st, "after refused deletes", pa, 4)
	wantActive(t, st, "after refused deletes", pb, 1)

	// A rolled back transaction changes no count.
	err := st.WithTx(ctx, func(tx grid.Tx) error {
		for _, c := range []*grid.Customer{newCustomer(pa.ID, base), newCustomer(pb.ID, base)} {
			if err := tx.InsertCustomer(ctx, c); err != nil {
				return err
			}
		}
		if err := tx.UpdateCustomer(ctx, deletedCopy(a[2], delAt)); err != nil {
			return err
		}
		return errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("WithTx: %v, want the error of fn", err)
	}
	wantActive(t, st, "after a rollback", pa, 4)
	wantActive(t, st, "after a rollback", pb, 1)

	// One transaction over both platforms.
	insertCustomers(t, st, newCustomer(pb.ID, base), newCustomer(pa.ID, base), newCustomer(pb.ID, base))
	mustTx(t, st, func(tx grid.Tx) error {
		if err := tx.UpdateCustomer(ctx, deletedCopy(b, delAt)); err != nil {
			return err
		}
		return tx.UpdateCustomer(ctx, deletedCopy(a[2], delAt))
	})
	wantActive(t, st, "after writes to both platforms", pa, 4)
	wantActive(t, st, "after writes to both platforms", pb, 2)
}

func countsBulkInsert(t *testing.T, st grid.Store) {
	bulk, ok := st.(bulkInserter)
	if !ok {
		t.Skip("the store has no bulk insert")
	}
	ctx := t.Context()
	base := now()
	pa, pb := newPlatform(base), newPlatform(base)
	insertPlatforms(t, st, pa, pb)
	insertCustomers(t, st, newCustomer(pa.ID, base))

	// Seven of pa (two of them deleted) and three of pb, interleaved, in one call.
	var cs []*grid.Customer
	for i := range 10 {
		c := newCustomer(pa.ID, base)
		if i%3 == 2 {
			c.PlatformID = pb.ID
		} else if i%4 == 1 {
			c = deletedCopy(c, base)
		}
		cs = append(cs, c)
	}
	if err := bulk.BulkInsertCustomers(ctx, cs); err != nil {
		t.Fatalf("BulkInsertCustomers: %v", err)
	}
	wantActive(t, st, "after BulkInsertCustomers", pa, 6)
	wantActive(t, st, "after BulkInsertCustomers", pb, 3)

	// A batch with a taken key fails whole and counts nothing.
	dup := newCustomer(pa.ID, base)
	dup.PlatformCustomerID = cs[0].PlatformCustomerID
	var d *grid.DuplicateError
	if err := bulk.BulkInsertCustomers(ctx, []*grid.Customer{newCustomer(pa.ID, base), newCustomer(pb.ID, base), dup}); !errors.As(err, &d) {
		t.Fatalf("BulkInsertCustomers with a taken key: %v, want a DuplicateError", err)
	}
	wantActive(t, st, "after a failed BulkInsertCustomers", pa, 6)
	wantActive(t, st, "after a failed BulkInsertCustomers", pb, 3)

	// Bulk-inserted customers are deleted like any other.
	if err := updateCustomer(ctx, st, deletedCopy(cs[0], base.Add(time.Minute))); err != nil {
		t.Fatalf("UpdateCustomer(delete): %v", err)
	}
	wantActive(t, st, "after deleting a bulk-inserted customer", pa, 5)
}

// countsConcurrent has several writers create customers of one platform at once, and delete
// some of them, while a bulk insert runs; then all of them delete the same customers at once.
func countsConcurrent(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	p := newPlatform(base)
	insertPlatforms(t, st, p)
	var shared []*grid.Customer
	for range 6 {
		shared = append(shared, newCustomer(p.ID, base))
	}
	insertCustomers(t, st, shared...)

	const writers, perWriter = 8, 15
	want := writers * (perWriter - (perWriter+4)/5)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			for i := range perWriter {
				c := newCustomer(p.ID, base)
				if err := insertCustomer(ctx, st, c); err != nil {
					t.Errorf("writer %d: InsertCustomer: %v", w, err)
					return
				}
				if i%5 == 0 {
					if err := updateCustomer(ctx, st, deletedCopy(c, base.Add(time.Minute))); err != nil {
						t.Errorf("writer %d: UpdateCustomer(delete): %v", w, err)
						return
					}
				}
			}
		})
	}
	if bulk, ok := st.(bulkInserter); ok {
		var cs []*grid.Customer
		for i := range 50 {
			c := newCustomer(p.ID, base)
			if i%5 == 0 {
				c = deletedCopy(c, base)
			} else {
				want++
			}
			cs = append(cs, c)
		}
		wg.Go(func() {
			<-start
			var err error
			for attempt := range 10 {
				if err = bulk.BulkInsertCustomers(ctx, cs); !errors.Is(err, grid.ErrRetry) {
					break
				}
				time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
			}
			if err != nil {
				t.Errorf("BulkInsertCustomers: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	wantActive(t, st, "after concurrent creates and deletes", p, want+len(shared))

	// Every writer deletes every shared customer, each starting with a different one: each
	// deletion must be counted once.
	start = make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			for i := range shared {
				c := shared[(w+i)%len(shared)]
				if err := updateCustomer(ctx, st, deletedCopy(c, base.Add(time.Duration(w)*time.Second))); err != nil {
					t.Errorf("writer %d: UpdateCustomer(delete a shared customer): %v", w, err)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	wantActive(t, st, "after concurrent deletes of the same customers", p, want)
}

// countsBackfill checks the counts migration 0009 starts from: it undoes the migration on a
// store with customers and runs its script again, the way it runs on a database that gridd
// used before the counts were kept.
func countsBackfill(t *testing.T, st grid.Store) {
	h, ok := st.(sqlHandle)
	if !ok {
		t.Skip("the store has no SQL handle to undo migration 0009 with")
	}
	ctx := t.Context()
	base := now()
	pa, pb, pc := newPlatform(base), newPlatform(base), newPlatform(base)
	insertPlatforms(t, st, pa, pb, pc)
	var cs []*grid.Customer
	for range 5 {
		cs = append(cs, newCustomer(pa.ID, base))
	}
	for range 2 {
		cs = append(cs, deletedCopy(newCustomer(pa.ID, base), base), deletedCopy(newCustomer(pc.ID, base), base))
	}
	for range 3 {
		cs = append(cs, newCustomer(pb.ID, base))
	}
	insertCustomers(t, st, cs...)
	if err := updateCustomer(ctx, st, deletedCopy(cs[0], base.Add(time.Second))); err != nil {
		t.Fatalf("UpdateCustomer(delete): %v", err)
	}

	ms, err := sqlstore.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var script string
	for _, m := range ms {
		if strings.HasPrefix(m.Name, "0009_") {
			script = m.SQL
		}
	}
	if script == "" {
		t.Fatal("no migration 0009")
	}
	tx, err := h.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, q := range []string{`DROP INDEX customers_by_region_type`, `DROP TABLE customer_counts`, script} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			t.Fatalf("undo and redo migration 0009: %v", err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	wantActive(t, st, "after the migration", pa, 4)
	wantActive(t, st, "after the migration", pb, 3)
	wantActive(t, st, "after the migration, only deleted customers", pc, 0)

	// Later writes add to what the migration counted.
	insertCustomers(t, st, newCustomer(pa.ID, base), newCustomer(pc.ID, base))
	if err := updateCustomer(ctx, st, deletedCopy(cs[1], base.Add(time.Second))); err != nil {
		t.Fatalf("UpdateCustomer(delete): %v", err)
	}
	wantActive(t, st, "after writes following the migration", pa, 4)
	wantActive(t, st, "after writes following the migration", pc, 1)
}
