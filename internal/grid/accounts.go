package grid

import (
	"context"
	"slices"
	"time"

	"github.com/gridd/gridd/internal/refdata"
)

// Internal account types and statuses.
const (
	AccountFiat   = "INTERNAL_FIAT"
	AccountCrypto = "INTERNAL_CRYPTO"
	// AccountEmbeddedWallet is part of the API; gridd never creates one.
	AccountEmbeddedWallet = "EMBEDDED_WALLET"

	AccountActive = "ACTIVE"
	AccountClosed = "CLOSED"
)

// KeyInternalAccount is the DuplicateError key of a second account of a customer in one
// currency.
const KeyInternalAccount = "internalAccount"

// AccountTypes lists the internal account types in wire order.
var AccountTypes = []string{AccountFiat, AccountCrypto, AccountEmbeddedWallet}

// InternalAccount is a holding account of a customer in one currency. One exists for every
// currency the customer has enabled; it is created with the customer (or when the currency is
// added) and closed, not removed, when the currency is taken away. gridd moves no money, so
// balances stay at zero.
type InternalAccount struct {
	ID         string // InternalAccount:<UUIDv7>
	PlatformID string
	CustomerID string
	Currency   string
	Type       string
	Status     string
	// Balance is in the smallest unit of the currency.
	Balance   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// InternalAccountFilter selects internal accounts for a list.
type InternalAccountFilter struct {
	CustomerID string
	Currency   string
	Type       string
	AfterID    string
	Limit      int
}

// InternalAccountPage is one page of internal accounts.
type InternalAccountPage struct {
	Accounts   []*InternalAccount
	HasMore    bool
	TotalCount int
}

// accountType is the type of a customer's holding account in a currency.
func accountType(currency string) string {
	if refdata.IsCrypto(currency) {
		return AccountCrypto
	}
	return AccountFiat
}

// syncInternalAccounts makes a customer's internal accounts match its currencies inside tx:
// one ACTIVE account per enabled currency, created when missing, reopened when the currency
// comes back; accounts of currencies no longer enabled are CLOSED. fresh says the customer was
// just created and has no account yet.
func (s *Service) syncInternalAccounts(ctx context.Context, tx Tx, c *Customer, fresh bool) error {
	var existing []*InternalAccount
	if !fresh {
		f := InternalAccountFilter{CustomerID: c.ID, Limit: MaxPageSize}
		for {
			page, err := tx.ListInternalAccounts(ctx, c.PlatformID, f)
			if err != nil {
				return err
			}
			existing = append(existing, page.Accounts...)
			if !page.HasMore || len(page.Accounts) == 0 {
				break
			}
			f.AfterID = page.Accounts[len(page.Accounts)-1].ID
		}
	}
	now := s.Now()
	have := map[string]bool{}
	for _, a := range existing {
		have[a.Currency] = true
		want := AccountClosed
		if slices.Contains(c.Currencies, a.Currency) {
			want = AccountActive
		}
		if a.Status != want {
			a.Status, a.UpdatedAt = want, now
			if err := tx.UpdateInternalAccount(ctx, a); err != nil {
				return err
			}
		}
	}
	for _, cur := range c.Currencies {
		if have[cur] {
			continue
		}
		have[cur] = true
		a := &InternalAccount{
			ID: NewID("InternalAccount"), PlatformID: c.PlatformID, CustomerID: c.ID, Currency: cur,
			Type: accountType(cur), Status: AccountActive, CreatedAt: now, UpdatedAt: now,
		}
		if err := tx.InsertInternalAccount(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// customerWritten brings what hangs off a customer up to date after the customer row was
// written in tx: its internal accounts, and, for a business, the beneficial owners its wire
// form shows. fresh says the customer was just created.
func (s *Service) customerWritten(ctx context.Context, tx Tx, c *Customer, fresh bool) error {
	if err := s.syncInternalAccounts(ctx, tx, c, fresh); err != nil {
		return err
	}
	if fresh {
		return nil
	}
	return s.loadOwners(ctx, tx, c)
}

// ListInternalAccounts returns one page of the internal accounts of the caller's platform's
// customers in id order. It needs VIEW.
func (s *Service) ListInternalAccounts(ctx context.Context, p *Principal, f InternalAccountFilter) (InternalAccountPage, error) {
	if err := p.Require(PermView); err != nil {
		return InternalAccountPage{}, err
	}
	f.Limit = clampPageSize(f.Limit)
	return s.store.ListInternalAccounts(ctx, p.Platform.ID, f)
}
