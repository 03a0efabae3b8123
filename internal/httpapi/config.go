package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/gridd/gridd/internal/grid"
)

type configRequest struct {
	UMADomain       *string               `json:"umaDomain"`
	WebhookEndpoint *string               `json:"webhookEndpoint"`
	Currencies      *[]currencyConfigJSON `json:"supportedCurrencies"`
	EmbeddedWallet  json.RawMessage       `json:"embeddedWalletConfig"`
	CardTokenize2FA json.RawMessage       `json:"cardTokenization2faConfig"`
	FeeConfigs      json.RawMessage       `json:"feeConfigs"`
}

type currencyConfigJSON struct {
	CurrencyCode               string                  `json:"currencyCode"`
	MinAmount                  int64                   `json:"minAmount"`
	MaxAmount                  int64                   `json:"maxAmount"`
	RequiredCounterpartyFields []counterpartyFieldJSON `json:"requiredCounterpartyFields"`
	EnabledTransactionTypes    []string                `json:"enabledTransactionTypes"`
}

type counterpartyFieldJSON struct {
	Name      string `json:"name"`
	Mandatory bool   `json:"mandatory"`
}

type configJSON struct {
	ID                  string               `json:"id"`
	UMADomain           string               `json:"umaDomain"`
	WebhookEndpoint     string               `json:"webhookEndpoint,omitempty"`
	SupportedCurrencies []currencyConfigJSON `json:"supportedCurrencies"`
	Regulated           bool                 `json:"isRegulatedFinancialInstitution"`
	CreatedAt           string               `json:"createdAt"`
	UpdatedAt           string               `json:"updatedAt"`
}

func toConfigJSON(p *grid.Platform) *configJSON {
	out := &configJSON{ID: p.ID, UMADomain: p.UMADomain, WebhookEndpoint: p.Webhook, Regulated: p.Regulated,
		CreatedAt: timestamp(p.CreatedAt), UpdatedAt: timestamp(p.UpdatedAt), SupportedCurrencies: []currencyConfigJSON{}}
	for _, c := range p.Currencies {
		cc := currencyConfigJSON{CurrencyCode: c.Code, MinAmount: c.MinAmount, MaxAmount: c.MaxAmount,
			RequiredCounterpartyFields: []counterpartyFieldJSON{}, EnabledTransactionTypes: c.EnabledTransactionTypes}
		if cc.EnabledTransactionTypes == nil {
			cc.EnabledTransactionTypes = []string{}
		}
		for _, f := range c.RequiredCounterpartyFields {
			cc.RequiredCounterpartyFields = append(cc.RequiredCounterpartyFields, counterpartyFieldJSON(f))
		}
		out.SupportedCurrencies = append(out.SupportedCurrencies, cc)
	}
	return out
}

func (a *API) getConfig(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	pl, err := a.svc.GetConfig(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toConfigJSON(pl))
	return nil
}

func (a *API) updateConfig(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	if err := p.Require(grid.PermManage); err != nil {
		return err
	}
	var req configRequest
	if _, err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.EmbeddedWallet != nil || req.CardTokenize2FA != nil || req.FeeConfigs != nil {
		return grid.Errorf(501, grid.CodeNotImplemented, "embeddedWalletConfig, cardTokenization2faConfig and feeConfigs are not provided by this server")
	}
	u := grid.ConfigUpdate{UMADomain: req.UMADomain, Webhook: req.WebhookEndpoint}
	if req.Currencies != nil {
		cs := make([]grid.CurrencyConfig, len(*req.Currencies))
		for i, c := range *req.Currencies {
			cs[i] = grid.CurrencyConfig{Code: c.CurrencyCode, MinAmount: c.MinAmount, MaxAmount: c.MaxAmount, EnabledTransactionTypes: c.EnabledTransactionTypes}
			for _, f := range c.RequiredCounterpartyFields {
				cs[i].RequiredCounterpartyFields = append(cs[i].RequiredCounterpartyFields, grid.CounterpartyField(f))
			}
		}
		u.Currencies = &cs
	}
	pl, err := a.svc.UpdateConfig(r.Context(), p, u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toConfigJSON(pl))
	return nil
}
