package grid

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gridd/gridd/internal/refdata"
)

// BeneficialOwner is a person who owns or controls a business customer: an ultimate beneficial
// owner, a director, an officer. Its identifier is write-only and travels sealed.
type BeneficialOwner struct {
	ID                  string // BeneficialOwner:<UUIDv7>
	PlatformID          string
	CustomerID          string
	Roles               []string
	OwnershipPercentage int
	Info                OwnerInfo
	// Sealed is the encrypted form of the owner's Secrets (only Identifier is used).
	Sealed    []byte
	Status    Status
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OwnerInfo is the descriptive part of a beneficial owner, stored as one document.
type OwnerInfo struct {
	FirstName         string   `json:"firstName"`
	MiddleName        string   `json:"middleName,omitempty"`
	LastName          string   `json:"lastName"`
	BirthDate         string   `json:"birthDate,omitempty"`
	Nationality       string   `json:"nationality,omitempty"`
	Email             string   `json:"email,omitempty"`
	PhoneNumber       string   `json:"phoneNumber,omitempty"`
	Address           *Address `json:"address,omitempty"`
	IDType            string   `json:"idType,omitempty"`
	CountryOfIssuance string   `json:"countryOfIssuance,omitempty"`
	HasIdentifier     bool     `json:"hasIdentifier,omitempty"`
}

// OwnerInput is the body of a beneficial owner create or update. A nil field was not sent.
type OwnerInput struct {
	CustomerID          *string
	Roles               *[]string
	OwnershipPercentage *int
	Info                *OwnerInfoInput
}

// OwnerInfoInput is a beneficial owner's personalInfo as sent.
type OwnerInfoInput struct {
	FirstName, MiddleName, LastName, BirthDate, Nationality   *string
	Email, PhoneNumber, IDType, Identifier, CountryOfIssuance *string
	Address                                                   *AddressInput
}

// OwnerFilter selects beneficial owners for a list.
type OwnerFilter struct {
	CustomerID string
	AfterID    string
	Limit      int
	// SkipCount leaves OwnerPage.TotalCount at -1, for readers that need the owners only.
	SkipCount bool
}

// OwnerPage is one page of beneficial owners.
type OwnerPage struct {
	Owners     []*BeneficialOwner
	HasMore    bool
	TotalCount int
}

var (
	enumOwnerRole   = []string{"UBO", "DIRECTOR", "COMPANY_OFFICER", "CONTROL_PERSON", "TRUSTEE", "GENERAL_PARTNER"}
	reEIN           = regexp.MustCompile(`^\d{2}-\d{7}$`)
	usIssuedIDTypes = []string{"SSN", "ITIN", "EIN"}
)

// CreateBeneficialOwner adds a beneficial owner to one of the caller's platform's business
// customers. It needs MANAGE. On a sandbox platform whose business has already been decided,
// the new owner is resolved at once by its last name's suffix.
func (s *Service) CreateBeneficialOwner(ctx context.Context, p *Principal, in *OwnerInput) (*BeneficialOwner, error) {
	if err := p.Require(PermManage); err != nil {
		return nil, err
	}
	var fe FieldErrors
	if in.CustomerID == nil || strings.TrimSpace(*in.CustomerID) == "" {
		fe.Add("customerId", "is required")
	}
	if in.Roles == nil {
		fe.Add("roles", "is required")
	}
	if in.OwnershipPercentage == nil {
		fe.Add("ownershipPercentage", "is required")
	}
	if in.Info == nil {
		fe.Add("personalInfo", "is required")
	} else {
		for field, v := range map[string]*string{
			"firstName": in.Info.FirstName, "lastName": in.Info.LastName, "birthDate": in.Info.BirthDate,
			"nationality": in.Info.Nationality, "idType": in.Info.IDType, "identifier": in.Info.Identifier,
		} {
			if v == nil {
				fe.Add("personalInfo."+field, "is required")
			}
		}
		if in.Info.Address == nil {
			fe.Add("personalInfo.address", "is required")
		}
	}
	in.validate(&fe, s.Now(), "")
	if err := sortFieldErrors(fe).Err(); err != nil {
		return nil, err
	}
	now := s.Now()
	o := &BeneficialOwner{
		ID: NewID("BeneficialOwner"), PlatformID: p.Platform.ID, CustomerID: strings.TrimSpace(*in.CustomerID),
		Status: StatusUnverified, CreatedAt: now, UpdatedAt: now,
	}
	sec := &Secrets{}
	in.apply(o, sec)
	if err := s.sealOwner(o, sec); err != nil {
		return nil, err
	}
	err := s.tx(ctx, func(tx Tx) error {
		c, err := s.businessOf(ctx, tx, p, o.CustomerID, "customerId")
		if err != nil {
			return err
		}
		owners, err := s.allOwners(ctx, tx, c.PlatformID, c.ID)
		if err != nil {
			return err
		}
		if err := checkOwnershipTotal(append(owners, o)); err != nil {
			return err
		}
		if p.Platform.Sandbox && (c.Status == StatusApproved || c.Status == StatusRejected) {
			o.Status = SandboxOwnerStatus(o.Info.LastName)
		}
		return tx.InsertBeneficialOwner(ctx, o)
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// UpdateBeneficialOwner applies a partial update to a beneficial owner and returns it as
// stored. It needs MANAGE. An address is replaced as a whole; a new identifier is sealed again.
func (s *Service) UpdateBeneficialOwner(ctx context.Context, p *Principal, id string, in *OwnerInput) (*BeneficialOwner, error) {
	if err := p.Require(PermManage); err != nil {
		return nil, err
	}
	var out *BeneficialOwner
	err := s.tx(ctx, func(tx Tx) error {
		o, err := s.owner(ctx, tx, p, id)
		if err != nil {
			return err
		}
		c, err := s.businessOf(ctx, tx, p, o.CustomerID, "customerId")
		if err != nil {
			return err
		}
		// Read again under the business's lock: a decision may have just changed the owner.
		if o, err = s.owner(ctx, tx, p, id); err != nil {
			return err
		}
		var fe FieldErrors
		if in.CustomerID != nil && strings.TrimSpace(*in.CustomerID) != o.CustomerID {
			fe.Add("customerId", "cannot be changed: the owner belongs to %s", o.CustomerID)
		}
		in.validate(&fe, s.Now(), o.Info.IDType)
		if err := sortFieldErrors(fe).Err(); err != nil {
			return err
		}
		sec, err := s.openOwner(o)
		if err != nil {
			return err
		}
		in.apply(o, sec)
		if err := s.sealOwner(o, sec); err != nil {
			return err
		}
		if in.OwnershipPercentage != nil {
			owners, err := s.allOwners(ctx, tx, c.PlatformID, c.ID)
			if err != nil {
				return err
			}
			for i := range owners {
				if owners[i].ID == o.ID {
					owners[i] = o
				}
			}
			if err := checkOwnershipTotal(owners); err != nil {
				return err
			}
		}
		o.UpdatedAt = s.Now()
		out = o
		return tx.UpdateBeneficialOwner(ctx, o)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetBeneficialOwner returns one of the caller's platform's beneficial owners. It needs VIEW.
func (s *Service) GetBeneficialOwner(ctx context.Context, p *Principal, id string) (*BeneficialOwner, error) {
	if err := p.Require(PermView); err != nil {
		return nil, err
	}
	return s.owner(ctx, s.store, p, id)
}

// ListBeneficialOwners returns one page of a business customer's beneficial owners in id
// order. It needs VIEW. The customer must exist and be a business.
func (s *Service) ListBeneficialOwners(ctx context.Context, p *Principal, f OwnerFilter) (OwnerPage, error) {
	if err := p.Require(PermView); err != nil {
		return OwnerPage{}, err
	}
	if strings.TrimSpace(f.CustomerID) == "" {
		return OwnerPage{}, InvalidInput(FieldError{Field: "customerId", Message: "is required"})
	}
	if _, err := s.businessOf(ctx, s.store, p, f.CustomerID, "customerId"); err != nil && !isDeletedErr(err) {
		return OwnerPage{}, err
	}
	f.Limit = clampPageSize(f.Limit)
	return s.store.ListBeneficialOwners(ctx, p.Platform.ID, f)
}

func isDeletedErr(err error) bool {
	e, ok := AsError(err)
	return ok && e.Code == CodeCustomerDeleted
}

func clampPageSize(n int) int {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	}
	return n
}

// owner reads one of the caller's platform's beneficial owners and answers 404 for an unknown
// id.
func (s *Service) owner(ctx context.Context, r Reader, p *Principal, id string) (*BeneficialOwner, error) {
	o, err := r.GetBeneficialOwner(ctx, p.Platform.ID, id)
	if errors.Is(err, ErrNotFound) {
		return nil, NotFound(CodeReferenceNotFound, "beneficial owner "+id)
	}
	return o, err
}

// businessOf reads the business customer a request names in field: 404 when it does not
// exist, 410 when it was deleted, 400 when it is an individual.
func (s *Service) businessOf(ctx context.Context, r Reader, p *Principal, id, field string) (*Customer, error) {
	// Owners are checked against each other (their total ownership): read through a transaction,
	// the business is locked, so its owners change one request at a time.
	c, err := s.customer(ctx, r, p, id)
	if err != nil {
		return nil, err
	}
	if c.Type != Business {
		return nil, InvalidInput(FieldError{Field: field, Message: "must be a BUSINESS customer: only businesses have beneficial owners"})
	}
	if c.Deleted() {
		return c, customerDeleted(c.ID)
	}
	return c, nil
}

// allOwners returns every beneficial owner of a customer, oldest first.
func (s *Service) allOwners(ctx context.Context, r Reader, platformID, customerID string) ([]*BeneficialOwner, error) {
	var out []*BeneficialOwner
	f := OwnerFilter{CustomerID: customerID, Limit: MaxPageSize, SkipCount: true}
	for {
		page, err := r.ListBeneficialOwners(ctx, platformID, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Owners...)
		if !page.HasMore || len(page.Owners) == 0 {
			return out, nil
		}
		f.AfterID = page.Owners[len(page.Owners)-1].ID
	}
}

// loadOwners fills a business customer's BeneficialOwners for its wire form.
func (s *Service) loadOwners(ctx context.Context, r Reader, c *Customer) error {
	if c.Type != Business {
		return nil
	}
	owners, err := s.allOwners(ctx, r, c.PlatformID, c.ID)
	if err != nil {
		return err
	}
	c.BeneficialOwners = owners
	return nil
}

// checkOwnershipTotal rejects owners whose ownership adds up to more than the whole business.
func checkOwnershipTotal(owners []*BeneficialOwner) error {
	total := 0
	for _, o := range owners {
		total += o.OwnershipPercentage
	}
	if total > 100 {
		return InvalidInput(FieldError{Field: "ownershipPercentage",
			Message: fmt.Sprintf("the business's beneficial owners would own %d%% together; the total cannot exceed 100", total)})
	}
	return nil
}

// SandboxOwnerStatus is the status a sandbox beneficial owner gets when its business is decided,
// from the last three characters of its last name: 001 PENDING, 002 REJECTED, anything else
// APPROVED.
func SandboxOwnerStatus(lastName string) Status {
	switch suffix(lastName) {
	case "001":
		return StatusPending
	case "002":
		return StatusRejected
	}
	return StatusApproved
}

// resolveOwners decides a business's beneficial owners when the business itself is decided. On
// a sandbox platform each owner follows its last name's suffix; elsewhere an approval of the
// business approves the owners under review with it.
func (s *Service) resolveOwners(ctx context.Context, tx Tx, c *Customer, ch *StatusChange) error {
	p, err := tx.GetPlatform(ctx, c.PlatformID)
	if err != nil {
		return err
	}
	owners, err := s.allOwners(ctx, tx, c.PlatformID, c.ID)
	if err != nil {
		return err
	}
	for _, o := range owners {
		to, reason := o.Status, ch.Reason
		switch {
		case p.Sandbox:
			to, reason = SandboxOwnerStatus(o.Info.LastName), ReasonSandboxSuffix
		case ch.To == StatusApproved && o.Status == StatusPending:
			to = StatusApproved
		}
		if err := s.setOwnerStatus(ctx, tx, o, to, reason); err != nil {
			return err
		}
	}
	return nil
}

// setOwnerStatus changes a beneficial owner's kycStatus when the state machine allows it for
// the reason, and leaves it alone otherwise (an owner already decided keeps its decision).
func (s *Service) setOwnerStatus(ctx context.Context, tx Tx, o *BeneficialOwner, to Status, reason string) error {
	if o.Status == to || !TransitionAllowed(o.Status, to, reason) {
		return nil
	}
	o.Status, o.UpdatedAt = to, s.Now()
	return tx.UpdateBeneficialOwner(ctx, o)
}

func (s *Service) sealOwner(o *BeneficialOwner, sec *Secrets) (err error) {
	o.Sealed, err = s.sealWriteOnly(&Secrets{Identifier: sec.Identifier})
	return err
}

func (s *Service) openOwner(o *BeneficialOwner) (*Secrets, error) {
	return s.openWriteOnly(o.Sealed, o.ID)
}

// OpenOwnerIdentifier decrypts a beneficial owner's write-only identifier.
func (s *Service) OpenOwnerIdentifier(o *BeneficialOwner) (string, error) {
	sec, err := s.openOwner(o)
	if err != nil {
		return "", err
	}
	return sec.Identifier, nil
}

// validate checks every field that is present. storedIDType is the owner's idType on an
// update ("" on a create), against which a lone identifier is checked.
func (in *OwnerInput) validate(fe *FieldErrors, now time.Time, storedIDType string) {
	if in.Roles != nil {
		if len(*in.Roles) == 0 {
			fe.Add("roles", "must list at least one role")
		}
		seen := map[string]bool{}
		for i, r := range *in.Roles {
			field := fmt.Sprintf("roles[%d]", i)
			switch {
			case !slices.Contains(enumOwnerRole, r):
				fe.AddEnum(field, enumOwnerRole)
			case seen[r]:
				fe.Add(field, "%s is listed twice", r)
			}
			seen[r] = true
		}
	}
	if v := in.OwnershipPercentage; v != nil && (*v < 0 || *v > 100) {
		fe.Add("ownershipPercentage", "must be an integer from 0 to 100")
	}
	pi := in.Info
	if pi == nil {
		return
	}
	const p = "personalInfo."
	checkText(fe, p+"firstName", pi.FirstName, 100)
	checkText(fe, p+"middleName", pi.MiddleName, 100)
	checkText(fe, p+"lastName", pi.LastName, 100)
	if pi.BirthDate != nil {
		if d, err := refdata.ParseDate(*pi.BirthDate); err != nil {
			fe.AddFormat(p+"birthDate", "date", "must be a real calendar date in YYYY-MM-DD form")
		} else if d.After(now) {
			fe.Add(p+"birthDate", "must not be in the future")
		} else if d.Year() < 1900 {
			fe.Add(p+"birthDate", "must be after 1900-01-01")
		}
	}
	checkCountry(fe, p+"nationality", pi.Nationality)
	if pi.Email != nil && !refdata.ValidEmail(*pi.Email) {
		fe.AddFormat(p+"email", "email", "must be an email address such as jane@example.com")
	}
	if pi.PhoneNumber != nil {
		if _, err := refdata.NormalizePhone(*pi.PhoneNumber); err != nil {
			fe.AddFormat(p+"phoneNumber", "e.164", err.Error())
		}
	}
	if a := pi.Address; a != nil {
		for field, v := range map[string]*string{"line1": a.Line1, "postalCode": a.PostalCode, "country": a.Country} {
			if v == nil {
				fe.Add(p+"address."+field, "is required")
			}
		}
		checkText(fe, p+"address.line1", a.Line1, 200)
		checkText(fe, p+"address.line2", a.Line2, 200)
		checkText(fe, p+"address.city", a.City, 100)
		checkText(fe, p+"address.state", a.State, 100)
		checkText(fe, p+"address.postalCode", a.PostalCode, 20)
		checkCountry(fe, p+"address.country", a.Country)
	}
	checkEnum(fe, p+"idType", pi.IDType, enumIDType)
	idType := storedIDType
	if pi.IDType != nil {
		idType = *pi.IDType
		if storedIDType != "" && idType != storedIDType && pi.Identifier == nil {
			fe.Add(p+"identifier", "is required when idType changes")
		}
	}
	if pi.Identifier != nil {
		checkIdentifier(fe, p+"identifier", idType, *pi.Identifier)
	}
	checkCountry(fe, p+"countryOfIssuance", pi.CountryOfIssuance)
	if c := pi.CountryOfIssuance; c != nil && *c != "US" && slices.Contains(usIssuedIDTypes, idType) {
		fe.Add(p+"countryOfIssuance", "%s is issued by the US; only US is accepted", idType)
	}
}

// checkIdentifier checks an identification number against its type.
func checkIdentifier(fe *FieldErrors, field, idType, id string) {
	switch idType {
	case "":
		// idType is reported missing by the caller.
	case "SSN":
		if !reSSN.MatchString(id) {
			fe.AddFormat(field, "us-ssn", "an SSN must have the form ###-##-####")
		}
	case "ITIN":
		if !reSSN.MatchString(id) || id[0] != '9' {
			fe.AddFormat(field, "us-itin", "an ITIN must have the form 9##-##-####")
		}
	case "EIN":
		if !reEIN.MatchString(id) {
			fe.AddFormat(field, "us-ein", "an EIN must have the form ##-#######")
		}
	default:
		checkText(fe, field, &id, 64)
	}
}

// apply copies every sent field onto the owner and its secrets. It assumes the input was
// validated.
func (in *OwnerInput) apply(o *BeneficialOwner, sec *Secrets) {
	if in.Roles != nil {
		o.Roles = slices.Clone(*in.Roles)
	}
	if in.OwnershipPercentage != nil {
		o.OwnershipPercentage = *in.OwnershipPercentage
	}
	pi := in.Info
	if pi == nil {
		return
	}
	info := &o.Info
	setStr(&info.FirstName, pi.FirstName)
	setStr(&info.MiddleName, pi.MiddleName)
	setStr(&info.LastName, pi.LastName)
	setStr(&info.BirthDate, pi.BirthDate)
	setStr(&info.Nationality, pi.Nationality)
	setStr(&info.Email, pi.Email)
	if pi.PhoneNumber != nil {
		info.PhoneNumber, _ = refdata.NormalizePhone(*pi.PhoneNumber)
	}
	if pi.Address != nil {
		info.Address = pi.Address.toAddress()
	}
	setStr(&info.IDType, pi.IDType)
	setStr(&info.CountryOfIssuance, pi.CountryOfIssuance)
	if pi.Identifier != nil {
		sec.Identifier = strings.TrimSpace(*pi.Identifier)
		info.HasIdentifier = true
		if info.CountryOfIssuance == "" && slices.Contains(usIssuedIDTypes, info.IDType) {
			info.CountryOfIssuance = "US"
		}
	}
}
