package httpapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/gridd/gridd/internal/grid"
)

// Header names of the Idempotency-Key protocol.
const (
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
)

// serve runs an authenticated handler. A POST that carries an Idempotency-Key runs at most
// once per key: the key is claimed in the store first, the response is recorded, and retries
// get the recorded response back. The error it returns has not been written yet.
func (a *API) serve(w http.ResponseWriter, r *http.Request, p *grid.Principal, h handlerFunc) error {
	keys := r.Header.Values(headerIdempotencyKey)
	if r.Method != http.MethodPost || len(keys) == 0 {
		return h(w, r, p)
	}
	if len(keys) > 1 {
		return grid.InvalidInput(grid.FieldError{Field: headerIdempotencyKey, Message: "must be sent once"})
	}
	if err := grid.CheckIdempotencyKey(keys[0]); err != nil {
		return err
	}
	// The body is part of the request's fingerprint: read it now and hand the handler a copy.
	// An upload (handleUpload) is too large to hold: it streams to its handler, and its
	// fingerprint is the method and path alone.
	var body []byte
	if !a.uploads[r.Pattern] {
		var err error
		if body, err = readBody(w, r, maxBodyBytes); err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	ctx := r.Context()
	claim, replay, err := a.svc.ClaimIdempotencyKey(ctx, p, grid.IdempotentRequest{Key: keys[0], Method: r.Method, Path: r.URL.Path, Body: body})
	if err != nil {
		return err
	}
	if replay != nil {
		writeRecorded(w, replay)
		return nil
	}

	rec := &recorder{w: w, status: http.StatusOK}
	done := false
	defer func() {
		if done {
			return
		}
		// The handler panicked: give the key up so that a retry runs again, then let
		// ServeHTTP answer the panic.
		v := recover()
		if err := claim.Release(ctx); err != nil {
			a.log.ErrorContext(ctx, "release idempotency key", "err", err)
		}
		if v != nil {
			panic(v)
		}
	}()
	if err := h(rec, r, p); err != nil {
		a.writeError(rec, r, err)
	}
	done = true

	// 5xx (and a cancelled request, 499) mean the request may not have been processed: a
	// retry must run it again. Anything else, 4xx included, is the request's answer.
	if rec.status >= 500 || rec.status == 499 {
		if err := claim.Release(ctx); err != nil {
			a.log.ErrorContext(ctx, "release idempotency key", "err", err)
		}
	} else {
		resp := grid.RecordedResponse{Status: rec.status, ContentType: w.Header().Get("Content-Type"), Body: rec.body.Bytes()}
		if err := claim.Complete(ctx, resp); err != nil {
			// The answer still goes out; a retry after the lease runs the request again.
			msg := "record idempotent response"
			if errors.Is(err, grid.ErrNotFound) {
				msg = "record idempotent response: the claim was taken over"
			}
			a.log.ErrorContext(ctx, msg, "pattern", r.Pattern, "err", err)
		}
	}
	rec.flush()
	return nil
}

// writeRecorded replays a recorded response.
func writeRecorded(w http.ResponseWriter, resp *grid.RecordedResponse) {
	h := w.Header()
	if resp.ContentType != "" {
		h.Set("Content-Type", resp.ContentType)
	}
	h.Set("Content-Length", strconv.Itoa(len(resp.Body)))
	h.Set(headerReplayed, "true")
	// A recorded body may hold a secret shown once (POST /tokens).
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(resp.Status)
	w.Write(resp.Body)
}

// recorder buffers a handler's response so that it can be stored before it is sent. Headers
// go straight to the underlying writer's header map; they are sent by flush.
type recorder struct {
	w           http.ResponseWriter
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (rec *recorder) Header() http.Header { return rec.w.Header() }

// Unwrap lets http.ResponseController reach the connection, to move the deadlines of a long
// upload.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.w }

func (rec *recorder) WriteHeader(status int) {
	if rec.wroteHeader {
		return
	}
	rec.status, rec.wroteHeader = status, true
}

func (rec *recorder) Write(b []byte) (int, error) {
	rec.wroteHeader = true
	return rec.body.Write(b)
}

// flush sends the buffered response.
func (rec *recorder) flush() {
	rec.w.WriteHeader(rec.status)
	rec.w.Write(rec.body.Bytes())
}
