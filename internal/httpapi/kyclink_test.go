package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"html"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gridd/gridd/api"
	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/httpapi"
	"github.com/gridd/gridd/internal/seal"
	"github.com/gridd/gridd/internal/sqlite"
)

// kycClock is a clock a test moves by hand.
type kycClock struct{ now atomic.Int64 }

func newKycClock() *kycClock {
	c := &kycClock{}
	c.now.Store(time.Now().UTC().Truncate(time.Second).UnixMicro())
	return c
}

func (c *kycClock) Now() time.Time                      { return time.UnixMicro(c.now.Load()).UTC() }
func (c *kycClock) Advance(d time.Duration)             { c.now.Add(d.Microseconds()) }
func (c *kycClock) Set(t time.Time)                     { c.now.Store(t.UnixMicro()) }
func newKycClockEnv(t testing.TB, clock *kycClock) *env { return newKycEnv(t, clock.Now, "") }

// newKycEnv is newEnv with a clock and a public URL.
func newKycEnv(t testing.TB, now func() time.Time, publicURL string) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gridd.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	box, err := seal.New(seal.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	svc := grid.NewService(st, box, now)
	h := httpapi.New(svc, httpapi.Options{BasePath: base, OpenAPI: api.OpenAPI, PublicURL: publicURL})
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); st.Close() })
	return &env{t: t, srv: srv, svc: svc, store: st, dbPath: path}
}

// hostedPage is a hosted page as a browser gets it.
type hostedPage struct {
	status int
	header http.Header
	body   string
}

var reNonce = regexp.MustCompile(`<input type="hidden" name="nonce" value="([^"]+)">`)

// nonce returns the form nonce of a page.
func (p hostedPage) nonce(t testing.TB) string {
	t.Helper()
	m := reNonce.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no nonce in the hostedPage:\n%s", p.body)
	}
	return html.UnescapeString(m[1])
}

// text is the page's text without tags, whitespace collapsed.
func (p hostedPage) text() string {
	noTags := regexp.MustCompile(`(?s)<style.*?</style>|<[^>]+>`).ReplaceAllString(p.body, " ")
	return strings.Join(strings.Fields(html.UnescapeString(noTags)), " ")
}

// wantText checks that the page's text holds every phrase.
func (p hostedPage) wantText(t testing.TB, phrases ...string) {
	t.Helper()
	txt := p.text()
	for _, ph := range phrases {
		if !strings.Contains(txt, ph) {
			t.Errorf("hostedPage text lacks %q:\n%s", ph, txt)
		}
	}
}

func (p hostedPage) wantStatus(t testing.TB, status int) hostedPage {
	t.Helper()
	if p.status != status {
		t.Fatalf("status = %d, want %d; hostedPage text: %s", p.status, status, p.text())
	}
	return p
}

// checkHostedPage checks what every hosted answer must be: an HTML page (never JSON, never a
// stack trace) with the flow's security headers.
func checkHostedPage(t testing.TB, p hostedPage) {
	t.Helper()
	want := map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "no-referrer",
	}
	for k, v := range want {
		if got := p.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if !strings.HasPrefix(p.body, "<!doctype html>") {
		t.Errorf("body is not an HTML hostedPage: %.200s", p.body)
	}
	for _, bad := range []string{"goroutine ", ".go:", "panic", "<script", "http://", "https://"} {
		if bad == "https://" || bad == "http://" {
			// The only absolute URL a page may carry is the platform's redirect.
			for _, m := range regexp.MustCompile(`(src|href)="(https?://[^"]*)"`).FindAllStringSubmatch(p.body, -1) {
				if !strings.HasPrefix(m[2], "https://app.example.com/") {
					t.Errorf("hostedPage loads or links %s", m[2])
				}
			}
			continue
		}
		if strings.Contains(p.body, bad) {
			t.Errorf("hostedPage contains %q", bad)
		}
	}
}

func (e *env) getPage(t testing.TB, url string) hostedPage {
	t.Helper()
	res, err := e.srv.Client().Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return readHostedPage(t, res)
}

func readHostedPage(t testing.TB, res *http.Response) hostedPage {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	p := hostedPage{status: res.StatusCode, header: res.Header, body: string(b)}
	checkHostedPage(t, p)
	return p
}

// hostedFile is a file to attach to a form post.
type hostedFile struct {
	name, contentType string
	data              []byte
}

