package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/sqlite"
	"github.com/gridd/gridd/internal/sqlstore"
	"github.com/gridd/gridd/internal/storetest"
)

func openAt(t testing.TB, path string) *sqlstore.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("sqlite.Open(%s): %v", path, err)
	}
	return st
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) grid.Store {
		st := openAt(t, filepath.Join(t.TempDir(), "gridd.db"))
		t.Cleanup(func() {
			if err := st.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return st
	})
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	// A directory that does not exist yet: Open creates it.
	path := filepath.Join(t.TempDir(), "data", "gridd.db")
	at := time.Now().UTC().Truncate(time.Microsecond)
	p := &grid.Platform{
		ID: grid.NewID("PlatformConfig"), Name: "Reopen", UMADomain: "pay.example.com",
		Currencies:          []grid.CurrencyConfig{{Code: "USD", MinAmount: 1, MaxAmount: 2}},
		ContactVerification: []string{"email"}, Sandbox: true, CreatedAt: at, UpdatedAt: at,
	}
	c := &grid.Customer{
		ID: grid.NewID("Customer"), PlatformID: p.ID, PlatformCustomerID: "pc-1", Type: grid.Individual,
		Region: "US", Currencies: []string{"USD"}, UMAAddress: "$ada@pay.example.com", Status: grid.StatusPending,
		Profile: grid.Profile{FullName: "Ada"}, Sealed: []byte("sealed"), CreatedAt: at, UpdatedAt: at,
	}

	st := openAt(t, path)
	if err := sqlstore.CheckVersion(ctx, st.DB()); err != nil {
		t.Fatalf("CheckVersion after first Open: %v", err)
	}
	err := st.WithTx(ctx, func(tx grid.Tx) error {
		if err := tx.InsertPlatform(ctx, p); err != nil {
			return err
		}
		if err := tx.InsertCustomer(ctx, c); err != nil {
			return err
		}
		_, err := tx.PutMetaIfAbsent(ctx, "instance", []byte("one"))
		return err
	})
	if err != nil {
		t.Fatalf("WithTx: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	st = openAt(t, path)
	defer st.Close()
	for _, db := range []struct {
		name string
		err  error
	}{{"write handle", sqlstore.CheckVersion(ctx, st.DB())}, {"read handle", sqlstore.CheckVersion(ctx, st.ReadDB())}} {
		if db.err != nil {
			t.Errorf("CheckVersion on the %s after reopening: %v", db.name, db.err)
		}
	}
	var n int
	if err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatalf("count migrations: %v", err)
	}
	ms, err := sqlstore.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if want := len(ms); n != want {
		t.Errorf("schema_migrations has %d rows after reopening, want %d (migrations applied again?)", n, want)
	}
	gotP, err := st.GetPlatform(ctx, p.ID)
	if err != nil {
		t.Fatalf("GetPlatform after reopen: %v", err)
	}
	if d := cmp.Diff(p, gotP); d != "" {
		t.Errorf("platform after reopen (-want +got):\n%s", d)
	}
	gotC, err := st.GetCustomer(ctx, p.ID, c.ID)
	if err != nil {
		t.Fatalf("GetCustomer after reopen: %v", err)
	}
	if d := cmp.Diff(c, gotC, cmpopts.IgnoreUnexported(grid.Customer{})); d != "" {
		t.Errorf("customer after reopen (-want +got):\n%s", d)
	}
	v, err := st.GetMeta(ctx, "instance")
	if err != nil || string(v) != "one" {
		t.Errorf("GetMeta after reopen = %q, %v; want \"one\"", v, err)
	}
}
