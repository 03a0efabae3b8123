package httpapi

import (
	"net/http"
	"path"

	"github.com/gridd/gridd/internal/grid"
)

type customerListJSON struct {
	Data       []*customerJSON `json:"data"`
	HasMore    bool            `json:"hasMore"`
	NextCursor string          `json:"nextCursor,omitempty"`
	TotalCount *int            `json:"totalCount,omitempty"`
}

type endUserTermsJSON struct {
	Version string `json:"version"`
	URL     string `json:"url"`
}

type statusChangeJSON struct {
	ID     string `json:"id"`
	From   string `json:"from,omitempty"`
	To     string `json:"to"`
	Reason string `json:"reason"`
	Actor  string `json:"actor"`
	At     string `json:"at"`
}

type statusHistoryJSON struct {
	Data []statusChangeJSON `json:"data"`
}

func (a *API) listCustomers(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	if err := p.Require(grid.PermView); err != nil {
		return err
	}
	lq := listQuery{q: r.URL.Query()}
	f := grid.CustomerFilter{
		PlatformCustomerID: lq.q.Get("platformCustomerId"),
		Type:               grid.CustomerType(lq.enum("customerType", grid.CustomerTypes())),
		Region:             lq.q.Get("region"),
		Currency:           lq.q.Get("currency"),
		UMAAddress:         lq.q.Get("umaAddress"),
		Created:            lq.timeRange("created"),
		Updated:            lq.timeRange("updated"),
		IncludeDeleted:     lq.boolean("isIncludingDeleted"),
		AfterID:            lq.cursor(),
		Limit:              lq.limit(),
	}
	if err := lq.fe.Err(); err != nil {
		return err
	}
	// The total is counted for the first page only, so a deep page costs what the first does.
	f.SkipCount = f.AfterID != ""
	page, err := a.svc.ListCustomers(r.Context(), p, f)
	if err != nil {
		return err
	}
	out := customerListJSON{Data: make([]*customerJSON, len(page.Customers)), HasMore: page.HasMore}
	if page.TotalCount >= 0 {
		out.TotalCount = &page.TotalCount
	}
	for i, c := range page.Customers {
		out.Data[i] = toCustomerJSON(c)
	}
	if page.HasMore {
		out.NextCursor = encodeCursor(page.Customers[len(page.Customers)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) updateCustomer(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	if err := p.Require(grid.PermManage); err != nil {
		return err
	}
	var req customerRequest
	if _, err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	c, err := a.svc.UpdateCustomer(r.Context(), p, r.PathValue("customerId"), req.toInput())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCustomerJSON(c))
	return nil
}

func (a *API) deleteCustomer(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	c, err := a.svc.DeleteCustomer(r.Context(), p, r.PathValue("customerId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCustomerJSON(c))
	return nil
}

func (a *API) getEndUserTerms(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	t, err := a.svc.EndUserTerms(p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, endUserTermsJSON{Version: t.Version, URL: t.URL})
	return nil
}

// customerSubPath carries every GET /customers/{customerId}/<name> route. A pattern with a
// literal last segment would conflict in the router with Grid's
// GET /customers/external-accounts/{externalAccountId} (both match
// /customers/external-accounts/status-history), so one wildcard route dispatches by name.
const customerSubPath = "/customers/{customerId}/{sub}"

// customerSubresources are the names served under customerSubPath.
var customerSubresources = map[string]bool{"status-history": true}

func (a *API) customerSubresource(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	switch r.PathValue("sub") {
	case "status-history":
		return a.customerStatusHistory(w, r, p)
	}
	return grid.Errorf(404, grid.CodeNotFound, "no such path: %s", r.URL.Path)
}

// routed reports whether a request reaches an operation: the router knows its pattern and,
// under customerSubPath, the sub-resource exists.
func (a *API) routed(r *http.Request) bool {
	_, pattern := a.mux.Handler(r)
	if pattern == http.MethodGet+" "+a.base+customerSubPath {
		return customerSubresources[path.Base(r.URL.Path)]
	}
	return pattern != ""
}

// customerStatusHistory serves GET /customers/{customerId}/status-history, a gridd extension
// that shows operators a customer's verification history.
func (a *API) customerStatusHistory(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	hist, err := a.svc.CustomerStatusHistory(r.Context(), p, r.PathValue("customerId"))
	if err != nil {
		return err
	}
	out := statusHistoryJSON{Data: make([]statusChangeJSON, len(hist))}
	for i, h := range hist {
		out.Data[i] = statusChangeJSON{ID: h.ID, From: string(h.From), To: string(h.To), Reason: h.Reason, Actor: h.Actor, At: timestamp(h.At)}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
