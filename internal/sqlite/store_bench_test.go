package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/gridd/gridd/internal/bench"
	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/seal"
	"github.com/gridd/gridd/internal/sqlite"
	"github.com/gridd/gridd/internal/sqlstore"
)

// benchStore opens a fresh store with a sandbox platform and n customers loaded in bulk.
func benchStore(b *testing.B, n int) (*sqlstore.Store, *grid.Service, *grid.Platform, []*grid.Customer) {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "gridd.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	box, err := seal.New(seal.NewKey())
	if err != nil {
		b.Fatal(err)
	}
	svc := grid.NewService(st, box, nil)
	p, err := svc.CreatePlatform(ctx, grid.PlatformSpec{Name: "bench", UMADomain: "bench.gridd.local", Sandbox: true})
	if err != nil {
		b.Fatal(err)
	}
	cs := make([]*grid.Customer, n)
	for i := range cs {
		if cs[i], err = svc.PrepareCustomer(p, bench.Input(i, fmt.Sprintf("pre-%d", i))); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.BulkInsertCustomers(ctx, cs); err != nil {
		b.Fatal(err)
	}
	return st, svc, p, cs
}

// BenchmarkGetCustomer reads customers by id from a store holding 10,000.
func BenchmarkGetCustomer(b *testing.B) {
	st, _, p, cs := benchStore(b, 10_000)
	ctx := context.Background()
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := st.GetCustomer(ctx, p.ID, cs[(i*7919)%len(cs)].ID); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(next.Add(1))
				if _, err := st.GetCustomer(ctx, p.ID, cs[(i*7919)%len(cs)].ID); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkInsertCustomer inserts a customer and its history row as one durable transaction
// (WAL, synchronous=FULL). Serially every insert pays its own fsync; in parallel the group
// commit shares one between the transactions waiting together.
func BenchmarkInsertCustomer(b *testing.B) {
	st, svc, p, _ := benchStore(b, 0)
	ctx := context.Background()
	tmpl, err := svc.PrepareCustomer(p, bench.Input(1, "tmpl"))
	if err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	insert := func() error {
		c := *tmpl
		n := seq.Add(1)
		c.ID = grid.NewID("Customer")
		c.PlatformCustomerID = fmt.Sprintf("ins-%d", n)
		c.UMAAddress = fmt.Sprintf("$ins-%d@%s", n, p.UMADomain)
		return st.WithTx(ctx, func(tx grid.Tx) error {
			if err := tx.InsertCustomer(ctx, &c); err != nil {
				return err
			}
			return tx.InsertStatusChange(ctx, &grid.StatusChange{ID: grid.NewID("StatusChange"), CustomerID: c.ID,
				PlatformID: c.PlatformID, To: c.Status, Reason: "CREATED", Actor: "bench", At: c.CreatedAt})
		})
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := insert(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel64", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0))) // about 64 goroutines, like gridd bench
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := insert(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkBulkInsert measures the seeding path: 5,000 customers per transaction.
func BenchmarkBulkInsert(b *testing.B) {
	st, svc, p, _ := benchStore(b, 0)
	ctx := context.Background()
	const batch = 5000
	round := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		cs := make([]*grid.Customer, batch)
		for i := range cs {
			var err error
			if cs[i], err = svc.PrepareCustomer(p, bench.Input(i, fmt.Sprintf("bulk-%d-%d", round, i))); err != nil {
				b.Fatal(err)
			}
		}
		round++
		b.StartTimer()
		if err := st.BulkInsertCustomers(ctx, cs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(batch*round)/b.Elapsed().Seconds(), "customers/s")
}

// BenchmarkServiceGetCustomer is GET /customers/{id} below HTTP: the service's read of a
// customer with its owners, cycling through 1,000 of 10,000 customers, without and with the
// customer cache. Compare the two with `benchstat -col /cache`.
func BenchmarkServiceGetCustomer(b *testing.B) {
	for _, cached := range []bool{false, true} {
		_, svc, p, cs := benchStore(b, 10_000)
		if cached && !svc.EnableCustomerCache(10_000) {
			b.Fatal("no customer cache on SQLite")
		}
		tok := &grid.Token{ID: "Token:bench", PlatformID: p.ID, Permissions: grid.AllPermissions}
		pr := &grid.Principal{Token: tok, Platform: p}
		ctx := context.Background()
		b.Run(fmt.Sprintf("cache=%v", cached), func(b *testing.B) {
			b.ReportAllocs()
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := int(next.Add(1))
					if _, err := svc.GetCustomer(ctx, pr, cs[(i*7919)%1000].ID); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
