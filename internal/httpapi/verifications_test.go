package httpapi_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gridd/gridd/internal/grid"
)

// kycWebhook is an event of the outbox, decoded.
type kycWebhook struct {
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

// events returns a platform's outbox, oldest first.
func (e *env) kycEvents(t testing.TB, platformID string) []kycWebhook {
	t.Helper()
	rows, err := e.store.ReadDB().Query(`SELECT body FROM events WHERE platform_id = $1 ORDER BY id`, platformID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []kycWebhook
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			t.Fatal(err)
		}
		var w kycWebhook
		if err := json.Unmarshal(body, &w); err != nil {
			t.Fatal(err)
		}
		out = append(out, w)
	}
	return out
}

// kycEventTypes returns the types of a platform's events after the first skip ones.
func (e *env) kycEventTypes(t testing.TB, platformID string, skip int) []string {
	t.Helper()
	var out []string
	for i, w := range e.kycEvents(t, platformID) {
		if i >= skip {
			out = append(out, w.Type)
		}
	}
	return out
}

// history returns a customer's status history as "FROM>TO REASON actor" lines.
func kycHistory(t testing.TB, e *env, c *cred, id string) []string {
	t.Helper()
	r := e.do(c, "GET", "/customers/"+id+"/status-history", "").want(t, 200, "")
	var out []string
	for _, h := range r.body["data"].([]any) {
		m := h.(map[string]any)
		from, _ := m["from"].(string)
		out = append(out, from+">"+m["to"].(string)+" "+m["reason"].(string))
	}
	return out
}

func submitVerification(t testing.TB, e *env, c *cred, customerID string) resp {
	t.Helper()
	return e.do(c, "POST", "/verifications", `{"customerId":"`+customerID+`"}`)
}

