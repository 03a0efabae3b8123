package httpapi_test

import (
	"bytes"
	"context"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gridd/gridd/internal/grid"
)

// kybOwnerBody is a complete POST /beneficial-owners body.
func kybOwnerBody(customerID, lastName string, pct int) string {
	return `{"customerId":"` + customerID + `","roles":["UBO","DIRECTOR"],"ownershipPercentage":` + strconv.Itoa(pct) + `,
	  "personalInfo":{"firstName":"Ann","lastName":"` + lastName + `","birthDate":"1978-06-15","nationality":"US",
	  "email":"ann@example.com","phoneNumber":"+14155550192",
	  "address":{"line1":"1 Main St","city":"Seattle","postalCode":"98101","country":"US"},"idType":"SSN","identifier":"123-45-6789"}}`
}

// kybBusinessBody is a POST /customers body of a business with complete KYB data.
func kybBusinessBody(pcid, registration string) string {
	return `{"customerType":"BUSINESS","platformCustomerId":"` + pcid + `","region":"US","currencies":["USD"],
	  "address":{"line1":"500 Market St","city":"San Francisco","postalCode":"94105","country":"US"},
	  "businessInfo":{"legalName":"Acme Inc","country":"US","registrationNumber":"` + registration + `","incorporatedOn":"2015-01-01",
	  "entityType":"LLC","taxId":"47-1234567","countriesOfOperation":["US"]}}`
}

