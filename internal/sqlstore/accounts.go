package sqlstore

import (
	"context"
	"fmt"

	"github.com/gridd/gridd/internal/grid"
)

const accountCols = `id, platform_id, customer_id, currency, account_type, status, balance, created_at, updated_at`

func scanAccount(sc interface{ Scan(...any) error }) (*grid.InternalAccount, error) {
	var a grid.InternalAccount
	var created, updated int64
	if err := sc.Scan(&a.ID, &a.PlatformID, &a.CustomerID, &a.Currency, &a.Type, &a.Status, &a.Balance, &created, &updated); err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &a, nil
}

func accountArgs(a *grid.InternalAccount) []any {
	return []any{a.ID, a.PlatformID, a.CustomerID, a.Currency, a.Type, a.Status, a.Balance, micros(a.CreatedAt), micros(a.UpdatedAt)}
}

func (r reader) ListInternalAccounts(ctx context.Context, platformID string, f grid.InternalAccountFilter) (grid.InternalAccountPage, error) {
	w := where{args: []any{platformID}}
	w.add("platform_id = $?")
	if f.CustomerID != "" {
		w.add("customer_id = $?", f.CustomerID)
	}
	if f.Currency != "" {
		w.add("currency = $?", f.Currency)
	}
	if f.Type != "" {
		w.add("account_type = $?", f.Type)
	}
	var page grid.InternalAccountPage
	if err := r.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM internal_accounts WHERE `+w.sql(), w.args...).Scan(&page.TotalCount); err != nil {
		return page, fmt.Errorf("count internal accounts: %w", err)
	}
	if f.AfterID != "" {
		w.add("id > $?", f.AfterID)
	}
	var err error
	page.Accounts, page.HasMore, err = keysetPage(ctx, r.q, "list internal accounts", `SELECT `+accountCols+` FROM internal_accounts`, w, f.Limit, scanAccount)
	return page, err
}

func (t *tx) InsertInternalAccount(ctx context.Context, a *grid.InternalAccount) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO internal_accounts (`+accountCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, accountArgs(a)...)
	if _, dup := t.d.UniqueViolation(err); dup {
		return &grid.DuplicateError{Key: grid.KeyInternalAccount}
	}
	if err != nil {
		return fmt.Errorf("insert internal account of %s: %w", a.CustomerID, err)
	}
	return nil
}

func (t *tx) UpdateInternalAccount(ctx context.Context, a *grid.InternalAccount) error {
	res, err := t.q.ExecContext(ctx, `UPDATE internal_accounts SET customer_id = $3, currency = $4, account_type = $5, status = $6, balance = $7, created_at = $8, updated_at = $9 WHERE id = $1 AND platform_id = $2`, accountArgs(a)...)
	if err != nil {
		return fmt.Errorf("update internal account %s: %w", a.ID, err)
	}
	return mustAffect(res, "internal account "+a.ID)
}
