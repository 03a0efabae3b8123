package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gridd/gridd/internal/grid"
)

// hostedKycPath is where the hosted KYC/KYB flow is served, outside the API's base path and
// its authentication: {public URL}/hosted/kyc/{token}.
const hostedKycPath = "/hosted/kyc/"

type kycLinkRequest struct {
	RedirectURI *string `json:"redirectUri"`
}

type kycLinkJSON struct {
	KycURL    string `json:"kycUrl"`
	ExpiresAt string `json:"expiresAt"`
	Provider  string `json:"provider"`
}

// kycLinkRoutes registers POST /customers/{customerId}/kyc-link and the hosted flow it links
// to. The hosted pages hang off the router's root, not the base path, and carry no API
// credentials: the token in the path is the credential.
func (a *API) kycLinkRoutes() {
	a.handle("POST /customers/{customerId}/kyc-link", a.createKycLink)
	a.mux.Handle("GET "+hostedKycPath+"{token}", a.hosted(a.hostedKycGet))
	a.mux.Handle("POST "+hostedKycPath+"{token}", a.hosted(a.hostedKycPost))
	// Everything else under /hosted/ is an HTML 404 or 405, not the API's JSON.
	a.mux.Handle("/hosted/", a.hosted(a.hostedUnrouted))
}

// createKycLink serves POST /customers/{customerId}/kyc-link. The body is optional.
func (a *API) createKycLink(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	if err := p.Require(grid.PermManage); err != nil {
		return err
	}
	var req kycLinkRequest
	if err := decodeOptionalJSON(w, r, &req); err != nil {
		return err
	}
	l, token, err := a.svc.CreateKycLink(r.Context(), p, r.PathValue("customerId"), &grid.KycLinkInput{RedirectURI: req.RedirectURI})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, kycLinkJSON{
		KycURL:    a.publicBase(r) + hostedKycPath + token,
		ExpiresAt: timestamp(l.ExpiresAt),
		Provider:  grid.KycLinkProvider,
	})
	return nil
}

// decodeOptionalJSON decodes a JSON object like decodeJSON, but an empty body is an empty
// object.
func decodeOptionalJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	body, err := readBody(w, r, maxBodyBytes)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(body)) == "" {
		return nil
	}
	if ct := r.Header.Get("Content-Type"); ct == "" {
		return &grid.Error{Status: 415, Code: grid.CodeUnsupportedMediaType, Message: "the Content-Type header must be application/json"}
	} else if !isJSONType(ct) {
		return &grid.Error{Status: 415, Code: grid.CodeUnsupportedMediaType, Message: "the request body must be application/json"}
	}
	return decodeBytes(body, dst)
}

func isJSONType(ct string) bool {
	mt, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(ct)), ";")
	mt = strings.TrimSpace(mt)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// publicBase is the URL clients reach this server at, without a trailing slash: the
// configured public URL, else the scheme and Host of the request.
func (a *API) publicBase(r *http.Request) string {
	if a.publicURL != "" {
		return a.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// CheckPublicURL reports whether s can be the public URL of the server (Options.PublicURL):
// empty, or an absolute http(s) URL without query, fragment or credentials.
func CheckPublicURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("public URL %q must be an absolute http:// or https:// URL such as https://gridd.example.com, without query or credentials", s)
	}
	return nil
}
