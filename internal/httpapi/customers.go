package httpapi

import (
	"net/http"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

// customerRequest is the wire body of POST /customers and PATCH /customers/{customerId}. Every
// field is a pointer so that "absent" and "null" read as not sent.
type customerRequest struct {
	CustomerType        *string          `json:"customerType"`
	PlatformCustomerID  *string          `json:"platformCustomerId"`
	Region              *string          `json:"region"`
	Currencies          *[]string        `json:"currencies"`
	Email               *string          `json:"email"`
	PhoneNumber         *string          `json:"phoneNumber"`
	UMAAddress          *string          `json:"umaAddress"`
	KYCStatus           *string          `json:"kycStatus"`
	KYBStatus           *string          `json:"kybStatus"`
	EndUserTermsConsent *consentRequest  `json:"endUserTermsConsent"`
	FullName            *string          `json:"fullName"`
	BirthDate           *string          `json:"birthDate"`
	Nationality         *string          `json:"nationality"`
	Address             *addressRequest  `json:"address"`
	IDType              *string          `json:"idType"`
	Identifier          *string          `json:"identifier"`
	CountryOfIssuance   *string          `json:"countryOfIssuance"`
	BusinessInfo        *businessRequest `json:"businessInfo"`

	SourceOfFundsCategories          *[]string `json:"sourceOfFundsCategories"`
	SourceOfFundsOtherDescription    *string   `json:"sourceOfFundsOtherDescription"`
	SourceOfWealthCategories         *[]string `json:"sourceOfWealthCategories"`
	SourceOfWealthOtherDescription   *string   `json:"sourceOfWealthOtherDescription"`
	PurposeOfAccount                 *string   `json:"purposeOfAccount"`
	PurposeOfAccountOtherDescription *string   `json:"purposeOfAccountOtherDescription"`
	ExpectedMonthlyTransactionCount  *string   `json:"expectedMonthlyTransactionCount"`
	ExpectedMonthlyTransactionVolume *string   `json:"expectedMonthlyTransactionVolume"`
	AnnualIncomeRange                *string   `json:"annualIncomeRange"`
	NetWorthRange                    *string   `json:"netWorthRange"`
	PEPStatus                        *string   `json:"pepStatus"`
}

type addressRequest struct {
	Line1      *string `json:"line1"`
	Line2      *string `json:"line2"`
	City       *string `json:"city"`
	State      *string `json:"state"`
	PostalCode *string `json:"postalCode"`
	Country    *string `json:"country"`
}

type consentRequest struct {
	AcceptedAt       *string `json:"acceptedAt"`
	IPAddress        *string `json:"ipAddress"`
	TermsVersion     *string `json:"termsVersion"`
	AcceptanceMethod *string `json:"acceptanceMethod"`
}

type businessRequest struct {
	LegalName                        *string   `json:"legalName"`
	DoingBusinessAs                  *string   `json:"doingBusinessAs"`
	Country                          *string   `json:"country"`
	RegistrationNumber               *string   `json:"registrationNumber"`
	IncorporatedOn                   *string   `json:"incorporatedOn"`
	EntityType                       *string   `json:"entityType"`
	TaxID                            *string   `json:"taxId"`
	CountriesOfOperation             *[]string `json:"countriesOfOperation"`
	BusinessType                     *string   `json:"businessType"`
	PurposeOfAccount                 *string   `json:"purposeOfAccount"`
	SourceOfFunds                    *string   `json:"sourceOfFunds"`
	ExpectedMonthlyTransactionCount  *string   `json:"expectedMonthlyTransactionCount"`
	ExpectedMonthlyTransactionVolume *string   `json:"expectedMonthlyTransactionVolume"`
	ExpectedRecipientJurisdictions   *[]string `json:"expectedRecipientJurisdictions"`
	NAICSCode                        *string   `json:"naicsCode"`
	SourceOfFundsCategories          *[]string `json:"sourceOfFundsCategories"`
	SourceOfFundsOtherDescription    *string   `json:"sourceOfFundsOtherDescription"`
	PurposeOfAccountOtherDescription *string   `json:"purposeOfAccountOtherDescription"`
	ExpectedCounterpartyCountries    *[]string `json:"expectedCounterpartyCountries"`
	PrimaryContactFirstName          *string   `json:"primaryContactFirstName"`
	PrimaryContactLastName           *string   `json:"primaryContactLastName"`
}

func (req *customerRequest) toInput() *grid.CustomerInput {
	in := &grid.CustomerInput{
		CustomerType: req.CustomerType, PlatformCustomerID: req.PlatformCustomerID, Region: req.Region,
		Currencies: req.Currencies, Email: req.Email, PhoneNumber: req.PhoneNumber, UMAAddress: req.UMAAddress,
		KYCStatus: req.KYCStatus, KYBStatus: req.KYBStatus,
		FullName: req.FullName, BirthDate: req.BirthDate, Nationality: req.Nationality,
		IDType: req.IDType, Identifier: req.Identifier, CountryOfIssuance: req.CountryOfIssuance,
		EDD: grid.EDDInput{
			SourceOfFundsCategories: req.SourceOfFundsCategories, SourceOfFundsOtherDescription: req.SourceOfFundsOtherDescription,
			SourceOfWealthCategories: req.SourceOfWealthCategories, SourceOfWealthOtherDescription: req.SourceOfWealthOtherDescription,
			PurposeOfAccount: req.PurposeOfAccount, PurposeOfAccountOtherDescription: req.PurposeOfAccountOtherDescription,
			ExpectedMonthlyTransactionCount: req.ExpectedMonthlyTransactionCount, ExpectedMonthlyTransactionVolume: req.ExpectedMonthlyTransactionVolume,
			AnnualIncomeRange: req.AnnualIncomeRange, NetWorthRange: req.NetWorthRange, PEPStatus: req.PEPStatus,
		},
	}
	if a := req.Address; a != nil {
		in.Address = &grid.AddressInput{Line1: a.Line1, Line2: a.Line2, City: a.City, State: a.State, PostalCode: a.PostalCode, Country: a.Country}
	}
	if c := req.EndUserTermsConsent; c != nil {
		in.Consent = &grid.ConsentInput{AcceptedAt: c.AcceptedAt, IPAddress: c.IPAddress, TermsVersion: c.TermsVersion, AcceptanceMethod: c.AcceptanceMethod}
	}
	if b := req.BusinessInfo; b != nil {
		in.Business = &grid.BusinessInput{
			LegalName: b.LegalName, DoingBusinessAs: b.DoingBusinessAs, Country: b.Country,
			RegistrationNumber: b.RegistrationNumber, IncorporatedOn: b.IncorporatedOn, EntityType: b.EntityType,
			TaxID: b.TaxID, CountriesOfOperation: b.CountriesOfOperation, BusinessType: b.BusinessType,
			PurposeOfAccount: b.PurposeOfAccount, SourceOfFunds: b.SourceOfFunds,
			ExpectedMonthlyTransactionCount: b.ExpectedMonthlyTransactionCount, ExpectedMonthlyTransactionVolume: b.ExpectedMonthlyTransactionVolume,
			ExpectedRecipientJurisdictions: b.ExpectedRecipientJurisdictions, NAICSCode: b.NAICSCode,
			SourceOfFundsCategories: b.SourceOfFundsCategories, SourceOfFundsOtherDescription: b.SourceOfFundsOtherDescription,
			PurposeOfAccountOtherDescription: b.PurposeOfAccountOtherDescription, ExpectedCounterpartyCountries: b.ExpectedCounterpartyCountries,
			PrimaryContactFirstName: b.PrimaryContactFirstName, PrimaryContactLastName: b.PrimaryContactLastName,
		}
	}
	return in
}

// customerJSON is the wire form of a customer. Write-only values have no field here.
type customerJSON struct {
	ID                  string            `json:"id"`
	PlatformCustomerID  string            `json:"platformCustomerId"`
	CustomerType        string            `json:"customerType"`
	KYCStatus           string            `json:"kycStatus,omitempty"`
	KYBStatus           string            `json:"kybStatus,omitempty"`
	UMAAddress          string            `json:"umaAddress"`
	Region              string            `json:"region,omitempty"`
	Currencies          []string          `json:"currencies,omitempty"`
	Email               string            `json:"email,omitempty"`
	PhoneNumber         string            `json:"phoneNumber,omitempty"`
	CreatedAt           string            `json:"createdAt"`
	UpdatedAt           string            `json:"updatedAt"`
	IsDeleted           bool              `json:"isDeleted"`
	EndUserTermsConsent *consentJSON      `json:"endUserTermsConsent,omitempty"`
	ContactVerification map[string]string `json:"contactVerification,omitempty"`

	FullName          string        `json:"fullName,omitempty"`
	BirthDate         string        `json:"birthDate,omitempty"`
	Nationality       string        `json:"nationality,omitempty"`
	Address           *grid.Address `json:"address,omitempty"`
	IDType            string        `json:"idType,omitempty"`
	CountryOfIssuance string        `json:"countryOfIssuance,omitempty"`
	BusinessInfo      *businessJSON `json:"businessInfo,omitempty"`
	BeneficialOwners  []any         `json:"beneficialOwners,omitempty"`
	eddJSON
}

type eddJSON struct {
	SourceOfFundsCategories          []string `json:"sourceOfFundsCategories,omitempty"`
	SourceOfFundsOtherDescription    string   `json:"sourceOfFundsOtherDescription,omitempty"`
	SourceOfWealthCategories         []string `json:"sourceOfWealthCategories,omitempty"`
	SourceOfWealthOtherDescription   string   `json:"sourceOfWealthOtherDescription,omitempty"`
	PurposeOfAccount                 string   `json:"purposeOfAccount,omitempty"`
	PurposeOfAccountOtherDescription string   `json:"purposeOfAccountOtherDescription,omitempty"`
	ExpectedMonthlyTransactionCount  string   `json:"expectedMonthlyTransactionCount,omitempty"`
	ExpectedMonthlyTransactionVolume string   `json:"expectedMonthlyTransactionVolume,omitempty"`
	AnnualIncomeRange                string   `json:"annualIncomeRange,omitempty"`
	NetWorthRange                    string   `json:"netWorthRange,omitempty"`
	PEPStatus                        string   `json:"pepStatus,omitempty"`
}

type consentJSON struct {
	AcceptedAt       string `json:"acceptedAt"`
	IPAddress        string `json:"ipAddress"`
	TermsVersion     string `json:"termsVersion"`
	AcceptanceMethod string `json:"acceptanceMethod"`
}

type businessJSON struct {
	LegalName                        string   `json:"legalName"`
	DoingBusinessAs                  string   `json:"doingBusinessAs,omitempty"`
	Country                          string   `json:"country,omitempty"`
	RegistrationNumber               string   `json:"registrationNumber,omitempty"`
	IncorporatedOn                   string   `json:"incorporatedOn,omitempty"`
	EntityType                       string   `json:"entityType,omitempty"`
	CountriesOfOperation             []string `json:"countriesOfOperation,omitempty"`
	BusinessType                     string   `json:"businessType,omitempty"`
	PurposeOfAccount                 string   `json:"purposeOfAccount,omitempty"`
	SourceOfFunds                    string   `json:"sourceOfFunds,omitempty"`
	ExpectedMonthlyTransactionCount  string   `json:"expectedMonthlyTransactionCount,omitempty"`
	ExpectedMonthlyTransactionVolume string   `json:"expectedMonthlyTransactionVolume,omitempty"`
	ExpectedRecipientJurisdictions   []string `json:"expectedRecipientJurisdictions,omitempty"`
	NAICSCode                        string   `json:"naicsCode,omitempty"`
	SourceOfFundsCategories          []string `json:"sourceOfFundsCategories,omitempty"`
	SourceOfFundsOtherDescription    string   `json:"sourceOfFundsOtherDescription,omitempty"`
	PurposeOfAccountOtherDescription string   `json:"purposeOfAccountOtherDescription,omitempty"`
	ExpectedCounterpartyCountries    []string `json:"expectedCounterpartyCountries,omitempty"`
	PrimaryContactFirstName          string   `json:"primaryContactFirstName,omitempty"`
	PrimaryContactLastName           string   `json:"primaryContactLastName,omitempty"`
}

// timestamp formats a time the way the API does: RFC 3339, UTC, whole seconds.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func toCustomerJSON(c *grid.Customer) *customerJSON {
	p := &c.Profile
	out := &customerJSON{
		ID: c.ID, PlatformCustomerID: c.PlatformCustomerID, CustomerType: string(c.Type),
		UMAAddress: c.UMAAddress, Region: c.Region, Currencies: c.Currencies,
		Email: p.Email, PhoneNumber: p.PhoneNumber,
		CreatedAt: timestamp(c.CreatedAt), UpdatedAt: timestamp(c.UpdatedAt), IsDeleted: c.Deleted(),
		ContactVerification: p.ContactVerification, Address: p.Address,
		BeneficialOwners: ownersJSON(c.BeneficialOwners),
	}
	if pc := p.Consent; pc != nil {
		out.EndUserTermsConsent = &consentJSON{AcceptedAt: timestamp(pc.AcceptedAt), IPAddress: pc.IPAddress, TermsVersion: pc.TermsVersion, AcceptanceMethod: pc.AcceptanceMethod}
	}
	if c.Type == grid.Business {
		out.KYBStatus = string(c.Status)
		if b := p.Business; b != nil {
			out.BusinessInfo = &businessJSON{
				LegalName: b.LegalName, DoingBusinessAs: b.DoingBusinessAs, Country: b.Country,
				RegistrationNumber: b.RegistrationNumber, IncorporatedOn: b.IncorporatedOn, EntityType: b.EntityType,
				CountriesOfOperation: b.CountriesOfOperation, BusinessType: b.BusinessType, PurposeOfAccount: b.PurposeOfAccount,
				SourceOfFunds: b.SourceOfFunds, ExpectedMonthlyTransactionCount: b.ExpectedMonthlyTransactionCount,
				ExpectedMonthlyTransactionVolume: b.ExpectedMonthlyTransactionVolume, ExpectedRecipientJurisdictions: b.ExpectedRecipientJurisdictions,
				NAICSCode: b.NAICSCode, SourceOfFundsCategories: b.SourceOfFundsCategories,
				SourceOfFundsOtherDescription: b.SourceOfFundsOtherDescription, PurposeOfAccountOtherDescription: b.PurposeOfAccountOtherDescription,
				ExpectedCounterpartyCountries: b.ExpectedCounterpartyCountries,
				PrimaryContactFirstName:       b.PrimaryContactFirstName, PrimaryContactLastName: b.PrimaryContactLastName,
			}
		}
		return out
	}
	out.KYCStatus = string(c.Status)
	out.FullName, out.BirthDate, out.Nationality = p.FullName, p.BirthDate, p.Nationality
	out.IDType, out.CountryOfIssuance = p.IDType, p.CountryOfIssuance
	e := &p.EDD
	out.eddJSON = eddJSON{
		SourceOfFundsCategories: e.SourceOfFundsCategories, SourceOfFundsOtherDescription: e.SourceOfFundsOtherDescription,
		SourceOfWealthCategories: e.SourceOfWealthCategories, SourceOfWealthOtherDescription: e.SourceOfWealthOtherDescription,
		PurposeOfAccount: e.PurposeOfAccount, PurposeOfAccountOtherDescription: e.PurposeOfAccountOtherDesc,
		ExpectedMonthlyTransactionCount: e.ExpectedMonthlyTransactionCount, ExpectedMonthlyTransactionVolume: e.ExpectedMonthlyTransactionVol,
		AnnualIncomeRange: e.AnnualIncomeRange, NetWorthRange: e.NetWorthRange, PEPStatus: e.PEPStatus,
	}
	return out
}

func (a *API) createCustomer(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	if err := p.Require(grid.PermManage); err != nil {
		return err
	}
	var req customerRequest
	if _, err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	c, err := a.svc.CreateCustomer(r.Context(), p, req.toInput())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toCustomerJSON(c))
	return nil
}

func (a *API) getCustomer(w http.ResponseWriter, r *http.Request, p *grid.Principal) error {
	c, err := a.svc.GetCustomer(r.Context(), p, r.PathValue("customerId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toCustomerJSON(c))
	return nil
}