// TestSandboxFixAndResubmit follows the sandbox guide's integration loop end to end: a 001
// customer is submitted, told what is missing, fixed, and submitted again into manual review;
// an operator then approves it.
func TestSandboxFixAndResubmit(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(sandbox())
	cust := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Jane Doe 001","birthDate":"1990-01-15","nationality":"US"}`).want(t, 201, "")
	id := cust.str("id")
	if cust.str("kycStatus") != "PENDING" {
		t.Fatalf("kycStatus at creation = %s, want PENDING", cust.str("kycStatus"))
	}
	before := len(e.kycEvents(t, p.ID))

	first := submitVerification(t, e, &c, id).want(t, 200, "")
	wantErrors := []any{
		map[string]any{"resourceId": id, "type": "MISSING_FIELD", "field": "identifier", "reason": "Identifier is required"},
		map[string]any{"resourceId": id, "type": "MISSING_FIELD", "field": "address", "reason": "Address is required"},
		map[string]any{"resourceId": id, "type": "MISSING_IDENTITY_DOCUMENT", "acceptedDocumentTypes": []any{"PASSPORT", "DRIVERS_LICENSE", "NATIONAL_ID"},
			"reason": "Identity document is required"},
	}
	want := map[string]any{"id": first.str("id"), "customerId": id, "verificationStatus": "RESOLVE_ERRORS", "errors": wantErrors,
		"createdAt": first.str("createdAt"), "updatedAt": first.str("createdAt")}
	if d := cmp.Diff(want, first.body); d != "" {
		t.Fatalf("first submission (-want +got):\n%s", d)
	}
	if g := e.do(&c, "GET", "/verifications/"+first.str("id"), "").want(t, 200, ""); cmp.Diff(want, g.body) != "" {
		t.Errorf("GET /verifications/{id} = %s", g.raw)
	}

	// Supply the missing fields and an identity document.
	e.do(&c, "PATCH", "/customers/"+id, `{"customerType":"INDIVIDUAL","idType":"SSN","identifier":"111-22-3333",
	  "address":{"line1":"123 Main St","city":"Seattle","state":"WA","postalCode":"98101","country":"US"}}`).want(t, 200, "")
	half := submitVerification(t, e, &c, id).want(t, 200, "")
	if errs := half.body["errors"].([]any); half.str("verificationStatus") != "RESOLVE_ERRORS" || len(errs) != 1 ||
		errs[0].(map[string]any)["type"] != "MISSING_IDENTITY_DOCUMENT" {
		t.Fatalf("after the PATCH = %s", half.raw)
	}
	docID := e.docUpload(&c, "POST", "/documents", &docFile{name: "passport.png", contentType: "image/png", data: testPNG(t)},
		"documentHolder", id, "documentType", "PASSPORT", "country", "US", "documentNumber", "A12345678",
		"issuingAuthority", "U.S. Department of State").want(t, 201, "").str("id")

	done := submitVerification(t, e, &c, id).want(t, 200, "")
	if done.str("verificationStatus") != "PENDING_MANUAL_REVIEW" || len(done.body["errors"].([]any)) != 0 {
		t.Fatalf("resubmission = %s", done.raw)
	}
	if got := e.do(&c, "GET", "/customers/"+id, "").want(t, 200, "").str("kycStatus"); got != "PENDING" {
		t.Errorf("kycStatus under review = %s, want PENDING", got)
	}
	// Submitting again while under review returns the open verification.
	if again := submitVerification(t, e, &c, id).want(t, 200, ""); again.str("id") != done.str("id") {
		t.Errorf("submitting under review made %s, want the open %s", again.str("id"), done.str("id"))
	}
	// The document is part of the review.
	e.do(&c, "DELETE", "/documents/"+docID, "").want(t, 409, "CONFLICT")

	list := e.do(&c, "GET", "/verifications?customerId="+id, "").want(t, 200, "")
	if n := len(list.body["data"].([]any)); n != 3 || list.body["totalCount"] != float64(3) {
		t.Errorf("GET /verifications?customerId: %d verifications, want 3", n)
	}
	open := e.do(&c, "GET", "/verifications?verificationStatus=PENDING_MANUAL_REVIEW", "").want(t, 200, "")
	if d := open.body["data"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != done.str("id") {
		t.Errorf("GET /verifications?verificationStatus = %s", open.raw)
	}
	e.do(&c, "GET", "/verifications?verificationStatus=DONE", "").want(t, 400, "INVALID_INPUT")

	// The operator approves: the customer, its verification, history and webhooks follow.
	if _, err := e.svc.ReviewCustomer(context.Background(), p.ID, id, grid.DecisionApprove); err != nil {
		t.Fatal(err)
	}
	if got := e.do(&c, "GET", "/customers/"+id, "").want(t, 200, "").str("kycStatus"); got != "APPROVED" {
		t.Errorf("kycStatus after approval = %s", got)
	}
	if got := e.do(&c, "GET", "/verifications/"+done.str("id"), "").want(t, 200, "").str("verificationStatus"); got != "APPROVED" {
		t.Errorf("verification after approval = %s", got)
	}
	wantEvents := []string{"VERIFICATION.RESOLVE_ERRORS", "VERIFICATION.RESOLVE_ERRORS", "VERIFICATION.PENDING_MANUAL_REVIEW",
		"VERIFICATION.APPROVED", "CUSTOMER.KYC_APPROVED"}
	if d := cmp.Diff(wantEvents, e.kycEventTypes(t, p.ID, before)); d != "" {
		t.Errorf("webhooks (-want +got):\n%s", d)
	}
	evs := e.kycEvents(t, p.ID)
	if last := evs[len(evs)-1]; last.Data["kycStatus"] != "APPROVED" || last.Data["id"] != id {
		t.Errorf("CUSTOMER.KYC_APPROVED data = %v", last.Data)
	}
	if v := evs[len(evs)-2]; v.Data["verificationStatus"] != "APPROVED" || v.Data["id"] != done.str("id") {
		t.Errorf("VERIFICATION.APPROVED data = %v", v.Data)
	}
	if d := cmp.Diff([]string{">PENDING SANDBOX_SUFFIX", "PENDING>APPROVED MANUALLY_APPROVED"}, kycHistory(t, e, &c, id)); d != "" {
		t.Errorf("history (-want +got):\n%s", d)
	}

	// Decided: no more submissions.
	r := submitVerification(t, e, &c, id).want(t, 400, "INVALID_INPUT")
	if d := cmp.Diff([]string{"customerId"}, r.fields()); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
}

func TestSandboxIndividualSuffixes(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(sandbox())
	complete := `"birthDate":"1990-01-15","nationality":"US","idType":"SSN","identifier":"111-22-3333",
	  "address":{"line1":"1 Main St","postalCode":"98101","country":"US"}`

	// 002 and any other suffix are decided at creation: 400.
	for _, name := range []string{"Jane Doe 002", "Jane Doe"} {
		id := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"`+name+`",`+complete+`}`).want(t, 201, "").str("id")
		submitVerification(t, e, &c, id).want(t, 400, "INVALID_INPUT")
	}

	// 003: complete data meets a correctable poor-quality rejection until the document is replaced.
	id := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Jane Doe 003",`+complete+`}`).want(t, 201, "").str("id")
	docID := e.docUploadID(t, &c, id, "DRIVERS_LICENSE", nil)
	before := len(e.kycEvents(t, p.ID))
	for range 2 {
		r := submitVerification(t, e, &c, id).want(t, 200, "")
		want := []any{map[string]any{"resourceId": docID, "type": "POOR_QUALITY_DOCUMENT",
			"acceptedDocumentTypes": []any{"PASSPORT", "DRIVERS_LICENSE", "NATIONAL_ID"},
			"reason":                "The identity document is of poor quality; replace it with a sharper, complete image"}}
		if r.str("verificationStatus") != "RESOLVE_ERRORS" || cmp.Diff(want, r.body["errors"]) != "" {
			t.Fatalf("003 with complete data = %s", r.raw)
		}
	}
	e.docUpload(&c, "PUT", "/documents/"+docID, &docFile{name: "licence.pdf", contentType: "application/pdf", data: testPDF()},
		"documentType", "DRIVERS_LICENSE", "country", "US").want(t, 200, "")
	r := submitVerification(t, e, &c, id).want(t, 200, "")
	if r.str("verificationStatus") != "PENDING_MANUAL_REVIEW" {
		t.Fatalf("003 after replacing the document = %s", r.raw)
	}
	if got := e.do(&c, "GET", "/customers/"+id, "").want(t, 200, "").str("kycStatus"); got != "PENDING" {
		t.Errorf("kycStatus = %s, want PENDING", got)
	}
	wantEvents := []string{"VERIFICATION.RESOLVE_ERRORS", "VERIFICATION.RESOLVE_ERRORS", "VERIFICATION.PENDING_MANUAL_REVIEW", "CUSTOMER.KYC_PENDING"}
	if d := cmp.Diff(wantEvents, e.kycEventTypes(t, p.ID, before)); d != "" {
		t.Errorf("webhooks (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{">UNVERIFIED SANDBOX_SUFFIX", "UNVERIFIED>PENDING VERIFICATION_SUBMITTED"}, kycHistory(t, e, &c, id)); d != "" {
		t.Errorf("history (-want +got):\n%s", d)
	}

	// The operator cancels the review, then the customer is submitted and rejected.
	if _, err := e.svc.ReviewCustomer(context.Background(), p.ID, id, grid.DecisionCancel); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ReviewCustomer(context.Background(), p.ID, id, grid.DecisionReject); err == nil {
		t.Error("rejecting an UNVERIFIED customer: no error")
	}
	submitVerification(t, e, &c, id).want(t, 200, "")
	if _, err := e.svc.ReviewCustomer(context.Background(), p.ID, id, grid.DecisionReject); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{">UNVERIFIED SANDBOX_SUFFIX", "UNVERIFIED>PENDING VERIFICATION_SUBMITTED", "PENDING>UNVERIFIED CANCELED",
		"UNVERIFIED>PENDING VERIFICATION_SUBMITTED", "PENDING>REJECTED MANUALLY_REJECTED"}, kycHistory(t, e, &c, id)); d != "" {
		t.Errorf("history (-want +got):\n%s", d)
	}
}

