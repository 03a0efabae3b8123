package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gridd/gridd/api"
	"github.com/gridd/gridd/internal/bulkimport"
	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/httpapi"
)

// bulkPart is one part of a multipart/form-data body.
type bulkPart struct{ name, filename, content string }

// bulkUpload posts a multipart/form-data body to POST /customers/bulk/csv and checks the answer
// against both documents, like do.
func (e *env) bulkUpload(c *cred, parts []bulkPart, headers ...string) resp {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.filename != "" {
			w, err = mw.CreateFormFile(p.name, p.filename)
		} else {
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			e.t.Fatal(err)
		}
		io.WriteString(w, p.content)
	}
	mw.Close()
	return e.sendRaw(c, http.MethodPost, "/customers/bulk/csv", mw.FormDataContentType(), body.Bytes(), headers...)
}

func bulkCSV(content string) []bulkPart {
	return []bulkPart{{name: "file", filename: "customers.csv", content: content}}
}

// bulkImportAll runs a worker until no job is left.
func (e *env) bulkImportAll() {
	e.t.Helper()
	w := bulkimport.New(e.svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for {
		found, err := w.RunOnce(e.t.Context())
		if err != nil {
			e.t.Fatalf("RunOnce: %v", err)
		}
		if !found {
			return
		}
	}
}

func bulkJobPath(id string) string { return "/customers/bulk/jobs/" + url.PathEscape(id) }

func TestBulkImportScenario(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(grid.PlatformSpec{Name: "bulk", UMADomain: "uma.bulk.example", Sandbox: true})
	e.do(&c, "POST", "/customers", `{"customerType": "INDIVIDUAL", "platformCustomerId": "existing-1", "fullName": "Old Customer"}`).want(t, 201, "")

	file := "platformCustomerId,customerType,fullName,birthDate,email,addressLine1,city,state,postalCode,country\n" +
		"new-1,INDIVIDUAL,Jane Smith,1990-01-15,jane@example.com,1 Main St,Austin,TX,78701,US\n" +
		"new-2,INDIVIDUAL,Bad Row,1990-02-30,jane@,1 Main St,Austin,TX,,US\n" +
		"new-1,INDIVIDUAL,Jane Twice,1990-01-15,,,,,,\n" +
		"existing-1,INDIVIDUAL,Someone,,,,,,,\n" +
		"new-3,INDIVIDUAL,John Doe,,,,,,,\n"
	acc := e.bulkUpload(&c, bulkCSV(file)).want(t, 202, "")
	jobID := acc.str("jobId")
	if !strings.HasPrefix(jobID, "Job:") || acc.str("status") != "PENDING" {
		t.Fatalf("202 body = %s", acc.raw)
	}
	pending := e.do(&c, "GET", bulkJobPath(jobID), "").want(t, 200, "")
	wantPending := map[string]any{"id": jobID, "status": "PENDING", "errors": []any{},
		"progress": map[string]any{"total": 0.0, "processed": 0.0, "successful": 0.0, "failed": 0.0}}
	if d := cmp.Diff(wantPending, pending.body); d != "" {
		t.Errorf("pending job (-want +got):\n%s", d)
	}

	e.bulkImportAll()
	done := e.do(&c, "GET", bulkJobPath(jobID), "").want(t, 200, "")
	if done.str("status") != "COMPLETED" || done.str("completedAt") == "" {
		t.Fatalf("job after the import: %s", done.raw)
	}
	wantProgress := map[string]any{"total": 5.0, "processed": 5.0, "successful": 2.0, "failed": 3.0}
	if d := cmp.Diff(wantProgress, done.body["progress"]); d != "" {
		t.Errorf("progress (-want +got):\n%s", d)
	}
	errs, _ := done.body["errors"].([]any)
	if len(errs) != 3 {
		t.Fatalf("errors = %s", done.raw)
	}
	first := errs[0].(map[string]any)
	wantFirst := map[string]any{
		"correlationId": "row_3", "code": "INVALID_INPUT", "message": first["message"],
		"details": map[string]any{"row": 3.0, "platformCustomerId": "new-2", "errors": []any{
			map[string]any{"field": "address.postalCode", "column": "postalCode", "message": "is required"},
			map[string]any{"field": "birthDate", "column": "birthDate", "message": "must be a real calendar date in YYYY-MM-DD form", "constraint": map[string]any{"format": "date"}},
			map[string]any{"field": "email", "column": "email", "message": "must be an email address such as jane@example.com", "constraint": map[string]any{"format": "email"}},
		}},
	}
	if d := cmp.Diff(wantFirst, first); d != "" {
		t.Errorf("error of row 3 (-want +got):\n%s", d)
	}
	for i, want := range []struct{ id, code, pcid string }{{"row_4", "CONFLICT", "new-1"}, {"row_5", "CONFLICT", "existing-1"}} {
		got := errs[i+1].(map[string]any)
		details := got["details"].(map[string]any)
		if got["correlationId"] != want.id || got["code"] != want.code || details["platformCustomerId"] != want.pcid {
			t.Errorf("error %d = %v, want %s %s %s", i+1, got, want.id, want.code, want.pcid)
		}
	}

	// The customers are there, as POST /customers would have made them.
	list := e.do(&c, "GET", "/customers?platformCustomerId=new-1", "").want(t, 200, "")
	if data, _ := list.body["data"].([]any); len(data) != 1 || data[0].(map[string]any)["kycStatus"] != "APPROVED" {
		t.Errorf("new-1: %s", list.raw)
	}

	// The job's end is in the outbox, carrying exactly what GET answers.
	var body []byte
	if err := e.store.ReadDB().QueryRowContext(t.Context(), `SELECT body FROM events WHERE order_key = $1 AND type = $2`, jobID, "BULK_UPLOAD.COMPLETED").Scan(&body); err != nil {
		t.Fatalf("BULK_UPLOAD.COMPLETED event: %v", err)
	}
	var ev struct {
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "BULK_UPLOAD.COMPLETED" {
		t.Errorf("event type = %q", ev.Type)
	}
	if d := cmp.Diff(done.body, ev.Data); d != "" {
		t.Errorf("webhook data differs from GET (-get +webhook):\n%s", d)
	}
}

func TestBulkImportFailedFile(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(grid.PlatformSpec{Name: "bulk"})
	acc := e.bulkUpload(&c, bulkCSV("customerType,favouriteColour\nINDIVIDUAL,blue\nINDIVIDUAL,red\n")).want(t, 202, "")
	e.bulkImportAll()
	got := e.do(&c, "GET", bulkJobPath(acc.str("jobId")), "").want(t, 200, "")
	if got.str("status") != "FAILED" {
		t.Fatalf("job: %s", got.raw)
	}
	want := map[string]any{"total": 2.0, "processed": 2.0, "successful": 0.0, "failed": 2.0}
	if d := cmp.Diff(want, got.body["progress"]); d != "" {
		t.Errorf("progress (-want +got):\n%s", d)
	}
	errs := got.body["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["correlationId"] != "row_1" {
		t.Errorf("errors: %s", got.raw)
	}
}

func TestBulkUploadRequests(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(grid.PlatformSpec{Name: "bulk"})
	view := e.token(p, grid.PermView)
	_, stranger := e.platform(grid.PlatformSpec{Name: "other"})
	file := "customerType,fullName\nINDIVIDUAL,Ann Example\n"

	e.bulkUpload(nil, bulkCSV(file)).want(t, 401, "UNAUTHORIZED")
	e.bulkUpload(&view, bulkCSV(file)).want(t, 403, "FORBIDDEN")
	e.sendRaw(&c, "POST", "/customers/bulk/csv", "text/csv", []byte(file)).want(t, 415, "UNSUPPORTED_MEDIA_TYPE")
	e.sendRaw(&c, "POST", "/customers/bulk/csv", "multipart/form-data", []byte(file)).want(t, 415, "UNSUPPORTED_MEDIA_TYPE")
	r := e.bulkUpload(&c, []bulkPart{{name: "note", content: "hello"}}).want(t, 400, "INVALID_INPUT")
	if d := cmp.Diff([]string{"file"}, r.fields()); d != "" {
		t.Errorf("missing file: fields (-want +got):\n%s", d)
	}
	e.bulkUpload(&c, bulkCSV("")).want(t, 400, "INVALID_INPUT")
	e.sendRaw(&c, "POST", "/customers/bulk/csv", "multipart/form-data; boundary=xyz", []byte("--xyz\r\nbroken")).want(t, 400, "INVALID_INPUT")

	// Other form fields are skipped.
	acc := e.bulkUpload(&c, append([]bulkPart{{name: "note", content: "hello"}}, bulkCSV(file)...)).want(t, 202, "")
	jobID := acc.str("jobId")

	// A VIEW token reads jobs; another platform and unknown ids do not find them.
	e.do(&view, "GET", bulkJobPath(jobID), "").want(t, 200, "")
	e.do(&stranger, "GET", bulkJobPath(jobID), "").want(t, 404, "BULK_UPLOAD_JOB_NOT_FOUND")
	e.do(&c, "GET", bulkJobPath("Job:019542f5-b3e7-1d02-0000-000000000006"), "").want(t, 404, "BULK_UPLOAD_JOB_NOT_FOUND")
	e.do(&c, "GET", "/customers/bulk/jobs/"+jobID, "").want(t, 200, "")
	e.do(&c, "DELETE", bulkJobPath(jobID), "").want(t, 405, "METHOD_NOT_ALLOWED")
}

func TestBulkUploadLargeFileWithIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(grid.PlatformSpec{Name: "bulk", UMADomain: "uma.bulk.example", Sandbox: true})
	// Well past the 1 MiB that other POST bodies may have, and several chunks, in few rows
	// (the description column is ignored).
	var b strings.Builder
	b.WriteString("platformCustomerId,customerType,fullName,description\n")
	rows := 0
	for b.Len() < 3<<20 {
		rows++
		fmt.Fprintf(&b, "big-%d,INDIVIDUAL,Person %d Example,%s\n", rows, rows, strings.Repeat("x", 20000))
	}
	parts := bulkCSV(b.String())
	first := e.bulkUpload(&c, parts, "Idempotency-Key", "upload-1").want(t, 202, "")
	again := e.bulkUpload(&c, parts, "Idempotency-Key", "upload-1").want(t, 202, "")
	if again.header.Get("Idempotent-Replayed") != "true" || again.str("jobId") != first.str("jobId") {
		t.Errorf("retry: %s (replayed %q), want the first answer %s", again.raw, again.header.Get("Idempotent-Replayed"), first.raw)
	}
	var jobs int
	if err := e.store.ReadDB().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM bulk_jobs`).Scan(&jobs); err != nil || jobs != 1 {
		t.Errorf("%d jobs stored (%v), want 1", jobs, err)
	}
	e.bulkImportAll()
	got := e.do(&c, "GET", bulkJobPath(first.str("jobId")), "").want(t, 200, "")
	want := map[string]any{"total": float64(rows), "processed": float64(rows), "successful": float64(rows), "failed": 0.0}
	if d := cmp.Diff(want, got.body["progress"]); d != "" {
		t.Errorf("progress (-want +got):\n%s", d)
	}
}

// A slow upload outlasts the server's read and write timeouts as long as it keeps arriving,
// with and without an Idempotency-Key.
func TestBulkUploadSlowerThanServerTimeouts(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(grid.PlatformSpec{Name: "bulk"})
	srv := httptest.NewUnstartedServer(httpapi.New(e.svc, httpapi.Options{BasePath: base, OpenAPI: api.OpenAPI}))
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 300*time.Millisecond, 300*time.Millisecond
	srv.Start()
	defer srv.Close()

	for _, key := range []string{"", "slow-upload"} {
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			fw, _ := mw.CreateFormFile("file", "slow.csv")
			io.WriteString(fw, "customerType,fullName\n")
			for i := range 10 {
				fmt.Fprintf(fw, "INDIVIDUAL,Slow %d Example\n", i)
				time.Sleep(100 * time.Millisecond)
			}
			mw.Close()
			pw.Close()
		}()
		req, _ := http.NewRequest("POST", srv.URL+base+"/customers/bulk/csv", pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.SetBasicAuth(c.id, c.secret)
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("key %q: %v", key, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 202 {
			t.Errorf("key %q: status %d: %s", key, res.StatusCode, body)
		}
	}
}
