package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

// ContactCodes checks GetContactCode and SaveContactCode: round trips, scoping to the
// platform, compare-and-set on the version, and that concurrent read-modify-write cycles
// lose no update.
func ContactCodes(t *testing.T, st grid.Store) {
	t.Run("RoundTrip", func(t *testing.T) { contactCodeRoundTrip(t, st) })
	t.Run("Concurrent", func(t *testing.T) { concurrentContactCodes(t, st) })
}

func contactCodeRoundTrip(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	p, other := newPlatform(base), newPlatform(base)
	insertPlatforms(t, st, p, other)
	c := newCustomer(p.ID, base)
	insertCustomers(t, st, c)

	get := func(platformID, channel string) (*grid.ContactCode, error) {
		return st.GetContactCode(ctx, platformID, c.ID, channel)
	}
	save := func(code *grid.ContactCode, prev int64) error {
		return withTx(ctx, st, func(tx grid.Tx) error { return tx.SaveContactCode(ctx, code, prev) })
	}

	_, err := get(p.ID, grid.ChannelEmail)
	wantNotFound(t, "a code never sent", err)

	email := newContactCode(c, grid.ChannelEmail, base)
	if err := save(email, 0); err != nil {
		t.Fatalf("insert: %v", err)
	}
	got, err := get(p.ID, grid.ChannelEmail)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	checkEqual(t, "the inserted code", email, got)
	_, err = get(other.ID, grid.ChannelEmail)
	wantNotFound(t, "another platform's read", err)
	_, err = get(p.ID, grid.ChannelPhone)
	wantNotFound(t, "the other channel", err)

	// Inserting again fails without spoiling the transaction.
	phone := newContactCode(c, grid.ChannelPhone, base)
	err = withTx(ctx, st, func(tx grid.Tx) error {
		dup := newContactCode(c, grid.ChannelEmail, base.Add(time.Second))
		if err := tx.SaveContactCode(ctx, dup, 0); !errors.Is(err, grid.ErrNotFound) {
			return fmt.Errorf("second insert: got %v, want grid.ErrNotFound", err)
		}
		return tx.SaveContactCode(ctx, phone, 0)
	})
	if err != nil {
		t.Fatalf("transaction after a refused insert: %v", err)
	}
	checkEqual(t, "the first code after a refused insert", email, mustGetCode(t, st, p.ID, c.ID, grid.ChannelEmail))
	checkEqual(t, "the code of the other channel", phone, mustGetCode(t, st, p.ID, c.ID, grid.ChannelPhone))

	// An update applies at the stored version only.
	used := *email
	used.CodeHash, used.Attempts, used.Version, used.UpdatedAt = nil, 0, 2, base.Add(time.Minute)
	stale := used
	stale.Attempts = 4
	if err := save(&stale, 5); !errors.Is(err, grid.ErrNotFound) {
		t.Errorf("update at a wrong version: got %v, want grid.ErrNotFound", err)
	}
	wrongPlatform := used
	wrongPlatform.PlatformID = other.ID
	if err := save(&wrongPlatform, 1); !errors.Is(err, grid.ErrNotFound) {
		t.Errorf("update through another platform: got %v, want grid.ErrNotFound", err)
	}
	checkEqual(t, "the code after refused updates", email, mustGetCode(t, st, p.ID, c.ID, grid.ChannelEmail))
	if err := save(&used, 1); err != nil {
		t.Fatalf("update: %v", err)
	}
	checkEqual(t, "a used code (no hash)", &used, mustGetCode(t, st, p.ID, c.ID, grid.ChannelEmail))

	// A failed transaction leaves the row as it was.
	boom := errors.New("boom")
	err = withTx(ctx, st, func(tx grid.Tx) error {
		next := used
		next.Version, next.Attempts = 3, 1
		if err := tx.SaveContactCode(ctx, &next, 2); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("rolled back transaction: got %v, want boom", err)
	}
	checkEqual(t, "the code after a rollback", &used, mustGetCode(t, st, p.ID, c.ID, grid.ChannelEmail))
}

// concurrentContactCodes runs read-modify-write cycles on one row from many goroutines: with
// compare-and-set and retries, every increment must land.
func concurrentContactCodes(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	p := newPlatform(base)
	insertPlatforms(t, st, p)
	c := newCustomer(p.ID, base)
	insertCustomers(t, st, c)
	if err := withTx(ctx, st, func(tx grid.Tx) error {
		return tx.SaveContactCode(ctx, newContactCode(c, grid.ChannelPhone, base), 0)
	}); err != nil {
		t.Fatal(err)
	}

	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = incrementAttempts(ctx, st, p.ID, c.ID)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("increment %d: %v", i, err)
		}
	}
	first := newContactCode(c, grid.ChannelPhone, base)
	got := mustGetCode(t, st, p.ID, c.ID, grid.ChannelPhone)
	if got.Attempts != first.Attempts+n || got.Version != first.Version+n {
		t.Errorf("after %d increments: attempts %d, version %d; want %d and %d", n, got.Attempts, got.Version, first.Attempts+n, first.Version+n)
	}
}

// incrementAttempts adds one to a phone code's attempts the way the service does: read, then
// compare-and-set, again from the read when another writer came first.
func incrementAttempts(ctx context.Context, st grid.Store, platformID, customerID string) error {
	for range 200 {
		err := withTx(ctx, st, func(tx grid.Tx) error {
			cur, err := tx.GetContactCode(ctx, platformID, customerID, grid.ChannelPhone)
			if err != nil {
				return err
			}
			next := *cur
			next.Attempts, next.Version = cur.Attempts+1, cur.Version+1
			return tx.SaveContactCode(ctx, &next, cur.Version)
		})
		if !errors.Is(err, grid.ErrNotFound) {
			return err
		}
		time.Sleep(time.Millisecond)
	}
	return errors.New("no increment landed after 200 tries")
}

func newContactCode(c *grid.Customer, channel string, at time.Time) *grid.ContactCode {
	return &grid.ContactCode{
		PlatformID: c.PlatformID, CustomerID: c.ID, Channel: channel,
		CodeHash:        bytes.Repeat([]byte{0xc0}, 32),
		DestinationHash: bytes.Repeat([]byte{0xde}, 32),
		ExpiresAt:       at.Add(10 * time.Minute),
		Attempts:        2,
		WindowStart:     at.Add(-time.Minute),
		Sends:           3,
		Version:         1,
		UpdatedAt:       at,
	}
}

func mustGetCode(t testing.TB, st grid.Store, platformID, customerID, channel string) *grid.ContactCode {
	t.Helper()
	got, err := st.GetContactCode(t.Context(), platformID, customerID, channel)
	if err != nil {
		t.Fatalf("GetContactCode(%s): %v", channel, err)
	}
	return got
}
