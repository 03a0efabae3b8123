package main

import (
	"context"
	"strconv"
	"time"

	"github.com/gridd/gridd/internal/postgres"
	"github.com/gridd/gridd/internal/sqlstore"
)

// openPostgres opens the PostgreSQL store; its pool size and statement timeout come from
// GRIDD_PG_MAX_CONNS and GRIDD_PG_STATEMENT_TIMEOUT.
func openPostgres(ctx context.Context, url string, getenv func(string) string) (*sqlstore.Store, error) {
	var opts postgres.Options
	if v, err := strconv.Atoi(getenv("GRIDD_PG_MAX_CONNS")); err == nil && v > 0 {
		opts.MaxConns = v
	}
	if d, err := time.ParseDuration(getenv("GRIDD_PG_STATEMENT_TIMEOUT")); err == nil {
		opts.StatementTimeout = d
	}
	opts.Schema = getenv("GRIDD_PG_SCHEMA")
	return postgres.Open(ctx, url, opts)
}
