package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/gridd/gridd/internal/grid"
)

// BulkStore is the store path Seed writes through.
type BulkStore interface {
	BulkInsertCustomers(ctx context.Context, cs []*grid.Customer) error
}

// SeedOptions control Seed.
type SeedOptions struct {
	// Customers is how many customers to add.
	Customers int
	// Batch is how many customers are handed to the store at a time (default 5,000).
	Batch int
	// Progress, when set, receives a line every ProgressEvery customers.
	Progress      io.Writer
	ProgressEvery int
}

// SeedResult tells what Seed did.
type SeedResult struct {
	Customers int
	// Prefix starts every seeded platformCustomerId, so that seeding twice never collides.
	Prefix  string
	Elapsed time.Duration
}

// Seed adds n valid customers to platform p: each is built by the service's PrepareCustomer
// from a varied input (so it meets the API's rules exactly) and written in large batches
// through the store's bulk path. Preparing runs on all but one CPU while the store writes.
func Seed(ctx context.Context, svc *grid.Service, st BulkStore, p *grid.Platform, opts SeedOptions) (SeedResult, error) {
	if opts.Batch <= 0 {
		opts.Batch = 5000
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 100_000
	}
	res := SeedResult{Prefix: "seed-" + randomHex(3) + "-"}
	start := time.Now()
	nbatches := (opts.Customers + opts.Batch - 1) / opts.Batch
	workers := max(1, min(runtime.GOMAXPROCS(0)-1, 4))

	g, gctx := errgroup.WithContext(ctx)
	// Batches are produced in parallel but must be written in order so that ids (UUIDv7,
	// time-ordered) go in roughly ascending: one result channel per batch index, consumed in
	// order. At most workers+2 batches are in memory at once.
	slots := make([]chan []*grid.Customer, nbatches)
	for i := range slots {
		slots[i] = make(chan []*grid.Customer, 1)
	}
	sem := make(chan struct{}, workers+2)
	next := make(chan int)
	g.Go(func() error {
		defer close(next)
		for b := 0; b < nbatches; b++ {
			select {
			case sem <- struct{}{}:
			case <-gctx.Done():
				return gctx.Err()
			}
			select {
			case next <- b:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	for w := 0; w < workers; w++ {
		g.Go(func() error {
			for b := range next {
				lo, hi := b*opts.Batch, min((b+1)*opts.Batch, opts.Customers)
				batch := make([]*grid.Customer, 0, hi-lo)
				for i := lo; i < hi; i++ {
					c, err := svc.PrepareCustomer(p, Input(i, fmt.Sprintf("%s%08d", res.Prefix, i)))
					if err != nil {
						return fmt.Errorf("seed: customer %d: %w", i, err)
					}
					batch = append(batch, c)
				}
				slots[b] <- batch
			}
			return nil
		})
	}
	g.Go(func() error {
		done := 0
		for b := 0; b < nbatches; b++ {
			var batch []*grid.Customer
			select {
			case batch = <-slots[b]:
			case <-gctx.Done():
				return gctx.Err()
			}
			if err := st.BulkInsertCustomers(gctx, batch); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
			<-sem
			prev := done
			done += len(batch)
			res.Customers = done
			if opts.Progress != nil && done/opts.ProgressEvery != prev/opts.ProgressEvery {
				el := time.Since(start)
				fmt.Fprintf(opts.Progress, "seeded %d/%d customers in %s (%.0f/s)\n", done, opts.Customers, el.Round(time.Millisecond), float64(done)/el.Seconds())
			}
		}
		return nil
	})
	err := g.Wait()
	res.Elapsed = time.Since(start)
	return res, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