func TestBeneficialOwnersCRUD(t *testing.T) {
	e := newEnv(t)
	_, c := e.platform(sandbox())
	biz := e.do(&c, "POST", "/customers", kybBusinessBody("b-1", "REG-003")).want(t, 201, "").str("id")
	ind := e.do(&c, "POST", "/customers", `{"customerType":"INDIVIDUAL","fullName":"Jane Doe"}`).want(t, 201, "").str("id")

	r := e.do(&c, "POST", "/beneficial-owners", kybOwnerBody(biz, "Smith", 51)).want(t, 201, "")
	oid := r.str("id")
	want := map[string]any{
		"id": oid, "customerId": biz, "roles": []any{"UBO", "DIRECTOR"}, "ownershipPercentage": float64(51),
		"personalInfo": map[string]any{"firstName": "Ann", "lastName": "Smith", "birthDate": "1978-06-15", "nationality": "US",
			"email": "ann@example.com", "phoneNumber": "+14155550192", "idType": "SSN", "countryOfIssuance": "US",
			"address": map[string]any{"line1": "1 Main St", "city": "Seattle", "postalCode": "98101", "country": "US"}},
		"kycStatus": "UNVERIFIED", "createdAt": r.str("createdAt"), "updatedAt": r.str("createdAt"),
	}
	if d := cmp.Diff(want, r.body); d != "" {
		t.Errorf("POST /beneficial-owners (-want +got):\n%s", d)
	}
	if bytes.Contains(r.raw, []byte("123-45-6789")) {
		t.Error("the identifier was returned")
	}
	var sealed []byte
	if err := e.store.ReadDB().QueryRow(`SELECT sealed FROM beneficial_owners WHERE id = $1`, oid).Scan(&sealed); err != nil ||
		len(sealed) == 0 || bytes.Contains(sealed, []byte("123-45-6789")) {
		t.Errorf("identifier not stored sealed (err %v)", err)
	}
	pr := principalOf(t, e, c)
	o, err := e.svc.GetBeneficialOwner(context.Background(), pr, oid)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.svc.OpenOwnerIdentifier(o); err != nil || got != "123-45-6789" {
		t.Errorf("sealed identifier opens to %q, %v", got, err)
	}

	if g := e.do(&c, "GET", "/beneficial-owners/"+oid, "").want(t, 200, ""); cmp.Diff(want, g.body) != "" {
		t.Errorf("GET /beneficial-owners/{id} = %s", g.raw)
	}
	// The business shows its owners.
	cust := e.do(&c, "GET", "/customers/"+biz, "").want(t, 200, "")
	if owners, _ := cust.body["beneficialOwners"].([]any); len(owners) != 1 || cmp.Diff(want, owners[0]) != "" {
		t.Errorf("business beneficialOwners = %v", cust.body["beneficialOwners"])
	}

	// PATCH changes only what is sent; the identifier stays write-only.
	p := e.do(&c, "PATCH", "/beneficial-owners/"+oid, `{"ownershipPercentage":40,"personalInfo":{"middleName":"Marie","identifier":"987-65-4321"}}`).want(t, 200, "")
	pi := p.body["personalInfo"].(map[string]any)
	if p.body["ownershipPercentage"] != float64(40) || pi["middleName"] != "Marie" || pi["firstName"] != "Ann" || bytes.Contains(p.raw, []byte("987-65-4321")) {
		t.Errorf("PATCH = %s", p.raw)
	}
	if o, _ = e.svc.GetBeneficialOwner(context.Background(), pr, oid); o != nil {
		if got, _ := e.svc.OpenOwnerIdentifier(o); got != "987-65-4321" {
			t.Errorf("identifier after PATCH = %q", got)
		}
	}
	e.do(&c, "PATCH", "/beneficial-owners/"+oid, `{"customerId":"`+ind+`"}`).want(t, 400, "INVALID_INPUT")
	bad := e.do(&c, "PATCH", "/beneficial-owners/"+oid, `{"roles":[],"personalInfo":{"idType":"ITIN","birthDate":"1978-02-30"}}`).want(t, 400, "INVALID_INPUT")
	if d := cmp.Diff([]string{"personalInfo.birthDate", "personalInfo.identifier", "roles"}, bad.fields()); d != "" {
		t.Errorf("PATCH fields (-want +got):\n%s", d)
	}

	// The owners of a business may not own more than all of it.
	e.do(&c, "POST", "/beneficial-owners", kybOwnerBody(biz, "Lee", 61)).want(t, 400, "INVALID_INPUT")
	second := e.do(&c, "POST", "/beneficial-owners", kybOwnerBody(biz, "Lee", 60)).want(t, 201, "").str("id")
	e.do(&c, "PATCH", "/beneficial-owners/"+oid, `{"ownershipPercentage":41}`).want(t, 400, "INVALID_INPUT")

	// Lists: by business, paged.
	list := e.do(&c, "GET", "/beneficial-owners?customerId="+biz+"&limit=1", "").want(t, 200, "")
	if d := list.body["data"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != oid || list.body["hasMore"] != true || list.body["totalCount"] != float64(2) {
		t.Errorf("first page = %s", list.raw)
	}
	next := e.do(&c, "GET", "/beneficial-owners?customerId="+biz+"&limit=1&cursor="+list.str("nextCursor"), "").want(t, 200, "")
	if d := next.body["data"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != second || next.body["hasMore"] != false {
		t.Errorf("second page = %s", next.raw)
	}

	// Individuals have no beneficial owners; everything required is named at once.
	r = e.do(&c, "POST", "/beneficial-owners", kybOwnerBody(ind, "Smith", 10)).want(t, 400, "INVALID_INPUT")
	if d := cmp.Diff([]string{"customerId"}, r.fields()); d != "" {
		t.Errorf("individual (-want +got):\n%s", d)
	}
	e.do(&c, "GET", "/beneficial-owners?customerId="+ind, "").want(t, 400, "INVALID_INPUT")
	e.do(&c, "GET", "/beneficial-owners", "").want(t, 400, "INVALID_INPUT")
	r = e.do(&c, "POST", "/beneficial-owners", `{"roles":["OWNER"],"personalInfo":{"firstName":"A","identifier":"1"}}`).want(t, 400, "INVALID_INPUT")
	wantFields := []string{"customerId", "ownershipPercentage", "personalInfo.address", "personalInfo.birthDate", "personalInfo.idType",
		"personalInfo.lastName", "personalInfo.nationality", "roles[0]"}
	if d := cmp.Diff(wantFields, r.fields()); d != "" {
		t.Errorf("empty owner (-want +got):\n%s", d)
	}
	e.do(&c, "POST", "/beneficial-owners", kybOwnerBody("Customer:019542f5-b3e7-7d02-8000-000000000001", "X", 1)).want(t, 404, "USER_NOT_FOUND")
	e.do(&c, "GET", "/beneficial-owners/BeneficialOwner:nope", "").want(t, 404, "REFERENCE_NOT_FOUND")
	e.do(&c, "PATCH", "/beneficial-owners/BeneficialOwner:nope", `{"ownershipPercentage":1}`).want(t, 404, "REFERENCE_NOT_FOUND")

	// Another platform sees nothing.
	_, c2 := e.platform(grid.PlatformSpec{Name: "other", UMADomain: "uma.other.test", Sandbox: true})
	e.do(&c2, "GET", "/beneficial-owners/"+oid, "").want(t, 404, "REFERENCE_NOT_FOUND")
	e.do(&c2, "GET", "/beneficial-owners?customerId="+biz, "").want(t, 404, "USER_NOT_FOUND")
}

// kybReady gives a business the documents KYB needs and one owner with an identity document,
// and returns the owner's id.
func kybReady(t *testing.T, e *env, c *cred, biz, lastName string) string {
	t.Helper()
	for _, typ := range []string{"CERTIFICATE_OF_INCORPORATION", "SHAREHOLDER_REGISTER", "UTILITY_BILL"} {
		e.docUploadID(t, c, biz, typ, &docFile{name: "doc.pdf", contentType: "application/pdf", data: testPDF()})
	}
	oid := e.do(c, "POST", "/beneficial-owners", kybOwnerBody(biz, lastName, 60)).want(t, 201, "").str("id")
	e.docUploadID(t, c, oid, "PASSPORT", nil)
	return oid
}

func TestSandboxKYB003(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(sandbox())
	biz := e.do(&c, "POST", "/customers", `{"customerType":"BUSINESS","businessInfo":{"legalName":"Acme Inc","country":"US",
	  "taxId":"47-1234567","incorporatedOn":"2015-01-01","registrationNumber":"REG-003"}}`).want(t, 201, "")
	id := biz.str("id")
	if biz.str("kybStatus") != "UNVERIFIED" {
		t.Fatalf("kybStatus at creation = %s", biz.str("kybStatus"))
	}
	r := submitVerification(t, e, &c, id).want(t, 200, "")
	type problem struct{ Type, Field string }
	var got []problem
	for _, x := range r.body["errors"].([]any) {
		m := x.(map[string]any)
		f, _ := m["field"].(string)
		got = append(got, problem{m["type"].(string), f})
		if m["resourceId"] != id {
			t.Errorf("problem %v is about %v, want the business", m, m["resourceId"])
		}
	}
	want := []problem{
		{"MISSING_FIELD", "businessInfo.entityType"}, {"MISSING_FIELD", "businessInfo.countriesOfOperation"}, {"MISSING_FIELD", "address"},
		{"MISSING_LEGAL_PRESENCE_DOCUMENT", ""}, {"MISSING_OWNERSHIP_STRUCTURE_DOCUMENT", ""}, {"MISSING_PROOF_OF_ADDRESS_DOCUMENT", ""},
		{"MISSING_BENEFICIAL_OWNER", ""},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("KYB problems (-want +got):\n%s", d)
	}

	e.do(&c, "PATCH", "/customers/"+id, `{"customerType":"BUSINESS","address":{"line1":"500 Market St","postalCode":"94105","country":"US"},
	  "businessInfo":{"entityType":"LLC","countriesOfOperation":["US","MX"]}}`).want(t, 200, "")
	for _, typ := range []string{"ARTICLES_OF_ASSOCIATION", "SHAREHOLDER_REGISTER", "BANK_STATEMENT"} {
		e.docUploadID(t, &c, id, typ, &docFile{name: "doc.pdf", contentType: "application/pdf", data: testPDF()})
	}
	approved := e.do(&c, "POST", "/beneficial-owners", kybOwnerBody(id, "Smith", 60)).want(t, 201, "").str("id")
	pending := e.do(&c, "POST", "/beneficial-owners", kybOwnerBody(id, "Lee 001", 30)).want(t, 201, "").str("id")
	r = submitVerification(t, e, &c, id).want(t, 200, "")
	if errs := r.body["errors"].([]any); r.str("verificationStatus") != "RESOLVE_ERRORS" || len(errs) != 2 ||
		errs[0].(map[string]any)["resourceId"] != approved || errs[1].(map[string]any)["resourceId"] != pending {
		t.Fatalf("owners without identity documents = %s", r.raw)
	}
	e.docUploadID(t, &c, approved, "PASSPORT", nil)
	e.docUploadID(t, &c, pending, "NATIONAL_ID", nil)
	before := len(e.kycEvents(t, p.ID))
	r = submitVerification(t, e, &c, id).want(t, 200, "")
	if r.str("verificationStatus") != "PENDING_MANUAL_REVIEW" {
		t.Fatalf("complete business = %s", r.raw)
	}
	cust := e.do(&c, "GET", "/customers/"+id, "").want(t, 200, "")
	if cust.str("kybStatus") != "PENDING" {
		t.Errorf("kybStatus = %s, want PENDING", cust.str("kybStatus"))
	}
	for _, o := range cust.body["beneficialOwners"].([]any) {
		if st := o.(map[string]any)["kycStatus"]; st != "PENDING" {
			t.Errorf("owner under review: kycStatus %v", st)
		}
	}
	if d := cmp.Diff([]string{"VERIFICATION.PENDING_MANUAL_REVIEW", "CUSTOMER.KYB_PENDING"}, e.kycEventTypes(t, p.ID, before)); d != "" {
		t.Errorf("webhooks (-want +got):\n%s", d)
	}

	// The operator approves; the owners are resolved by their last names.
	if _, err := e.svc.ReviewCustomer(context.Background(), p.ID, id, grid.DecisionApprove); err != nil {
		t.Fatal(err)
	}
	if got := e.do(&c, "GET", "/beneficial-owners/"+approved, "").want(t, 200, "").str("kycStatus"); got != "APPROVED" {
		t.Errorf("owner Smith = %s, want APPROVED", got)
	}
	if got := e.do(&c, "GET", "/beneficial-owners/"+pending, "").want(t, 200, "").str("kycStatus"); got != "PENDING" {
		t.Errorf("owner Lee 001 = %s, want PENDING", got)
	}
	evs := e.kycEvents(t, p.ID)
	last := evs[len(evs)-1]
	if last.Type != "CUSTOMER.KYB_APPROVED" || len(last.Data["beneficialOwners"].([]any)) != 2 {
		t.Errorf("last kycWebhook = %s with %v", last.Type, last.Data["beneficialOwners"])
	}
	submitVerification(t, e, &c, id).want(t, 400, "INVALID_INPUT")
}

func TestSandboxKYBImmediateDecisions(t *testing.T) {
	e := newEnv(t)
	p, c := e.platform(sandbox())

	// 002: rejected at once, skipping validation; its owners follow their own suffixes.
	rej := e.do(&c, "POST", "/customers", `{"customerType":"BUSINESS","businessInfo":{"legalName":"Nope LLC","country":"US",
	  "taxId":"47-0000002","incorporatedOn":"2020-01-01","registrationNumber":"REG-002"}}`).want(t, 201, "").str("id")
	owner := e.do(&c, "POST", "/beneficial-owners", kybOwnerBody(rej, "Ng 002", 100)).want(t, 201, "").str("id")
	before := len(e.kycEvents(t, p.ID))
	r := submitVerification(t, e, &c, rej).want(t, 200, "")
	if r.str("verificationStatus") != "REJECTED" || len(r.body["errors"].([]any)) != 0 {
		t.Fatalf("002 = %s", r.raw)
	}
	if got := e.do(&c, "GET", "/customers/"+rej, "").want(t, 200, "").str("kybStatus"); got != "REJECTED" {
		t.Errorf("kybStatus = %s", got)
	}
	if got := e.do(&c, "GET", "/beneficial-owners/"+owner, "").want(t, 200, "").str("kycStatus"); got != "REJECTED" {
		t.Errorf("owner Ng 002 = %s, want REJECTED", got)
	}
	if d := cmp.Diff([]string{"VERIFICATION.REJECTED", "CUSTOMER.KYB_REJECTED"}, e.kycEventTypes(t, p.ID, before)); d != "" {
		t.Errorf("webhooks (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{">UNVERIFIED CREATED", "UNVERIFIED>REJECTED SANDBOX_SUFFIX"}, kycHistory(t, e, &c, rej)); d != "" {
		t.Errorf("history (-want +got):\n%s", d)
	}
	submitVerification(t, e, &c, rej).want(t, 400, "INVALID_INPUT")

	// Any other suffix: approved at once, even with nothing else provided.
	ok := e.do(&c, "POST", "/customers", `{"customerType":"BUSINESS","businessInfo":{"legalName":"Yes LLC","country":"US",
	  "taxId":"47-0000003","incorporatedOn":"2020-01-01","registrationNumber":"REG-123"}}`).want(t, 201, "").str("id")
	r = submitVerification(t, e, &c, ok).want(t, 200, "")
	if r.str("verificationStatus") != "APPROVED" {
		t.Fatalf("default suffix = %s", r.raw)
	}
	if got := e.do(&c, "GET", "/customers/"+ok, "").want(t, 200, "").str("kybStatus"); got != "APPROVED" {
		t.Errorf("kybStatus = %s", got)
	}
	// An owner added after the decision is resolved at once.
	late := e.do(&c, "POST", "/beneficial-owners", kybOwnerBody(ok, "Late", 50)).want(t, 201, "")
	if late.str("kycStatus") != "APPROVED" {
		t.Errorf("owner added to an approved sandbox business: %s", late.str("kycStatus"))
	}

	// 001 with complete data goes to manual review.
	rev := e.do(&c, "POST", "/customers", kybBusinessBody("b-001", "REG-001")).want(t, 201, "").str("id")
	kybReady(t, e, &c, rev, "Smith")
	if r := submitVerification(t, e, &c, rev).want(t, 200, ""); r.str("verificationStatus") != "PENDING_MANUAL_REVIEW" {
		t.Errorf("001 with complete data = %s", r.raw)
	}
	// Its documents are locked while it is reviewed; after a rejection they stay as a record.
	docs := e.do(&c, "GET", "/documents?documentHolder="+rev, "").want(t, 200, "")
	docID := docs.body["data"].([]any)[0].(map[string]any)["id"].(string)
	e.do(&c, "DELETE", "/documents/"+docID, "").want(t, 409, "CONFLICT")
	if _, err := e.svc.ReviewCustomer(context.Background(), p.ID, rev, grid.DecisionReject); err != nil {
		t.Fatal(err)
	}
	e.do(&c, "DELETE", "/documents/"+docID, "").want(t, 409, "CONFLICT")
}