// postForm sends the hosted form as a browser does: multipart/form-data, fields in order
// (name, value pairs), files by input name.
func (e *env) postForm(t testing.TB, url string, files map[string]hostedFile, fields ...string) hostedPage {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := mw.WriteField(fields[i], fields[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	for name, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, name, f.name))
		h.Set("Content-Type", f.contentType)
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	mw.Close()
	res, err := e.srv.Client().Post(url, mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return readHostedPage(t, res)
}

var (
	reFormInput  = regexp.MustCompile(`<input ([^>]*)>`)
	reFormSelect = regexp.MustCompile(`(?s)<select ([^>]*)>(.*?)</select>`)
	reSelected   = regexp.MustCompile(`<option value="([^"]*)" selected>`)
	reAttr       = regexp.MustCompile(`([a-z-]+)(?:="([^"]*)")?`)
)

func attrs(tag string) map[string]string {
	out := map[string]string{}
	for _, m := range reAttr.FindAllStringSubmatch(tag, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// browserPost sends the page's form as a browser does once the user has changed the inputs
// in set (name, value pairs; a name given twice sends two values, as checkboxes do), chosen
// files and pressed the button action: every other input is sent as the page rendered it.
func (e *env) browserPost(t testing.TB, url string, form hostedPage, files map[string]hostedFile, action string, set ...string) hostedPage {
	t.Helper()
	changed := map[string][]string{}
	for i := 0; i+1 < len(set); i += 2 {
		changed[set[i]] = append(changed[set[i]], set[i+1])
	}
	var fields []string
	done := map[string]bool{}
	send := func(name, value string) {
		if vs, ok := changed[name]; ok {
			if !done[name] {
				for _, v := range vs {
					fields = append(fields, name, v)
				}
				done[name] = true
			}
			return
		}
		fields = append(fields, name, value)
	}
	for _, m := range reFormInput.FindAllStringSubmatch(form.body, -1) {
		a := attrs(m[1])
		switch a["type"] {
		case "hidden", "text", "date", "number":
			send(a["name"], a["value"])
		case "checkbox":
			if _, checked := a["checked"]; checked || len(changed[a["name"]]) > 0 {
				send(a["name"], a["value"])
			}
		}
	}
	for _, m := range reFormSelect.FindAllStringSubmatch(form.body, -1) {
		value := ""
		if sel := reSelected.FindStringSubmatch(m[2]); sel != nil {
			value = html.UnescapeString(sel[1])
		}
		send(attrs(m[1])["name"], value)
	}
	for name := range changed {
		if !done[name] && !strings.Contains(form.body, `name="`+name+`"`) {
			t.Fatalf("the form has no input %s", name)
		}
	}
	return e.postForm(t, url, files, append(fields, "action", action)...)
}

// kycLink creates a link through the API and returns its URL.
func (e *env) kycLink(t testing.TB, c *cred, customerID, body string) string {
	t.Helper()
	r := e.do(c, "POST", "/customers/"+customerID+"/kyc-link", body).want(t, 201, "")
	return r.str("kycUrl")
}

func hostedPNG(t testing.TB, name string) hostedFile {
	return hostedFile{name: name, contentType: "image/png", data: testPNG(t)}
}

func hostedPDF(name string) hostedFile {
	return hostedFile{name: name, contentType: "application/pdf", data: testPDF()}
}

// TestKycLinkIndividual drives the hosted flow of a sandbox 001 individual from the API call
// to the final page with a real HTTP client: the page lists what is missing, a post with the
// missing fields and a PNG passport submits the customer into review, and the link is then
// used up.
func TestKycLinkIndividual(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(sandbox())
	id := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Jane Doe 001","birthDate":"1990-01-15",
	  "nationality":"US","email":"jane@example.com"}`).want(t, 201, "").str("id")

	r := e.do(&c, "POST", "/customers/"+id+"/kyc-link", `{"redirectUri":"https://app.example.com/onboarding/completed"}`).want(t, 201, "")
	if d := cmp.Diff([]string{"expiresAt", "kycUrl", "provider"}, slices.Sorted(maps.Keys(r.body))); d != "" {
		t.Errorf("response fields (-want +got):\n%s", d)
	}
	link := r.str("kycUrl")
	token, ok := strings.CutPrefix(link, e.srv.URL+"/hosted/kyc/")
	if !ok || !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(token) {
		t.Fatalf("kycUrl = %q, want %s/hosted/kyc/<43 base64url characters>", link, e.srv.URL)
	}
	if r.str("provider") != "SUMSUB" {
		t.Errorf("provider = %q", r.str("provider"))
	}
	exp, err := time.Parse(time.RFC3339, r.str("expiresAt"))
	if err != nil || exp.Sub(time.Now()) < 23*time.Hour || exp.Sub(time.Now()) > 25*time.Hour {
		t.Errorf("expiresAt = %q, want about 24 hours from now", r.str("expiresAt"))
	}
	// Only the token's hash is stored.
	var n int
	sum := sha256.Sum256([]byte(token))
	if err := e.store.ReadDB().QueryRow(`SELECT COUNT(*) FROM kyc_links WHERE token_hash = $1 AND customer_id = $2`, sum[:], id).Scan(&n); err != nil || n != 1 {
		t.Fatalf("links stored under the token's hash: %d (%v), want 1", n, err)
	}
	if other := e.kycLink(t, &c, id, ""); other == link {
		t.Errorf("a second call returned the same link")
	}

	// The page shows the data on file and what is missing.
	form := e.getPage(t, link).wantStatus(t, 200)
	form.wantText(t, "Verify your identity", "Jane Doe 001", "1990-01-15", "United States", "jane@example.com",
		"What is still needed", "Identification number is missing.", "Address is missing.",
		"An identity document (Passport, Driver’s license, National ID card) is missing.")
	for _, input := range []string{`name="idType"`, `name="identifier"`, `name="address.line1"`, `name="address.postalCode"`,
		`name="doc.identity.` + id + `.file"`, `name="doc.identity.` + id + `.type"`} {
		if !strings.Contains(form.body, input) {
			t.Errorf("the form lacks the input %s", input)
		}
	}
	for _, input := range []string{`name="fullName"`, `name="birthDate"`, `name="owner.firstName"`} {
		if strings.Contains(form.body, input) {
			t.Errorf("the form asks again for %s, which is on file", input)
		}
	}
	nonce := form.nonce(t)
	if again := e.getPage(t, link).nonce(t); again == nonce {
		t.Errorf("two renders carry the same nonce")
	}

	// Posts without the link's nonce change nothing.
	e.postForm(t, link, nil, "action", "submit").wantStatus(t, 403).wantText(t, "The form has expired")
	otherID := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"John Roe 001"}`).want(t, 201, "").str("id")
	otherLink := e.kycLink(t, &c, otherID, "")
	e.postForm(t, link, nil, "nonce", e.getPage(t, otherLink).nonce(t), "action", "submit").wantStatus(t, 403)

	// Invalid input shows the form again, with the problems, and saves nothing of that step.
	docPrefix := "doc.identity." + id + "."
	bad := e.browserPost(t, link, form, map[string]hostedFile{docPrefix + "file": {name: "passport.png", contentType: "image/png", data: []byte("MZ\x90\x00 not an image")}},
		"submit", "idType", "SSN", "identifier", "123", "address.line1", "123 Main St", "address.city", "Seattle",
		"address.postalCode", "98101", docPrefix+"type", "PASSPORT").wantStatus(t, 400)
	bad.wantText(t, "There is a problem", "ID number: an SSN must have the form ###-##-####",
		"File must be a PDF, JPEG or PNG file; its content is none of these")
	if strings.Contains(bad.body, `value="123"`) {
		t.Errorf("the hostedPage shows the write-only identifier again")
	}
	if !strings.Contains(bad.body, `value="123 Main St"`) {
		t.Errorf("the hostedPage lost the address typed in")
	}
	if got := e.do(&c, "GET", "/customers/"+id, "").want(t, 200, ""); got.body["address"] != nil || got.str("idType") != "" {
		t.Errorf("a failed step was saved: %s", got.raw)
	}

	// The missing fields and a PNG passport: submitted into manual review.
	done := e.browserPost(t, link, bad, map[string]hostedFile{docPrefix + "file": hostedPNG(t, "passport.png")},
		"submit", "idType", "SSN", "identifier", "111-22-3333", "address.state", "WA",
		docPrefix+"type", "PASSPORT", docPrefix+"number", "A12345678", docPrefix+"authority", "U.S. Department of State").wantStatus(t, 200)
	done.wantText(t, "Thank you, your information was submitted", "Verification status: Under review")
	if !strings.Contains(done.body, `data-status="PENDING_MANUAL_REVIEW"`) || !strings.Contains(done.body, `href="https://app.example.com/onboarding/completed"`) {
		t.Errorf("final hostedPage:\n%s", done.body)
	}

	// The API sees the same result as POST /verifications would give.
	cust := e.do(&c, "GET", "/customers/"+id, "").want(t, 200, "")
	if cust.str("kycStatus") != "PENDING" || cust.str("idType") != "SSN" || cust.body["address"] == nil {
		t.Errorf("customer after the hosted flow: %s", cust.raw)
	}
	vers := e.do(&c, "GET", "/verifications?customerId="+id, "").want(t, 200, "").body["data"].([]any)
	if len(vers) != 1 || vers[0].(map[string]any)["verificationStatus"] != "PENDING_MANUAL_REVIEW" {
		t.Errorf("verifications = %v", vers)
	}
	docs := e.do(&c, "GET", "/documents?documentHolder="+id, "").want(t, 200, "").body["data"].([]any)
	if len(docs) != 1 || docs[0].(map[string]any)["documentType"] != "PASSPORT" || docs[0].(map[string]any)["fileName"] != "passport.png" {
		t.Errorf("documents = %v", docs)
	}
	if types := e.kycEventTypes(t, p.ID, 0); !slices.Contains(types, "VERIFICATION.PENDING_MANUAL_REVIEW") {
		t.Errorf("webhooks = %v, want VERIFICATION.PENDING_MANUAL_REVIEW among them", types)
	}
	var linkID string
	if err := e.store.ReadDB().QueryRow(`SELECT id FROM kyc_links WHERE token_hash = $1`, sum[:]).Scan(&linkID); err != nil {
		t.Fatal(err)
	}
	var consumedBy string
	if err := e.store.ReadDB().QueryRow(`SELECT verification_id FROM kyc_links WHERE id = $1`, linkID).Scan(&consumedBy); err != nil || consumedBy != vers[0].(map[string]any)["id"] {
		t.Errorf("the link was consumed by %q (%v), want %v", consumedBy, err, vers[0].(map[string]any)["id"])
	}

	// The link is used up: opening or posting it again is a 410 page.
	e.getPage(t, link).wantStatus(t, 410).wantText(t, "This link has already been used")
	e.postForm(t, link, nil, "nonce", nonce, "action", "submit").wantStatus(t, 410)
	// Another link of the customer still works: it shows the review under way.
	e.getPage(t, otherLink).wantStatus(t, 200)
}

// TestKycLinkResolveErrors submits a customer that still lacks data: the page lists what is
// missing with the form again, and the link stays usable. "Save" stores without submitting.
func TestKycLinkResolveErrors(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	id := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"John Roe 001"}`).want(t, 201, "").str("id")
	link := e.kycLink(t, &c, id, "")
	form := e.getPage(t, link).wantStatus(t, 200)

	res := e.browserPost(t, link, form, nil, "submit").wantStatus(t, 200)
	res.wantText(t, "could not be submitted yet", "Date of birth is missing.", "Nationality is missing.", "Identification number is missing.")
	vers := e.do(&c, "GET", "/verifications?customerId="+id, "").want(t, 200, "").body["data"].([]any)
	if len(vers) != 1 || vers[0].(map[string]any)["verificationStatus"] != "RESOLVE_ERRORS" {
		t.Fatalf("verifications = %v", vers)
	}

	saved := e.browserPost(t, link, res, nil, "save", "birthDate", "1985-06-15", "nationality", "GB").wantStatus(t, 200)
	saved.wantText(t, "Your information was saved", "1985-06-15", "United Kingdom")
	if strings.Contains(saved.body, `name="birthDate"`) {
		t.Errorf("the saved birth date is still asked for")
	}
	if n := len(e.do(&c, "GET", "/verifications?customerId="+id, "").want(t, 200, "").body["data"].([]any)); n != 1 {
		t.Errorf("Save submitted a verification (%d verifications)", n)
	}
	// A field on file cannot be changed through the link.
	e.postForm(t, link, nil, "nonce", saved.nonce(t), "birthDate", "1970-01-01", "action", "save").wantStatus(t, 400).
		wantText(t, "Date of birth is already on file and cannot be changed here")
	e.getPage(t, link).wantStatus(t, 200)
}

// TestKycLinkExpiry moves the clock past a link's 24 hours.
func TestKycLinkExpiry(t *testing.T) {
	clock := newKycClock()
	e := newKycClockEnv(t, clock)
	_, c := e.platform(sandbox())
	id := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Jane Doe 001"}`).want(t, 201, "").str("id")
	created := clock.Now()
	r := e.do(&c, "POST", "/customers/"+id+"/kyc-link", "").want(t, 201, "")
	if want := created.Add(24 * time.Hour).Format(time.RFC3339); r.str("expiresAt") != want {
		t.Errorf("expiresAt = %s, want %s", r.str("expiresAt"), want)
	}
	link := r.str("kycUrl")
	clock.Set(created.Add(24*time.Hour - time.Microsecond))
	nonce := e.getPage(t, link).wantStatus(t, 200).nonce(t)
	clock.Set(created.Add(24 * time.Hour))
	e.getPage(t, link).wantStatus(t, 410).wantText(t, "This link has expired")
	e.postForm(t, link, nil, "nonce", nonce, "action", "submit").wantStatus(t, 410)
	if n := len(e.do(&c, "GET", "/verifications?customerId="+id, "").want(t, 200, "").body["data"].([]any)); n != 0 {
		t.Errorf("an expired link submitted %d verifications", n)
	}
}

