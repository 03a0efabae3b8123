package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gridd/gridd/api"
	"github.com/gridd/gridd/internal/apitest"
	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/httpapi"
	"github.com/gridd/gridd/internal/seal"
	"github.com/gridd/gridd/internal/sqlite"
	"github.com/gridd/gridd/internal/sqlstore"
)

const base = "/grid/2025-10-13"

// env is a real server on loopback over a temporary SQLite file.
type env struct {
	t      testing.TB
	srv    *httptest.Server
	svc    *grid.Service
	store  *sqlstore.Store
	dbPath string
}

// cred is a token's Basic credentials.
type cred struct{ id, secret string }

func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "gridd.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	box, err := seal.New(seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	svc := grid.NewService(st, box, nil)
	// As gridd serve does: every test that reads a customer after changing it checks that
	// the change reached the cache.
	if !svc.EnableCustomerCache(1000) {
		t.Fatal("no customer cache on SQLite")
	}
	h := httpapi.New(svc, httpapi.Options{BasePath: base, OpenAPI: api.OpenAPI})
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); st.Close() })
	return &env{t: t, srv: srv, svc: svc, store: st, dbPath: path}
}

// platform creates a platform and a token with the given permissions on it.
func (e *env) platform(spec grid.PlatformSpec, perms ...grid.Permission) (*grid.Platform, cred) {
	e.t.Helper()
	p, err := e.svc.CreatePlatform(context.Background(), spec)
	if err != nil {
		e.t.Fatalf("create platform: %v", err)
	}
	if len(perms) == 0 {
		perms = grid.AllPermissions
	}
	return p, e.token(p, perms...)
}

func (e *env) token(p *grid.Platform, perms ...grid.Permission) cred {
	e.t.Helper()
	tok, secret, err := e.svc.IssueToken(context.Background(), p.ID, grid.NewTokenSpec{Name: "test", Permissions: perms})
	if err != nil {
		e.t.Fatalf("issue token: %v", err)
	}
	return cred{tok.ClientID, secret}
}

// resp is a decoded response.
type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends a JSON request and checks the response against the project's document and the
// public Grid document.
func (e *env) do(c *cred, method, path, body string, headers ...string) resp {
	e.t.Helper()
	contentType := ""
	if body != "" {
		contentType = "application/json"
	}
	return e.sendRaw(c, method, path, contentType, []byte(body), headers...)
}

// sendRaw sends a body of any content type ("" for none) with extra header pairs, and checks
// the answer: JSON (but for 204), no server error, valid against both documents.
func (e *env) sendRaw(c *cred, method, path, contentType string, body []byte, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if c != nil {
		req.SetBasicAuth(c.id, c.secret)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if res.StatusCode >= 500 && res.StatusCode != 501 {
		e.t.Errorf("%s %s: server error %d: %s", method, path, res.StatusCode, raw)
	}
	if res.StatusCode != http.StatusNoContent {
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			e.t.Errorf("%s %s: Content-Type = %q, want application/json", method, path, ct)
		}
		if err := json.Unmarshal(raw, &r.body); err != nil {
			e.t.Errorf("%s %s: body is not a JSON object: %v\n%s", method, path, err, raw)
		}
	}
	rel := strings.SplitN(req.URL.EscapedPath(), base, 2)[1]
	if unesc, err := pathUnescape(rel); err == nil {
		rel = unesc
	}
	apitest.Ours(e.t).Check(e.t, req, rel, res.StatusCode, res.Header, raw)
	apitest.Grid(e.t).Check(e.t, req, rel, res.StatusCode, res.Header, raw)
	return r
}

func pathUnescape(p string) (string, error) {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			return "", err
		}
		segs[i] = u
	}
	return strings.Join(segs, "/"), nil
}

// want checks a status and, for errors, the code.
func (r resp) want(t testing.TB, status int, code string) resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.status, status, r.raw)
	}
	if code != "" && r.body["code"] != code {
		t.Fatalf("code = %v, want %s; body: %s", r.body["code"], code, r.raw)
	}
	return r
}

// fields returns the field names of a 400's details.errors.
func (r resp) fields() []string {
	details, _ := r.body["details"].(map[string]any)
	errs, _ := details["errors"].([]any)
	var out []string
	for _, e := range errs {
		m, _ := e.(map[string]any)
		f, _ := m["field"].(string)
		out = append(out, f)
	}
	return out
}

func (r resp) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}
