package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// cacheDB opens a one-connection handle through the statement cache on a fresh file with a
// small table.
func cacheDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := openDB(dsn(filepath.Join(t.TempDir(), "cache.db"), false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		if _, err := db.Exec(`INSERT INTO t (id, name) VALUES ($1, $2)`, i, fmt.Sprintf("n%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// cached returns how many statements the handle's one connection keeps prepared.
func cached(t *testing.T, db *sql.DB) int {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n := -1
	if err := conn.Raw(func(dc any) error {
		c, ok := dc.(*cachingConn)
		if !ok {
			return fmt.Errorf("driver connection is %T, not *cachingConn", dc)
		}
		n = len(c.stmts)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStmtCacheReusesStatements(t *testing.T) {
	db := cacheDB(t)
	before := cached(t, db)
	for i := 1; i <= 5; i++ {
		var name string
		if err := db.QueryRow(`SELECT name FROM t WHERE id = $1`, i).Scan(&name); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("n%d", i); name != want {
			t.Errorf("id %d: name %q, want %q", i, name, want)
		}
	}
	if got := cached(t, db); got != before+1 {
		t.Errorf("statements cached after five runs of one query: %d, want %d", got, before+1)
	}
}

// The same statement run again while its rows are still open (one connection, as in a
// transaction) must not disturb the first run.
func TestStmtCacheNestedSameQuery(t *testing.T) {
	db := cacheDB(t)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	const q = `SELECT id, name FROM t WHERE id >= $1 ORDER BY id`
	rows, err := tx.Query(q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var outer []int
	for rows.Next() {
		var id int
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		outer = append(outer, id)
		inner, err := tx.Query(q, id)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for inner.Next() {
			n++
		}
		if err := inner.Close(); err != nil {
			t.Fatal(err)
		}
		if want := 6 - id; n != want {
			t.Errorf("inner run from %d: %d rows, want %d", id, n, want)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if fmt.Sprint(outer) != "[1 2 3 4 5]" {
		t.Errorf("outer run: %v, want [1 2 3 4 5]", outer)
	}
}

// A failed run leaves the statement usable for the next one.
func TestStmtCacheAfterError(t *testing.T) {
	db := cacheDB(t)
	const ins = `INSERT INTO t (id, name) VALUES ($1, $2)`
	if _, err := db.Exec(ins, 6, "n1"); err == nil {
		t.Fatal("duplicate name inserted")
	}
	if _, err := db.Exec(ins, 6, "n6"); err != nil {
		t.Fatalf("insert after a failed insert: %v", err)
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 6 {
		t.Fatalf("count: %d, %v; want 6", n, err)
	}
	if _, err := db.Exec(`SELECT nope FROM t`); err == nil {
		t.Fatal("a bad statement ran")
	}
}

// More distinct statements than the cache holds: the oldest give way, results stay right.
func TestStmtCacheBounded(t *testing.T) {
	db := cacheDB(t)
	for i := 0; i < stmtCacheSize+50; i++ {
		var n int
		if err := db.QueryRow(fmt.Sprintf(`SELECT COUNT(*) + %d FROM t`, i)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 5+i {
			t.Fatalf("query %d: %d, want %d", i, n, 5+i)
		}
	}
	if got := cached(t, db); got > stmtCacheSize {
		t.Errorf("%d statements cached, bound %d", got, stmtCacheSize)
	}
	// Scripts are run, not kept.
	if _, err := db.Exec(`UPDATE t SET name = name; UPDATE t SET name = name`); err != nil {
		t.Fatal(err)
	}
}
