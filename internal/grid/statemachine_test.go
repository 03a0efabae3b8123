package grid

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var allReasons = []string{ReasonCreated, ReasonSandboxSuffix, ReasonSetByPlatform, ReasonVerificationSubmitted,
	ReasonManuallyApproved, ReasonManuallyRejected, ReasonExpired, ReasonCanceled}

// TestTransitionTable walks every (from, to) pair of statuses with every reason and compares the
// state machine with the rules written out here a second time, row by row.
func TestTransitionTable(t *testing.T) {
	const (
		U = StatusUnverified
		P = StatusPending
		A = StatusApproved
		R = StatusRejected
		H = StatusHold
	)
	// want lists, for each allowed pair, the reasons that may cause it. Every pair not listed,
	// and every status "changing" to itself, must be refused for every reason.
	want := map[Transition]string{
		{U, P}: "VERIFICATION_SUBMITTED SANDBOX_SUFFIX SET_BY_PLATFORM",
		{U, A}: "SANDBOX_SUFFIX SET_BY_PLATFORM",
		{U, R}: "SANDBOX_SUFFIX SET_BY_PLATFORM",
		{U, H}: "SET_BY_PLATFORM",
		{P, U}: "CANCELED SET_BY_PLATFORM",
		{P, A}: "MANUALLY_APPROVED SANDBOX_SUFFIX SET_BY_PLATFORM",
		{P, R}: "MANUALLY_REJECTED SANDBOX_SUFFIX SET_BY_PLATFORM",
		{P, H}: "SET_BY_PLATFORM",
		{H, U}: "CANCELED SET_BY_PLATFORM",
		{H, P}: "VERIFICATION_SUBMITTED SET_BY_PLATFORM",
		{H, A}: "MANUALLY_APPROVED SANDBOX_SUFFIX SET_BY_PLATFORM",
		{H, R}: "MANUALLY_REJECTED SANDBOX_SUFFIX SET_BY_PLATFORM",
		{A, U}: "EXPIRED SET_BY_PLATFORM",
		{A, R}: "MANUALLY_REJECTED SET_BY_PLATFORM",
		{A, H}: "SET_BY_PLATFORM",
		{R, A}: "MANUALLY_APPROVED SET_BY_PLATFORM",
		// Forbidden on purpose: A→P (an approval is undone by expiry, hold or rejection, not by a
		// new review), R→U, R→P, R→H (a rejection is final but for an overturning approval).
	}
	statuses := []Status{U, P, A, R, H}
	if len(statuses) != len(AllStatuses) {
		t.Fatalf("the test knows %d statuses, the domain %d", len(statuses), len(AllStatuses))
	}
	pairs := 0
	for _, from := range statuses {
		for _, to := range statuses {
			pairs++
			reasons := strings.Fields(want[Transition{from, to}])
			for _, reason := range allReasons {
				got := TransitionAllowed(from, to, reason)
				if exp := slices.Contains(reasons, reason); got != exp {
					t.Errorf("TransitionAllowed(%s, %s, %s) = %v, want %v", from, to, reason, got, exp)
				}
			}
			if got := TransitionReasons(from, to); !slices.Equal(got, reasons) && (len(got) > 0 || len(reasons) > 0) {
				t.Errorf("TransitionReasons(%s, %s) = %v, want %v", from, to, got, reasons)
			}
		}
	}
	if pairs != 25 {
		t.Errorf("walked %d pairs, want 25", pairs)
	}
	// The table holds nothing the test does not know.
	for tr := range transitions {
		if _, ok := want[tr]; !ok {
			t.Errorf("table allows %s → %s, which the test forbids", tr.From, tr.To)
		}
	}
	// A status given at creation is not a change.
	for _, to := range statuses {
		for _, reason := range allReasons {
			if TransitionAllowed("", to, reason) {
				t.Errorf("TransitionAllowed(\"\", %s, %s) = true; creation is not a transition", to, reason)
			}
		}
	}
}

