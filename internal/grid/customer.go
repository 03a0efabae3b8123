package grid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gridd/gridd/internal/refdata"
)

// CreateCustomer validates a create request, applies the platform's verification rules and
// stores the customer with its first history entry in one transaction. It needs MANAGE.
func (s *Service) CreateCustomer(ctx context.Context, p *Principal, in *CustomerInput) (*Customer, error) {
	if err := p.Require(PermManage); err != nil {
		return nil, err
	}
	c, sec, err := s.prepareCustomer(p.Platform, in)
	if err != nil {
		return nil, err
	}
	if err := s.sealSecrets(c, sec); err != nil {
		return nil, err
	}
	generatedUMA := in.UMAAddress == nil
	for attempt := 0; ; attempt++ {
		err = s.tx(ctx, func(tx Tx) error { return s.insertCustomer(ctx, tx, c, p.Token.ID) })
		var dup *DuplicateError
		if errors.As(err, &dup) && dup.Key == KeyUMAAddress && generatedUMA && attempt < 3 {
			// The derived address was taken: fall back to a random one.
			c.UMAAddress = "$" + randomHex(8) + "@" + p.Platform.UMADomain
			continue
		}
		return c, duplicateToConflict(err)
	}
}

// insertCustomer writes a new customer and its first history entry inside tx.
func (s *Service) insertCustomer(ctx context.Context, tx Tx, c *Customer, actor string) error {
	if err := tx.InsertCustomer(ctx, c); err != nil {
		return err
	}
	return s.recordCreation(ctx, tx, c, actor)
}

// recordCreation writes a new customer's first history entry, and the webhook its status
// calls for, inside the transaction that inserted it; it also opens the customer's internal
// accounts, one per currency.
func (s *Service) recordCreation(ctx context.Context, tx Tx, c *Customer, actor string) error {
	if err := s.customerWritten(ctx, tx, c, true); err != nil {
		return err
	}
	return s.recordStatusChange(ctx, tx, c, &StatusChange{
		ID: NewID("StatusChange"), CustomerID: c.ID, PlatformID: c.PlatformID,
		To: c.Status, Reason: c.initialReason, Actor: actor, At: c.CreatedAt,
	})
}

func duplicateToConflict(err error) error {
	var dup *DuplicateError
	if !errors.As(err, &dup) {
		return err
	}
	switch dup.Key {
	case KeyUMAAddress:
		return &Error{Status: 409, Code: CodeUMAAddressExists, Message: "another active customer already has this UMA address",
			Fields: []FieldError{{Field: "umaAddress", Message: "is already taken"}}}
	case KeyPlatformCustomerID:
		return &Error{Status: 409, Code: CodeConflict, Message: "another active customer already has this platformCustomerId",
			Fields: []FieldError{{Field: "platformCustomerId", Message: "is already taken"}}}
	}
	return Errorf(409, CodeConflict, "the request conflicts with an existing resource")
}

// PrepareCustomer validates a create request and builds the customer it describes without
// storing it. Bulk import uses it so that every row meets exactly the rules of the API.
func (s *Service) PrepareCustomer(p *Platform, in *CustomerInput) (*Customer, error) {
	c, sec, err := s.prepareCustomer(p, in)
	if err != nil {
		return nil, err
	}
	return c, s.sealSecrets(c, sec)
}

func (s *Service) prepareCustomer(p *Platform, in *CustomerInput) (*Customer, *Secrets, error) {
	now := s.Now()
	var fe FieldErrors
	typ := customerTypeOf(&fe, in)
	in.validateSent(&fe, p, typ, now)
	if typ == Business {
		if in.Business == nil {
			fe.Add("businessInfo", "is required for BUSINESS customers")
		} else {
			b := in.Business
			for field, v := range map[string]*string{"legalName": b.LegalName, "country": b.Country, "taxId": b.TaxID, "incorporatedOn": b.IncorporatedOn} {
				if v == nil {
					fe.Add("businessInfo."+field, "is required")
				}
			}
		}
	}
	sentStatus := in.sentStatus(typ)
	region, currencies := s.inferRegionCurrencies(&fe, p, in)
	fe = sortFieldErrors(fe)
	if err := fe.Err(); err != nil {
		return nil, nil, err
	}
	if err := in.checkTermsAndUMA(p); err != nil {
		return nil, nil, err
	}

	c := &Customer{
		ID: NewID("Customer"), PlatformID: p.ID, Type: typ,
		CreatedAt: now, UpdatedAt: now,
	}
	sec := &Secrets{}
	in.apply(c, sec)
	c.Region, c.Currencies = region, currencies
	if in.PlatformCustomerID != nil {
		c.PlatformCustomerID = strings.TrimSpace(*in.PlatformCustomerID)
	} else {
		c.PlatformCustomerID = randomHex(8)
	}
	if in.UMAAddress != nil {
		c.UMAAddress = normalizeUMA(*in.UMAAddress)
	} else {
		local := strings.ToLower(c.PlatformCustomerID)
		if !reUMALocal.MatchString(local) {
			local = randomHex(8)
		}
		c.UMAAddress = "$" + local + "@" + p.UMADomain
	}
	c.Status, c.initialReason = initialStatus(p, c, sentStatus)
	if len(p.ContactVerification) > 0 {
		c.Profile.ContactVerification = map[string]string{}
		for _, ch := range p.ContactVerification {
			c.Profile.ContactVerification[ch] = "PENDING"
		}
	}
	return c, sec, nil
}

