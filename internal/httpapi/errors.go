package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync"

	"github.com/gridd/gridd/internal/grid"
)

type fieldErrorJSON struct {
	Field      string          `json:"field"`
	Message    string          `json:"message,omitempty"`
	Constraint *constraintJSON `json:"constraint,omitempty"`
}

type constraintJSON struct {
	Format string   `json:"format,omitempty"`
	Enum   []string `json:"enum,omitempty"`
}

type errorJSON struct {
	Status  int            `json:"status"`
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// writeError is the one place that turns an error into the API's JSON error body. Domain
// errors keep their status, code and fields; anything else is logged and answered with a
// generic 500.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := grid.AsError(err)
	if !ok {
		switch {
		case errors.Is(err, context.Canceled):
			// The client went away; nobody reads the answer.
			e = grid.Errorf(499, grid.CodeInternal, "request cancelled")
		case errors.Is(err, context.DeadlineExceeded):
			e = grid.Errorf(503, grid.CodeServiceUnavailable, "the request timed out; retry it")
		default:
			a.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "pattern", r.Pattern, "err", err)
			e = grid.Errorf(500, grid.CodeInternal, "an internal error occurred; retry later")
		}
	}
	body := errorJSON{Status: e.Status, Code: e.Code, Message: e.Message}
	if len(e.Fields) > 0 || len(e.Details) > 0 {
		body.Details = map[string]any{}
		for k, v := range e.Details {
			body.Details[k] = v
		}
	}
	if len(e.Fields) > 0 {
		fields := make([]fieldErrorJSON, len(e.Fields))
		for i, f := range e.Fields {
			fields[i] = fieldErrorJSON{Field: f.Field, Message: f.Message}
			if f.Format != "" || len(f.Enum) > 0 {
				fields[i].Constraint = &constraintJSON{Format: f.Format, Enum: f.Enum}
			}
		}
		body.Details["errors"] = fields
	}
	if e.Status == 401 {
		w.Header().Set("WWW-Authenticate", `Basic realm="gridd"`)
	}
	if e.Status == 429 || e.Status == 503 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfterSeconds()))
	}
	writeJSON(w, e.Status, body)
}

// jsonBufs holds the buffers writeJSON encodes into, so that an answer costs no allocation of
// its size.
var jsonBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeJSON writes v, then a newline, with a status. Headers are final before WriteHeader.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := jsonBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 {
			jsonBufs.Put(buf)
		}
	}()
	buf.Reset()
	// Encode writes what json.Marshal returns, and the newline.
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		slog.Error("encode response", "err", err)
		status = 500
		buf.Reset()
		buf.WriteString(`{"status":500,"code":"INTERNAL_ERROR","message":"an internal error occurred; retry later"}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
