package httpapi

import (
	"net/http"

	"github.com/gridd/gridd/internal/grid"
)

// contactConfirmRequest is the body of POST /customers/{customerId}/verify-*/confirm.
type contactConfirmRequest struct {
	Code *string `json:"code"`
}

// contactRoutes registers the contact verification operations.
func (a *API) contactRoutes() {
	a.handle("POST /customers/{customerId}/verify-email", a.sendContactCode(grid.ChannelEmail))
	a.handle("POST /customers/{customerId}/verify-email/confirm", a.confirmContactCode(grid.ChannelEmail))
	a.handle("POST /customers/{customerId}/verify-phone", a.sendContactCode(grid.ChannelPhone))
	a.handle("POST /customers/{customerId}/verify-phone/confirm", a.confirmContactCode(grid.ChannelPhone))
}

// sendContactCode sends a new code to a channel and answers 204. A body, if any, is ignored.
func (a *API) sendContactCode(channel string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
		if err := a.svc.SendContactCode(r.Context(), p, r.PathValue("customerId"), channel); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// confirmContactCode checks a code and answers the customer with the channel verified.
func (a *API) confirmContactCode(channel string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
		if err := p.Require(grid.PermManage); err != nil {
			return err
		}
		var req contactConfirmRequest
		if _, err := decodeJSON(w, r, &req); err != nil {
			return err
		}
		code := ""
		if req.Code != nil {
			code = *req.Code
		}
		c, err := a.svc.ConfirmContactCode(r.Context(), p, r.PathValue("customerId"), channel, code)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, toCustomerJSON(c))
		return nil
	}
}
