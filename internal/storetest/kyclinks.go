package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

// KycLinks checks the hosted KYC link methods: InsertKycLink and GetKycLinkByTokenHash round
// trips, a duplicate token hash, and ConsumeKycLink's compare-and-set, alone, scoped to the
// platform, and under concurrent consumers.
func KycLinks(t *testing.T, st grid.Store) {
	t.Run("RoundTrip", func(t *testing.T) { kycLinkRoundTrip(t, st) })
	t.Run("ConcurrentConsume", func(t *testing.T) { kycLinkConcurrentConsume(t, st) })
}

func newKycLink(c *grid.Customer, token string, at time.Time) *grid.KycLink {
	return &grid.KycLink{
		ID: grid.NewID("KycLink"), PlatformID: c.PlatformID, CustomerID: c.ID, TokenHash: grid.HashKycToken(token),
		RedirectURI: "https://app.example.com/onboarding/done?step=2", CreatedBy: grid.NewID("Token"),
		CreatedAt: at, ExpiresAt: at.Add(grid.KycLinkTTL),
	}
}

func getKycLink(t testing.TB, st grid.Store, token string) *grid.KycLink {
	t.Helper()
	l, err := st.GetKycLinkByTokenHash(t.Context(), grid.HashKycToken(token))
	if err != nil {
		t.Fatalf("GetKycLinkByTokenHash: %v", err)
	}
	return l
}

func kycLinkRoundTrip(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	p, other := newPlatform(base), newPlatform(base)
	insertPlatforms(t, st, p, other)
	c := newCustomer(p.ID, base)
	insertCustomers(t, st, c)

	_, err := st.GetKycLinkByTokenHash(ctx, grid.HashKycToken("never issued"))
	wantNotFound(t, "an unknown token", err)

	first, second := newKycLink(c, "token-1", base), newKycLink(c, "token-2", base.Add(time.Second))
	second.RedirectURI = ""
	mustTx(t, st, func(tx grid.Tx) error {
		if err := tx.InsertKycLink(ctx, first); err != nil {
			return err
		}
		// Read your own write inside the transaction.
		if _, err := tx.GetKycLinkByTokenHash(ctx, first.TokenHash); err != nil {
			return fmt.Errorf("read inside the transaction: %w", err)
		}
		return tx.InsertKycLink(ctx, second)
	})
	checkEqual(t, "the first link", first, getKycLink(t, st, "token-1"))
	checkEqual(t, "the second link", second, getKycLink(t, st, "token-2"))

	// A second link with the same token hash is refused, and nothing of it is kept.
	dup := newKycLink(c, "token-1", base)
	if err := withTx(ctx, st, func(tx grid.Tx) error { return tx.InsertKycLink(ctx, dup) }); err == nil {
		t.Errorf("InsertKycLink with a token hash already stored: got nil error")
	}
	checkEqual(t, "the first link after a refused duplicate", first, getKycLink(t, st, "token-1"))

	// Consuming is scoped to the platform and happens once.
	at := base.Add(time.Minute)
	err = withTx(ctx, st, func(tx grid.Tx) error { return tx.ConsumeKycLink(ctx, other.ID, first.ID, at, "Verification:x") })
	wantNotFound(t, "consuming another platform's link", err)
	err = withTx(ctx, st, func(tx grid.Tx) error {
		return tx.ConsumeKycLink(ctx, p.ID, grid.NewID("KycLink"), at, "Verification:x")
	})
	wantNotFound(t, "consuming an unknown link", err)
	mustTx(t, st, func(tx grid.Tx) error { return tx.ConsumeKycLink(ctx, p.ID, first.ID, at, "Verification:first") })
	want := *first
	want.ConsumedAt, want.VerificationID = &at, "Verification:first"
	checkEqual(t, "the consumed link", &want, getKycLink(t, st, "token-1"))

	// A second consumption fails and leaves the transaction usable.
	err = withTx(ctx, st, func(tx grid.Tx) error {
		if err := tx.ConsumeKycLink(ctx, p.ID, first.ID, at.Add(time.Second), "Verification:again"); !errors.Is(err, grid.ErrNotFound) {
			return fmt.Errorf("second consumption: got %v, want grid.ErrNotFound", err)
		}
		return tx.ConsumeKycLink(ctx, p.ID, second.ID, at, "Verification:second")
	})
	if err != nil {
		t.Fatalf("transaction after a refused consumption: %v", err)
	}
	checkEqual(t, "the link after a refused second consumption", &want, getKycLink(t, st, "token-1"))
	if l := getKycLink(t, st, "token-2"); l.ConsumedAt == nil || l.VerificationID != "Verification:second" {
		t.Errorf("second link after its consumption: %+v", l)
	}

	// A rolled back consumption leaves the link usable.
	third := newKycLink(c, "token-3", base)
	mustTx(t, st, func(tx grid.Tx) error { return tx.InsertKycLink(ctx, third) })
	errRollback := errors.New("roll back")
	err = withTx(ctx, st, func(tx grid.Tx) error {
		if err := tx.ConsumeKycLink(ctx, p.ID, third.ID, at, "Verification:undone"); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("rolled back consumption: %v", err)
	}
	checkEqual(t, "a link whose consumption rolled back", third, getKycLink(t, st, "token-3"))
}

// kycLinkConcurrentConsume consumes one link from many goroutines: exactly one succeeds.
func kycLinkConcurrentConsume(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	p := newPlatform(base)
	insertPlatforms(t, st, p)
	c := newCustomer(p.ID, base)
	insertCustomers(t, st, c)
	l := newKycLink(c, "contended", base)
	mustTx(t, st, func(tx grid.Tx) error { return tx.InsertKycLink(ctx, l) })

	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []string
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vid := fmt.Sprintf("Verification:%d", i)
			err := withTx(context.WithoutCancel(ctx), st, func(tx grid.Tx) error {
				return tx.ConsumeKycLink(ctx, p.ID, l.ID, base.Add(time.Duration(i)*time.Second), vid)
			})
			switch {
			case err == nil:
				mu.Lock()
				won = append(won, vid)
				mu.Unlock()
			case !errors.Is(err, grid.ErrNotFound):
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent consumption: %v", err)
	}
	if len(won) != 1 {
		t.Fatalf("%d consumptions succeeded (%v), want exactly 1", len(won), won)
	}
	if got := getKycLink(t, st, "contended"); got.VerificationID != won[0] {
		t.Errorf("stored verification = %q, want the winner's %q", got.VerificationID, won[0])
	}
}