func statusField(t CustomerType) string {
	if t == Business {
		return "kybStatus"
	}
	return "kycStatus"
}

// customerTypeOf reads the sent customerType, recording a missing or unknown one ("" then).
func customerTypeOf(fe *FieldErrors, in *CustomerInput) CustomerType {
	switch {
	case in.CustomerType == nil:
		fe.Add("customerType", "is required")
	case *in.CustomerType == string(Individual), *in.CustomerType == string(Business):
		return CustomerType(*in.CustomerType)
	default:
		fe.AddEnum("customerType", enumCustomerType)
	}
	return ""
}

// sentStatus is the verification status the request sets for a customer of type t, or nil.
func (in *CustomerInput) sentStatus(t CustomerType) *string {
	if t == Business {
		return in.KYBStatus
	}
	return in.KYCStatus
}

// validateSent records every problem with the sent fields that a create and an update share:
// the values themselves, an incomplete address, a status from a platform that may not set
// one, and currencies the platform does not offer.
func (in *CustomerInput) validateSent(fe *FieldErrors, p *Platform, typ CustomerType, now time.Time) {
	in.validateFields(fe, typ, now)
	if a := in.Address; a != nil {
		// An address is replaced as a whole, so every request carries a complete one.
		for field, v := range map[string]*string{"line1": a.Line1, "postalCode": a.PostalCode, "country": a.Country} {
			if v == nil {
				fe.Add("address."+field, "is required")
			}
		}
	}
	if in.sentStatus(typ) != nil && !p.Regulated {
		fe.Add(statusField(typ), "can only be set by a regulated financial institution")
	}
	if in.Currencies != nil {
		for i, c := range *in.Currencies {
			if refdata.IsCurrency(c) && !p.Supports(c) {
				fe.Add(fmt.Sprintf("currencies[%d]", i), "%s is not among the platform's supported currencies", c)
			}
		}
	}
}

// checkTermsAndUMA returns the errors that carry their own codes, checked once every field is
// valid: an unknown end-user terms version, and a UMA address that is malformed or not on the
// platform's domain.
func (in *CustomerInput) checkTermsAndUMA(p *Platform) error {
	if c := in.Consent; c != nil && c.TermsVersion != nil && !slices.Contains(TermsVersions, *c.TermsVersion) {
		return &Error{Status: 400, Code: CodeTermsVersionNotFound,
			Message: fmt.Sprintf("end-user terms version %q does not exist; the current version is %s", *c.TermsVersion, CurrentTermsVersion()),
			Fields:  []FieldError{{Field: "endUserTermsConsent.termsVersion", Message: "unknown terms version"}}}
	}
	if in.UMAAddress != nil {
		if msg := checkUMAAddress(*in.UMAAddress, p.UMADomain); msg != "" {
			return &Error{Status: 400, Code: CodeInvalidUMAAddress, Message: "umaAddress " + msg,
				Fields: []FieldError{{Field: "umaAddress", Message: msg, Format: "uma-address"}}}
		}
	}
	return nil
}

// initialStatus decides a new customer's verification status (SCOPE: a regulated platform may
// set it; sandbox platforms follow the documented magic suffixes; otherwise UNVERIFIED).
func initialStatus(p *Platform, c *Customer, sent *string) (Status, string) {
	switch {
	case sent != nil:
		return Status(*sent), "SET_BY_PLATFORM"
	case p.Sandbox && c.Type == Individual:
		return SandboxKYCStatus(c.Profile.FullName), "SANDBOX_SUFFIX"
	default:
		// Sandbox businesses start UNVERIFIED too: the registration-number suffix decides at
		// verification time.
		return StatusUnverified, "CREATED"
	}
}

// SandboxKYCStatus is the status a sandbox individual gets at creation from the last three
// characters of its full name: 001 PENDING, 002 REJECTED, 003 UNVERIFIED, anything else APPROVED.
func SandboxKYCStatus(fullName string) Status {
	switch suffix(fullName) {
	case "001":
		return StatusPending
	case "002":
		return StatusRejected
	case "003":
		return StatusUnverified
	}
	return StatusApproved
}