func TestVerificationOnLivePlatform(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(grid.PlatformSpec{Name: "live", UMADomain: "uma.live.test"})
	id := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Jane Doe 002","birthDate":"1990-01-15","nationality":"US",
	  "idType":"SSN","identifier":"111-22-3333","address":{"line1":"1 Main St","postalCode":"98101","country":"US"}}`).want(t, 201, "").str("id")
	e.docUploadID(t, &c, id, "NATIONAL_ID", nil)
	r := submitVerification(t, e, &c, id).want(t, 200, "")
	if r.str("verificationStatus") != "PENDING_MANUAL_REVIEW" {
		t.Fatalf("live submission = %s (suffixes mean nothing outside the sandbox)", r.raw)
	}
	if got := e.do(&c, "GET", "/customers/"+id, "").want(t, 200, "").str("kycStatus"); got != "PENDING" {
		t.Errorf("kycStatus = %s", got)
	}
	if _, err := e.svc.ReviewCustomer(context.Background(), p.ID, id, grid.DecisionReject); err != nil {
		t.Fatal(err)
	}
	if got := e.do(&c, "GET", "/verifications/"+r.str("id"), "").want(t, 200, "").str("verificationStatus"); got != "REJECTED" {
		t.Errorf("verification after rejection = %s", got)
	}
	// An approval may expire, which takes the customer back to UNVERIFIED; only a decided
	// rejection can be overturned.
	if _, err := e.svc.ReviewCustomer(context.Background(), p.ID, id, grid.DecisionApprove); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ReviewCustomer(context.Background(), p.ID, id, grid.DecisionExpire); err != nil {
		t.Fatal(err)
	}
	if got := e.do(&c, "GET", "/customers/"+id, "").want(t, 200, "").str("kycStatus"); got != "UNVERIFIED" {
		t.Errorf("kycStatus after expiry = %s", got)
	}

	// Errors: unknown, deleted, missing customer; wrong permission; unknown verification.
	submitVerification(t, e, &c, "Customer:019542f5-b3e7-7d02-8000-000000000001").want(t, 404, "USER_NOT_FOUND")
	e.do(&c, "POST", "/verifications", `{}`).want(t, 400, "INVALID_INPUT")
	e.do(&c, "POST", "/verifications", `{"customerId":"`+id+`","extra":1}`).want(t, 400, "INVALID_INPUT")
	e.do(&c, "GET", "/verifications/Verification:nope", "").want(t, 404, "REFERENCE_NOT_FOUND")
	del := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL"}`).want(t, 201, "").str("id")
	e.do(&c, "DELETE", "/customers/"+del, "").want(t, 200, "")
	submitVerification(t, e, &c, del).want(t, 410, "CUSTOMER_DELETED")
	_, ro := e.platform(grid.PlatformSpec{Name: "ro", UMADomain: "uma.ro.test"}, grid.PermView)
	submitVerification(t, e, &ro, id).want(t, 403, "FORBIDDEN")
}