// TestKycLinkPages checks the answers of paths and methods around the flow: HTML, never the
// API's JSON.
func TestKycLinkPages(t *testing.T) {
	e := newEnv(t)
	get := func(path string) hostedPage { return e.getPage(t, e.srv.URL+path) }
	get("/hosted/kyc/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").wantStatus(t, 404).wantText(t, "This link is not valid")
	get("/hosted/kyc/").wantStatus(t, 404).wantText(t, "Page not found")
	get("/hosted/other").wantStatus(t, 404)
	req, _ := http.NewRequest("PUT", e.srv.URL+"/hosted/kyc/abc", nil)
	res, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	p := readHostedPage(t, res).wantStatus(t, 405)
	if p.header.Get("Allow") != "GET, HEAD, POST" {
		t.Errorf("Allow = %q", p.header.Get("Allow"))
	}
	// A form post to an unknown link is answered before its body is read.
	e.postForm(t, e.srv.URL+"/hosted/kyc/nope", nil, "nonce", "x").wantStatus(t, 404)
	// Not multipart.
	res, err = e.srv.Client().Post(e.srv.URL+"/hosted/kyc/nope", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	readHostedPage(t, res).wantStatus(t, 404)
}

// TestKycLinkTooLarge posts a file over the 10 MiB limit: a 413 page, nothing saved.
func TestKycLinkTooLarge(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	id := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Jane Doe 001"}`).want(t, 201, "").str("id")
	link := e.kycLink(t, &c, id, "")
	nonce := e.getPage(t, link).nonce(t)
	big := append(testPNG(t), make([]byte, grid.MaxDocumentSize)...)
	prefix := "doc.identity." + id + "."
	e.postForm(t, link, map[string]hostedFile{prefix + "file": {name: "big.png", contentType: "image/png", data: big}},
		"nonce", nonce, prefix+"type", "PASSPORT", prefix+"country", "US", "action", "save").
		wantStatus(t, 413).wantText(t, "The upload is too large")
	if n := len(e.do(&c, "GET", "/documents?documentHolder="+id, "").want(t, 200, "").body["data"].([]any)); n != 0 {
		t.Errorf("%d documents stored", n)
	}
}

// TestKycLinkAPIErrors covers the operation's refusals.
func TestKycLinkAPIErrors(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(sandbox())
	view := e.token(p, grid.PermView)
	pending := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Jane Doe 001"}`).want(t, 201, "").str("id")
	approved := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Jane Smith"}`).want(t, 201, "").str("id")
	deleted := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Del Eted 003"}`).want(t, 201, "").str("id")
	e.do(&c, "DELETE", "/customers/"+deleted, "").want(t, 200, "")

	e.do(&view, "POST", "/customers/"+pending+"/kyc-link", "").want(t, 403, "FORBIDDEN")
	e.do(nil, "POST", "/customers/"+pending+"/kyc-link", "").want(t, 401, "UNAUTHORIZED")
	e.do(&c, "POST", "/customers/Customer:nope/kyc-link", "").want(t, 404, "USER_NOT_FOUND")
	e.do(&c, "POST", "/customers/"+deleted+"/kyc-link", "").want(t, 410, "CUSTOMER_DELETED")
	e.do(&c, "POST", "/customers/"+approved+"/kyc-link", "").want(t, 400, "INVALID_INPUT")
	r := e.do(&c, "POST", "/customers/"+pending+"/kyc-link", `{"redirectUri":"javascript:alert(1)","extra":1}`).want(t, 400, "INVALID_INPUT")
	if d := cmp.Diff([]string{"extra"}, r.fields()); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
	r = e.do(&c, "POST", "/customers/"+pending+"/kyc-link", `{"redirectUri":"ftp://example.com/"}`).want(t, 400, "INVALID_INPUT")
	if d := cmp.Diff([]string{"redirectUri"}, r.fields()); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
	e.do(&c, "POST", "/customers/"+pending+"/kyc-link", `{}`).want(t, 201, "")
	e.do(&c, "POST", "/customers/"+pending+"/kyc-link", `not json`).want(t, 400, "INVALID_INPUT")

	// A retry with the same Idempotency-Key gets the same link back.
	first := e.do(&c, "POST", "/customers/"+pending+"/kyc-link", "", "Idempotency-Key", "kyc-link-1").want(t, 201, "")
	again := e.do(&c, "POST", "/customers/"+pending+"/kyc-link", "", "Idempotency-Key", "kyc-link-1").want(t, 201, "")
	if first.str("kycUrl") != again.str("kycUrl") || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay = %s, want %s", again.raw, first.raw)
	}

	// A platform that requires contact verification needs the channels verified first.
	cvp, cvc := e.platform(grid.PlatformSpec{Name: "eu", UMADomain: "uma.eu.test", Sandbox: true, ContactVerification: []string{"email"}})
	_ = cvp
	cid := e.do(&cvc, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Jane Doe 001","email":"jane@example.com"}`).want(t, 201, "").str("id")
	e.do(&cvc, "POST", "/customers/"+cid+"/kyc-link", "").want(t, 409, "CONFLICT")
	e.do(&cvc, "POST", "/customers/"+cid+"/verify-email", "").want(t, 204, "")
	e.do(&cvc, "POST", "/customers/"+cid+"/verify-email/confirm", `{"code":"123456"}`).want(t, 200, "")
	e.do(&cvc, "POST", "/customers/"+cid+"/kyc-link", "").want(t, 201, "")
}

// TestKycLinkPublicURL builds links from the configured public URL.
func TestKycLinkPublicURL(t *testing.T) {
	e := newKycEnv(t, nil, "https://verify.example.com/gridd/")
	_, c := e.platform(sandbox())
	id := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Jane Doe 001"}`).want(t, 201, "").str("id")
	if link := e.kycLink(t, &c, id, ""); !strings.HasPrefix(link, "https://verify.example.com/gridd/hosted/kyc/") {
		t.Errorf("kycUrl = %s", link)
	}
	for s, ok := range map[string]bool{"": true, "https://x.example.com": true, "http://127.0.0.1:8080/p": true,
		"ftp://x": false, "x.example.com": false, "https://u:p@x.example.com": false, "https://x.example.com/?a=1": false} {
		if err := httpapi.CheckPublicURL(s); (err == nil) != ok {
			t.Errorf("CheckPublicURL(%q) = %v, want ok=%v", s, err, ok)
		}
	}
}

// TestKycLinkBusiness003 follows a sandbox business whose registration number ends in 003: the
// flow asks for the company documents and a beneficial owner, takes them, and submits the
// business into review.
func TestKycLinkBusiness003(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	id := e.do(&c, "POST", "/customers", `{"customerType":"BUSINESS","platformCustomerId":"biz-acme-003","email":"finance@acme.com",
	  "businessInfo":{"legalName":"Acme Corporation, Inc.","country":"US","taxId":"47-1234567","incorporatedOn":"2018-03-14",
	  "registrationNumber":"5523003","entityType":"LLC"}}`).want(t, 201, "").str("id")
	link := e.kycLink(t, &c, id, `{"redirectUri":"https://app.example.com/kyb/done"}`)

	form := e.getPage(t, link).wantStatus(t, 200)
	form.wantText(t, "Verify your business", "Acme Corporation, Inc.", "5523003", "2018-03-14", "LLC", "On file (hidden)",
		"Countries of operation is missing.", "Address is missing.",
		"Proof of legal presence (company formation document) is required.", "Proof of ownership structure is required.",
		"Proof of address document is required.", "At least one beneficial owner is required.", "Add a beneficial owner")
	if strings.Contains(form.body, "47-1234567") {
		t.Errorf("the hostedPage shows the write-only tax id")
	}

	// An owner with a bad birth date is refused with the reason; the rest of the post is saved.
	legal, own, addr := "doc.legal."+id+".", "doc.ownership."+id+".", "doc.address."+id+"."
	res := e.browserPost(t, link, form, map[string]hostedFile{legal + "file": hostedPDF("formation.pdf")}, "save",
		"businessInfo.countriesOfOperation", "us, ca",
		"address.line1", "456 Oak Avenue", "address.city", "Seattle", "address.state", "WA", "address.postalCode", "98101",
		legal+"type", "CERTIFICATE_OF_INCORPORATION",
		"owner.firstName", "Jane", "owner.lastName", "Owner", "owner.birthDate", "2999-01-01", "owner.nationality", "US",
		"owner.roles", "UBO", "owner.roles", "DIRECTOR", "owner.ownershipPercentage", "60", "owner.idType", "SSN", "owner.identifier", "123-45-6789",
		"owner.address.line1", "1 Pine St", "owner.address.postalCode", "98101").wantStatus(t, 400)
	res.wantText(t, "New beneficial owner: Date of birth must not be in the future.")
	if !strings.Contains(res.body, `value="Owner"`) || !strings.Contains(res.body, `value="UBO" id="f-owner.roles-0" checked`) {
		t.Errorf("the owner form lost what was typed in")
	}
	cust := e.do(&c, "GET", "/customers/"+id, "").want(t, 200, "")
	if cust.body["address"] == nil || cust.body["businessInfo"].(map[string]any)["countriesOfOperation"] == nil {
		t.Errorf("the business details were not saved: %s", cust.raw)
	}

	// The owner with its passport, and the two remaining company documents.
	// The owner's details come back filled in, except the write-only number.
	res = e.browserPost(t, link, res, map[string]hostedFile{
		own + "file": hostedPDF("register.pdf"), addr + "file": hostedPNG(t, "bill.png"), "owner.doc.file": hostedPNG(t, "owner-passport.png"),
	}, "save",
		own+"type", "SHAREHOLDER_REGISTER", addr+"type", "UTILITY_BILL",
		"owner.birthDate", "1985-06-15", "owner.roles", "UBO", "owner.identifier", "123-45-6789", "owner.address.city", "Seattle",
		"owner.doc.type", "PASSPORT", "owner.doc.country", "US", "owner.doc.number", "B98765432").wantStatus(t, 200)
	res.wantText(t, "Your information was saved", "Jane Owner", "Ultimate beneficial owner", "60%",
		"Nothing is missing", "formation.pdf", "register.pdf", "bill.png", "owner-passport.png")
	owners := e.do(&c, "GET", "/beneficial-owners?customerId="+id, "").want(t, 200, "").body["data"].([]any)
	if len(owners) != 1 {
		t.Fatalf("owners = %v", owners)
	}
	ownerID := owners[0].(map[string]any)["id"].(string)
	if d := cmp.Diff([]any{"UBO"}, owners[0].(map[string]any)["roles"]); d != "" {
		t.Errorf("owner roles (-want +got):\n%s", d)
	}
	if docs := e.do(&c, "GET", "/documents?documentHolder="+ownerID, "").want(t, 200, "").body["data"].([]any); len(docs) != 1 {
		t.Errorf("owner documents = %v", docs)
	}
	if st := e.do(&c, "GET", "/customers/"+id, "").want(t, 200, "").str("kybStatus"); st != "UNVERIFIED" {
		t.Errorf("kybStatus after Save = %s, want UNVERIFIED", st)
	}

	done := e.postForm(t, link, nil, "nonce", res.nonce(t), "action", "submit").wantStatus(t, 200)
	if !strings.Contains(done.body, `data-status="PENDING_MANUAL_REVIEW"`) {
		t.Fatalf("final hostedPage: %s", done.text())
	}
	if st := e.do(&c, "GET", "/customers/"+id, "").want(t, 200, "").str("kybStatus"); st != "PENDING" {
		t.Errorf("kybStatus = %s, want PENDING", st)
	}
	hist := kycHistory(t, e, &c, id)
	if len(hist) != 2 || !strings.HasPrefix(hist[1], "UNVERIFIED>PENDING VERIFICATION_SUBMITTED") {
		t.Errorf("history = %v", hist)
	}
	// The change is recorded as made by the link.
	entries := e.do(&c, "GET", "/customers/"+id+"/status-history", "").want(t, 200, "").body["data"].([]any)
	if actor, _ := entries[len(entries)-1].(map[string]any)["actor"].(string); !strings.HasPrefix(actor, "KycLink:") {
		t.Errorf("actor = %q, want the link's id", actor)
	}
	e.getPage(t, link).wantStatus(t, 410)
}

// TestKycLinkBusinessAutoApproved: a sandbox business whose registration number ends in
// anything but 001-003 has nothing to provide; submitting approves it.
func TestKycLinkBusinessAutoApproved(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	id := e.do(&c, "POST", "/customers", `{"customerType":"BUSINESS","businessInfo":{"legalName":"Quick Co","country":"US",
	  "taxId":"47-1234567","incorporatedOn":"2018-03-14","registrationNumber":"5523555"}}`).want(t, 201, "").str("id")
	link := e.kycLink(t, &c, id, "")
	form := e.getPage(t, link).wantStatus(t, 200)
	form.wantText(t, "Nothing is missing")
	if strings.Contains(form.body, `name="owner.firstName"`) || strings.Contains(form.body, `type="file"`) {
		t.Errorf("the flow asks for owners or documents")
	}
	done := e.postForm(t, link, nil, "nonce", form.nonce(t), "action", "submit").wantStatus(t, 200)
	done.wantText(t, "Verification status: Approved")
	if st := e.do(&c, "GET", "/customers/"+id, "").want(t, 200, "").str("kybStatus"); st != "APPROVED" {
		t.Errorf("kybStatus = %s, want APPROVED", st)
	}
	e.getPage(t, link).wantStatus(t, 410)
	e.do(&c, "POST", "/customers/"+id+"/kyc-link", "").want(t, 400, "INVALID_INPUT")
}

// TestKycLinkSingleUseUnderConcurrency submits one link from several posts at once: exactly
// one goes through.
func TestKycLinkSingleUseUnderConcurrency(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	id := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Jane Doe 001","birthDate":"1990-01-15","nationality":"US",
	  "idType":"SSN","identifier":"111-22-3333","address":{"line1":"1 Main St","postalCode":"98101","country":"US"}}`).want(t, 201, "").str("id")
	e.docUploadID(t, &c, id, "PASSPORT", nil)
	link := e.kycLink(t, &c, id, "")
	nonce := e.getPage(t, link).nonce(t)

	const n = 6
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.postForm(t, link, nil, "nonce", nonce, "action", "submit").status
		}()
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case 200:
			ok++
		case 410:
		default:
			t.Errorf("status %d", s)
		}
	}
	if ok != 1 {
		t.Errorf("statuses = %v, want exactly one 200", statuses)
	}
	if vers := e.do(&c, "GET", "/verifications?customerId="+id, "").want(t, 200, "").body["data"].([]any); len(vers) != 1 {
		t.Errorf("verifications = %v", vers)
	}
}

// TestKycLinkPoorQualityDocument: a sandbox 003 individual with complete data is told through
// the page that its identity document is of poor quality, uploads a new one in the slot the
// page offers, and goes to review.
func TestKycLinkPoorQualityDocument(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	id := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Jane Doe 003","birthDate":"1990-01-15","nationality":"US",
	  "idType":"SSN","identifier":"111-22-3333","address":{"line1":"1 Main St","postalCode":"98101","country":"US"}}`).want(t, 201, "").str("id")
	e.docUploadID(t, &c, id, "PASSPORT", nil)
	link := e.kycLink(t, &c, id, "")
	form := e.getPage(t, link).wantStatus(t, 200)
	form.wantText(t, "Nothing is missing")

	res := e.postForm(t, link, nil, "nonce", form.nonce(t), "action", "submit").wantStatus(t, 200)
	res.wantText(t, "could not be submitted yet", "The identity document is of poor quality", "New identity document")
	prefix := "doc.identity." + id + "."
	if !strings.Contains(res.body, `name="`+prefix+`file"`) {
		t.Fatalf("no upload slot for the new document")
	}
	done := e.postForm(t, link, map[string]hostedFile{prefix + "file": hostedFile{name: "sharp.jpg", contentType: "image/jpeg", data: []byte("\xFF\xD8\xFF\xE0 jpeg")}},
		"nonce", res.nonce(t), prefix+"type", "PASSPORT", prefix+"country", "US", "action", "submit").wantStatus(t, 200)
	if !strings.Contains(done.body, `data-status="PENDING_MANUAL_REVIEW"`) {
		t.Fatalf("final hostedPage: %s", done.text())
	}
	if st := e.do(&c, "GET", "/customers/"+id, "").want(t, 200, "").str("kycStatus"); st != "PENDING" {
		t.Errorf("kycStatus = %s, want PENDING", st)
	}
	hist := kycHistory(t, e, &c, id)
	if last := hist[len(hist)-1]; last != "UNVERIFIED>PENDING VERIFICATION_SUBMITTED" {
		t.Errorf("history = %v", hist)
	}
}
