// Package httpapi serves the Grid customer API over HTTP: routing, authentication, strict
// decoding, the mapping between wire and domain types, and the one error writer.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/gridd/gridd/internal/grid"
)

// Options configure the API.
type Options struct {
	// BasePath prefixes every route, e.g. "/grid/2025-10-13".
	BasePath string
	// OpenAPI is the project's own API document, served at {base}/openapi.yaml.
	OpenAPI []byte
	Logger  *slog.Logger
	// Webhooks signs and sends webhooks for the test webhook and serves the public key;
	// without it those two operations answer 501.
	Webhooks grid.WebhookSender
	// PublicURL is the URL clients reach the server at (scheme, host, optional path prefix),
	// from which hosted KYC links are built; empty means the scheme and Host of each request.
	PublicURL string
}

// API is the HTTP face of a grid.Service.
type API struct {
	svc  *grid.Service
	log  *slog.Logger
	base string
	mux  *http.ServeMux
	spec []byte
	// webhooks sends the test webhook (Options.Webhooks).
	webhooks grid.WebhookSender
	// uploads holds the patterns whose body is streamed, not read whole (handleUpload).
	uploads map[string]bool
	// publicURL is Options.PublicURL without a trailing slash.
	publicURL string
}

// handlerFunc is a handler that returns its error instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p *grid.Principal) error

// New returns the API's handler.
func New(svc *grid.Service, opts Options) *API {
	a := &API{svc: svc, log: opts.Logger, base: strings.TrimRight(opts.BasePath, "/"), mux: http.NewServeMux(), spec: opts.OpenAPI}
	if a.log == nil {
		a.log = slog.Default()
	}
	svc.SetRenderer(Render)
	a.webhooks = opts.Webhooks
	a.publicURL = strings.TrimRight(opts.PublicURL, "/")
	a.routes()
	return a
}

func (a *API) routes() {
	a.public("GET /openapi.yaml", a.serveSpec)

	a.handle("POST /customers", a.createCustomer)
	a.handle("GET /customers", a.listCustomers)
	a.handle("GET /customers/end-user-terms", a.getEndUserTerms)
	a.handle("GET /customers/{customerId}", a.getCustomer)
	a.handle("PATCH /customers/{customerId}", a.updateCustomer)
	a.handle("DELETE /customers/{customerId}", a.deleteCustomer)
	a.handle("GET "+customerSubPath, a.customerSubresource)
	a.bulkRoutes()
	a.contactRoutes()
	a.verificationRoutes()
	a.kycLinkRoutes()

	a.handle("POST /tokens", a.createToken)
	a.handle("GET /tokens", a.listTokens)
	a.handle("GET /tokens/{tokenId}", a.getToken)
	a.handle("DELETE /tokens/{tokenId}", a.deleteToken)

	a.handle("GET /config", a.getConfig)
	a.handle("PATCH /config", a.updateConfig)

	a.webhookRoutes()

	a.notImplemented()
}

// handle registers an authenticated route under the base path. POSTs honour an
// Idempotency-Key (see serve).
func (a *API) handle(pattern string, h handlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	a.mux.Handle(method+" "+a.base+path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.authenticate(r)
		if err == nil {
			err = a.serve(w, r, p, h)
		}
		if err != nil {
			a.writeError(w, r, err)
		}
	}))
}

// public registers a route that needs no credentials.
func (a *API) public(pattern string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	a.mux.Handle(method+" "+a.base+path, h)
}

func (a *API) authenticate(r *http.Request) (*grid.Principal, error) {
	user, secret, ok := r.BasicAuth()
	if !ok {
		return nil, grid.ErrUnauthorized
	}
	return a.svc.Authenticate(r.Context(), user, secret)
}

// ServeHTTP answers every request: a panic becomes a logged 500, and paths or methods the
// router does not know become the API's JSON 404 and 405 instead of plain text.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.log.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			a.writeError(w, r, fmt.Errorf("panic: %v", v))
		}
	}()
	if !a.routed(r) {
		a.unrouted(w, r)
		return
	}
	a.mux.ServeHTTP(w, r)
}

var probeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// unrouted answers a request no pattern matched: 405 with Allow when the path exists for
// other methods, else 404.
func (a *API) unrouted(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range probeMethods {
		probe := r.Clone(context.Background())
		probe.Method = m
		if a.routed(probe) {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		a.writeError(w, r, grid.Errorf(405, grid.CodeMethodNotAllowed, "%s is not allowed on this path; allowed: %s", r.Method, strings.Join(allow, ", ")))
		return
	}
	a.writeError(w, r, grid.Errorf(404, grid.CodeNotFound, "no such path: %s", r.URL.Path))
}

func (a *API) serveSpec(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.WriteHeader(http.StatusOK)
	w.Write(a.spec)
}

// notImplemented registers the Grid API operations this server does not provide, so that
// they answer the API's JSON 501 rather than a 404.
func (a *API) notImplemented() {
	for _, op := range unimplementedOps {
		method, path, _ := strings.Cut(op, " ")
		a.mux.HandleFunc(method+" "+a.base+path, func(w http.ResponseWriter, r *http.Request) {
			a.writeError(w, r, grid.Errorf(501, grid.CodeNotImplemented, "%s %s is part of the Grid API but is not provided by this server", method, path))
		})
	}
}
