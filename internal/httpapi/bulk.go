package httpapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/gridd/gridd/internal/bulkimport"
	"github.com/gridd/gridd/internal/grid"
)

// bulkRoutes registers the bulk customer import operations.
func (a *API) bulkRoutes() {
	a.handleUpload("POST /customers/bulk/csv", a.uploadBulkCSV)
	a.handle("GET /customers/bulk/jobs/{jobId}", a.getBulkJob)
}

// handleUpload registers an authenticated POST whose body is a file streamed to the handler
// rather than read whole. Its Idempotency-Key fingerprint is the method and path without the
// body (see serve): a retry of an upload with the same key gets the first answer back.
func (a *API) handleUpload(pattern string, h handlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	if a.uploads == nil {
		a.uploads = map[string]bool{}
	}
	a.uploads[method+" "+a.base+path] = true
	a.handle(pattern, h)
}

// Upload limits: the multipart framing around the file, and how long an upload may stall.
const (
	multipartSlack    = 1 << 20
	uploadIdleTimeout = 60 * time.Second
)

type bulkJobAcceptedJSON struct {
	JobID  string `json:"jobId"`
	Status string `json:"status"`
}

type bulkJobJSON struct {
	ID          string           `json:"id"`
	Status      string           `json:"status"`
	Progress    bulkProgressJSON `json:"progress"`
	Errors      []bulkErrorJSON  `json:"errors"`
	CompletedAt string           `json:"completedAt,omitempty"`
}

type bulkProgressJSON struct {
	Total      int64 `json:"total"`
	Processed  int64 `json:"processed"`
	Successful int64 `json:"successful"`
	Failed     int64 `json:"failed"`
}

type bulkErrorJSON struct {
	CorrelationID string               `json:"correlationId"`
	Code          string               `json:"code"`
	Message       string               `json:"message"`
	Details       bulkErrorDetailsJSON `json:"details"`
}

type bulkErrorDetailsJSON struct {
	Row                int64                `json:"row"`
	PlatformCustomerID string               `json:"platformCustomerId,omitempty"`
	Errors             []bulkFieldErrorJSON `json:"errors,omitempty"`
}

type bulkFieldErrorJSON struct {
	Field      string          `json:"field"`
	Column     string          `json:"column,omitempty"`
	Message    string          `json:"message,omitempty"`
	Constraint *constraintJSON `json:"constraint,omitempty"`
}

// toBulkJobJSON is the wire form of a job, as GET /customers/bulk/jobs/{jobId} answers it and
// the BULK_UPLOAD.* webhooks carry it.
func toBulkJobJSON(j *grid.BulkJob) *bulkJobJSON {
	out := &bulkJobJSON{
		ID: j.ID, Status: string(j.Status),
		Progress: bulkProgressJSON{Total: max(j.Total, 0), Processed: j.Processed, Successful: j.Succeeded, Failed: j.Failed},
		Errors:   make([]bulkErrorJSON, len(j.Errors)),
	}
	if j.CompletedAt != nil {
		out.CompletedAt = timestamp(*j.CompletedAt)
	}
	for i, e := range j.Errors {
		ej := bulkErrorJSON{
			CorrelationID: fmt.Sprintf("row_%d", e.Row), Code: e.Code, Message: e.Message,
			Details: bulkErrorDetailsJSON{Row: e.Row, PlatformCustomerID: e.PlatformCustomerID},
		}
		for _, f := range e.Fields {
			fj := bulkFieldErrorJSON{Field: f.Field, Column: bulkimport.ColumnOf(f.Field), Message: f.Message}
			if f.Format != "" || len(f.Enum) > 0 {
				fj.Constraint = &constraintJSON{Format: f.Format, Enum: f.Enum}
			}
			ej.Details.Errors = append(ej.Details.Errors, fj)
		}
		out.Errors[i] = ej
	}
	return out
}

// uploadBulkCSV stores the uploaded file as it arrives and answers 202 once it is stored: the
// rows are imported by a worker afterwards.
func (a *API) uploadBulkCSV(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	// Refuse before reading what may be half a gigabyte.
	if err := p.Require(grid.PermManage); err != nil {
		return err
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return &grid.Error{Status: 415, Code: grid.CodeUnsupportedMediaType, Message: "the request body must be multipart/form-data with the CSV file in a part named file"}
	}
	body := &uploadBody{ReadCloser: http.MaxBytesReader(w, r.Body, grid.MaxBulkFileSize+multipartSlack), rc: http.NewResponseController(w)}
	r.Body = body
	mr, err := r.MultipartReader()
	if err != nil {
		return grid.InvalidInput(grid.FieldError{Field: "file", Message: "the multipart body could not be read: " + err.Error()})
	}
	var file *uploadPart
	for file == nil {
		part, err := mr.NextPart()
		if err == io.EOF {
			return grid.InvalidInput(grid.FieldError{Field: "file", Message: "is required: send the CSV file as the form part named file"})
		}
		if err != nil {
			return body.failure(grid.InvalidInput(grid.FieldError{Field: "file", Message: "the multipart body could not be read: " + err.Error()}))
		}
		// Other form fields are skipped.
		if part.FormName() == "file" {
			file = &uploadPart{Part: part}
		}
	}
	job, err := a.svc.CreateBulkJob(r.Context(), p, file)
	if err != nil {
		if file.err != nil {
			return body.failure(grid.InvalidInput(grid.FieldError{Field: "file", Message: "the multipart body could not be read: " + file.err.Error()}))
		}
		return err
	}
	// The upload may have outlasted the server's write timeout, which counts from the start
	// of the request.
	body.rc.SetWriteDeadline(time.Now().Add(uploadIdleTimeout))
	writeJSON(w, http.StatusAccepted, bulkJobAcceptedJSON{JobID: job.ID, Status: string(job.Status)})
	return nil
}

// getBulkJob answers a job's status, progress and row errors.
func (a *API) getBulkJob(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	job, err := a.svc.GetBulkJob(r.Context(), p, r.PathValue("jobId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toBulkJobJSON(job))
	return nil
}

// uploadBody is a request body being uploaded: every read pushes the read deadline forward,
// so that a large file may take longer than the server's read timeout as long as it keeps
// arriving, and a failed read is remembered.
type uploadBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	extended time.Time
	err      error
}

func (b *uploadBody) Read(p []byte) (int, error) {
	if now := time.Now(); now.Sub(b.extended) > time.Second {
		b.rc.SetReadDeadline(now.Add(uploadIdleTimeout))
		b.extended = now
	}
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// failure is the error to answer for a body that could not be read: 413 past the size limit,
// an interrupted upload (the connection failed: nobody reads the answer, and an
// Idempotency-Key is left free for the retry), else the framing error given.
func (b *uploadBody) failure(framing error) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(b.err, &mbe):
		return &grid.Error{Status: 413, Code: grid.CodePayloadTooLarge, Message: fmt.Sprintf("the file is larger than %d bytes", grid.MaxBulkFileSize)}
	case b.err != nil:
		return grid.Errorf(499, grid.CodeInternal, "the upload was interrupted")
	}
	return framing
}

// uploadPart is the file part of an upload; a failed read is remembered.
type uploadPart struct {
	*multipart.Part
	err error
}

func (p *uploadPart) Read(b []byte) (int, error) {
	n, err := p.Part.Read(b)
	if err != nil && err != io.EOF {
		p.err = err
	}
	return n, err
}
