package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// OpResult is what one operation measured.
type OpResult struct {
	Name     string
	Requests int
	// Errors counts answers outside 2xx and requests that got no answer.
	Errors  int
	Elapsed time.Duration
	P50     time.Duration
	P90     time.Duration
	P99     time.Duration
	// FirstError describes the first failure, for the report.
	FirstError string
	// Unavailable says why the operation was not run ("" when it was).
	Unavailable string
}

// Throughput is completed requests per second, errors included.
func (r OpResult) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// maxSamplesPerWorker bounds the latencies kept in memory; beyond it the run still counts
// requests but stops recording latencies (a loopback run at 64 workers stays far below).
const maxSamplesPerWorker = 1 << 20

// hammer runs do from conc workers until d has passed and returns the counts and latency
// percentiles. A worker starts no request after the deadline; requests in flight finish (each
// is bounded by the HTTP client's timeout or the store's own), so the loop always ends.
func hammer(ctx context.Context, name string, conc int, d time.Duration, do func(ctx context.Context, worker, n int) error) OpResult {
	type acc struct {
		lat      []time.Duration
		requests int
		errors   int
		firstErr error
	}
	accs := make([]acc, conc)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := &accs[w]
			a.lat = make([]time.Duration, 0, 1024)
			for n := 0; ctx.Err() == nil; n++ {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				err := do(ctx, w, n)
				el := time.Since(t0)
				a.requests++
				if len(a.lat) < maxSamplesPerWorker {
					a.lat = append(a.lat, el)
				}
				if err != nil {
					a.errors++
					if a.firstErr == nil {
						a.firstErr = err
					}
				}
			}
		}()
	}
	wg.Wait()
	res := OpResult{Name: name, Elapsed: time.Since(start)}
	var all []time.Duration
	for i := range accs {
		a := &accs[i]
		res.Requests += a.requests
		res.Errors += a.errors
		all = append(all, a.lat...)
		if res.FirstError == "" && a.firstErr != nil {
			res.FirstError = a.firstErr.Error()
		}
	}
	if ctx.Err() != nil && res.FirstError == "" {
		res.FirstError = ctx.Err().Error()
	}
	slices.Sort(all)
	res.P50, res.P90, res.P99 = percentile(all, 50), percentile(all, 90), percentile(all, 99)
	return res
}

// percentile returns the nearest-rank percentile of sorted samples.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// statusError is a non-2xx answer.
type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.status, e.body)
}

// statusOf returns the HTTP status of a statusError, or 0.
func statusOf(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.status
	}
	return 0
}
