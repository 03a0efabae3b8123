package httpapi_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/textproto"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gridd/gridd/internal/grid"
)

// docFile is the file part of a document form.
type docFile struct {
	name, contentType string
	data              []byte
}

// upload sends a multipart/form-data request with text fields (name, value pairs, in order)
// and an optional file, and checks the response against both documents like do.
func (e *env) docUpload(c *cred, method, path string, file *docFile, fields ...string) resp {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := mw.WriteField(fields[i], fields[i+1]); err != nil {
			e.t.Fatal(err)
		}
	}
	if file != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"; filename="`+file.name+`"`)
		if file.contentType != "" {
			h.Set("Content-Type", file.contentType)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			e.t.Fatal(err)
		}
		w.Write(file.data)
	}
	mw.Close()
	return e.sendRaw(c, method, path, mw.FormDataContentType(), buf.Bytes())
}

// testPNG encodes a real PNG image.
func testPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := range 8 {
		img.Set(x, x, color.RGBA{R: 200, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testPDF is a small but complete PDF file.
func testPDF() []byte {
	return []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
		"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
}

// docUploadID uploads a document for a holder and returns its id.
func (e *env) docUploadID(t testing.TB, c *cred, holder, docType string, file *docFile) string {
	t.Helper()
	if file == nil {
		file = &docFile{name: "doc.png", contentType: "image/png", data: testPNG(t)}
	}
	r := e.docUpload(c, "POST", "/documents", file, "documentHolder", holder, "documentType", docType, "country", "US").want(t, 201, "")
	return r.str("id")
}

func TestDocumentsLifecycle(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(sandbox())
	cust := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Jane Doe 003"}`).want(t, 201, "")
	id := cust.str("id")
	img := testPNG(t)

	r := e.docUpload(&c, "POST", "/documents", &docFile{name: "passport.png", contentType: "image/png", data: img},
		"documentHolder", id, "documentType", "PASSPORT", "side", "FRONT", "country", "US",
		"documentNumber", "A12345678", "issuingAuthority", "U.S. Department of State").want(t, 201, "")
	docID := r.str("id")
	want := map[string]any{
		"id": docID, "documentHolder": id, "documentType": "PASSPORT", "side": "FRONT", "country": "US",
		"documentNumber": "A12345678", "issuingAuthority": "U.S. Department of State", "fileName": "passport.png",
		"createdAt": r.str("createdAt"), "updatedAt": r.str("createdAt"),
	}
	if d := cmp.Diff(want, r.body); d != "" {
		t.Errorf("POST /documents (-want +got):\n%s", d)
	}
	if g := e.do(&c, "GET", "/documents/"+docID, "").want(t, 200, ""); cmp.Diff(want, g.body) != "" {
		t.Errorf("GET /documents/{id} = %s", g.raw)
	}

	// The bytes are kept, sealed, in the database.
	pr := principalOf(t, e, c)
	if _, data, err := e.svc.DocumentFileContent(context.Background(), pr, docID); err != nil || !bytes.Equal(data, img) {
		t.Errorf("stored file: %d bytes, err %v; want the %d uploaded", len(data), err, len(img))
	}
	var raw []byte
	if err := e.store.ReadDB().QueryRow(`SELECT content FROM documents WHERE id = $1`, docID).Scan(&raw); err != nil || bytes.Contains(raw, img[8:40]) {
		t.Errorf("the file is stored in clear (err %v)", err)
	}

	// Replace with a PDF: the description is replaced as a whole.
	r = e.docUpload(&c, "PUT", "/documents/"+docID, &docFile{name: "passport.pdf", contentType: "application/pdf", data: testPDF()},
		"documentType", "PASSPORT", "country", "GB").want(t, 200, "")
	if r.str("fileName") != "passport.pdf" || r.str("country") != "GB" || r.body["documentNumber"] != nil || r.body["side"] != nil {
		t.Errorf("PUT /documents/{id} = %s", r.raw)
	}
	// Metadata only: the file stays.
	r = e.docUpload(&c, "PUT", "/documents/"+docID, nil, "documentType", "NATIONAL_ID", "country", "GB", "documentHolder", id).want(t, 200, "")
	if r.str("fileName") != "passport.pdf" || r.str("documentType") != "NATIONAL_ID" {
		t.Errorf("PUT without a file = %s", r.raw)
	}
	other := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Other"}`).want(t, 201, "")
	e.docUpload(&c, "PUT", "/documents/"+docID, nil, "documentType", "PASSPORT", "country", "US", "documentHolder", other.str("id")).want(t, 400, "INVALID_INPUT")

	// Lists, filtered by holder, paged.
	second := e.docUploadID(t, &c, other.str("id"), "DRIVERS_LICENSE", nil)
	third := e.docUploadID(t, &c, id, "UTILITY_BILL", &docFile{name: "bill.pdf", data: testPDF()})
	ids := func(r resp) []string {
		var out []string
		for _, d := range r.body["data"].([]any) {
			out = append(out, d.(map[string]any)["id"].(string))
		}
		return out
	}
	if got := ids(e.do(&c, "GET", "/documents", "").want(t, 200, "")); !cmp.Equal(got, []string{docID, second, third}) {
		t.Errorf("GET /documents = %v", got)
	}
	if got := ids(e.do(&c, "GET", "/documents?documentHolder="+id, "").want(t, 200, "")); !cmp.Equal(got, []string{docID, third}) {
		t.Errorf("GET /documents?documentHolder = %v", got)
	}
	page := e.do(&c, "GET", "/documents?limit=2", "").want(t, 200, "")
	if page.body["hasMore"] != true || page.body["totalCount"] != float64(3) {
		t.Errorf("first page = %s", page.raw)
	}
	if got := ids(e.do(&c, "GET", "/documents?limit=2&cursor="+page.str("nextCursor"), "").want(t, 200, "")); !cmp.Equal(got, []string{third}) {
		t.Errorf("second page = %v", got)
	}

	// Another platform sees none of it.
	_, c2 := e.platform(grid.PlatformSpec{Name: "other", UMADomain: "uma.other.test", Sandbox: true})
	e.do(&c2, "GET", "/documents/"+docID, "").want(t, 404, "REFERENCE_NOT_FOUND")
	if got := ids(e.do(&c2, "GET", "/documents", "").want(t, 200, "")); len(got) != 0 {
		t.Errorf("other platform lists %v", got)
	}
	e.docUploadStatus(t, &c2, id, 404)

	e.do(&c, "DELETE", "/documents/"+docID, "").want(t, 204, "")
	e.do(&c, "GET", "/documents/"+docID, "").want(t, 404, "REFERENCE_NOT_FOUND")
	e.do(&c, "DELETE", "/documents/"+docID, "").want(t, 404, "REFERENCE_NOT_FOUND")
	_ = p
}

func (e *env) docUploadStatus(t testing.TB, c *cred, holder string, status int) resp {
	t.Helper()
	return e.docUpload(c, "POST", "/documents", &docFile{name: "p.png", contentType: "image/png", data: testPNG(t)},
		"documentHolder", holder, "documentType", "PASSPORT", "country", "US").want(t, status, "")
}

func TestDocumentChecks(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	id := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Jane Doe 001"}`).want(t, 201, "").str("id")
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), bytes.Repeat([]byte{0}, 200)...)
	fields := []string{"documentHolder", id, "documentType", "PASSPORT", "country", "US"}

	cases := []struct {
		name   string
		file   *docFile
		fields []string
		status int
		code   string
		errs   []string
	}{
		{"exe renamed png", &docFile{"setup.png", "image/png", exe}, fields, 400, "INVALID_INPUT", []string{"file"}},
		{"exe without a type", &docFile{"setup.png", "", exe}, fields, 400, "INVALID_INPUT", []string{"file"}},
		{"text file", &docFile{"notes.txt", "text/plain", []byte("hello, world")}, fields, 400, "INVALID_INPUT", []string{"file"}},
		{"declared type contradicts", &docFile{"p.png", "application/pdf", testPNG(t)}, fields, 400, "INVALID_INPUT", []string{"file"}},
		{"extension contradicts", &docFile{"p.pdf", "", testPNG(t)}, fields, 400, "INVALID_INPUT", []string{"file"}},
		{"empty file", &docFile{"p.png", "image/png", nil}, fields, 400, "INVALID_INPUT", []string{"file"}},
		{"no file", nil, fields, 400, "INVALID_INPUT", []string{"file"}},
		{"every field wrong", &docFile{"p.png", "image/png", testPNG(t)},
			[]string{"documentType", "VISA", "country", "XX", "side", "TOP", "colour", "red"}, 400, "INVALID_INPUT",
			[]string{"colour"}},
		{"metadata wrong", &docFile{"p.png", "image/png", testPNG(t)},
			[]string{"documentType", "VISA", "country", "XX", "side", "TOP"}, 400, "INVALID_INPUT",
			[]string{"country", "documentHolder", "documentType", "side"}},
		{"field twice", &docFile{"p.png", "image/png", testPNG(t)}, append(fields, "country", "MX"), 400, "INVALID_INPUT", []string{"country"}},
		{"unknown holder", &docFile{"p.png", "image/png", testPNG(t)},
			[]string{"documentHolder", "Customer:019542f5-b3e7-7d02-8000-000000000001", "documentType", "PASSPORT", "country", "US"}, 404, "USER_NOT_FOUND", nil},
		{"unknown owner", &docFile{"p.png", "image/png", testPNG(t)},
			[]string{"documentHolder", "BeneficialOwner:019542f5-b3e7-7d02-8000-000000000001", "documentType", "PASSPORT", "country", "US"}, 404, "REFERENCE_NOT_FOUND", nil},
		{"jpeg", &docFile{"p.jpg", "image/jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0}}, fields, 201, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.docUpload(&c, "POST", "/documents", tc.file, tc.fields...).want(t, tc.status, tc.code)
			if d := cmp.Diff(tc.errs, r.fields(), sortStrings); tc.errs != nil && d != "" {
				t.Errorf("fields (-want +got):\n%s", d)
			}
		})
	}

	// Too large: 413 in the API's JSON, whether or not an Idempotency-Key makes the request
	// go through the replay machinery.
	big := append(testPNG(t), bytes.Repeat([]byte{0}, grid.MaxDocumentSize)...)
	e.docUpload(&c, "POST", "/documents", &docFile{"big.png", "image/png", big}, fields...).want(t, 413, "PAYLOAD_TOO_LARGE")
	e.docUpload(&c, "PUT", "/documents/Document:x", &docFile{"big.png", "image/png", big}, "documentType", "PASSPORT", "country", "US").want(t, 413, "PAYLOAD_TOO_LARGE")

	// Not multipart: 415.
	e.sendRaw(&c, "POST", "/documents", "application/json", []byte(`{"documentHolder":"`+id+`"}`)).want(t, 415, "UNSUPPORTED_MEDIA_TYPE")

	// A read-only token cannot upload.
	_, ro := e.platform(sandbox(), grid.PermView)
	e.docUploadStatus(t, &ro, id, 403)
}

func TestDocumentUploadIdempotent(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	id := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Jane Doe 001"}`).want(t, 201, "").str("id")
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("documentHolder", id)
	mw.WriteField("documentType", "PASSPORT")
	mw.WriteField("country", "US")
	fw, _ := mw.CreateFormFile("file", "p.png")
	fw.Write(testPNG(t))
	mw.Close()
	first := e.sendRaw(&c, "POST", "/documents", mw.FormDataContentType(), buf.Bytes(), "Idempotency-Key", "doc-1").want(t, 201, "")
	again := e.sendRaw(&c, "POST", "/documents", mw.FormDataContentType(), buf.Bytes(), "Idempotency-Key", "doc-1").want(t, 201, "")
	if again.header.Get("Idempotent-Replayed") != "true" || again.str("id") != first.str("id") {
		t.Errorf("replay: %s (header %q), want the first document %s", again.raw, again.header.Get("Idempotent-Replayed"), first.str("id"))
	}
	list := e.do(&c, "GET", "/documents", "").want(t, 200, "")
	if n := len(list.body["data"].([]any)); n != 1 {
		t.Errorf("%d documents after a replayed upload, want 1", n)
	}
}