func TestReviewOutcomes(t *testing.T) {
	cases := map[string]struct {
		to     Status
		reason string
	}{
		"approve": {StatusApproved, ReasonManuallyApproved},
		"reject":  {StatusRejected, ReasonManuallyRejected},
		"expire":  {StatusUnverified, ReasonExpired},
		"cancel":  {StatusUnverified, ReasonCanceled},
	}
	for _, d := range ReviewDecisions {
		to, reason, ok := reviewOutcome(d)
		if !ok || to != cases[d].to || reason != cases[d].reason {
			t.Errorf("reviewOutcome(%q) = %s, %s, %v; want %s, %s", d, to, reason, ok, cases[d].to, cases[d].reason)
		}
	}
	if _, _, ok := reviewOutcome("approved"); ok {
		t.Error(`reviewOutcome("approved") accepted an unknown decision`)
	}
}

// TestApplyUpdateFollowsTheTable checks that a regulated platform's PATCH of kycStatus goes
// through the state machine: a forbidden change is a 400 naming the field, and changes nothing.
func TestApplyUpdateFollowsTheTable(t *testing.T) {
	s, p, individual := updateFixture(t, true)
	for _, tc := range []struct {
		from, to Status
		ok       bool
	}{
		{StatusPending, StatusApproved, true},
		{StatusApproved, StatusHold, true},
		{StatusRejected, StatusApproved, true},
		{StatusRejected, StatusPending, false},
		{StatusRejected, StatusUnverified, false},
		{StatusApproved, StatusPending, false},
	} {
		c := individual()
		c.Status = tc.from
		change, err := s.applyUpdate(p, c, &CustomerInput{CustomerType: ptr("INDIVIDUAL"), KYCStatus: ptr(string(tc.to))})
		if tc.ok {
			if err != nil || change == nil || change.From != tc.from || change.To != tc.to || change.Reason != ReasonSetByPlatform {
				t.Errorf("%s → %s: change %+v, err %v; want the change", tc.from, tc.to, change, err)
			}
			continue
		}
		e, ok := AsError(err)
		if !ok || e.Status != 400 || len(e.Fields) != 1 || e.Fields[0].Field != "kycStatus" {
			t.Errorf("%s → %s: err = %v, want 400 naming kycStatus", tc.from, tc.to, err)
		}
		if c.Status != tc.from {
			t.Errorf("%s → %s: a refused change left status %s", tc.from, tc.to, c.Status)
		}
	}
}

func TestVerificationProblemsIndividual(t *testing.T) {
	p := &Platform{ID: "PlatformConfig:p", Sandbox: true}
	c := &Customer{ID: "Customer:c", Type: Individual, Profile: Profile{FullName: "Jane Doe 001", BirthDate: "1990-01-15", Nationality: "US"}}
	got := VerificationProblems(p, c, nil, nil)
	want := []VerificationError{
		{ResourceID: "Customer:c", Type: ProblemMissingField, Field: "identifier", Reason: "Identifier is required"},
		{ResourceID: "Customer:c", Type: ProblemMissingField, Field: "address", Reason: "Address is required"},
		{ResourceID: "Customer:c", Type: ProblemMissingIdentityDocument, AcceptedDocumentTypes: []string{"PASSPORT", "DRIVERS_LICENSE", "NATIONAL_ID"}, Reason: "Identity document is required"},
	}
	if !slices.EqualFunc(got, want, equalProblem) {
		t.Fatalf("problems:\n got %+v\nwant %+v", got, want)
	}

	c.Profile.IDType, c.Profile.HasIdentifier = "SSN", true
	c.Profile.Address = &Address{Line1: "1 Main St", PostalCode: "98101", Country: "US"}
	docs := []*Document{{ID: "Document:d", HolderID: "Customer:c", Type: "UTILITY_BILL"}}
	if got := VerificationProblems(p, c, nil, docs); len(got) != 1 || got[0].Type != ProblemMissingIdentityDocument {
		t.Errorf("a proof of address is no identity document: %+v", got)
	}
	docs = append(docs, &Document{ID: "Document:e", HolderID: "Customer:c", Type: "PASSPORT"})
	if got := VerificationProblems(p, c, nil, docs); len(got) != 0 {
		t.Errorf("complete individual: %+v", got)
	}
	p.ContactVerification = []string{"email"}
	c.Profile.ContactVerification = map[string]string{"email": "PENDING"}
	if got := VerificationProblems(p, c, nil, docs); len(got) != 1 || got[0].Field != "email" || got[0].Type != ProblemInvalidField {
		t.Errorf("unverified email: %+v", got)
	}
}

