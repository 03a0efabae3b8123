// Package apitest validates HTTP responses against OpenAPI documents: the project's own and,
// where an operation and status are documented there, the public Grid API document.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/gridd/gridd/api"
)

// Spec is one loaded OpenAPI document.
type Spec struct {
	Name string
	doc  *openapi3.T
	// Strict specs must document every status the server answers.
	Strict bool
}

var (
	oursOnce sync.Once
	ours     *Spec
	oursErr  error
	gridOnce sync.Once
	gridSpec *Spec
	gridErr  error
)

// Ours returns the project's own document, validated.
func Ours(t testing.TB) *Spec {
	t.Helper()
	oursOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(api.OpenAPI)
		if err == nil {
			err = doc.Validate(context.Background())
		}
		ours, oursErr = &Spec{Name: "gridd", doc: doc, Strict: true}, err
	})
	if oursErr != nil {
		t.Fatalf("load api/openapi.yaml: %v", oursErr)
	}
	return ours
}

// GridSpecPath is where the public Grid API document is read from: GRIDD_GRID_SPEC, or the
// shared reference folder beside the repository.
func GridSpecPath() string {
	if p := os.Getenv("GRIDD_GRID_SPEC"); p != "" {
		return p
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	return filepath.Join(root, "..", "shared", "reference", "grid-api", "openapi.yaml")
}

// Grid returns the public Grid API document. Without it the test fails in CI (CI=true) and
// is skipped elsewhere with a message saying why.
func Grid(t testing.TB) *Spec {
	t.Helper()
	gridOnce.Do(func() {
		path := GridSpecPath()
		if _, err := os.Stat(path); err != nil {
			gridErr = err
			return
		}
		loader := openapi3.NewLoader()
		loader.IsExternalRefsAllowed = true
		doc, err := loader.LoadFromFile(path)
		applyGridDivergences(doc)
		gridSpec, gridErr = &Spec{Name: "grid", doc: doc}, err
	})
	if gridErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("public Grid API document: %v (set GRIDD_GRID_SPEC)", gridErr)
		}
		t.Skipf("public Grid API document not found (%v); set GRIDD_GRID_SPEC", gridErr)
	}
	return gridSpec
}

// route finds the operation a request path belongs to, preferring literal segments.
func (s *Spec) route(method, path string) (*routers.Route, map[string]string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var best *routers.Route
	var bestParams map[string]string
	bestScore := -1
	for tmpl, item := range s.doc.Paths.Map() {
		tsegs := strings.Split(strings.Trim(tmpl, "/"), "/")
		if len(tsegs) != len(segs) {
			continue
		}
		score, params, ok := 0, map[string]string{}, true
		for i, ts := range tsegs {
			if strings.HasPrefix(ts, "{") {
				params[strings.Trim(ts, "{}")] = segs[i]
				continue
			}
			if ts != segs[i] {
				ok = false
				break
			}
			score++
		}
		op := item.GetOperation(method)
		if !ok || op == nil || score <= bestScore {
			continue
		}
		best = &routers.Route{Spec: s.doc, Path: tmpl, PathItem: item, Method: method, Operation: op}
		bestParams, bestScore = params, score
	}
	return best, bestParams
}

// Check validates one response against the document. relPath is the request path below the
// base path. A strict document must know the operation and the status; another document
// checks only what it documents.
func (s *Spec) Check(t testing.TB, req *http.Request, relPath string, status int, header http.Header, body []byte) {
	t.Helper()
	route, params := s.route(req.Method, relPath)
	if route == nil {
		if s.Strict {
			s.checkError(t, req, relPath, status, body)
		}
		return
	}
	if !s.Strict && route.Operation.Responses.Status(status) == nil {
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: s.Strict, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s document: %s %s -> %d does not match: %v\nbody: %s", s.Name, req.Method, relPath, status, err, body)
	}
}

// checkError validates the answer to a request no operation covers (unknown paths, wrong
// methods, Grid operations the server does not provide): it must be the document's error
// body for that status.
func (s *Spec) checkError(t testing.TB, req *http.Request, relPath string, status int, body []byte) {
	t.Helper()
	ref := s.doc.Components.Schemas[fmt.Sprintf("Error%d", status)]
	if ref == nil || status < 400 {
		t.Errorf("%s document: %s %s answered %d, which is neither an operation nor a documented error", s.Name, req.Method, relPath, status)
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("%s %s: error body is not JSON: %v", req.Method, relPath, err)
		return
	}
	if err := ref.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("%s document: %s %s -> %d error body does not match Error%d: %v\nbody: %s", s.Name, req.Method, relPath, status, status, err, body)
	}
}
