package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gridd/gridd/internal/bench"
	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/seal"
	"github.com/gridd/gridd/internal/sqlite"
)

// listPlans are the statements ListCustomers runs for the benchmark's list operations and for
// each filter, in the form sqlstore builds them (the count, then the page of limit+1).
var listPlans = []struct{ name, where string }{
	{"first page", ""},
	{"customerType", " AND customer_type = $2"},
	{"region", " AND region = $2"},
	{"customerType + region", " AND customer_type = $2 AND region = $3"},
	{"currency", " AND id IN (SELECT customer_id FROM customer_currencies WHERE platform_id = $1 AND currency = $2)"},
	{"platformCustomerId", " AND platform_customer_id = $2"},
	{"umaAddress", " AND uma_address = $2"},
	{"createdAfter/Before", " AND created_at >= $2 AND created_at <= $3"},
	{"updatedAfter/Before", " AND updated_at >= $2 AND updated_at <= $3"},
}

// TestExplainListQueries prints SQLite's EXPLAIN QUERY PLAN for every list query. It runs on
// a small seeded database, or on the database named by GRIDD_EXPLAIN_DB (opened read-only),
// e.g. one filled by gridd seed. A page query that sorts instead of walking an index in id
// order is pointed out in the log.
func TestExplainListQueries(t *testing.T) {
	ctx := context.Background()
	var db *sql.DB
	if path := os.Getenv("GRIDD_EXPLAIN_DB"); path != "" {
		var err error
		db, err = sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
	} else {
		st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "gridd.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		box, _ := seal.New(seal.NewKey())
		svc := grid.NewService(st, box, nil)
		p, err := svc.CreatePlatform(ctx, grid.PlatformSpec{Name: "plan", UMADomain: "plan.gridd.local", Sandbox: true})
		if err != nil {
			t.Fatal(err)
		}
		cs := make([]*grid.Customer, 2000)
		for i := range cs {
			if cs[i], err = svc.PrepareCustomer(p, bench.Input(i, fmt.Sprintf("plan-%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.BulkInsertCustomers(ctx, cs); err != nil {
			t.Fatal(err)
		}
		db = st.DB()
	}
	const base = `FROM customers WHERE platform_id = $1 AND deleted_at IS NULL`
	for _, q := range listPlans {
		next := q.where
		if !strings.Contains(next, "id > ") {
			// The page after a cursor adds the keyset bound as the next placeholder.
			next += fmt.Sprintf(" AND id > $%d", placeholders(base+q.where)+1)
		}
		count := `SELECT COUNT(*) ` + base + q.where
		if q.where == "" {
			// Every active customer of the platform: the kept count answers.
			count = `SELECT CAST(COALESCE(SUM(active), 0) AS BIGINT) FROM customer_counts WHERE platform_id = $1`
		}
		for _, stmt := range []struct{ kind, sql string }{
			{"count", count},
			{"page", `SELECT ` + customerCols + ` ` + base + q.where + ` ORDER BY id LIMIT 21`},
			{"page after a cursor", `SELECT ` + customerCols + ` ` + base + next + ` ORDER BY id LIMIT 21`},
		} {
			plan := explain(t, db, stmt.sql)
			t.Logf("%s, %s:\n  %s\n%s", q.name, stmt.kind, strings.Replace(stmt.sql, customerCols, "...", 1), plan)
			if stmt.kind != "count" && strings.Contains(plan, "USE TEMP B-TREE FOR ORDER BY") {
				// Reported, not failed: the schema belongs to the list work; docs/PERFORMANCE.md
				// tracks it.
				t.Logf("NOTE: %s %s sorts every matching row: no index gives id order", q.name, stmt.kind)
			}
			if q.name == "customerType + region" && !strings.Contains(plan, "customers_by_region_type (platform_id=? AND region=? AND customer_type=?") {
				// Without it the count reads every customer of the region (migration 0009).
				t.Errorf("%s %s does not search customers_by_region_type on both columns", q.name, stmt.kind)
			}
		}
	}
}

// customerCols mirrors the columns sqlstore selects for a customer.
const customerCols = `id, platform_id, platform_customer_id, customer_type, region, uma_address, status, currencies, profile, sealed, created_at, updated_at, deleted_at`

// placeholders returns the highest $N in stmt.
func placeholders(stmt string) int {
	n := 0
	for i := 1; i <= 9; i++ {
		if strings.Contains(stmt, fmt.Sprintf("$%d", i)) {
			n = i
		}
	}
	return n
}

// explain returns the query plan of stmt, one indented line per step.
func explain(t *testing.T, db *sql.DB, stmt string) string {
	t.Helper()
	args := make([]any, placeholders(stmt))
	for i := range args {
		args[i] = "x"
	}
	rows, err := db.Query(`EXPLAIN QUERY PLAN `+stmt, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", stmt, err)
	}
	defer rows.Close()
	var b strings.Builder
	depth := map[int]int{}
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		depth[id] = depth[parent] + 1
		fmt.Fprintf(&b, "  %s%s\n", strings.Repeat("  ", depth[id]), detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