func TestVerificationProblemsBusiness(t *testing.T) {
	p := &Platform{ID: "PlatformConfig:p"}
	c := &Customer{ID: "Customer:b", Type: Business, Profile: Profile{Business: &BusinessInfo{LegalName: "Acme", Country: "US"}}}
	var types, fields []string
	for _, e := range VerificationProblems(p, c, nil, nil) {
		types, fields = append(types, e.Type), append(fields, e.Field)
	}
	wantFields := []string{"businessInfo.registrationNumber", "businessInfo.incorporatedOn", "businessInfo.entityType", "businessInfo.taxId",
		"businessInfo.countriesOfOperation", "address", "", "", "", ""}
	wantTypes := []string{"MISSING_FIELD", "MISSING_FIELD", "MISSING_FIELD", "MISSING_FIELD", "MISSING_FIELD", "MISSING_FIELD",
		"MISSING_LEGAL_PRESENCE_DOCUMENT", "MISSING_OWNERSHIP_STRUCTURE_DOCUMENT", "MISSING_PROOF_OF_ADDRESS_DOCUMENT", "MISSING_BENEFICIAL_OWNER"}
	if !slices.Equal(fields, wantFields) || !slices.Equal(types, wantTypes) {
		t.Errorf("business problems:\n got %v %v\nwant %v %v", types, fields, wantTypes, wantFields)
	}

	b := c.Profile.Business
	b.RegistrationNumber, b.IncorporatedOn, b.EntityType, b.HasTaxID, b.CountriesOfOperation = "R-003", "2015-01-01", "LLC", true, []string{"US"}
	c.Profile.Address = &Address{Line1: "1 Main St", PostalCode: "98101", Country: "US"}
	owner := &BeneficialOwner{ID: "BeneficialOwner:o", Info: OwnerInfo{FirstName: "Ann", LastName: "Lee", BirthDate: "1980-01-01",
		Nationality: "US", Address: c.Profile.Address, IDType: "SSN", HasIdentifier: true}}
	docs := []*Document{
		{HolderID: c.ID, Type: "ARTICLES_OF_INCORPORATION"}, {HolderID: c.ID, Type: "SHAREHOLDER_REGISTER"}, {HolderID: c.ID, Type: "BANK_STATEMENT"},
	}
	got := VerificationProblems(p, c, []*BeneficialOwner{owner}, docs)
	if len(got) != 1 || got[0].ResourceID != owner.ID || got[0].Type != ProblemMissingIdentityDocument {
		t.Errorf("owner without identity document: %+v", got)
	}
	docs = append(docs, &Document{HolderID: owner.ID, Type: "NATIONAL_ID"})
	if got := VerificationProblems(p, c, []*BeneficialOwner{owner}, docs); len(got) != 0 {
		t.Errorf("complete business: %+v", got)
	}
}

func equalProblem(a, b VerificationError) bool {
	return a.ResourceID == b.ResourceID && a.Type == b.Type && a.Field == b.Field && a.Reason == b.Reason &&
		slices.Equal(a.AcceptedDocumentTypes, b.AcceptedDocumentTypes)
}

