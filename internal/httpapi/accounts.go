package httpapi

import (
	"net/http"

	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/refdata"
)

type currencyJSON struct {
	Code     string `json:"code"`
	Name     string `json:"name,omitempty"`
	Decimals *int   `json:"decimals,omitempty"`
}

type currencyAmountJSON struct {
	Amount   int64        `json:"amount"`
	Currency currencyJSON `json:"currency"`
}

type internalAccountJSON struct {
	ID                         string             `json:"id"`
	CustomerID                 string             `json:"customerId"`
	Type                       string             `json:"type"`
	Status                     string             `json:"status"`
	Balance                    currencyAmountJSON `json:"balance"`
	TotalBalance               currencyAmountJSON `json:"totalBalance"`
	FundingPaymentInstructions []any              `json:"fundingPaymentInstructions"`
	CreatedAt                  string             `json:"createdAt"`
	UpdatedAt                  string             `json:"updatedAt"`
}

type internalAccountListJSON struct {
	Data       []*internalAccountJSON `json:"data"`
	HasMore    bool                   `json:"hasMore"`
	NextCursor string                 `json:"nextCursor,omitempty"`
	TotalCount int                    `json:"totalCount"`
}

func toCurrencyJSON(code string) currencyJSON {
	out := currencyJSON{Code: code}
	out.Name, _ = refdata.CurrencyName(code)
	if d, ok := refdata.MinorUnits(code); ok {
		out.Decimals = &d
	}
	return out
}

// toInternalAccountJSON is an internal account's wire form. gridd moves no money: the balance
// is the whole balance, and there are no funding instructions to give.
func toInternalAccountJSON(a *grid.InternalAccount) *internalAccountJSON {
	bal := currencyAmountJSON{Amount: a.Balance, Currency: toCurrencyJSON(a.Currency)}
	return &internalAccountJSON{
		ID: a.ID, CustomerID: a.CustomerID, Type: a.Type, Status: a.Status, Balance: bal, TotalBalance: bal,
		FundingPaymentInstructions: []any{}, CreatedAt: timestamp(a.CreatedAt), UpdatedAt: timestamp(a.UpdatedAt),
	}
}

func (a *API) listInternalAccounts(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	if err := p.Require(grid.PermView); err != nil {
		return err
	}
	lq := listQuery{q: r.URL.Query()}
	f := grid.InternalAccountFilter{
		CustomerID: lq.q.Get("customerId"),
		Currency:   lq.q.Get("currency"),
		Type:       lq.enum("type", grid.AccountTypes),
		AfterID:    lq.cursor(),
		Limit:      lq.limit(),
	}
	if err := lq.fe.Err(); err != nil {
		return err
	}
	page, err := a.svc.ListInternalAccounts(r.Context(), p, f)
	if err != nil {
		return err
	}
	out := internalAccountListJSON{Data: make([]*internalAccountJSON, len(page.Accounts)), HasMore: page.HasMore, TotalCount: page.TotalCount}
	for i, acc := range page.Accounts {
		out.Data[i] = toInternalAccountJSON(acc)
	}
	if page.HasMore {
		out.NextCursor = encodeCursor(page.Accounts[len(page.Accounts)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
