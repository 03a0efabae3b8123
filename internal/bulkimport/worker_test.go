package bulkimport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/pgtest"
	"github.com/gridd/gridd/internal/postgres"
	"github.com/gridd/gridd/internal/seal"
	"github.com/gridd/gridd/internal/sqlite"
	"github.com/gridd/gridd/internal/sqlstore"
)

// clock is a wall clock that tests can move forward.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

type fixture struct {
	t     *testing.T
	st    *sqlstore.Store
	svc   *grid.Service
	clock *clock
	p     *grid.Principal
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "gridd.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return newFixtureOn(t, st)
}

// onEachStore runs fn on SQLite and on PostgreSQL (GRIDD_TEST_POSTGRES_URL, skipped where none
// answers unless CI is set), each in a fresh database.
func onEachStore(t *testing.T, fn func(t *testing.T, f *fixture)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newFixture(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, newFixtureOn(t, openPostgres(t))) })
}

func openPostgres(t *testing.T) *sqlstore.Store {
	t.Helper()
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, "t_bulk_")
	st, err := postgres.Open(t.Context(), url, postgres.Options{Schema: schema})
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newFixtureOn(t *testing.T, st *sqlstore.Store) *fixture {
	t.Helper()
	box, err := seal.New(seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{}
	svc := grid.NewService(st, box, clk.Now)
	platform, err := svc.CreatePlatform(t.Context(), grid.PlatformSpec{Name: "bulk", UMADomain: "uma.bulk.example", Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := svc.IssueToken(t.Context(), platform.ID, grid.NewTokenSpec{Name: "bulk", Permissions: grid.AllPermissions})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, st: st, svc: svc, clock: clk, p: &grid.Principal{Token: tok, Platform: platform}}
}

func (f *fixture) worker(batch int) *Worker {
	w := New(f.svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.BatchRows = batch
	return w
}

func (f *fixture) upload(csv string) *grid.BulkJob {
	f.t.Helper()
	j, err := f.svc.CreateBulkJob(f.t.Context(), f.p, strings.NewReader(csv))
	if err != nil {
		f.t.Fatalf("CreateBulkJob: %v", err)
	}
	return j
}

func (f *fixture) job(id string) *grid.BulkJob {
	f.t.Helper()
	j, err := f.svc.GetBulkJob(f.t.Context(), f.p, id)
	if err != nil {
		f.t.Fatalf("GetBulkJob: %v", err)
	}
	return j
}

// runAll lets a worker work until no job is left.
func (f *fixture) runAll(w *Worker) {
	f.t.Helper()
	for {
		found, err := w.RunOnce(f.t.Context())
		if err != nil {
			f.t.Fatalf("RunOnce: %v", err)
		}
		if !found {
			return
		}
	}
}

func (f *fixture) createCustomer(body string) *grid.Customer {
	f.t.Helper()
	var in struct {
		PlatformCustomerID string
		UMAAddress         string
	}
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		f.t.Fatal(err)
	}
	individual := "INDIVIDUAL"
	name := "Existing Person"
	ci := &grid.CustomerInput{CustomerType: &individual, FullName: &name, PlatformCustomerID: &in.PlatformCustomerID}
	if in.UMAAddress != "" {
		ci.UMAAddress = &in.UMAAddress
	}
	c, err := f.svc.CreateCustomer(f.t.Context(), f.p, ci)
	if err != nil {
		f.t.Fatalf("CreateCustomer: %v", err)
	}
	return c
}

func (f *fixture) customers() []*grid.Customer {
	f.t.Helper()
	var out []*grid.Customer
	after := ""
	for {
		page, err := f.st.ListCustomers(f.t.Context(), f.p.Platform.ID, grid.CustomerFilter{AfterID: after, Limit: grid.MaxPageSize})
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, page.Customers...)
		if !page.HasMore {
			return out
		}
		after = page.Customers[len(page.Customers)-1].ID
	}
}

type event struct {
	Type string
	Data map[string]any
}

// events returns the outbox events announcing a job, oldest first.
func (f *fixture) events(orderKey string) []event {
	f.t.Helper()
	rows, err := f.st.ReadDB().QueryContext(f.t.Context(), `SELECT type, body FROM events WHERE order_key = $1 ORDER BY id`, orderKey)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	var out []event
	for rows.Next() {
		var typ string
		var body []byte
		if err := rows.Scan(&typ, &body); err != nil {
			f.t.Fatal(err)
		}
		var e event
		if err := json.Unmarshal(body, &e); err != nil {
			f.t.Fatal(err)
		}
		if e.Type != typ {
			f.t.Errorf("event type column %s, body type %s", typ, e.Type)
		}
		out = append(out, e)
	}
	return out
}

func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.st.ReadDB().QueryRowContext(f.t.Context(), query, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// rowErr is the part of a row error the tests compare.
type rowErr struct {
	Row    int64
	PCID   string
	Code   string
	Fields []string
}

func rowErrs(errs []grid.BulkRowError) []rowErr {
	out := make([]rowErr, len(errs))
	for i, e := range errs {
		out[i] = rowErr{Row: e.Row, PCID: e.PlatformCustomerID, Code: e.Code}
		for _, fe := range e.Fields {
			out[i].Fields = append(out[i].Fields, fe.Field)
		}
	}
	return out
}

func TestImportMixedRows(t *testing.T) { onEachStore(t, testImportMixedRows) }

func testImportMixedRows(t *testing.T, f *fixture) {
	existing := f.createCustomer(`{"PlatformCustomerID": "taken-1", "UMAAddress": "$taken@uma.bulk.example"}`)
	// A customer whose UMA address is the one the file's "ada" row would get by default.
	f.createCustomer(`{"PlatformCustomerID": "other", "UMAAddress": "$ada@uma.bulk.example"}`)

	file := "\uFEFFplatformCustomerId,customerType,fullName,birthDate,email,addressLine1,city,state,postalCode,country,umaAddress,businessLegalName,businessCountry,businessIncorporatedOn,businessTaxId,description\n" +
		"ind-1,INDIVIDUAL,Jane Smith,1990-01-15,jane@example.com,1 Main St,Austin,TX,78701,US,,,,,,first\n" + // 2 ok
		"ind-2,INDIVIDUAL,Bad Data,2023-02-30,not-an-email,,,,,,,,,,,\n" + // 3 birthDate, email
		"biz-1,BUSINESS,,,ops@acme.example,400 Commerce Way,Austin,TX,78701,US,,Acme Corp,US,2019-09-01,12-3456789,\n" + // 4 ok
		"short,INDIVIDUAL,Too Few\n" + // 5 field count
		"ind-1,INDIVIDUAL,Jane Again,1990-01-15,,,,,,,,,,,,\n" + // 6 same platformCustomerId as row 2
		"taken-1,INDIVIDUAL,Someone,,,,,,,,,,,,,\n" + // 7 platformCustomerId of an existing customer
		"uma-1,INDIVIDUAL,Someone Else,,,,,,,,$taken@uma.bulk.example,,,,,\n" + // 8 UMA address taken
		"uma-2,INDIVIDUAL,Wrong Domain,,,,,,,,$x@elsewhere.example,,,,,\n" + // 9 UMA domain
		"ada,INDIVIDUAL,Ada Lovelace,1985-12-10,,\"1 Main St,\nSuite 5\",London,,EC1A 1BB,GB,,,,,,\n" + // 10 ok, derived UMA taken
		"biz-2,BUSINESS,,,,,,,,,,Acme Two,,,,\n" + // 11 businessInfo incomplete
		"ind-3,PERSON,Who,,,,,,,,,,,,,\n" // 12 customerType
	j := f.upload(file)
	if j.Status != grid.BulkPending || j.Size != int64(len(file)) || j.Chunks != 1 {
		t.Fatalf("uploaded job = %+v", j)
	}
	f.runAll(f.worker(4))

	got := f.job(j.ID)
	if got.Status != grid.BulkCompleted || got.CompletedAt == nil {
		t.Fatalf("status = %s, completedAt = %v", got.Status, got.CompletedAt)
	}
	if got.Total != 11 || got.Processed != 11 || got.Succeeded != 3 || got.Failed != 8 {
		t.Errorf("progress = total %d processed %d succeeded %d failed %d, want 11 11 3 8", got.Total, got.Processed, got.Succeeded, got.Failed)
	}
	want := []rowErr{
		{Row: 3, PCID: "ind-2", Code: "INVALID_INPUT", Fields: []string{"birthDate", "email"}},
		{Row: 5, PCID: "short", Code: "INVALID_INPUT"},
		{Row: 6, PCID: "ind-1", Code: "CONFLICT", Fields: []string{"platformCustomerId"}},
		{Row: 7, PCID: "taken-1", Code: "CONFLICT", Fields: []string{"platformCustomerId"}},
		{Row: 8, PCID: "uma-1", Code: "UMA_ADDRESS_EXISTS", Fields: []string{"umaAddress"}},
		{Row: 9, PCID: "uma-2", Code: "INVALID_UMA_ADDRESS", Fields: []string{"umaAddress"}},
		{Row: 11, PCID: "biz-2", Code: "INVALID_INPUT", Fields: []string{"businessInfo.country", "businessInfo.incorporatedOn", "businessInfo.taxId"}},
		{Row: 12, PCID: "ind-3", Code: "INVALID_INPUT", Fields: []string{"customerType"}},
	}
	if d := cmp.Diff(want, rowErrs(got.Errors)); d != "" {
		t.Errorf("row errors (-want +got):\n%s", d)
	}
	byRow := map[int64]grid.BulkRowError{}
	for _, e := range got.Errors {
		byRow[e.Row] = e
	}
	if m := byRow[6].Message; !strings.Contains(m, "earlier row of this file") {
		t.Errorf("row 6 message = %q, want it to name an earlier row of the file", m)
	}
	if m := byRow[7].Message; !strings.Contains(m, existing.ID) || strings.Contains(m, "earlier row") {
		t.Errorf("row 7 message = %q, want it to name customer %s", m, existing.ID)
	}

	// The valid rows are customers, each with its history entry made by the job.
	byPCID := map[string]*grid.Customer{}
	for _, c := range f.customers() {
		byPCID[c.PlatformCustomerID] = c
	}
	if len(byPCID) != 5 {
		t.Errorf("%d customers, want 5 (2 existing + 3 imported)", len(byPCID))
	}
	for _, pcid := range []string{"ind-1", "biz-1", "ada"} {
		c := byPCID[pcid]
		if c == nil {
			t.Errorf("customer %s was not created", pcid)
			continue
		}
		hist, err := f.st.ListStatusChanges(t.Context(), f.p.Platform.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 1 || hist[0].Actor != j.ID || hist[0].To != c.Status {
			t.Errorf("history of %s = %+v, want one entry by %s", pcid, hist, j.ID)
		}
	}
	if c := byPCID["ind-1"]; c != nil && (c.Profile.FullName != "Jane Smith" || c.Profile.Address == nil || c.Profile.Address.PostalCode != "78701" || c.Status != grid.StatusApproved) {
		t.Errorf("ind-1 = %+v", c)
	}
	if c := byPCID["ada"]; c != nil && (c.Profile.Address == nil || c.Profile.Address.Line1 != "1 Main St,\nSuite 5" || c.UMAAddress == "$ada@uma.bulk.example") {
		t.Errorf("ada = %+v (address %+v)", c, c.Profile.Address)
	}
	if c := byPCID["biz-1"]; c != nil {
		sec, err := f.svc.OpenSecrets(c)
		if err != nil || sec.TaxID != "12-3456789" || c.Profile.Business == nil || c.Profile.Business.LegalName != "Acme Corp" {
			t.Errorf("biz-1 = %+v, secrets %+v, %v", c.Profile.Business, sec, err)
		}
	}

	// The file is gone; the end of the job is announced once.
	if n := f.count(`SELECT COUNT(*) FROM bulk_job_chunks WHERE job_id = $1`, j.ID); n != 0 {
		t.Errorf("%d chunks left after the job", n)
	}
	evs := f.events(j.ID)
	if len(evs) != 1 || evs[0].Type != grid.EventBulkUploadCompleted {
		t.Fatalf("events of the job = %+v, want one BULK_UPLOAD.COMPLETED", evs)
	}
	// Without a renderer the service writes no data; the HTTP tests compare it with GET.
}

func TestImportBadHeaderFails(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, file, msg string
		total           int64
	}{
		{"unknown column", "customerType,fullname2\nINDIVIDUAL,A\nINDIVIDUAL,B\n", `unknown column "fullname2"`, 2},
		{"no customerType", "fullName\nA\n", "lacks the required column customerType", 1},
		{"repeated column", "customerType,fullName,FULLNAME\n", "appears twice", 0},
		{"not CSV", "customerType,\"full\"Name\nINDIVIDUAL,A\n", "not valid CSV", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := f.upload(tc.file)
			f.runAll(f.worker(grid.BulkBatchRows))
			got := f.job(j.ID)
			if got.Status != grid.BulkFailed || got.CompletedAt == nil {
				t.Fatalf("status = %s", got.Status)
			}
			if got.Total != tc.total || got.Processed != tc.total || got.Failed != tc.total || got.Succeeded != 0 {
				t.Errorf("progress = %d/%d/%d/%d, want every one of %d rows failed", got.Total, got.Processed, got.Succeeded, got.Failed, tc.total)
			}
			if len(got.Errors) != 1 || got.Errors[0].Row != 1 || !strings.Contains(got.Errors[0].Message, tc.msg) {
				t.Errorf("errors = %+v, want one for row 1 saying %q", got.Errors, tc.msg)
			}
			if evs := f.events(j.ID); len(evs) != 1 || evs[0].Type != grid.EventBulkUploadFailed {
				t.Errorf("events = %+v, want one BULK_UPLOAD.FAILED", evs)
			}
		})
	}
}

func TestUploadRules(t *testing.T) {
	f := newFixture(t)
	if _, err := f.svc.CreateBulkJob(t.Context(), f.p, strings.NewReader("")); !isCode(err, 400, grid.CodeInvalidInput) {
		t.Errorf("empty file: %v, want 400 INVALID_INPUT", err)
	}
	view := &grid.Principal{Token: &grid.Token{ID: "Token:x", Permissions: []grid.Permission{grid.PermView}}, Platform: f.p.Platform}
	if _, err := f.svc.CreateBulkJob(t.Context(), view, strings.NewReader("customerType\n")); !isCode(err, 403, grid.CodeForbidden) {
		t.Errorf("VIEW token: %v, want 403", err)
	}
	// A failed read leaves nothing behind.
	broken := io.MultiReader(bytes.NewReader(make([]byte, grid.BulkChunkSize+10)), errReader{})
	if _, err := f.svc.CreateBulkJob(t.Context(), f.p, broken); err == nil || !errors.Is(err, errBroken) {
		t.Errorf("broken upload: %v, want the read error", err)
	}
	if n := f.count(`SELECT COUNT(*) FROM bulk_jobs`); n != 0 {
		t.Errorf("%d jobs left after failed uploads", n)
	}
	if n := f.count(`SELECT COUNT(*) FROM bulk_job_chunks`); n != 0 {
		t.Errorf("%d chunks left after failed uploads", n)
	}
	// Another platform's job, and a job still uploading, are not found.
	j := f.upload("customerType\n")
	other, err := f.svc.CreatePlatform(t.Context(), grid.PlatformSpec{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	stranger := &grid.Principal{Token: &grid.Token{ID: "Token:y", Permissions: grid.AllPermissions}, Platform: other}
	if _, err := f.svc.GetBulkJob(t.Context(), stranger, j.ID); !isCode(err, 404, grid.CodeBulkJobNotFound) {
		t.Errorf("other platform: %v, want 404 BULK_UPLOAD_JOB_NOT_FOUND", err)
	}
}

var errBroken = errors.New("connection reset")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBroken }

func isCode(err error, status int, code string) bool {
	e, ok := grid.AsError(err)
	return ok && e.Status == status && e.Code == code
}

// genFile is a file of n individuals, every 7th row invalid and every 11th repeating the
// previous row's platformCustomerId; it returns how many distinct valid rows it has.
func genFile(t testing.TB, n int) (string, int) {
	var b bytes.Buffer
	if err := genWrite(&b, n); err != nil {
		t.Fatal(err)
	}
	valid := map[string]bool{}
	for i := 1; i <= n; i++ {
		id := i
		if i%11 == 0 {
			id = i - 1
		}
		if i%7 != 0 {
			valid[fmt.Sprint(id)] = true
		}
	}
	return b.String(), len(valid)
}

func genWrite(w io.Writer, n int) error {
	fmt.Fprintln(w, "platformCustomerId,customerType,fullName,birthDate,addressLine1,city,postalCode,country,description")
	for i := 1; i <= n; i++ {
		id, birth := i, fmt.Sprintf("19%02d-%02d-%02d", 50+i%50, 1+i%12, 1+i%28)
		if i%11 == 0 {
			id = i - 1
		}
		if i%7 == 0 {
			birth = "1970-02-30"
		}
		// Long lines (the description is ignored), so that a few thousand rows span chunks.
		fmt.Fprintf(w, "p-%d,INDIVIDUAL,Person %d Example,%s,%d Long Avenue of the Example Republic,Springfield,%05d,US,%s\n",
			id, i, birth, i, i%100000, strings.Repeat("notes ", 20))
	}
	return nil
}

// checkImported checks that a finished job created exactly the distinct valid rows, once each.
func (f *fixture) checkImported(j *grid.BulkJob, rows, valid int) {
	f.t.Helper()
	got := f.job(j.ID)
	if got.Status != grid.BulkCompleted {
		f.t.Fatalf("status = %s, want COMPLETED", got.Status)
	}
	if got.Total != int64(rows) || got.Processed != int64(rows) || got.Succeeded != int64(valid) || got.Failed != int64(rows-valid) {
		f.t.Errorf("progress = total %d processed %d succeeded %d failed %d, want %d %d %d %d",
			got.Total, got.Processed, got.Succeeded, got.Failed, rows, rows, valid, rows-valid)
	}
	if n := f.count(`SELECT COUNT(*) FROM customers WHERE platform_id = $1`, f.p.Platform.ID); n != valid {
		f.t.Errorf("%d customers, want %d", n, valid)
	}
	if n := f.count(`SELECT COUNT(DISTINCT platform_customer_id) FROM customers WHERE platform_id = $1`, f.p.Platform.ID); n != valid {
		f.t.Errorf("%d distinct platformCustomerIds, want %d", n, valid)
	}
	if n := f.count(`SELECT COUNT(*) FROM status_changes WHERE actor = $1`, j.ID); n != valid {
		f.t.Errorf("%d history entries by the job, want %d", n, valid)
	}
	if n := f.count(`SELECT COUNT(*) FROM bulk_job_errors WHERE job_id = $1`, j.ID); n != rows-valid {
		f.t.Errorf("%d row errors, want %d", n, rows-valid)
	}
	if evs := f.events(j.ID); len(evs) != 1 || evs[0].Type != grid.EventBulkUploadCompleted {
		f.t.Errorf("job events = %d, want one BULK_UPLOAD.COMPLETED", len(evs))
	}
}

func TestInterruptedJobResumes(t *testing.T) { onEachStore(t, testInterruptedJobResumes) }

func testInterruptedJobResumes(t *testing.T, f *fixture) {
	const rows = 3000
	file, valid := genFile(t, rows)
	j := f.upload(file)
	if j.Chunks < 2 {
		t.Fatalf("file of %d bytes fits one chunk; the test wants a cursor in a later one", len(file))
	}

	// The first worker is stopped after its sixth batch, past the first chunk.
	ctx, cancel := context.WithCancel(t.Context())
	first := f.worker(300)
	batches := 0
	first.afterBatch = func(*grid.BulkJob) {
		if batches++; batches == 6 {
			cancel()
		}
	}
	if found, err := first.RunOnce(ctx); !found || err != nil {
		t.Fatalf("first RunOnce = %v, %v", found, err)
	}
	mid := f.job(j.ID)
	if mid.Status != grid.BulkProcessing || mid.Processed != 1800 || mid.Cursor.Row != 1801 {
		t.Fatalf("after the interruption: status %s processed %d cursor %+v", mid.Status, mid.Processed, mid.Cursor)
	}
	if mid.Cursor.Offset <= grid.BulkChunkSize {
		t.Fatalf("cursor offset %d is in the first chunk", mid.Cursor.Offset)
	}
	if n := f.count(`SELECT COUNT(*) FROM customers WHERE platform_id = $1`, f.p.Platform.ID); int64(n) != mid.Succeeded {
		t.Fatalf("%d customers after the interruption, job says %d", n, mid.Succeeded)
	}

	// It gave its lease up: another worker resumes at once.
	f.runAll(f.worker(300))
	f.checkImported(j, rows, valid)
}

func TestCrashedWorkerIsTakenOver(t *testing.T) { onEachStore(t, testCrashedWorkerIsTakenOver) }

func testCrashedWorkerIsTakenOver(t *testing.T, f *fixture) {
	const rows = 1200
	file, valid := genFile(t, rows)
	j := f.upload(file)

	// A node claims the job, commits one batch and dies.
	dead, err := f.svc.ClaimBulkJob(t.Context(), "dead-node")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	w := f.worker(100)
	w.afterBatch = func(*grid.BulkJob) { cancel() }
	if err := w.process(ctx, dead); !errors.Is(err, context.Canceled) {
		t.Fatalf("process = %v, want context.Canceled", err)
	}
	stale := *dead

	// While its lease runs, nobody else takes the job.
	if found, err := f.worker(100).RunOnce(t.Context()); found || err != nil {
		t.Fatalf("RunOnce during the lease = %v, %v; want no job", found, err)
	}
	f.clock.advance(grid.BulkLease + time.Second)
	f.runAll(f.worker(100))
	f.checkImported(j, rows, valid)

	// The dead node, were it to come back, can write nothing.
	if err := f.svc.ImportBulkRows(t.Context(), &stale, nil, grid.BulkCursor{Row: 9999}); !errors.Is(err, grid.ErrNotFound) {
		t.Errorf("stale worker's batch: %v, want grid.ErrNotFound", err)
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	f := newFixture(t)
	file, valid := genFile(t, 300)
	j := f.upload(file)
	w := f.worker(50)
	w.Poll = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for f.job(j.ID).Status != grid.BulkCompleted {
		if time.Now().After(deadline) {
			t.Fatal("job not completed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	f.checkImported(j, 300, valid)
}

func TestAbandonedUploadsAreSwept(t *testing.T) {
	f := newFixture(t)
	// An upload whose node died: the job row and a chunk, never finished.
	j := &grid.BulkJob{ID: grid.NewID("Job"), PlatformID: f.p.Platform.ID, TokenID: f.p.Token.ID, Status: grid.BulkUploading,
		ChunkSize: grid.BulkChunkSize, Total: -1, CreatedAt: f.svc.Now(), UpdatedAt: f.svc.Now()}
	err := f.st.WithTx(t.Context(), func(tx grid.Tx) error {
		if err := tx.InsertBulkJob(t.Context(), j); err != nil {
			return err
		}
		return tx.InsertBulkChunk(t.Context(), j.ID, 0, []byte("x"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.svc.SweepBulkUploads(t.Context()); n != 0 || err != nil {
		t.Fatalf("sweep of a fresh upload = %d, %v", n, err)
	}
	f.clock.advance(2 * time.Hour)
	if n, err := f.svc.SweepBulkUploads(t.Context()); n != 1 || err != nil {
		t.Fatalf("sweep = %d, %v; want 1", n, err)
	}
	if n := f.count(`SELECT COUNT(*) FROM bulk_job_chunks`); n != 0 {
		t.Errorf("%d chunks left", n)
	}
}

func TestColumnOf(t *testing.T) {
	for field, want := range map[string]string{
		"address.line1": "addressLine1", "businessInfo.legalName": "businessLegalName", "currencies[2]": "currencies",
		"birthDate": "birthDate", "businessInfo": "", "identifier": "",
	} {
		if got := ColumnOf(field); got != want {
			t.Errorf("ColumnOf(%q) = %q, want %q", field, got, want)
		}
	}
}

func TestCancelledAnywhere(t *testing.T) { onEachStore(t, testCancelledAnywhere) }

// testCancelledAnywhere stops workers at arbitrary moments, inside batches too, until the
// job is done: every customer is still created exactly once.
func testCancelledAnywhere(t *testing.T, f *fixture) {
	const rows = 1500
	file, valid := genFile(t, rows)
	j := f.upload(file)
	for i := 0; f.job(j.ID).Status != grid.BulkCompleted; i++ {
		if i == 200 {
			t.Fatalf("job not completed after %d interrupted runs: %+v", i, f.job(j.ID))
		}
		// Windows from a few milliseconds to a few batches, widening as runs go by so that a
		// slow machine (or the race detector) still gets there.
		window := time.Duration(5+i%10*20) * time.Millisecond * time.Duration(1+i/20)
		ctx, cancel := context.WithTimeout(t.Context(), window)
		if _, err := f.worker(100).RunOnce(ctx); err != nil && ctx.Err() == nil {
			t.Fatalf("RunOnce: %v", err)
		}
		cancel()
		// A worker that lost its lease to a failed release leaves the job leased: let it run
		// out.
		f.clock.advance(grid.BulkLease + time.Second)
	}
	f.checkImported(j, rows, valid)
}

func TestJobThatKeepsFailingIsGivenUp(t *testing.T) {
	f := newFixture(t)
	j := f.upload("customerType,fullName\nINDIVIDUAL,Ann Example\n")
	// Workers that die right after claiming, over and over.
	for range grid.MaxBulkAttempts {
		if _, err := f.svc.ClaimBulkJob(t.Context(), "dying-node"); err != nil {
			t.Fatalf("ClaimBulkJob: %v", err)
		}
		f.clock.advance(grid.BulkLease + time.Second)
	}
	f.runAll(f.worker(grid.BulkBatchRows))
	got := f.job(j.ID)
	if got.Status != grid.BulkFailed || len(got.Errors) != 1 || got.Errors[0].Code != grid.CodeInternal || got.Total != 1 || got.Failed != 1 {
		t.Fatalf("job after %d dead claims: %+v", grid.MaxBulkAttempts, got)
	}
	if evs := f.events(j.ID); len(evs) != 1 || evs[0].Type != grid.EventBulkUploadFailed {
		t.Errorf("events = %+v, want one BULK_UPLOAD.FAILED", evs)
	}
}
