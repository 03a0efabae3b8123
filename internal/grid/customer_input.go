package grid

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gridd/gridd/internal/refdata"
)

// CustomerInput is the body of a customer create or update. A nil field was not sent.
type CustomerInput struct {
	CustomerType       *string
	PlatformCustomerID *string
	Region             *string
	Currencies         *[]string
	Email              *string
	PhoneNumber        *string
	UMAAddress         *string
	KYCStatus          *string
	KYBStatus          *string
	Consent            *ConsentInput

	FullName          *string
	BirthDate         *string
	Nationality       *string
	Address           *AddressInput
	IDType            *string
	Identifier        *string
	CountryOfIssuance *string
	EDD               EDDInput

	Business *BusinessInput
}

// AddressInput is an address as sent.
type AddressInput struct {
	Line1, Line2, City, State, PostalCode, Country *string
}

// toAddress returns the address as stored: the fields sent, the others empty.
func (a *AddressInput) toAddress() *Address {
	addr := &Address{}
	setStr(&addr.Line1, a.Line1)
	setStr(&addr.Line2, a.Line2)
	setStr(&addr.City, a.City)
	setStr(&addr.State, a.State)
	setStr(&addr.PostalCode, a.PostalCode)
	setStr(&addr.Country, a.Country)
	return addr
}

// ConsentInput is end-user terms consent evidence as sent.
type ConsentInput struct {
	AcceptedAt       *string
	IPAddress        *string
	TermsVersion     *string
	AcceptanceMethod *string
}

// EDDInput holds the enhanced-due-diligence answers as sent.
type EDDInput struct {
	SourceOfFundsCategories          *[]string
	SourceOfFundsOtherDescription    *string
	SourceOfWealthCategories         *[]string
	SourceOfWealthOtherDescription   *string
	PurposeOfAccount                 *string
	PurposeOfAccountOtherDescription *string
	ExpectedMonthlyTransactionCount  *string
	ExpectedMonthlyTransactionVolume *string
	AnnualIncomeRange                *string
	NetWorthRange                    *string
	PEPStatus                        *string
}

func (e *EDDInput) any() bool {
	return e.SourceOfFundsCategories != nil || e.SourceOfFundsOtherDescription != nil ||
		e.SourceOfWealthCategories != nil || e.SourceOfWealthOtherDescription != nil ||
		e.PurposeOfAccount != nil || e.PurposeOfAccountOtherDescription != nil ||
		e.ExpectedMonthlyTransactionCount != nil || e.ExpectedMonthlyTransactionVolume != nil ||
		e.AnnualIncomeRange != nil || e.NetWorthRange != nil || e.PEPStatus != nil
}

// BusinessInput is a business description as sent.
type BusinessInput struct {
	LegalName                        *string
	DoingBusinessAs                  *string
	Country                          *string
	RegistrationNumber               *string
	IncorporatedOn                   *string
	EntityType                       *string
	TaxID                            *string
	CountriesOfOperation             *[]string
	BusinessType                     *string
	PurposeOfAccount                 *string
	SourceOfFunds                    *string
	ExpectedMonthlyTransactionCount  *string
	ExpectedMonthlyTransactionVolume *string
	ExpectedRecipientJurisdictions   *[]string
	NAICSCode                        *string
	SourceOfFundsCategories          *[]string
	SourceOfFundsOtherDescription    *string
	PurposeOfAccountOtherDescription *string
	ExpectedCounterpartyCountries    *[]string
	PrimaryContactFirstName          *string
	PrimaryContactLastName           *string
}

