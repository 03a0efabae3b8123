package grid

import (
	"slices"
	"time"
)

// Permission is a right an API token carries.
type Permission string

// The permissions of the Grid API.
const (
	PermView     Permission = "VIEW"
	PermTransact Permission = "TRANSACT"
	PermManage   Permission = "MANAGE"
)

// AllPermissions lists every permission in wire order.
var AllPermissions = []Permission{PermView, PermTransact, PermManage}

// Platform is a tenant: a business that onboards its customers through this server.
type Platform struct {
	ID         string // PlatformConfig:<uuid>
	Name       string
	UMADomain  string
	Webhook    string // webhook endpoint URL, empty when not set
	Currencies []CurrencyConfig
	// Regulated marks a regulated financial institution; set only by an operator.
	Regulated bool
	// Sandbox platforms get KYC/KYB outcomes from the documented magic suffixes.
	Sandbox bool
	// ContactVerification lists the channels ("email", "phone") customers must verify before KYC.
	ContactVerification []string
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Supports reports whether the platform offers a currency.
func (p *Platform) Supports(code string) bool {
	for _, c := range p.Currencies {
		if c.Code == code {
			return true
		}
	}
	return false
}

// CurrencyConfig is one currency a platform supports, with its limits.
type CurrencyConfig struct {
	Code                       string              `json:"currencyCode"`
	MinAmount                  int64               `json:"minAmount"`
	MaxAmount                  int64               `json:"maxAmount"`
	RequiredCounterpartyFields []CounterpartyField `json:"requiredCounterpartyFields"`
	EnabledTransactionTypes    []string            `json:"enabledTransactionTypes"`
}

// CounterpartyField is a field a platform asks of counterparty institutions.
type CounterpartyField struct {
	Name      string `json:"name"`
	Mandatory bool   `json:"mandatory"`
}

// Token is an API credential of one platform. The secret itself is never stored.
type Token struct {
	ID          string // Token:<uuid>
	PlatformID  string
	Name        string
	ClientID    string
	SecretHash  []byte // SHA-256 of the secret
	Permissions []Permission
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Has reports whether the token carries a permission.
func (t *Token) Has(p Permission) bool { return slices.Contains(t.Permissions, p) }

// CustomerType tells individuals from businesses.
type CustomerType string

// The customer types.
const (
	Individual CustomerType = "INDIVIDUAL"
	Business   CustomerType = "BUSINESS"
)

// Status is a KYC (individual) or KYB (business) verification status.
type Status string

// The verification statuses of the current API version.
const (
	StatusUnverified Status = "UNVERIFIED"
	StatusPending    Status = "PENDING"
	StatusApproved   Status = "APPROVED"
	StatusRejected   Status = "REJECTED"
	StatusHold       Status = "HOLD"
)

// AllStatuses lists the statuses in wire order.
var AllStatuses = []string{"UNVERIFIED", "PENDING", "APPROVED", "REJECTED", "HOLD"}

// Address is a postal address.
type Address struct {
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	PostalCode string `json:"postalCode"`
	Country    string `json:"country"`
}

// TermsConsent is the recorded evidence that a customer accepted the end-user terms.
type TermsConsent struct {
	AcceptedAt       time.Time `json:"acceptedAt"`
	IPAddress        string    `json:"ipAddress"`
	TermsVersion     string    `json:"termsVersion"`
	AcceptanceMethod string    `json:"acceptanceMethod"`
}

// EDD holds the optional enhanced-due-diligence answers of an individual.
type EDD struct {
	SourceOfFundsCategories         []string `json:"sourceOfFundsCategories,omitempty"`
	SourceOfFundsOtherDescription   string   `json:"sourceOfFundsOtherDescription,omitempty"`
	SourceOfWealthCategories        []string `json:"sourceOfWealthCategories,omitempty"`
	SourceOfWealthOtherDescription  string   `json:"sourceOfWealthOtherDescription,omitempty"`
	PurposeOfAccount                string   `json:"purposeOfAccount,omitempty"`
	PurposeOfAccountOtherDesc       string   `json:"purposeOfAccountOtherDescription,omitempty"`
	ExpectedMonthlyTransactionCount string   `json:"expectedMonthlyTransactionCount,omitempty"`
	ExpectedMonthlyTransactionVol   string   `json:"expectedMonthlyTransactionVolume,omitempty"`
	AnnualIncomeRange               string   `json:"annualIncomeRange,omitempty"`
	NetWorthRange                   string   `json:"netWorthRange,omitempty"`
	PEPStatus                       string   `json:"pepStatus,omitempty"`
}

// BusinessInfo describes a business customer. TaxID is write-only and travels sealed.
type BusinessInfo struct {
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
	HasTaxID                         bool     `json:"hasTaxId,omitempty"`
}

// Profile is the descriptive part of a customer, stored as one document.
type Profile struct {
	Email       string `json:"email,omitempty"`
	PhoneNumber string `json:"phoneNumber,omitempty"`

	// Individual.
	FullName          string   `json:"fullName,omitempty"`
	BirthDate         string   `json:"birthDate,omitempty"`
	Nationality       string   `json:"nationality,omitempty"`
	IDType            string   `json:"idType,omitempty"`
	CountryOfIssuance string   `json:"countryOfIssuance,omitempty"`
	HasIdentifier     bool     `json:"hasIdentifier,omitempty"`
	EDD               EDD      `json:"edd"`
	Address           *Address `json:"address,omitempty"`

	// Business.
	Business *BusinessInfo `json:"businessInfo,omitempty"`

	Consent *TermsConsent `json:"endUserTermsConsent,omitempty"`
	// ContactVerification maps a channel ("email", "phone") to PENDING or VERIFIED.
	ContactVerification map[string]string `json:"contactVerification,omitempty"`
}

// Secrets are the write-only values of a customer. They are stored encrypted and never returned.
type Secrets struct {
	Identifier string `json:"identifier,omitempty"`
	TaxID      string `json:"taxId,omitempty"`
}

// Customer is a platform's end user: an individual or a business.
type Customer struct {
	ID                 string // Customer:<uuid>
	PlatformID         string
	PlatformCustomerID string
	Type               CustomerType
	Region             string
	Currencies         []string
	UMAAddress         string
	Status             Status // kycStatus for individuals, kybStatus for businesses
	Profile            Profile
	// Sealed is the encrypted form of Secrets.
	Sealed    []byte
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt *time.Time
	// BeneficialOwners are a business's owners as its wire form shows them. They are loaded by
	// the service for responses and webhooks; the customer row does not hold them.
	BeneficialOwners []*BeneficialOwner

	// initialReason is the history reason of the customer's first status.
	initialReason string
}

// Deleted reports whether the customer was soft-deleted.
func (c *Customer) Deleted() bool { return c.DeletedAt != nil }

// StatusChange is one entry of a customer's verification history.
type StatusChange struct {
	ID         string
	CustomerID string
	PlatformID string
	From       Status // empty for the first status
	To         Status
	// Reason tells why: CREATED, SANDBOX_SUFFIX, SET_BY_PLATFORM, MANUALLY_APPROVED,
	// MANUALLY_REJECTED, EXPIRED, CANCELED, VERIFICATION_SUBMITTED, ...
	Reason string
	Actor  string // the token id, "system" or "operator"
	At     time.Time
}
