package grid

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestKycTokens(t *testing.T) {
	a, b := newKycToken(), newKycToken()
	if a == b {
		t.Fatalf("two tokens are equal: %s", a)
	}
	raw, err := base64.RawURLEncoding.DecodeString(a)
	if err != nil || len(raw) != 32 {
		t.Errorf("token %q: %d bytes (%v), want 32 bytes of base64url", a, len(raw), err)
	}
	if h := HashKycToken(a); len(h) != 32 || cmp.Equal(h, HashKycToken(b)) {
		t.Errorf("HashKycToken = %x, want a distinct SHA-256", h)
	}
}

func TestKycLinkUsable(t *testing.T) {
	at := updateClock
	consumed := at.Add(-time.Minute)
	cases := []struct {
		name string
		link KycLink
		now  time.Time
		code string
	}{
		{"fresh", KycLink{ExpiresAt: at.Add(KycLinkTTL)}, at, ""},
		{"a microsecond before expiry", KycLink{ExpiresAt: at.Add(time.Microsecond)}, at, ""},
		{"at expiry", KycLink{ExpiresAt: at}, at, CodeKycLinkExpired},
		{"after expiry", KycLink{ExpiresAt: at}, at.Add(time.Hour), CodeKycLinkExpired},
		{"consumed", KycLink{ExpiresAt: at.Add(time.Hour), ConsumedAt: &consumed}, at, CodeKycLinkUsed},
		{"consumed and expired", KycLink{ExpiresAt: at, ConsumedAt: &consumed}, at, CodeKycLinkUsed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := kycLinkUsable(&tc.link, tc.now)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("got %v, want usable", err)
				}
				return
			}
			wantContactError(t, err, 410, tc.code)
		})
	}
}

func TestCheckRedirectURI(t *testing.T) {
	for uri, ok := range map[string]bool{
		"https://app.example.com/onboarding/completed": true,
		"http://localhost:3000/done?x=1#top":           true,
		"ftp://example.com/":                           false,
		"/relative/path":                               false,
		"javascript:alert(1)":                          false,
		"https://user:pw@example.com/":                 false,
		"https://":                                     false,
		"not a url":                                    false,
	} {
		var fe FieldErrors
		checkRedirectURI(&fe, "redirectUri", uri)
		if (len(fe) == 0) != ok {
			t.Errorf("%q: errors %v, want ok=%v", uri, fe, ok)
		}
	}
}

func TestKycFormNonce(t *testing.T) {
	s := NewService(nil, plainSealer{}, nil)
	link := &KycLink{ID: "KycLink:one"}
	other := &KycLink{ID: "KycLink:two"}
	n, err := s.KycFormNonce(&KycSession{Link: link})
	if err != nil {
		t.Fatal(err)
	}
	if !s.checkKycFormNonce(link, n) {
		t.Errorf("a nonce issued for the link is refused")
	}
	for name, nonce := range map[string]string{"another link's": n, "empty": "", "not base64": "%%%", "unsealed": base64.RawURLEncoding.EncodeToString([]byte(kycNoncePurpose + link.ID))} {
		target := link
		if name == "another link's" {
			target = other
		}
		if s.checkKycFormNonce(target, nonce) {
			t.Errorf("%s nonce accepted", name)
		}
	}
}

// TestKycSessionNeedsForm checks that a session opened without a form nonce changes nothing.
func TestKycSessionNeedsForm(t *testing.T) {
	s := NewService(nil, plainSealer{}, nil)
	sess := &KycSession{Customer: &Customer{ID: "Customer:c1", Type: Individual}}
	if err := s.KycLinkFill(t.Context(), sess, &KycLinkDetails{FullName: ptr("Jane Doe")}); err == nil {
		t.Errorf("KycLinkFill without a form: nil error")
	}
	if _, err := s.KycLinkUpload(t.Context(), sess, &DocumentInput{}); err == nil {
		t.Errorf("KycLinkUpload without a form: nil error")
	}
	if _, err := s.KycLinkAddOwner(t.Context(), sess, &OwnerInput{}); err == nil {
		t.Errorf("KycLinkAddOwner without a form: nil error")
	}
	if _, err := s.SubmitKycLink(t.Context(), sess); err == nil {
		t.Errorf("SubmitKycLink without a form: nil error")
	}
}

func TestKycFillable(t *testing.T) {
	ind := &Customer{Type: Individual, Profile: Profile{FullName: "Jane Doe 001", BirthDate: "1990-01-15", IDType: "SSN"}}
	if d := cmp.Diff([]string{"nationality", "identifier", "address"}, KycFillable(ind)); d != "" {
		t.Errorf("individual (-want +got):\n%s", d)
	}
	biz := &Customer{Type: Business, Profile: Profile{Business: &BusinessInfo{LegalName: "Acme", Country: "US", HasTaxID: true}}}
	want := []string{"businessInfo.registrationNumber", "businessInfo.incorporatedOn", "businessInfo.entityType", "businessInfo.countriesOfOperation", "address"}
	if d := cmp.Diff(want, KycFillable(biz)); d != "" {
		t.Errorf("business (-want +got):\n%s", d)
	}
}

func TestKycLinkDetailsOnlyFillMissing(t *testing.T) {
	ind := &Customer{Type: Individual, Profile: Profile{FullName: "Jane Doe 001", BirthDate: "1990-01-15", Nationality: "US"}}
	addr := &AddressInput{Line1: ptr("1 Main St"), PostalCode: ptr("98101"), Country: ptr("US")}

	in, err := (&KycLinkDetails{IDType: ptr("SSN"), Identifier: ptr("111-22-3333"), Address: addr}).customerInput(ind)
	if err != nil {
		t.Fatal(err)
	}
	if *in.CustomerType != "INDIVIDUAL" || *in.IDType != "SSN" || *in.Identifier != "111-22-3333" || in.Address != addr || in.FullName != nil {
		t.Errorf("input = %+v", in)
	}
	if in, err := (&KycLinkDetails{}).customerInput(ind); in != nil || err != nil {
		t.Errorf("nothing sent: got %+v, %v; want nil, nil", in, err)
	}

	_, err = (&KycLinkDetails{FullName: ptr("Someone Else"), BirthDate: ptr("1970-01-01"), Business: &BusinessInput{LegalName: ptr("X")}}).customerInput(ind)
	wantContactError(t, err, 400, CodeInvalidInput, "fullName", "birthDate", "businessInfo")

	biz := &Customer{Type: Business, Profile: Profile{Business: &BusinessInfo{LegalName: "Acme", RegistrationNumber: "5523003"}}}
	list := []string{"US", "CA"}
	in, err = (&KycLinkDetails{Business: &BusinessInput{Country: ptr("US"), CountriesOfOperation: &list, TaxID: ptr("12-3456789")}}).customerInput(biz)
	if err != nil {
		t.Fatal(err)
	}
	if in.Business == nil || *in.Business.Country != "US" || *in.Business.TaxID != "12-3456789" || len(*in.Business.CountriesOfOperation) != 2 {
		t.Errorf("business input = %+v", in.Business)
	}
	_, err = (&KycLinkDetails{FullName: ptr("Jane"), Business: &BusinessInput{RegistrationNumber: ptr("999")}}).customerInput(biz)
	wantContactError(t, err, 400, CodeInvalidInput, "fullName", "businessInfo.registrationNumber")
}