// TestRegulatedPatchFollowsTheStateMachine checks that kycStatus sent by a regulated platform
// passes the transition table and reaches the history and webhooks.
func TestRegulatedPatchFollowsTheStateMachine(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(grid.PlatformSpec{Name: "bank", UMADomain: "uma.bank.test", Regulated: true})
	id := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","kycStatus":"PENDING"}`).want(t, 201, "").str("id")
	path := "/customers/" + id
	e.do(&c, "PATCH", path, `{"customerType":"INDIVIDUAL","kycStatus":"REJECTED"}`).want(t, 200, "")
	r := e.do(&c, "PATCH", path, `{"customerType":"INDIVIDUAL","kycStatus":"PENDING"}`).want(t, 400, "INVALID_INPUT")
	if d := cmp.Diff([]string{"kycStatus"}, r.fields()); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
	e.do(&c, "PATCH", path, `{"customerType":"INDIVIDUAL","kycStatus":"APPROVED"}`).want(t, 200, "")
	e.do(&c, "PATCH", path, `{"customerType":"INDIVIDUAL","kycStatus":"HOLD"}`).want(t, 200, "")
	if d := cmp.Diff([]string{">PENDING SET_BY_PLATFORM", "PENDING>REJECTED SET_BY_PLATFORM", "REJECTED>APPROVED SET_BY_PLATFORM",
		"APPROVED>HOLD SET_BY_PLATFORM"}, kycHistory(t, e, &c, id)); d != "" {
		t.Errorf("history (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"CUSTOMER.KYC_PENDING", "CUSTOMER.KYC_REJECTED", "CUSTOMER.KYC_APPROVED"}, e.kycEventTypes(t, p.ID, 0)); d != "" {
		t.Errorf("webhooks (-want +got):\n%s", d)
	}
}
