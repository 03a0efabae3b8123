// Package pgtest gives tests their PostgreSQL: the URL of the test database and fresh schemas
// that are dropped afterwards. Where PostgreSQL cannot be reached a test fails in CI (CI set,
// or GRIDD_REQUIRE_POSTGRES=1) and is skipped elsewhere, with a message saying why.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// DefaultURL is the test database: GRIDD_TEST_POSTGRES_URL, or the local server.
func DefaultURL() string {
	if u := os.Getenv("GRIDD_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// Redacted hides a password in a URL for messages.
func Redacted(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return raw
}

// admin connects once per test binary, without a schema, to create and drop test schemas.
var admin = sync.OnceValues(func() (*sql.DB, error) {
	db, err := sql.Open("pgx", DefaultURL())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
})

// Admin returns a connection to the test database, or fails or skips the test when there is
// none.
func Admin(t testing.TB) *sql.DB {
	t.Helper()
	db, err := admin()
	if err == nil {
		return db
	}
	if os.Getenv("CI") != "" || os.Getenv("GRIDD_REQUIRE_POSTGRES") == "1" {
		t.Fatalf("PostgreSQL not reachable at %s: %v", Redacted(DefaultURL()), err)
	}
	t.Skipf("PostgreSQL not reachable at %s (%v); set GRIDD_TEST_POSTGRES_URL", Redacted(DefaultURL()), err)
	return nil
}

// URL returns the test database's URL once it is known to answer.
func URL(t testing.TB) string {
	t.Helper()
	Admin(t)
	return DefaultURL()
}

// Schema returns a fresh schema name starting with prefix; the schema, with everything in it,
// is dropped when the test ends.
func Schema(t testing.TB, prefix string) string {
	t.Helper()
	db := Admin(t)
	b := make([]byte, 8)
	rand.Read(b)
	schema := prefix + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}
