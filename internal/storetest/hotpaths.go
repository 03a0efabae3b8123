package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

// HotPaths checks what the fast paths of reading and creating customers rely on: owners
// listed without their count, and a customer's currencies written in one statement and
// rewritten on update.
func HotPaths(t *testing.T, st grid.Store) {
	t.Run("OwnersWithoutCount", func(t *testing.T) { ownersWithoutCount(t, st) })
	t.Run("CurrenciesRoundTrip", func(t *testing.T) { currenciesRoundTrip(t, st) })
}

func ownersWithoutCount(t *testing.T, st grid.Store) {
	ctx := t.Context()
	p, _, biz, _ := kycFixture(t, st)
	base := now()
	var want []string
	mustTx(t, st, func(tx grid.Tx) error {
		for i := range 3 {
			o := newOwner(p, biz, base.Add(time.Duration(i)*time.Microsecond), "Lovelace")
			want = append(want, o.ID)
			if err := tx.InsertBeneficialOwner(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
	page, err := st.ListBeneficialOwners(ctx, p.ID, grid.OwnerFilter{CustomerID: biz.ID, SkipCount: true})
	if err != nil {
		t.Fatal(err)
	}
	if page.TotalCount != -1 {
		t.Errorf("TotalCount with SkipCount = %d, want -1", page.TotalCount)
	}
	var got []string
	for _, o := range page.Owners {
		got = append(got, o.ID)
	}
	checkEqual(t, "owners listed without a count", sortedIDs(want...), got)
}

func currenciesRoundTrip(t *testing.T, st grid.Store) {
	ctx := t.Context()
	base := now()
	p := newPlatform(base)
	insertPlatforms(t, st, p)
	c := newCustomer(p.ID, base)
	c.Currencies = []string{"USD", "EUR", "USDC"}
	insertCustomers(t, st, c)
	holders := func(currency string) []string {
		t.Helper()
		page, err := st.ListCustomers(ctx, p.ID, grid.CustomerFilter{Currency: currency, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range page.Customers {
			ids = append(ids, c.ID)
		}
		return ids
	}
	for _, cur := range c.Currencies {
		if got := holders(cur); !slices.Equal(got, []string{c.ID}) {
			t.Errorf("customers holding %s: %v, want [%s]", cur, got, c.ID)
		}
	}
	c.Currencies, c.UpdatedAt = []string{"EUR"}, base.Add(time.Second)
	mustTx(t, st, func(tx grid.Tx) error { return tx.UpdateCustomer(ctx, c) })
	if got := holders("USD"); len(got) != 0 {
		t.Errorf("customers holding USD after it was removed: %v", got)
	}
	if got := holders("EUR"); !slices.Equal(got, []string{c.ID}) {
		t.Errorf("customers holding EUR after the update: %v, want [%s]", got, c.ID)
	}
	c.Currencies, c.UpdatedAt = nil, base.Add(2*time.Second)
	mustTx(t, st, func(tx grid.Tx) error { return tx.UpdateCustomer(ctx, c) })
	if got := holders("EUR"); len(got) != 0 {
		t.Errorf("customers holding EUR with no currencies: %v", got)
	}
	got, err := st.GetCustomer(ctx, p.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Currencies) != 0 {
		t.Errorf("currencies after clearing: %v", got.Currencies)
	}
}
