//go:build unix

package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// Two opens of one database, as two processes would, share the change counter through the
// file's memory map.
func TestChangeCounterShared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gridd.db")
	a, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ca, cb := a.CustomerChanges(), b.CustomerChanges()
	if ca == nil || cb == nil {
		t.Fatal("no change counter on SQLite")
	}
	start := ca.Load()
	if got := cb.Add(); got != start+1 {
		t.Fatalf("Add = %d, want %d", got, start+1)
	}
	if got := ca.Load(); got != start+1 {
		t.Errorf("the other open sees %d, want %d", got, start+1)
	}
	b.Close()
	// A counter that already exists keeps its value when opened again.
	c, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.CustomerChanges().Load(); got != start+1 {
		t.Errorf("reopened counter = %d, want %d", got, start+1)
	}
}
