package grid

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// plainSealer stands in for AES-GCM: the update rules only need Open to undo Seal.
type plainSealer struct{}

func (plainSealer) Seal(p []byte) ([]byte, error) { return append([]byte("sealed:"), p...), nil }

func (plainSealer) Open(c []byte) ([]byte, error) {
	if !bytes.HasPrefix(c, []byte("sealed:")) {
		return nil, errors.New("not sealed")
	}
	return bytes.TrimPrefix(c, []byte("sealed:")), nil
}

func ptr[T any](v T) *T { return &v }

var updateClock = time.Date(2025, 7, 21, 17, 32, 28, 0, time.UTC)

func updateFixture(t *testing.T, regulated bool) (*Service, *Principal, func() *Customer) {
	t.Helper()
	s := NewService(nil, plainSealer{}, func() time.Time { return updateClock })
	p := &Principal{
		Token: &Token{ID: "Token:t1", Permissions: AllPermissions},
		Platform: &Platform{ID: "PlatformConfig:p1", UMADomain: "uma.acme.test", Regulated: regulated,
			Currencies: []CurrencyConfig{{Code: "USD"}, {Code: "USDC"}, {Code: "EUR"}}},
	}
	created := updateClock.Add(-time.Hour)
	individual := func() *Customer {
		c := &Customer{
			ID: "Customer:c1", PlatformID: p.Platform.ID, PlatformCustomerID: "pc-1", Type: Individual,
			Region: "US", Currencies: []string{"USD"}, UMAAddress: "$pc-1@uma.acme.test", Status: StatusPending,
			Profile: Profile{
				Email: "jane@example.com", FullName: "Jane Doe", IDType: "SSN", HasIdentifier: true, CountryOfIssuance: "US",
				ContactVerification: map[string]string{"email": "VERIFIED"},
			},
			CreatedAt: created, UpdatedAt: created,
		}
		if err := s.sealSecrets(c, &Secrets{Identifier: "123-45-6789"}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	return s, p, individual
}

func TestApplyUpdateRules(t *testing.T) {
	cases := []struct {
		name      string
		regulated bool
		deleted   bool
		in        CustomerInput
		status    int
		code      string
		fields    []string
	}{
		{name: "customerType missing", in: CustomerInput{FullName: ptr("Jane Roe")}, status: 400, code: CodeInvalidInput, fields: []string{"customerType"}},
		{name: "customerType unknown", in: CustomerInput{CustomerType: ptr("PERSON")}, status: 400, code: CodeInvalidInput, fields: []string{"customerType"}},
		{name: "customerType differs", in: CustomerInput{CustomerType: ptr("BUSINESS"), Business: &BusinessInput{LegalName: ptr("Acme")}}, status: 400, code: CodeInvalidInput, fields: []string{"customerType"}},
		{name: "region differs", in: CustomerInput{CustomerType: ptr("INDIVIDUAL"), Region: ptr("MX")}, status: 400, code: CodeInvalidInput, fields: []string{"region"}},
		{name: "region invalid", in: CustomerInput{CustomerType: ptr("INDIVIDUAL"), Region: ptr("XX")}, status: 400, code: CodeInvalidInput, fields: []string{"region"}},
		{name: "region unchanged", in: CustomerInput{CustomerType: ptr("INDIVIDUAL"), Region: ptr("US")}},
		{name: "email and phone together", in: CustomerInput{CustomerType: ptr("INDIVIDUAL"), Email: ptr("a@example.com"), PhoneNumber: ptr("+14155551234")}, status: 400, code: CodeInvalidInput, fields: []string{"email", "phoneNumber"}},
		{name: "unsupported currency", in: CustomerInput{CustomerType: ptr("INDIVIDUAL"), Currencies: &[]string{"USD", "JPY"}}, status: 400, code: CodeInvalidInput, fields: []string{"currencies[1]"}},
		{name: "status from an unregulated platform", in: CustomerInput{CustomerType: ptr("INDIVIDUAL"), KYCStatus: ptr("APPROVED")}, status: 400, code: CodeInvalidInput, fields: []string{"kycStatus"}},
		{name: "kybStatus on an individual", regulated: true, in: CustomerInput{CustomerType: ptr("INDIVIDUAL"), KYBStatus: ptr("APPROVED")}, status: 400, code: CodeInvalidInput, fields: []string{"kybStatus"}},
		{name: "unknown status", regulated: true, in: CustomerInput{CustomerType: ptr("INDIVIDUAL"), KYCStatus: ptr("DONE")}, status: 400, code: CodeInvalidInput, fields: []string{"kycStatus"}},
		{name: "malformed UMA address", in: CustomerInput{CustomerType: ptr("INDIVIDUAL"), UMAAddress: ptr("jane@uma.acme.test")}, status: 400, code: CodeInvalidUMAAddress},
		{name: "UMA address on another domain", in: CustomerInput{CustomerType: ptr("INDIVIDUAL"), UMAAddress: ptr("$jane@other.test")}, status: 400, code: CodeInvalidUMAAddress},
		{name: "unknown terms version", in: CustomerInput{CustomerType: ptr("INDIVIDUAL"), Consent: &ConsentInput{
			AcceptedAt: ptr("2025-07-21T17:00:00Z"), IPAddress: ptr("198.51.100.24"), TermsVersion: ptr("V0"), AcceptanceMethod: ptr("CHECKBOX")}},
			status: 400, code: CodeTermsVersionNotFound},
		{name: "incomplete address", in: CustomerInput{CustomerType: ptr("INDIVIDUAL"), Address: &AddressInput{Line1: ptr("1 Main St"), Country: ptr("US")}}, status: 400, code: CodeInvalidInput, fields: []string{"address.postalCode"}},
		{name: "identifier against the stored idType", in: CustomerInput{CustomerType: ptr("INDIVIDUAL"), Identifier: ptr("123456789")}, status: 400, code: CodeInvalidInput, fields: []string{"identifier"}},
		{name: "deleted customer", deleted: true, in: CustomerInput{CustomerType: ptr("INDIVIDUAL")}, status: 410, code: CodeCustomerDeleted},
		{name: "every problem at once", in: CustomerInput{CustomerType: ptr("BUSINESS"), Region: ptr("MX"), Email: ptr("x"), PhoneNumber: ptr("+14155551234"), KYBStatus: ptr("APPROVED")},
			status: 400, code: CodeInvalidInput, fields: []string{"customerType", "email", "email", "kybStatus", "phoneNumber", "region"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, p, individual := updateFixture(t, tc.regulated)
			c := individual()
			if tc.deleted {
				at := c.CreatedAt
				c.DeletedAt = &at
			}
			before := individual()
			before.DeletedAt = c.DeletedAt
			change, err := s.applyUpdate(p, c, &tc.in)
			if tc.status == 0 {
				if err != nil || change != nil {
					t.Fatalf("applyUpdate = %v, %v; want success without a status change", change, err)
				}
				return
			}
			e, ok := AsError(err)
			if !ok || e.Status != tc.status || e.Code != tc.code {
				t.Fatalf("applyUpdate error = %v, want %d %s", err, tc.status, tc.code)
			}
			if tc.fields != nil {
				var got []string
				for _, f := range e.Fields {
					got = append(got, f.Field)
				}
				if d := cmp.Diff(tc.fields, got); d != "" {
					t.Errorf("fields (-want +got):\n%s", d)
				}
			}
			if d := cmp.Diff(before, c, cmp.AllowUnexported(Customer{})); d != "" {
				t.Errorf("a rejected update changed the customer (-before +after):\n%s", d)
			}
		})
	}
}

func TestApplyUpdateApplies(t *testing.T) {
	s, p, individual := updateFixture(t, true)
	c := individual()
	in := &CustomerInput{
		CustomerType: ptr("INDIVIDUAL"), PlatformCustomerID: ptr(" pc-2 "), UMAAddress: ptr("$Jane.Roe@UMA.acme.test"),
		Email: ptr("jane.roe@example.com"), Currencies: &[]string{"EUR", "USDC"}, FullName: ptr("Jane Roe"),
		Identifier: ptr("987-65-4321"), KYCStatus: ptr("APPROVED"),
		Consent: &ConsentInput{AcceptedAt: ptr("2025-07-21T17:00:00Z"), IPAddress: ptr("198.51.100.24"), TermsVersion: ptr("V1"), AcceptanceMethod: ptr("CHECKBOX")},
	}
	change, err := s.applyUpdate(p, c, in)
	if err != nil {
		t.Fatal(err)
	}
	want := &StatusChange{ID: change.ID, CustomerID: "Customer:c1", PlatformID: "PlatformConfig:p1",
		From: StatusPending, To: StatusApproved, Reason: "SET_BY_PLATFORM", Actor: "Token:t1", At: updateClock}
	if d := cmp.Diff(want, change); d != "" {
		t.Errorf("status change (-want +got):\n%s", d)
	}
	if c.Status != StatusApproved || c.PlatformCustomerID != "pc-2" || c.UMAAddress != "$jane.roe@uma.acme.test" ||
		c.Profile.FullName != "Jane Roe" || !slices.Equal(c.Currencies, []string{"EUR", "USDC"}) ||
		c.Region != "US" || !c.UpdatedAt.Equal(updateClock) || c.Profile.Consent == nil || c.Profile.Consent.TermsVersion != "V1" {
		t.Errorf("customer after update = %+v", c)
	}
	if c.Profile.ContactVerification["email"] != "PENDING" {
		t.Errorf("contactVerification.email = %q, want PENDING after an email change", c.Profile.ContactVerification["email"])
	}
	sec, err := s.OpenSecrets(c)
	if err != nil || sec.Identifier != "987-65-4321" {
		t.Errorf("secrets = %+v, %v; want the new identifier", sec, err)
	}

	// Setting the status it already has records nothing.
	change, err = s.applyUpdate(p, c, &CustomerInput{CustomerType: ptr("INDIVIDUAL"), KYCStatus: ptr("APPROVED")})
	if err != nil || change != nil {
		t.Errorf("same status: change = %+v, err = %v; want neither", change, err)
	}
}

func TestApplyUpdateMergesBusinessSecrets(t *testing.T) {
	s, p, _ := updateFixture(t, false)
	c := &Customer{ID: "Customer:b1", PlatformID: p.Platform.ID, Type: Business, Region: "US", Status: StatusUnverified,
		Profile: Profile{Business: &BusinessInfo{LegalName: "Acme", Country: "US", HasTaxID: true}}}
	if err := s.sealSecrets(c, &Secrets{TaxID: "47-1234567", Identifier: "kept"}); err != nil {
		t.Fatal(err)
	}
	sealed := slices.Clone(c.Sealed)
	if _, err := s.applyUpdate(p, c, &CustomerInput{CustomerType: ptr("BUSINESS"), Business: &BusinessInput{DoingBusinessAs: ptr("Acme Co")}}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sealed, c.Sealed) || c.Profile.Business.LegalName != "Acme" || c.Profile.Business.DoingBusinessAs != "Acme Co" {
		t.Errorf("a partial businessInfo update: sealed changed %v, businessInfo %+v", !bytes.Equal(sealed, c.Sealed), c.Profile.Business)
	}
	if _, err := s.applyUpdate(p, c, &CustomerInput{CustomerType: ptr("BUSINESS"), Business: &BusinessInput{TaxID: ptr("47-7654321")}}); err != nil {
		t.Fatal(err)
	}
	sec, err := s.OpenSecrets(c)
	if d := cmp.Diff(&Secrets{TaxID: "47-7654321", Identifier: "kept"}, sec); err != nil || d != "" {
		t.Errorf("secrets after a taxId change (-want +got):\n%s (err %v)", d, err)
	}
}