func TestSandboxSuffixes(t *testing.T) {
	sandbox := &Platform{Sandbox: true}
	biz := func(reg string) *Customer {
		return &Customer{Type: Business, Profile: Profile{Business: &BusinessInfo{RegistrationNumber: reg}}}
	}
	for reg, want := range map[string]Status{"REG-002": StatusRejected, "REG-123": StatusApproved, "REG-001": "", "REG-003": "", "": ""} {
		got, ok := sandboxKYBDecision(sandbox, biz(reg))
		if got != want || ok != (want != "") {
			t.Errorf("sandboxKYBDecision(%q) = %q, %v; want %q", reg, got, ok, want)
		}
	}
	if _, ok := sandboxKYBDecision(&Platform{}, biz("REG-002")); ok {
		t.Error("a live platform decided a business by its suffix")
	}
	for name, want := range map[string]Status{"Smith 001": StatusPending, "Smith 002": StatusRejected, "Smith": StatusApproved, "Smith 003": StatusApproved} {
		if got := SandboxOwnerStatus(name); got != want {
			t.Errorf("SandboxOwnerStatus(%q) = %s, want %s", name, got, want)
		}
	}
}

func TestCheckFile(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	pdf := []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	jpeg := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F'}
	exe := []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff")
	cases := []struct {
		name, declared string
		data           []byte
		want           string
	}{
		{"passport.png", "image/png", png, "image/png"},
		{"passport.jpg", "image/jpeg", jpeg, "image/jpeg"},
		{"scan.pdf", "application/pdf", pdf, "application/pdf"},
		{"scan", "application/octet-stream", pdf, "application/pdf"},
		{"scan", "", jpeg, "image/jpeg"},
		{"setup.png", "image/png", exe, ""},      // an executable renamed .png
		{"passport.png", "image/jpeg", png, ""},  // declared type contradicts the bytes
		{"passport.pdf", "", png, ""},            // extension contradicts the bytes
		{"empty.png", "image/png", []byte{}, ""}, // nothing uploaded
		{"text.txt", "text/plain", []byte("hello"), ""},
	}
	for _, tc := range cases {
		var fe FieldErrors
		got := checkFile(&fe, &DocumentFile{Name: tc.name, DeclaredType: tc.declared, Data: tc.data})
		if got != tc.want || (tc.want == "") != (len(fe) == 1 && fe[0].Field == "file") {
			t.Errorf("checkFile(%s, %q) = %q, errors %v; want %q", tc.name, tc.declared, got, fe, tc.want)
		}
	}
}

func TestOwnerInputValidation(t *testing.T) {
	now := time.Date(2025, 7, 21, 0, 0, 0, 0, time.UTC)
	in := &OwnerInput{
		Roles: &[]string{"UBO", "CEO", "UBO"}, OwnershipPercentage: ptr(101),
		Info: &OwnerInfoInput{BirthDate: ptr("2030-01-01"), Nationality: ptr("XX"), IDType: ptr("SSN"), Identifier: ptr("123456789"),
			CountryOfIssuance: ptr("MX"), Address: &AddressInput{Line1: ptr("1 Main St")}},
	}
	var fe FieldErrors
	in.validate(&fe, now, "")
	var got []string
	for _, f := range sortFieldErrors(fe) {
		got = append(got, f.Field)
	}
	want := []string{"ownershipPercentage", "personalInfo.address.country", "personalInfo.address.postalCode", "personalInfo.birthDate",
		"personalInfo.countryOfIssuance", "personalInfo.identifier", "personalInfo.nationality", "roles[1]", "roles[2]"}
	if !slices.Equal(got, want) {
		t.Errorf("fields:\n got %v\nwant %v", got, want)
	}
	fe = nil
	(&OwnerInput{Info: &OwnerInfoInput{IDType: ptr("ITIN")}}).validate(&fe, now, "SSN")
	if len(fe) != 1 || fe[0].Field != "personalInfo.identifier" {
		t.Errorf("a new idType without identifier: %v", fe)
	}
}
