package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/gridd/gridd/internal/grid"
)

// testReadModifyWrite checks that concurrent read-modify-write transactions on one customer
// lose no update: a customer read inside a transaction stays locked until it ends.
func testReadModifyWrite(t *testing.T, st grid.Store) {
	ctx := context.Background()
	at := now()
	p := newPlatform(at)
	insertPlatforms(t, st, p)
	c := newCustomer(p.ID, at)
	c.Profile.FullName = ""
	mustTx(t, st, func(tx grid.Tx) error { return tx.InsertCustomer(ctx, c) })

	const writers = 12
	var wg sync.WaitGroup
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := withTx(ctx, st, func(tx grid.Tx) error {
				cur, err := tx.GetCustomer(ctx, p.ID, c.ID)
				if err != nil {
					return err
				}
				cur.Profile.FullName += "x"
				return tx.UpdateCustomer(ctx, cur)
			})
			if err != nil {
				t.Errorf("read-modify-write: %v", err)
			}
		}()
	}
	wg.Wait()
	got, err := st.GetCustomer(ctx, p.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Profile.FullName) != writers {
		t.Errorf("after %d concurrent read-modify-writes the name has %d marks: updates were lost", writers, len(got.Profile.FullName))
	}
}
