package grid

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/gridd/gridd/internal/refdata"
)

// Value sets of the enumerated fields, in the order the API documents them.
var (
	enumIDType               = []string{"SSN", "ITIN", "EIN", "NON_US_TAX_ID"}
	enumIndividualIDType     = []string{"SSN", "ITIN"}
	enumEntityType           = []string{"SOLE_PROPRIETORSHIP", "PARTNERSHIP", "LLC", "CORPORATION", "S_CORPORATION", "NON_PROFIT", "PUBLICLY_LISTED_COMPANY", "TRUST", "PRIVATE_FOUNDATION", "CHARITY", "OTHER"}
	enumBusinessType         = []string{"AGRICULTURE_FORESTRY_FISHING_AND_HUNTING", "MINING_QUARRYING_AND_OIL_AND_GAS_EXTRACTION", "UTILITIES", "CONSTRUCTION", "MANUFACTURING", "WHOLESALE_TRADE", "RETAIL_TRADE", "TRANSPORTATION_AND_WAREHOUSING", "INFORMATION", "FINANCE_AND_INSURANCE", "REAL_ESTATE_AND_RENTAL_AND_LEASING", "PROFESSIONAL_SCIENTIFIC_AND_TECHNICAL_SERVICES", "MANAGEMENT_OF_COMPANIES_AND_ENTERPRISES", "ADMINISTRATIVE_AND_SUPPORT_AND_WASTE_MANAGEMENT_AND_REMEDIATION_SERVICES", "EDUCATIONAL_SERVICES", "HEALTH_CARE_AND_SOCIAL_ASSISTANCE", "ARTS_ENTERTAINMENT_AND_RECREATION", "ACCOMMODATION_AND_FOOD_SERVICES", "OTHER_SERVICES", "PUBLIC_ADMINISTRATION"}
	enumPurposeOfAccount     = []string{"CONTRACTOR_PAYOUTS", "CREATOR_PAYOUTS", "EMPLOYEE_PAYOUTS", "MARKETPLACE_SELLER_PAYOUTS", "SUPPLIER_PAYMENTS", "CROSS_BORDER_B2B", "AR_AUTOMATION", "AP_AUTOMATION", "EMBEDDED_PAYMENTS", "PLATFORM_FEE_COLLECTION", "P2P_TRANSFERS", "CHARITABLE_DONATIONS", "OTHER"}
	enumBusinessFunds        = []string{"OPERATING_REVENUE", "INVESTMENT_INCOME", "LOANS", "VENTURE_CAPITAL", "PERSONAL_SAVINGS", "DONATIONS", "OTHER"}
	enumIndividualFunds      = []string{"SALARY", "SELF_EMPLOYMENT_INCOME", "INVESTMENT_INCOME", "PENSION", "RENTAL_INCOME", "GIFT", "INHERITANCE", "LOAN", "SAVINGS", "SALE_OF_ASSETS", "OTHER"}
	enumSourceOfWealth       = []string{"SALARY", "BUSINESS_INCOME", "INVESTMENTS", "INHERITANCE", "PROPERTY_SALE", "GIFT", "RETIREMENT", "SAVINGS", "OTHER"}
	enumTxCount              = []string{"COUNT_UNDER_10", "COUNT_10_TO_100", "COUNT_100_TO_500", "COUNT_500_TO_1000", "COUNT_OVER_1000"}
	enumTxVolume             = []string{"VOLUME_UNDER_10K", "VOLUME_10K_TO_100K", "VOLUME_100K_TO_1M", "VOLUME_1M_TO_10M", "VOLUME_OVER_10M"}
	enumAnnualIncome         = []string{"UNDER_50K", "RANGE_50K_100K", "RANGE_100K_250K", "RANGE_250K_1M", "OVER_1M"}
	enumNetWorth             = []string{"UNDER_100K", "RANGE_100K_500K", "RANGE_500K_1M", "RANGE_1M_5M", "RANGE_5M_25M", "OVER_25M"}
	enumPEP                  = []string{"NONE", "DOMESTIC", "FOREIGN", "HIO", "FAMILY_OR_ASSOCIATE"}
	enumAcceptanceMethod     = []string{"CHECKBOX", "CLICK_TO_ACCEPT"}
	enumCustomerType         = []string{"INDIVIDUAL", "BUSINESS"}
	reNAICS                  = regexp.MustCompile(`^\d{2,6}$`)
	reSSN                    = regexp.MustCompile(`^\d{3}-\d{2}-\d{4}$`)
	reUMALocal               = regexp.MustCompile(`^[a-z0-9._+-]{1,64}$`)
	reHostname               = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$|^localhost$`)
	enumContactVerifyChannel = []string{"email", "phone"}
)

// TermsVersions are the end-user terms versions a customer may accept; the last is current.
var TermsVersions = []string{"V1"}

// TermsURL is where the current end-user terms are published.
const TermsURL = "https://www.lightspark.com/legal/grid/enduserterms"

// CurrentTermsVersion is the end-user terms version customers accept today.
func CurrentTermsVersion() string { return TermsVersions[len(TermsVersions)-1] }

// CustomerTypes lists the customer types in wire order.
func CustomerTypes() []string { return slices.Clone(enumCustomerType) }

func isCurrency(code string) bool { return refdata.IsCurrency(code) }

func validHostname(s string) bool { return len(s) <= 253 && reHostname.MatchString(s) }

// checkWebhookURL returns a problem with a webhook URL, or "".
func checkWebhookURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "must be an absolute http or https URL"
	}
	if u.User != nil {
		return "must not carry credentials"
	}
	return ""
}

// checkEnum records an error when v is set and outside allowed.
func checkEnum(fe *FieldErrors, field string, v *string, allowed []string) {
	if v != nil && !slices.Contains(allowed, *v) {
		fe.AddEnum(field, allowed)
	}
}

// checkEnumList records an error for each element of vs outside allowed.
func checkEnumList(fe *FieldErrors, field string, vs *[]string, allowed []string) {
	if vs == nil {
		return
	}
	for i, v := range *vs {
		if !slices.Contains(allowed, v) {
			fe.AddEnum(field+"["+itoa(i)+"]", allowed)
		}
	}
}

// checkCountry records an error when v is set and not an ISO 3166-1 alpha-2 code.
func checkCountry(fe *FieldErrors, field string, v *string) {
	if v != nil && !refdata.IsCountry(*v) {
		fe.AddFormat(field, "iso3166-1-alpha-2", "must be an ISO 3166-1 alpha-2 country code such as US")
	}
}

// checkCountryList records an error for each element of vs that is not a country code.
func checkCountryList(fe *FieldErrors, field string, vs *[]string) {
	if vs == nil {
		return
	}
	for i, v := range *vs {
		checkCountry(fe, field+"["+itoa(i)+"]", &v)
	}
}

// checkText records an error when v is set but blank or longer than max.
func checkText(fe *FieldErrors, field string, v *string, max int) {
	if v == nil {
		return
	}
	if strings.TrimSpace(*v) == "" {
		fe.Add(field, "must not be empty")
	} else if len([]rune(*v)) > max {
		fe.Add(field, "must be at most %d characters", max)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
