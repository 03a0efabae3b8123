// Package sqlite opens the embedded default store: a SQLite file through the pure-Go
// modernc.org/sqlite driver (no cgo, so gridd stays one static binary).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/gridd/gridd/internal/sqlstore"
)

// Dialect recognises SQLite's unique violations and busy errors by their result codes.
var Dialect = sqlstore.Dialect{
	Name: "sqlite",
	UniqueViolation: func(err error) (string, bool) {
		var e *sqlite.Error
		if errors.As(err, &e) && (e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
			return "", true
		}
		return "", false
	},
	Retryable: func(err error) bool {
		var e *sqlite.Error
		return errors.As(err, &e) && (e.Code()&0xff == sqlite3.SQLITE_BUSY || e.Code()&0xff == sqlite3.SQLITE_LOCKED)
	},
}

// dsn builds the connection string. WAL with synchronous=FULL makes every commit durable
// across a power cut before it returns; IMMEDIATE transactions take the write lock up front
// so that two writers never deadlock on a lock upgrade.
//
// The writer's two other settings are for speed and leave durability as it is (see
// docs/PERFORMANCE.md): temp_store=MEMORY keeps the savepoint journal of group commit in
// memory instead of a temporary file written on every change (it is only ever needed to roll
// one change back, never for recovery), and a checkpoint every 10,000 WAL pages (about
// 40 MiB) instead of 1,000 copies a page that many commits change back to the database once
// rather than many times. A larger page cache was measured too: it cost twice its size in
// memory for little speed, and is left at SQLite's default.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
		q.Add("_pragma", "temp_store(MEMORY)")
		q.Add("_pragma", "wal_autocheckpoint(10000)")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the SQLite database at path, applies pending migrations and
// returns the store: one writer connection and a pool of readers.
func Open(ctx context.Context, path string) (*sqlstore.Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: create data directory: %w", err)
		}
	}
	// Commit with fdatasync, as SQLite's own Linux builds do: it syncs the data and the size
	// a read needs, not the timestamps, so a commit is as durable and often faster. Where the
	// call is unavailable the setting stays fsync.
	sqlite.Fdatasync(true)
	write, err := openDB(dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// SQLite has one writer at a time; one connection makes Go queue writers instead of
	// having them spin on SQLITE_BUSY.
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, err
	}
	read, err := openDB(dsn(path, true))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open readers %s: %w", path, err)
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxLifetime(0)
	counter, err := openChangeCounter(path)
	if err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	st := sqlstore.New(write, read, Dialect)
	gc := newGroupCommitter(write)
	st.Begin = gc.run
	st.OnClose = func() {
		gc.close()
		if counter != nil {
			counter.close()
		}
	}
	if counter != nil {
		st.Changes = counter
	}
	return st, nil
}

// openDB returns a handle whose connections keep their statements prepared (stmtcache.go).
func openDB(dsn string) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(cachingConnector{c}), nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	defer conn.Close()
	// A migration that builds an index sorts every row; with the writer's temp_store=MEMORY
	// the sort of a million customers would hold a few hundred MiB. Sort on disk instead.
	if _, err := conn.ExecContext(ctx, `PRAGMA temp_store = FILE`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if _, err := sqlstore.Migrate(ctx, conn); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA temp_store = MEMORY`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}
