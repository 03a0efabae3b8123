package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gridd/gridd/internal/bench"
	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/sqlstore"
)

// seedCmd loads many valid customers through the bulk store path, for benchmarks.
func seedCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c config
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.bind(fs, getenv)
	n := fs.Int("customers", 100_000, "how many customers to add")
	platformID := fs.String("platform", "", "platform to add them to (PlatformConfig:...); default: a new sandbox platform with a token")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n <= 0 {
		return errors.New("-customers must be positive")
	}
	svc, st, err := c.open(ctx, c.logger(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	var p *grid.Platform
	if *platformID != "" {
		if p, err = st.GetPlatform(ctx, *platformID); err != nil {
			return fmt.Errorf("platform %s: %w", *platformID, err)
		}
	} else {
		p, err = svc.CreatePlatform(ctx, grid.PlatformSpec{Name: "seed", UMADomain: "seed.gridd.local", Sandbox: true})
		if err != nil {
			return err
		}
		tok, secret, err := svc.IssueToken(ctx, p.ID, grid.NewTokenSpec{Name: "seed", Permissions: grid.AllPermissions})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "platform:  %s\ntoken:     %s\nclient id: %s\nsecret:    %s\n", p.ID, tok.ID, tok.ClientID, secret)
	}
	res, err := bench.Seed(ctx, svc, st, p, bench.SeedOptions{Customers: *n, Batch: sqlstore.BulkBatchSize, Progress: stderr})
	if err != nil {
		return fmt.Errorf("after %d customers: %w", res.Customers, err)
	}
	fmt.Fprintf(stdout, "seeded %d customers on %s in %s (%.0f/s); platformCustomerIds start %q\n",
		res.Customers, p.ID, res.Elapsed.Round(time.Millisecond), float64(res.Customers)/res.Elapsed.Seconds(), res.Prefix)
	return nil
}

// benchCmd drives a running server with a bounded load and compares it with two ceilings.
func benchCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o bench.Options
	fs.StringVar(&o.BaseURL, "url", env("GRIDD_BENCH_URL", "http://127.0.0.1:8080/grid/2025-10-13"), "API root of the running server (GRIDD_BENCH_URL)")
	fs.StringVar(&o.User, "user", env("GRIDD_BENCH_USER", ""), "token client id, needs VIEW and MANAGE (GRIDD_BENCH_USER)")
	fs.StringVar(&o.Secret, "secret", env("GRIDD_BENCH_SECRET", ""), "token secret (GRIDD_BENCH_SECRET)")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "how long each operation and each ceiling runs")
	fs.IntVar(&o.Concurrency, "concurrency", 64, "concurrent workers, one request in flight each")
	ops := fs.String("ops", strings.Join(bench.AllOps, ","), "operations to run: "+strings.Join(bench.AllOps, ","))
	fs.IntVar(&o.DeepPages, "deep-pages", 50_000, "page (of 20) that list-deep reads, reached by following nextCursor once")
	fs.StringVar(&o.DeepCursor, "deep-cursor", "", "cursor of the deep page, as printed by an earlier run: skips the walk")
	fs.IntVar(&o.IDs, "ids", 1000, "how many customer ids the get operation cycles through")
	fs.DurationVar(&o.SetupTimeout, "setup-timeout", 10*time.Minute, "bound on the preparation (collecting ids, walking to the deep page)")
	fs.IntVar(&o.PID, "pid", 0, "process id of the server, to report its resident memory before and after")
	fs.BoolVar(&o.Ceilings, "ceilings", true, "also measure the HTTP ceiling and the store ceiling")
	soak := fs.Duration("soak", 0, "instead of the operations, run a mixed load (get, create, patch, delete, list) this long and sample the server's memory, goroutines and open files")
	soakEvery := fs.Duration("soak-every", 30*time.Second, "interval between samples of -soak")
	pprofURL := fs.String("pprof-url", "", "the server's pprof listener (GRIDD_PPROF_ADDR), e.g. http://127.0.0.1:6060: -soak samples its goroutine count there")
	serveCeiling := fs.String("serve-http-ceiling", "", "instead of running, serve the HTTP ceiling on this address (e.g. 127.0.0.1:8081) until interrupted, for an outside load generator")
	dbURL := fs.String("database-url", "", "postgres://... URL for the store ceiling (it adds a platform and rows there); default: a fresh temporary SQLite file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.User == "" || o.Secret == "" {
		return errors.New("-user and -secret are required (gridd seed prints them)")
	}
	if *serveCeiling != "" {
		return bench.ServeHTTPCeiling(ctx, *serveCeiling, o.BaseURL, o.User, o.Secret, func(addr string, size int) {
			fmt.Fprintf(stdout, "HTTP ceiling on http://%s/ answering %d bytes, the answer of a real GET /customers/{id}; Ctrl-C stops it\n", addr, size)
		})
	}
	if *soak > 0 {
		rep, err := bench.Soak(ctx, bench.SoakOptions{BaseURL: o.BaseURL, User: o.User, Secret: o.Secret, Duration: *soak,
			Concurrency: o.Concurrency, Every: *soakEvery, PID: o.PID, PprofURL: *pprofURL, Log: stderr})
		if rep != nil {
			if werr := rep.Write(stdout); werr != nil {
				return werr
			}
		}
		return err
	}
	for _, op := range strings.Split(*ops, ",") {
		if op = strings.TrimSpace(op); op != "" {
			o.Ops = append(o.Ops, op)
		}
	}
	if *dbURL != "" {
		// The shared settings (pool size, schema) come from the environment as for serve.
		var c config
		c.bind(flag.NewFlagSet("bench-store", flag.ContinueOnError), getenv)
		c.databaseURL = *dbURL
		if _, isSQLite := c.sqlitePath(); isSQLite {
			return errors.New("-database-url only takes a postgres:// URL: the SQLite store ceiling always uses a fresh temporary file")
		}
		o.CeilingStore = func(ctx context.Context) (*sqlstore.Store, string, func(), error) {
			st, err := c.openStore(ctx)
			if err != nil {
				return nil, "", nil, err
			}
			return st, "postgres", func() { st.Close() }, nil
		}
	}
	o.Log = stderr
	rep, err := bench.Run(ctx, o)
	if rep != nil {
		if werr := rep.Write(stdout); werr != nil {
			return werr
		}
	}
	return err
}