// validateFields checks every field that is present, whatever the operation, and records
// each problem. Presence rules (required on create, immutable on update) are checked by the
// callers.
func (in *CustomerInput) validateFields(fe *FieldErrors, typ CustomerType, now time.Time) {
	checkText(fe, "platformCustomerId", in.PlatformCustomerID, 128)
	checkCountry(fe, "region", in.Region)
	if in.Currencies != nil {
		seen := map[string]bool{}
		if len(*in.Currencies) == 0 {
			fe.Add("currencies", "must list at least one currency")
		}
		for i, c := range *in.Currencies {
			path := fmt.Sprintf("currencies[%d]", i)
			switch {
			case !refdata.IsCurrency(c):
				fe.AddFormat(path, "iso4217", fmt.Sprintf("%q is not an ISO 4217 currency code or supported crypto ticker", c))
			case seen[c]:
				fe.Add(path, "%s is listed twice", c)
			}
			seen[c] = true
		}
	}
	if in.Email != nil && !refdata.ValidEmail(*in.Email) {
		fe.AddFormat("email", "email", "must be an email address such as jane@example.com")
	}
	if in.PhoneNumber != nil {
		if _, err := refdata.NormalizePhone(*in.PhoneNumber); err != nil {
			fe.AddFormat("phoneNumber", "e.164", err.Error())
		}
	}
	if in.UMAAddress != nil && *in.UMAAddress == "" {
		fe.Add("umaAddress", "must not be empty")
	}
	checkEnum(fe, "kycStatus", in.KYCStatus, AllStatuses)
	checkEnum(fe, "kybStatus", in.KYBStatus, AllStatuses)
	if c := in.Consent; c != nil {
		if c.AcceptedAt == nil {
			fe.Add("endUserTermsConsent.acceptedAt", "is required")
		} else if t, err := time.Parse(time.RFC3339, *c.AcceptedAt); err != nil {
			fe.AddFormat("endUserTermsConsent.acceptedAt", "date-time", "must be an RFC 3339 date-time such as 2025-07-21T17:32:28Z")
		} else if t.After(now.Add(5 * time.Minute)) {
			fe.Add("endUserTermsConsent.acceptedAt", "must not be in the future")
		}
		if c.IPAddress == nil {
			fe.Add("endUserTermsConsent.ipAddress", "is required")
		} else if _, err := netip.ParseAddr(*c.IPAddress); err != nil || len(*c.IPAddress) > 45 {
			fe.AddFormat("endUserTermsConsent.ipAddress", "ip", "must be an IPv4 or IPv6 address")
		}
		if c.TermsVersion == nil || *c.TermsVersion == "" {
			fe.Add("endUserTermsConsent.termsVersion", "is required")
		}
		if c.AcceptanceMethod == nil {
			fe.Add("endUserTermsConsent.acceptanceMethod", "is required")
		} else {
			checkEnum(fe, "endUserTermsConsent.acceptanceMethod", c.AcceptanceMethod, enumAcceptanceMethod)
		}
	}

	individualOnly := map[string]bool{
		"kycStatus": in.KYCStatus != nil, "fullName": in.FullName != nil, "birthDate": in.BirthDate != nil,
		"nationality": in.Nationality != nil, "idType": in.IDType != nil, "identifier": in.Identifier != nil,
		"countryOfIssuance": in.CountryOfIssuance != nil,
	}
	businessOnly := map[string]bool{"kybStatus": in.KYBStatus != nil, "businessInfo": in.Business != nil}
	switch typ {
	case Individual:
		for _, k := range sortedKeys(businessOnly) {
			if businessOnly[k] {
				fe.Add(k, "is only accepted for BUSINESS customers")
			}
		}
		in.validateIndividual(fe, now)
	case Business:
		for _, k := range sortedKeys(individualOnly) {
			if individualOnly[k] {
				fe.Add(k, "is only accepted for INDIVIDUAL customers")
			}
		}
		if in.EDD.any() {
			fe.Add("sourceOfFundsCategories", "enhanced-due-diligence fields are only accepted for INDIVIDUAL customers; use businessInfo")
		}
		if in.Business != nil {
			in.Business.validate(fe, now)
		}
	}
	if a := in.Address; a != nil {
		checkText(fe, "address.line1", a.Line1, 200)
		checkText(fe, "address.line2", a.Line2, 200)
		checkText(fe, "address.city", a.City, 100)
		checkText(fe, "address.state", a.State, 100)
		checkText(fe, "address.postalCode", a.PostalCode, 20)
		checkCountry(fe, "address.country", a.Country)
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (in *CustomerInput) validateIndividual(fe *FieldErrors, now time.Time) {
	checkText(fe, "fullName", in.FullName, 200)
	if in.BirthDate != nil {
		if d, err := refdata.ParseDate(*in.BirthDate); err != nil {
			fe.AddFormat("birthDate", "date", "must be a real calendar date in YYYY-MM-DD form")
		} else if d.After(now) {
			fe.Add("birthDate", "must not be in the future")
		} else if d.Year() < 1900 {
			fe.Add("birthDate", "must be after 1900-01-01")
		}
	}
	checkCountry(fe, "nationality", in.Nationality)
	checkEnum(fe, "idType", in.IDType, enumIndividualIDType)
	if in.Identifier != nil {
		id := *in.Identifier
		if in.IDType == nil {
			fe.Add("idType", "is required when identifier is given")
		} else if *in.IDType == "SSN" && !reSSN.MatchString(id) {
			fe.AddFormat("identifier", "us-ssn", "an SSN must have the form ###-##-####")
		} else if *in.IDType == "ITIN" && (!reSSN.MatchString(id) || id[0] != '9') {
			fe.AddFormat("identifier", "us-itin", "an ITIN must have the form 9##-##-####")
		}
	}
	if in.CountryOfIssuance != nil && *in.CountryOfIssuance != "US" {
		fe.Add("countryOfIssuance", "SSN and ITIN are issued by the US; only US is accepted")
	}
	e := &in.EDD
	checkEnumList(fe, "sourceOfFundsCategories", e.SourceOfFundsCategories, enumIndividualFunds)
	checkText(fe, "sourceOfFundsOtherDescription", e.SourceOfFundsOtherDescription, 500)
	checkEnumList(fe, "sourceOfWealthCategories", e.SourceOfWealthCategories, enumSourceOfWealth)
	checkText(fe, "sourceOfWealthOtherDescription", e.SourceOfWealthOtherDescription, 500)
	checkEnum(fe, "purposeOfAccount", e.PurposeOfAccount, enumPurposeOfAccount)
	checkText(fe, "purposeOfAccountOtherDescription", e.PurposeOfAccountOtherDescription, 500)
	checkEnum(fe, "expectedMonthlyTransactionCount", e.ExpectedMonthlyTransactionCount, enumTxCount)
	checkEnum(fe, "expectedMonthlyTransactionVolume", e.ExpectedMonthlyTransactionVolume, enumTxVolume)
	checkEnum(fe, "annualIncomeRange", e.AnnualIncomeRange, enumAnnualIncome)
	checkEnum(fe, "netWorthRange", e.NetWorthRange, enumNetWorth)
	checkEnum(fe, "pepStatus", e.PEPStatus, enumPEP)
}

func (b *BusinessInput) validate(fe *FieldErrors, now time.Time) {
	const p = "businessInfo."
	checkText(fe, p+"legalName", b.LegalName, 300)
	checkText(fe, p+"doingBusinessAs", b.DoingBusinessAs, 300)
	checkCountry(fe, p+"country", b.Country)
	checkText(fe, p+"registrationNumber", b.RegistrationNumber, 100)
	if b.IncorporatedOn != nil {
		if d, err := refdata.ParseDate(*b.IncorporatedOn); err != nil {
			fe.AddFormat(p+"incorporatedOn", "date", "must be a real calendar date in YYYY-MM-DD form")
		} else if d.After(now) {
			fe.Add(p+"incorporatedOn", "must not be in the future")
		}
	}
	checkEnum(fe, p+"entityType", b.EntityType, enumEntityType)
	checkText(fe, p+"taxId", b.TaxID, 64)
	checkCountryList(fe, p+"countriesOfOperation", b.CountriesOfOperation)
	checkEnum(fe, p+"businessType", b.BusinessType, enumBusinessType)
	checkEnum(fe, p+"purposeOfAccount", b.PurposeOfAccount, enumPurposeOfAccount)
	checkText(fe, p+"sourceOfFunds", b.SourceOfFunds, 500)
	checkEnum(fe, p+"expectedMonthlyTransactionCount", b.ExpectedMonthlyTransactionCount, enumTxCount)
	checkEnum(fe, p+"expectedMonthlyTransactionVolume", b.ExpectedMonthlyTransactionVolume, enumTxVolume)
	checkCountryList(fe, p+"expectedRecipientJurisdictions", b.ExpectedRecipientJurisdictions)
	if b.NAICSCode != nil && !reNAICS.MatchString(*b.NAICSCode) {
		fe.AddFormat(p+"naicsCode", "naics", "must be 2 to 6 digits")
	}
	checkEnumList(fe, p+"sourceOfFundsCategories", b.SourceOfFundsCategories, enumBusinessFunds)
	checkText(fe, p+"sourceOfFundsOtherDescription", b.SourceOfFundsOtherDescription, 500)
	checkText(fe, p+"purposeOfAccountOtherDescription", b.PurposeOfAccountOtherDescription, 500)
	checkCountryList(fe, p+"expectedCounterpartyCountries", b.ExpectedCounterpartyCountries)
	checkText(fe, p+"primaryContactFirstName", b.PrimaryContactFirstName, 250)
	checkText(fe, p+"primaryContactLastName", b.PrimaryContactLastName, 250)
}

// set helpers: copy a sent value onto a stored one.
func setStr(dst *string, v *string) {
	if v != nil {
		*dst = strings.TrimSpace(*v)
	}
}

func setList(dst *[]string, v *[]string) {
	if v != nil {
		*dst = slices.Clone(*v)
	}
}

// apply copies every sent field onto the customer and its secrets. It assumes the input
// was validated.
func (in *CustomerInput) apply(c *Customer, sec *Secrets) {
	setStr(&c.Region, in.Region)
	setList(&c.Currencies, in.Currencies)
	pr := &c.Profile
	setStr(&pr.Email, in.Email)
	if in.PhoneNumber != nil {
		pr.PhoneNumber, _ = refdata.NormalizePhone(*in.PhoneNumber)
	}
	setStr(&pr.FullName, in.FullName)
	setStr(&pr.BirthDate, in.BirthDate)
	setStr(&pr.Nationality, in.Nationality)
	setStr(&pr.IDType, in.IDType)
	setStr(&pr.CountryOfIssuance, in.CountryOfIssuance)
	if in.Identifier != nil {
		sec.Identifier = *in.Identifier
		pr.HasIdentifier = true
		if pr.CountryOfIssuance == "" {
			pr.CountryOfIssuance = "US"
		}
	}
	e, d := &in.EDD, &pr.EDD
	setList(&d.SourceOfFundsCategories, e.SourceOfFundsCategories)
	setStr(&d.SourceOfFundsOtherDescription, e.SourceOfFundsOtherDescription)
	setList(&d.SourceOfWealthCategories, e.SourceOfWealthCategories)
	setStr(&d.SourceOfWealthOtherDescription, e.SourceOfWealthOtherDescription)
	setStr(&d.PurposeOfAccount, e.PurposeOfAccount)
	setStr(&d.PurposeOfAccountOtherDesc, e.PurposeOfAccountOtherDescription)
	setStr(&d.ExpectedMonthlyTransactionCount, e.ExpectedMonthlyTransactionCount)
	setStr(&d.ExpectedMonthlyTransactionVol, e.ExpectedMonthlyTransactionVolume)
	setStr(&d.AnnualIncomeRange, e.AnnualIncomeRange)
	setStr(&d.NetWorthRange, e.NetWorthRange)
	setStr(&d.PEPStatus, e.PEPStatus)
	if in.Address != nil {
		// An address is replaced as a whole: a partial one would mix two addresses.
		pr.Address = in.Address.toAddress()
	}
	if b := in.Business; b != nil {
		if pr.Business == nil {
			pr.Business = &BusinessInfo{}
		}
		bi := pr.Business
		setStr(&bi.LegalName, b.LegalName)
		setStr(&bi.DoingBusinessAs, b.DoingBusinessAs)
		setStr(&bi.Country, b.Country)
		setStr(&bi.RegistrationNumber, b.RegistrationNumber)
		setStr(&bi.IncorporatedOn, b.IncorporatedOn)
		setStr(&bi.EntityType, b.EntityType)
		if b.TaxID != nil {
			sec.TaxID = strings.TrimSpace(*b.TaxID)
			bi.HasTaxID = true
		}
		setList(&bi.CountriesOfOperation, b.CountriesOfOperation)
		setStr(&bi.BusinessType, b.BusinessType)
		setStr(&bi.PurposeOfAccount, b.PurposeOfAccount)
		setStr(&bi.SourceOfFunds, b.SourceOfFunds)
		setStr(&bi.ExpectedMonthlyTransactionCount, b.ExpectedMonthlyTransactionCount)
		setStr(&bi.ExpectedMonthlyTransactionVolume, b.ExpectedMonthlyTransactionVolume)
		setList(&bi.ExpectedRecipientJurisdictions, b.ExpectedRecipientJurisdictions)
		setStr(&bi.NAICSCode, b.NAICSCode)
		setList(&bi.SourceOfFundsCategories, b.SourceOfFundsCategories)
		setStr(&bi.SourceOfFundsOtherDescription, b.SourceOfFundsOtherDescription)
		setStr(&bi.PurposeOfAccountOtherDescription, b.PurposeOfAccountOtherDescription)
		setList(&bi.ExpectedCounterpartyCountries, b.ExpectedCounterpartyCountries)
		setStr(&bi.PrimaryContactFirstName, b.PrimaryContactFirstName)
		setStr(&bi.PrimaryContactLastName, b.PrimaryContactLastName)
	}
	if c := in.Consent; c != nil {
		t, _ := time.Parse(time.RFC3339, *c.AcceptedAt)
		pr.Consent = &TermsConsent{
			AcceptedAt: t.UTC().Truncate(time.Second), IPAddress: *c.IPAddress,
			TermsVersion: *c.TermsVersion, AcceptanceMethod: *c.AcceptanceMethod,
		}
	}
}