func suffix(s string) string {
	s = strings.TrimSpace(s)
	if len(s) < 3 {
		return s
	}
	return s[len(s)-3:]
}

// inferRegionCurrencies fills in the region and currencies the request left out. Currencies
// default to the region's local currency; a region defaults to the one country the customer's
// fiat currency identifies; a request with neither takes the platform's first currency.
func (s *Service) inferRegionCurrencies(fe *FieldErrors, p *Platform, in *CustomerInput) (string, []string) {
	var region string
	var currencies []string
	if in.Region != nil {
		region = *in.Region
	}
	if in.Currencies != nil {
		// validateSent has checked them against the platform's currencies.
		currencies = slices.Clone(*in.Currencies)
	}
	if currencies == nil {
		switch {
		case region != "" && refdata.IsCountry(region):
			local, ok := refdata.CountryCurrency(region)
			if !ok || !p.Supports(local) {
				fe.Add("currencies", "cannot be inferred for region %s: the platform does not support its local currency; send currencies", region)
				return region, nil
			}
			currencies = []string{local}
		case region == "" && len(p.Currencies) > 0:
			currencies = []string{p.Currencies[0].Code}
		case region == "":
			fe.Add("currencies", "is required: the platform has no supported currencies")
		}
	}
	if region == "" {
		for _, c := range currencies {
			if home, ok := refdata.CurrencyHomeCountry(c); ok {
				if region != "" && region != home {
					// Fiat currencies of two countries: the region cannot be told.
					region = ""
					break
				}
				region = home
			}
		}
	}
	return region, currencies
}

var reUMAAddress = regexp.MustCompile(`^\$([A-Za-z0-9._+-]{1,64})@([A-Za-z0-9.-]+)$`)

// checkUMAAddress returns what is wrong with a UMA address for a platform, or "".
func checkUMAAddress(addr, domain string) string {
	m := reUMAAddress.FindStringSubmatch(addr)
	if m == nil {
		return "must have the form $name@" + domain + " (name: 1 to 64 of a-z 0-9 . _ + -)"
	}
	if !strings.EqualFold(m[2], domain) {
		return "must use the platform's UMA domain " + domain
	}
	return ""
}

// normalizeUMA lower-cases a UMA address: its user part is case-insensitive.
func normalizeUMA(addr string) string { return strings.ToLower(addr) }

// sealWriteOnly returns the sealed form of write-only values, or nil when there are none.
func (s *Service) sealWriteOnly(sec *Secrets) ([]byte, error) {
	if *sec == (Secrets{}) {
		return nil, nil
	}
	raw, err := json.Marshal(sec)
	if err != nil {
		return nil, err
	}
	sealed, err := s.sealer.Seal(raw)
	if err != nil {
		return nil, fmt.Errorf("seal write-only values: %w", err)
	}
	return sealed, nil
}

// openWriteOnly decrypts what sealWriteOnly sealed; owner names the record in errors.
func (s *Service) openWriteOnly(sealed []byte, owner string) (*Secrets, error) {
	sec := &Secrets{}
	if len(sealed) == 0 {
		return sec, nil
	}
	raw, err := s.sealer.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("open write-only values of %s: %w", owner, err)
	}
	return sec, json.Unmarshal(raw, sec)
}

func (s *Service) sealSecrets(c *Customer, sec *Secrets) (err error) {
	c.Sealed, err = s.sealWriteOnly(sec)
	return err
}

// OpenSecrets decrypts a customer's write-only values.
func (s *Service) OpenSecrets(c *Customer) (*Secrets, error) {
	return s.openWriteOnly(c.Sealed, c.ID)
}

// GetCustomer returns one of the caller's platform's customers. It needs VIEW. With the
// customer cache on (EnableCustomerCache) the result may be shared with other callers: it
// must not be modified.
func (s *Service) GetCustomer(ctx context.Context, p *Principal, id string) (*Customer, error) {
	if err := p.Require(PermView); err != nil {
		return nil, err
	}
	if s.cache == nil {
		return s.loadCustomer(ctx, p, id)
	}
	if c := s.cache.get(p.Platform.ID, id); c != nil {
		return c, nil
	}
	t := s.cache.ticket(id)
	c, err := s.loadCustomer(ctx, p, id)
	if err == nil {
		s.cache.put(t, c)
	}
	return c, err
}

// loadCustomer reads a customer with its beneficial owners from the store.
func (s *Service) loadCustomer(ctx context.Context, p *Principal, id string) (*Customer, error) {
	c, err := s.customer(ctx, s.store, p, id)
	if err != nil {
		return nil, err
	}
	if err := s.loadOwners(ctx, s.store, c); err != nil {
		return nil, err
	}
	return c, nil
}

func sortFieldErrors(fe FieldErrors) FieldErrors {
	slices.SortStableFunc(fe, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
	return fe
}
