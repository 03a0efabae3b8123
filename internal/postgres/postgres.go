// Package postgres opens the store on PostgreSQL through pgx's database/sql driver, for
// deployments that run several gridd nodes against one database.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/gridd/gridd/internal/sqlstore"
)

// Defaults applied when an Options field is zero.
const (
	DefaultMaxConns         = 20
	DefaultStatementTimeout = 30 * time.Second
)

// Options tune how Open and Migrate connect.
type Options struct {
	// MaxConns bounds the open connections of the pool; zero means DefaultMaxConns.
	MaxConns int
	// StatementTimeout aborts any statement that runs longer. Zero keeps a statement_timeout
	// given in the URL and otherwise means DefaultStatementTimeout; a negative value disables
	// the timeout. Migrations always run without one.
	StatementTimeout time.Duration
	// Schema, when set, is created if missing and becomes the search_path of every
	// connection, so that gridd keeps its tables there. It overrides a search_path in the URL.
	Schema string
}

// SQLSTATE codes the Dialect looks for.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeLockNotAvailable     = "55P03"
)

// Dialect recognises PostgreSQL's unique violations (naming the index) and the failures after
// which a transaction may simply be run again.
var Dialect = sqlstore.Dialect{
	Name: "postgres",
	UniqueViolation: func(err error) (string, bool) {
		var e *pgconn.PgError
		if errors.As(err, &e) && e.Code == codeUniqueViolation {
			return e.ConstraintName, true
		}
		return "", false
	},
	// Serialization failures and deadlocks are what PostgreSQL documents as "retry the
	// transaction". lock_not_available only comes from lock_timeout or NOWAIT, both of which
	// signal contention that is gone by the next attempt, like SQLite's busy error. Anything
	// else, notably a lost connection during COMMIT, is not safe to run twice.
	Retryable: func(err error) bool {
		var e *pgconn.PgError
		if !errors.As(err, &e) {
			return false
		}
		switch e.Code {
		case codeSerializationFailure, codeDeadlockDetected, codeLockNotAvailable:
			return true
		}
		return false
	},
	SkipLocked: "FOR UPDATE SKIP LOCKED",
	ForUpdate:  "FOR UPDATE",
}

// migrateLockKey is the session-level advisory lock that serialises migrations of every gridd
// node sharing the database.
var migrateLockKey = func() int64 {
	h := fnv.New64a()
	h.Write([]byte("gridd.migrate"))
	return int64(h.Sum64())
}()

// config parses url and applies opts to the connection settings of the pool.
func config(url string, opts Options) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse url: %w", err)
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	switch {
	case opts.StatementTimeout > 0:
		cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	case opts.StatementTimeout < 0:
		cfg.RuntimeParams["statement_timeout"] = "0"
	default:
		if _, ok := cfg.RuntimeParams["statement_timeout"]; !ok {
			cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(DefaultStatementTimeout.Milliseconds(), 10)
		}
	}
	if opts.Schema != "" {
		cfg.RuntimeParams["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	}
	return cfg, nil
}

// Open connects to the database at url (a postgres:// URL or key=value string), applies
// pending migrations under an advisory lock and returns the store.
func Open(ctx context.Context, url string, opts Options) (*sqlstore.Store, error) {
	cfg, err := config(url, opts)
	if err != nil {
		return nil, err
	}
	if _, err := migrate(ctx, cfg, opts.Schema); err != nil {
		return nil, err
	}
	db := stdlib.OpenDB(*cfg)
	n := opts.MaxConns
	if n <= 0 {
		n = DefaultMaxConns
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	if err := sqlstore.CheckVersion(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return sqlstore.New(db, db, Dialect), nil
}

// Migrate applies pending migrations to the database at url and returns how many it applied;
// it is safe to run while other nodes start or run.
func Migrate(ctx context.Context, url string, opts Options) (applied int, err error) {
	cfg, err := config(url, opts)
	if err != nil {
		return 0, err
	}
	return migrate(ctx, cfg, opts.Schema)
}

// migrate runs the migrations on a connection of its own, without a statement timeout, while
// holding the migration lock: a node that starts while another migrates waits, then finds
// nothing left to do.
func migrate(ctx context.Context, cfg *pgx.ConnConfig, schema string) (applied int, err error) {
	mcfg := cfg.Copy()
	mcfg.RuntimeParams["statement_timeout"] = "0"
	db := stdlib.OpenDB(*mcfg)
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrateLockKey); err != nil {
		return 0, fmt.Errorf("postgres: take migration lock: %w", err)
	}
	defer func() {
		// Closing the connection would release the lock too; unlock anyway so that a pooled
		// or proxied session does not keep it.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, uerr := conn.ExecContext(uctx, `SELECT pg_advisory_unlock($1)`, migrateLockKey); uerr != nil && err == nil {
			err = fmt.Errorf("postgres: release migration lock: %w", uerr)
		}
	}()
	if schema != "" {
		if err := createSchema(ctx, conn, schema); err != nil {
			return 0, err
		}
	}
	applied, err = sqlstore.Migrate(ctx, conn)
	if err != nil {
		return applied, fmt.Errorf("postgres: %w", err)
	}
	return applied, nil
}

// createSchema creates schema if needed (under the migration lock, since concurrent CREATE
// SCHEMA IF NOT EXISTS can still collide) and checks that conn now resolves tables there.
func createSchema(ctx context.Context, conn *sql.Conn, schema string) error {
	if _, err := conn.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("postgres: create schema %q: %w", schema, err)
	}
	var current sql.NullString
	if err := conn.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&current); err != nil {
		return fmt.Errorf("postgres: read current schema: %w", err)
	}
	if current.String != schema {
		return fmt.Errorf("postgres: search_path resolves to schema %q, not %q", current.String, schema)
	}
	return nil
}
