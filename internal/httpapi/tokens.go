package httpapi

import (
	"net/http"

	"github.com/gridd/gridd/internal/grid"
)

type tokenRequest struct {
	Name        *string   `json:"name"`
	Permissions *[]string `json:"permissions"`
}

type tokenJSON struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	Permissions  []string `json:"permissions"`
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"clientSecret,omitempty"`
	CreatedAt    string   `json:"createdAt"`
	UpdatedAt    string   `json:"updatedAt"`
}

type tokenListJSON struct {
	Data       []*tokenJSON `json:"data"`
	HasMore    bool         `json:"hasMore"`
	NextCursor string       `json:"nextCursor,omitempty"`
	TotalCount int          `json:"totalCount"`
}

func toTokenJSON(t *grid.Token) *tokenJSON {
	perms := make([]string, len(t.Permissions))
	for i, p := range t.Permissions {
		perms[i] = string(p)
	}
	return &tokenJSON{ID: t.ID, Name: t.Name, Permissions: perms, ClientID: t.ClientID, CreatedAt: timestamp(t.CreatedAt), UpdatedAt: timestamp(t.UpdatedAt)}
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	if err := p.Require(grid.PermManage); err != nil {
		return err
	}
	var req tokenRequest
	if _, err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	var fe grid.FieldErrors
	if req.Name == nil {
		fe.Add("name", "is required")
	}
	if req.Permissions == nil {
		fe.Add("permissions", "is required")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	perms := make([]grid.Permission, len(*req.Permissions))
	for i, s := range *req.Permissions {
		perms[i] = grid.Permission(s)
	}
	t, secret, err := a.svc.CreateToken(r.Context(), p, *req.Name, perms)
	if err != nil {
		return err
	}
	out := toTokenJSON(t)
	out.ClientSecret = secret
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	lq := listQuery{q: r.URL.Query()}
	f := grid.TokenFilter{Name: lq.q.Get("name"), Created: lq.timeRange("created"), Updated: lq.timeRange("updated"), AfterID: lq.cursor(), Limit: lq.limit()}
	if err := lq.fe.Err(); err != nil {
		return err
	}
	page, err := a.svc.ListTokens(r.Context(), p, f)
	if err != nil {
		return err
	}
	out := tokenListJSON{Data: make([]*tokenJSON, len(page.Tokens)), HasMore: page.HasMore, TotalCount: page.TotalCount}
	for i, t := range page.Tokens {
		out.Data[i] = toTokenJSON(t)
	}
	if page.HasMore {
		out.NextCursor = encodeCursor(page.Tokens[len(page.Tokens)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) getToken(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	t, err := a.svc.GetToken(r.Context(), p, r.PathValue("tokenId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toTokenJSON(t))
	return nil
}

func (a *API) deleteToken(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	if err := a.svc.DeleteToken(r.Context(), p, r.PathValue("tokenId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
