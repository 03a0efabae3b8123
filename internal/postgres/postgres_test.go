package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/pgtest"
	"github.com/gridd/gridd/internal/postgres"
	"github.com/gridd/gridd/internal/sqlstore"
	"github.com/gridd/gridd/internal/storetest"
)

func testURL() string { return pgtest.DefaultURL() }

func redacted(raw string) string { return pgtest.Redacted(raw) }

func adminDB(t testing.TB) *sql.DB { return pgtest.Admin(t) }

func newSchema(t testing.TB) string { return pgtest.Schema(t, "t_") }

func openStore(t testing.TB, opts postgres.Options) *sqlstore.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), testURL(), opts)
	if err != nil {
		t.Fatalf("postgres.Open(schema %s): %v", opts.Schema, err)
	}
	// Registered after newSchema's cleanup, so it runs before the schema is dropped.
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

func TestContract(t *testing.T) {
	adminDB(t)
	storetest.Run(t, func(t *testing.T) grid.Store {
		return openStore(t, postgres.Options{Schema: newSchema(t)})
	})
}

func migrationCount(t testing.TB) int {
	t.Helper()
	ms, err := sqlstore.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

func appliedMigrations(t testing.TB, schema string) int {
	t.Helper()
	var n int
	q := `SELECT COUNT(*) FROM ` + pgx.Identifier{schema, "schema_migrations"}.Sanitize()
	if err := adminDB(t).QueryRowContext(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("count schema_migrations in %s: %v", schema, err)
	}
	return n
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	schema := newSchema(t)
	const nodes = 4
	stores := make([]*sqlstore.Store, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range nodes {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = postgres.Open(t.Context(), testURL(), postgres.Options{Schema: schema, MaxConns: 2})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
			continue
		}
		t.Cleanup(func() { stores[i].Close() })
		if err := sqlstore.CheckVersion(t.Context(), stores[i].DB()); err != nil {
			t.Errorf("CheckVersion on store %d: %v", i, err)
		}
	}
	if got, want := appliedMigrations(t, schema), migrationCount(t); got != want {
		t.Errorf("schema_migrations has %d rows, want %d", got, want)
	}
	// Every node works on the same tables.
	if errs[0] == nil && errs[1] == nil {
		ctx := t.Context()
		err := stores[0].WithTx(ctx, func(tx grid.Tx) error {
			_, err := tx.PutMetaIfAbsent(ctx, "node", []byte("0"))
			return err
		})
		if err != nil {
			t.Fatalf("PutMetaIfAbsent: %v", err)
		}
		if v, err := stores[1].GetMeta(ctx, "node"); err != nil || string(v) != "0" {
			t.Errorf("other node GetMeta = %q, %v; want \"0\"", v, err)
		}
	}
}

func TestMigrate(t *testing.T) {
	schema := newSchema(t)
	ctx := t.Context()
	opts := postgres.Options{Schema: schema}
	n, err := postgres.Migrate(ctx, testURL(), opts)
	if err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if want := migrationCount(t); n != want {
		t.Errorf("first Migrate applied %d, want %d", n, want)
	}
	if n, err = postgres.Migrate(ctx, testURL(), opts); err != nil || n != 0 {
		t.Errorf("second Migrate = %d, %v; want 0, nil", n, err)
	}
	if got, want := appliedMigrations(t, schema), migrationCount(t); got != want {
		t.Errorf("schema_migrations has %d rows, want %d", got, want)
	}
	// Nothing leaked into public.
	var leaked int
	err = adminDB(t).QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('customers', 'schema_migrations')`).Scan(&leaked)
	if err != nil {
		t.Fatal(err)
	}
	if leaked != 0 {
		t.Errorf("migrations created %d tables outside schema %s", leaked, schema)
	}
	st := openStore(t, opts)
	if err := sqlstore.CheckVersion(ctx, st.DB()); err != nil {
		t.Errorf("CheckVersion after Migrate and Open: %v", err)
	}
}

func TestSchemaTooNew(t *testing.T) {
	schema := newSchema(t)
	ctx := t.Context()
	if _, err := postgres.Migrate(ctx, testURL(), postgres.Options{Schema: schema}); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	newer := sqlstore.LatestVersion() + 1
	_, err := adminDB(t).ExecContext(ctx, `INSERT INTO `+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+` (version, name, applied_at) VALUES ($1, $2, $3)`,
		newer, fmt.Sprintf("%04d_future.sql", newer), time.Now().UnixMicro())
	if err != nil {
		t.Fatalf("insert future migration: %v", err)
	}
	st, err := postgres.Open(ctx, testURL(), postgres.Options{Schema: schema})
	if err == nil {
		st.Close()
		t.Fatal("Open succeeded on a schema newer than this binary")
	}
	var tooNew *sqlstore.SchemaTooNewError
	if !errors.As(err, &tooNew) {
		t.Fatalf("Open: %v, want a *sqlstore.SchemaTooNewError", err)
	}
	if tooNew.Have != newer || tooNew.Know != sqlstore.LatestVersion() {
		t.Errorf("SchemaTooNewError{Have: %d, Know: %d}, want {%d, %d}", tooNew.Have, tooNew.Know, newer, sqlstore.LatestVersion())
	}
	if _, err := postgres.Migrate(ctx, testURL(), postgres.Options{Schema: schema}); !errors.As(err, &tooNew) {
		t.Errorf("Migrate: %v, want a *sqlstore.SchemaTooNewError", err)
	}
}

// withParam adds a query parameter to a postgres:// URL.
func withParam(t testing.TB, raw, key, value string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		t.Skipf("GRIDD_TEST_POSTGRES_URL is not a URL; cannot add %s", key)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestSearchPathInURL(t *testing.T) {
	schema := newSchema(t)
	ctx := t.Context()
	// With search_path in the URL the schema must exist already; gridd only creates the one
	// named in Options.Schema.
	if _, err := adminDB(t).ExecContext(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	st, err := postgres.Open(ctx, withParam(t, testURL(), "search_path", schema), postgres.Options{})
	if err != nil {
		t.Fatalf("Open with search_path in the URL: %v", err)
	}
	defer st.Close()
	if got, want := appliedMigrations(t, schema), migrationCount(t); got != want {
		t.Errorf("schema_migrations in %s has %d rows, want %d", schema, got, want)
	}
}

func TestOptions(t *testing.T) {
	schema := newSchema(t)
	ctx := t.Context()
	show := func(st *sqlstore.Store, param string) string {
		t.Helper()
		var v string
		if err := st.DB().QueryRowContext(ctx, `SELECT current_setting($1)`, param).Scan(&v); err != nil {
			t.Fatalf("current_setting(%s): %v", param, err)
		}
		return v
	}

	st := openStore(t, postgres.Options{Schema: schema})
	if got := st.DB().Stats().MaxOpenConnections; got != postgres.DefaultMaxConns {
		t.Errorf("default MaxOpenConnections = %d, want %d", got, postgres.DefaultMaxConns)
	}
	if got := show(st, "statement_timeout"); got != "30s" {
		t.Errorf("default statement_timeout = %q, want 30s", got)
	}
	if got, want := show(st, "search_path"), (pgx.Identifier{schema}).Sanitize(); got != want {
		t.Errorf("search_path = %q, want %q", got, want)
	}

	st = openStore(t, postgres.Options{Schema: schema, MaxConns: 3, StatementTimeout: 150 * time.Millisecond})
	if got := st.DB().Stats().MaxOpenConnections; got != 3 {
		t.Errorf("MaxOpenConnections = %d, want 3", got)
	}
	if got := show(st, "statement_timeout"); got != "150ms" {
		t.Errorf("statement_timeout = %q, want 150ms", got)
	}
	// The timeout cancels a long statement, and that is not a reason to retry.
	err := st.WithTx(ctx, func(tx grid.Tx) error {
		_, err := st.DB().ExecContext(ctx, `SELECT pg_sleep(2)`)
		return err
	})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "57014" {
		t.Errorf("long statement: %v, want SQLSTATE 57014 (query_canceled)", err)
	}
	if errors.Is(err, grid.ErrRetry) {
		t.Errorf("statement timeout reported as ErrRetry: %v", err)
	}

	st = openStore(t, postgres.Options{Schema: schema, StatementTimeout: -1})
	if got := show(st, "statement_timeout"); got != "0" {
		t.Errorf("disabled statement_timeout = %q, want 0", got)
	}
	quoted := "Mixed Case-" + strings.TrimPrefix(schema, "t_")
	t.Cleanup(func() {
		adminDB(t).ExecContext(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{quoted}.Sanitize()+` CASCADE`)
	})
	st = openStore(t, postgres.Options{Schema: quoted})
	if err := sqlstore.CheckVersion(ctx, st.DB()); err != nil {
		t.Errorf("CheckVersion in a schema whose name needs quoting: %v", err)
	}
}

func TestDialect(t *testing.T) {
	wrap := func(e *pgconn.PgError) error { return fmt.Errorf("insert: %w", e) }
	if idx, ok := postgres.Dialect.UniqueViolation(wrap(&pgconn.PgError{Code: "23505", ConstraintName: "customers_uma_address"})); !ok || idx != "customers_uma_address" {
		t.Errorf("UniqueViolation(23505) = %q, %v; want customers_uma_address, true", idx, ok)
	}
	for _, err := range []error{nil, errors.New("x"), wrap(&pgconn.PgError{Code: "23503"}), wrap(&pgconn.PgError{Code: "40001"})} {
		if _, ok := postgres.Dialect.UniqueViolation(err); ok {
			t.Errorf("UniqueViolation(%v) = true", err)
		}
	}
	for code, want := range map[string]bool{
		"40001": true, "40P01": true, "55P03": true,
		"23505": false, "57014": false, "08006": false, "25P02": false, "40003": false,
	} {
		if got := postgres.Dialect.Retryable(wrap(&pgconn.PgError{Code: code})); got != want {
			t.Errorf("Retryable(%s) = %v, want %v", code, got, want)
		}
	}
	if postgres.Dialect.Retryable(errors.New("plain")) || postgres.Dialect.Retryable(nil) {
		t.Error("Retryable is true for an error without SQLSTATE")
	}
}

// TestDeadlockIsRetry checks end to end that a real deadlock between two WithTx calls comes
// back from one of them as grid.ErrRetry, and that the other commits.
func TestDeadlockIsRetry(t *testing.T) {
	st := openStore(t, postgres.Options{Schema: newSchema(t)})
	ctx := t.Context()
	aTaken, bTaken := make(chan struct{}), make(chan struct{})
	put := func(tx grid.Tx, key string) error {
		_, err := tx.PutMetaIfAbsent(ctx, key, []byte(key))
		return err
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		errs[0] = st.WithTx(ctx, func(tx grid.Tx) error {
			if err := put(tx, "a"); err != nil {
				return err
			}
			close(aTaken)
			<-bTaken
			return put(tx, "b")
		})
	})
	wg.Go(func() {
		errs[1] = st.WithTx(ctx, func(tx grid.Tx) error {
			<-aTaken
			if err := put(tx, "b"); err != nil {
				return err
			}
			close(bTaken)
			return put(tx, "a")
		})
	})
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if err == nil {
			continue
		}
		failed++
		// WithTx keeps only the text of the driver error next to ErrRetry.
		if !errors.Is(err, grid.ErrRetry) || !strings.Contains(err.Error(), "40P01") {
			t.Errorf("transaction %d: %v, want grid.ErrRetry caused by SQLSTATE 40P01", i, err)
		}
	}
	if failed != 1 {
		t.Errorf("%d of 2 deadlocked transactions failed, want 1: %v", failed, errs)
	}
}
