package main

import (
	"context"
	"errors"

	"github.com/gridd/gridd/internal/sqlstore"
)

// openPostgres is replaced when the PostgreSQL store lands.
func openPostgres(ctx context.Context, url string) (*sqlstore.Store, error) {
	return nil, errors.New("postgres: not available yet")
}
