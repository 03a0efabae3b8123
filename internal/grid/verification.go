package grid

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// Verification statuses.
const (
	VerificationResolveErrors = "RESOLVE_ERRORS"
	VerificationPendingReview = "PENDING_MANUAL_REVIEW"
	VerificationInProgress    = "IN_PROGRESS"
	VerificationApproved      = "APPROVED"
	VerificationRejected      = "REJECTED"
	VerificationReady         = "READY_FOR_VERIFICATION"
)

// VerificationStatuses lists the verification statuses in wire order.
var VerificationStatuses = []string{VerificationResolveErrors, VerificationPendingReview, VerificationInProgress,
	VerificationApproved, VerificationRejected, VerificationReady}

// Verification error types.
const (
	ProblemMissingField             = "MISSING_FIELD"
	ProblemInvalidField             = "INVALID_FIELD"
	ProblemMissingLegalPresence     = "MISSING_LEGAL_PRESENCE_DOCUMENT"
	ProblemMissingOwnershipDocument = "MISSING_OWNERSHIP_STRUCTURE_DOCUMENT"
	ProblemMissingProofOfAddress    = "MISSING_PROOF_OF_ADDRESS_DOCUMENT"
	ProblemMissingIdentityDocument  = "MISSING_IDENTITY_DOCUMENT"
	ProblemPoorQualityDocument      = "POOR_QUALITY_DOCUMENT"
	ProblemMissingBeneficialOwner   = "MISSING_BENEFICIAL_OWNER"
)

// Verification is one submission of a customer for KYC or KYB. It records what was missing, or
// that the customer went to review, and follows the review to its decision.
type Verification struct {
	ID         string // Verification:<UUIDv7>
	PlatformID string
	CustomerID string
	Status     string
	// Errors lists every problem that keeps the verification from proceeding; empty unless
	// Status is RESOLVE_ERRORS.
	Errors    []VerificationError
	CreatedAt time.Time
	UpdatedAt time.Time
}

// VerificationError is one problem with the data or documents of a verification.
type VerificationError struct {
	// ResourceID is the Customer, BeneficialOwner or Document the problem is about.
	ResourceID            string   `json:"resourceId"`
	Type                  string   `json:"type"`
	Field                 string   `json:"field,omitempty"`
	AcceptedDocumentTypes []string `json:"acceptedDocumentTypes,omitempty"`
	Reason                string   `json:"reason"`
}

// VerificationFilter selects verifications for a list.
type VerificationFilter struct {
	CustomerID string
	Status     string
	AfterID    string
	Limit      int
}

// VerificationPage is one page of verifications.
type VerificationPage struct {
	Verifications []*Verification
	HasMore       bool
	TotalCount    int
}

// SubmitVerification submits one of the caller's platform's customers for KYC (individuals) or
// KYB (businesses) and returns the verification. It needs MANAGE.
//
// Every missing field and document comes back as one error of a RESOLVE_ERRORS verification;
// with complete data the customer goes to manual review (PENDING_MANUAL_REVIEW, status PENDING)
// for an operator to decide. Sandbox platforms follow the documented suffixes: a business whose
// registration number does not end in 001 or 003 is decided at once (002 rejected, anything
// else approved), and an individual whose full name ends in 003 gets a correctable
// POOR_QUALITY_DOCUMENT error until its identity document is replaced. A customer already
// approved or rejected cannot be submitted again (400).
func (s *Service) SubmitVerification(ctx context.Context, p *Principal, customerID string) (*Verification, error) {
	return s.submitVerification(ctx, p, customerID, nil)
}

// submitVerification is SubmitVerification; then, when set, runs in the submission's
// transaction once the verification is decided, and an error from it undoes the submission.
func (s *Service) submitVerification(ctx context.Context, p *Principal, customerID string, then func(Tx, *Verification) error) (*Verification, error) {
	if err := p.Require(PermManage); err != nil {
		return nil, err
	}
	if strings.TrimSpace(customerID) == "" {
		return nil, InvalidInput(FieldError{Field: "customerId", Message: "is required"})
	}
	var out *Verification
	submit := func(tx Tx) error {
		c, err := s.lockedCustomer(ctx, tx, p, customerID)
		if err != nil {
			return err
		}
		if c.Deleted() {
			return customerDeleted(c.ID)
		}
		if c.Status == StatusApproved || c.Status == StatusRejected {
			return InvalidInput(FieldError{Field: "customerId",
				Message: "the customer's " + statusField(c.Type) + " is " + string(c.Status) + ": its verification is complete and cannot be submitted again"})
		}
		now := s.Now()
		v := &Verification{ID: NewID("Verification"), PlatformID: c.PlatformID, CustomerID: c.ID, Errors: []VerificationError{}, CreatedAt: now, UpdatedAt: now}

		if to, ok := sandboxKYBDecision(p.Platform, c); ok {
			v.Status = string(to)
			if err := s.insertVerification(ctx, tx, v); err != nil {
				return err
			}
			out = v
			return s.changeStatus(ctx, tx, c, to, ReasonSandboxSuffix, p.Token.ID)
		}

		owners, err := s.allOwners(ctx, tx, c.PlatformID, c.ID)
		if err != nil {
			return err
		}
		docs, err := s.customerDocuments(ctx, tx, c)
		if err != nil {
			return err
		}
		v.Errors = VerificationProblems(p.Platform, c, owners, docs)
		if len(v.Errors) == 0 && p.Platform.Sandbox && c.Type == Individual && suffix(c.Profile.FullName) == "003" {
			if v.Errors, err = s.sandboxDocumentQuality(ctx, tx, c, docs); err != nil {
				return err
			}
		}
		if len(v.Errors) > 0 {
			v.Status = VerificationResolveErrors
			out = v
			return s.insertVerification(ctx, tx, v)
		}

		// Complete: the customer goes to manual review, once.
		open, err := s.openReview(ctx, tx, c)
		if err != nil {
			return err
		}
		if open != nil {
			out = open
			return nil
		}
		v.Status = VerificationPendingReview
		if err := s.insertVerification(ctx, tx, v); err != nil {
			return err
		}
		out = v
		for _, o := range owners {
			if err := s.setOwnerStatus(ctx, tx, o, StatusPending, ReasonVerificationSubmitted); err != nil {
				return err
			}
		}
		return s.changeStatus(ctx, tx, c, StatusPending, ReasonVerificationSubmitted, p.Token.ID)
	}
	err := s.tx(ctx, func(tx Tx) error {
		if err := submit(tx); err != nil || then == nil {
			return err
		}
		return then(tx, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// sandboxKYBDecision is the immediate decision a sandbox business gets from the last three
// characters of its registration number: 002 REJECTED; 001, 003 or none at all no decision
// (normal validation); anything else APPROVED.
func sandboxKYBDecision(p *Platform, c *Customer) (Status, bool) {
	if !p.Sandbox || c.Type != Business || c.Profile.Business == nil || c.Profile.Business.RegistrationNumber == "" {
		return "", false
	}
	switch suffix(c.Profile.Business.RegistrationNumber) {
	case "001", "003":
		return "", false
	case "002":
		return StatusRejected, true
	}
	return StatusApproved, true
}

// GetVerification returns one of the caller's platform's verifications. It needs VIEW.
func (s *Service) GetVerification(ctx context.Context, p *Principal, id string) (*Verification, error) {
	if err := p.Require(PermView); err != nil {
		return nil, err
	}
	v, err := s.store.GetVerification(ctx, p.Platform.ID, id)
	if errors.Is(err, ErrNotFound) {
		return nil, NotFound(CodeReferenceNotFound, "verification "+id)
	}
	return v, err
}

// ListVerifications returns one page of the caller's platform's verifications in id order
// (oldest first). It needs VIEW.
func (s *Service) ListVerifications(ctx context.Context, p *Principal, f VerificationFilter) (VerificationPage, error) {
	if err := p.Require(PermView); err != nil {
		return VerificationPage{}, err
	}
	f.Limit = clampPageSize(f.Limit)
	return s.store.ListVerifications(ctx, p.Platform.ID, f)
}

// insertVerification stores a new verification and announces it.
func (s *Service) insertVerification(ctx context.Context, tx Tx, v *Verification) error {
	if err := tx.InsertVerification(ctx, v); err != nil {
		return err
	}
	return s.emit(ctx, tx, v.PlatformID, "VERIFICATION."+v.Status, v.CustomerID, v, v.UpdatedAt)
}

// openReview returns the customer's verification that waits for a decision, or nil.
func (s *Service) openReview(ctx context.Context, r Reader, c *Customer) (*Verification, error) {
	page, err := r.ListVerifications(ctx, c.PlatformID, VerificationFilter{CustomerID: c.ID, Status: VerificationPendingReview, Limit: 1})
	if err != nil || len(page.Verifications) == 0 {
		return nil, err
	}
	return page.Verifications[0], nil
}

// settleVerifications closes the customer's verification under review when the customer leaves
// review: with the decision when it is approved or rejected, and as READY_FOR_VERIFICATION (the
// data was complete; submit again) when the review is cancelled, expired or put on hold. Each
// change is announced.
func (s *Service) settleVerifications(ctx context.Context, tx Tx, c *Customer, ch *StatusChange) error {
	var outcome string
	switch ch.To {
	case StatusPending:
		return nil
	case StatusApproved:
		outcome = VerificationApproved
	case StatusRejected:
		outcome = VerificationRejected
	default:
		outcome = VerificationReady
	}
	for {
		open, err := s.openReview(ctx, tx, c)
		if err != nil || open == nil {
			return err
		}
		open.Status, open.UpdatedAt = outcome, ch.At
		if err := tx.UpdateVerification(ctx, open); err != nil {
			return err
		}
		if err := s.emit(ctx, tx, open.PlatformID, "VERIFICATION."+outcome, open.CustomerID, open, ch.At); err != nil {
			return err
		}
	}
}

// customerDocuments returns every document of a customer and of its beneficial owners.
func (s *Service) customerDocuments(ctx context.Context, r Reader, c *Customer) ([]*Document, error) {
	var out []*Document
	f := DocumentFilter{CustomerID: c.ID, Limit: MaxPageSize}
	for {
		page, err := r.ListDocuments(ctx, c.PlatformID, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Documents...)
		if !page.HasMore || len(page.Documents) == 0 {
			return out, nil
		}
		f.AfterID = page.Documents[len(page.Documents)-1].ID
	}
}

// sandboxDocumentQuality simulates a correctable provider rejection for sandbox individuals
// whose full name ends in 003: the identity document is judged of poor quality until one is
// uploaded or replaced after the last such judgement.
func (s *Service) sandboxDocumentQuality(ctx context.Context, r Reader, c *Customer, docs []*Document) ([]VerificationError, error) {
	var lastFlag time.Time
	f := VerificationFilter{CustomerID: c.ID, Status: VerificationResolveErrors, Limit: MaxPageSize}
	for {
		page, err := r.ListVerifications(ctx, c.PlatformID, f)
		if err != nil {
			return nil, err
		}
		for _, v := range page.Verifications {
			if slices.ContainsFunc(v.Errors, func(e VerificationError) bool { return e.Type == ProblemPoorQualityDocument }) {
				lastFlag = v.CreatedAt
			}
		}
		if !page.HasMore || len(page.Verifications) == 0 {
			break
		}
		f.AfterID = page.Verifications[len(page.Verifications)-1].ID
	}
	var newest *Document
	for _, d := range docs {
		if d.HolderID == c.ID && slices.Contains(IdentityDocumentTypes, d.Type) && (newest == nil || d.UpdatedAt.After(newest.UpdatedAt)) {
			newest = d
		}
	}
	if newest == nil || (!lastFlag.IsZero() && newest.UpdatedAt.After(lastFlag)) {
		return nil, nil
	}
	return []VerificationError{{
		ResourceID: newest.ID, Type: ProblemPoorQualityDocument, AcceptedDocumentTypes: slices.Clone(IdentityDocumentTypes),
		Reason: "The identity document is of poor quality; replace it with a sharper, complete image",
	}}, nil
}

// VerificationProblems lists everything that keeps a customer from being verified: one entry
// per missing field or document of the customer and of each of its beneficial owners. It does
// no I/O; owners and docs are every beneficial owner and document of the customer.
func VerificationProblems(p *Platform, c *Customer, owners []*BeneficialOwner, docs []*Document) []VerificationError {
	var out []VerificationError
	missing := func(resourceID, field, reason string) {
		out = append(out, VerificationError{ResourceID: resourceID, Type: ProblemMissingField, Field: field, Reason: reason})
	}
	needDocument := func(holderID, typ string, accepted []string, reason string) {
		for _, d := range docs {
			if d.HolderID == holderID && slices.Contains(accepted, d.Type) {
				return
			}
		}
		out = append(out, VerificationError{ResourceID: holderID, Type: typ, AcceptedDocumentTypes: slices.Clone(accepted), Reason: reason})
	}
	pr := &c.Profile
	for _, ch := range enumContactVerifyChannel {
		if slices.Contains(p.ContactVerification, ch) && pr.ContactVerification[ch] != "VERIFIED" {
			field, name := "email", "Email address"
			if ch == "phone" {
				field, name = "phoneNumber", "Phone number"
			}
			out = append(out, VerificationError{ResourceID: c.ID, Type: ProblemInvalidField, Field: field, Reason: name + " must be verified"})
		}
	}

	if c.Type == Individual {
		if pr.FullName == "" {
			missing(c.ID, "fullName", "Full name is required")
		}
		if pr.BirthDate == "" {
			missing(c.ID, "birthDate", "Birth date is required")
		}
		if pr.Nationality == "" {
			missing(c.ID, "nationality", "Nationality is required")
		}
		if !pr.HasIdentifier || pr.IDType == "" {
			missing(c.ID, "identifier", "Identifier is required")
		}
		if pr.Address == nil {
			missing(c.ID, "address", "Address is required")
		}
		needDocument(c.ID, ProblemMissingIdentityDocument, IdentityDocumentTypes, "Identity document is required")
		return out
	}

	b := pr.Business
	if b == nil {
		b = &BusinessInfo{}
	}
	for _, f := range []struct {
		field, reason string
		ok            bool
	}{
		{"businessInfo.legalName", "Legal name is required", b.LegalName != ""},
		{"businessInfo.country", "Country of incorporation is required", b.Country != ""},
		{"businessInfo.registrationNumber", "Registration number is required", b.RegistrationNumber != ""},
		{"businessInfo.incorporatedOn", "Date of incorporation is required", b.IncorporatedOn != ""},
		{"businessInfo.entityType", "Entity type is required", b.EntityType != ""},
		{"businessInfo.taxId", "Tax identification number is required", b.HasTaxID},
		{"businessInfo.countriesOfOperation", "Countries of operation are required", len(b.CountriesOfOperation) > 0},
		{"address", "Business address is required", pr.Address != nil},
	} {
		if !f.ok {
			missing(c.ID, f.field, f.reason)
		}
	}
	needDocument(c.ID, ProblemMissingLegalPresence, LegalPresenceDocumentTypes, "Proof of legal presence (company formation document) is required")
	needDocument(c.ID, ProblemMissingOwnershipDocument, OwnershipDocumentTypes, "Proof of ownership structure is required")
	needDocument(c.ID, ProblemMissingProofOfAddress, ProofOfAddressTypes, "Proof of address document is required")
	if len(owners) == 0 {
		out = append(out, VerificationError{ResourceID: c.ID, Type: ProblemMissingBeneficialOwner, Reason: "At least one beneficial owner is required"})
	}
	for _, o := range owners {
		info := &o.Info
		for _, f := range []struct {
			field, reason string
			ok            bool
		}{
			{"personalInfo.firstName", "First name is required for beneficial owners", info.FirstName != ""},
			{"personalInfo.lastName", "Last name is required for beneficial owners", info.LastName != ""},
			{"personalInfo.birthDate", "Date of birth is required for beneficial owners", info.BirthDate != ""},
			{"personalInfo.nationality", "Nationality is required for beneficial owners", info.Nationality != ""},
			{"personalInfo.address", "Address is required for beneficial owners", info.Address != nil},
			{"personalInfo.identifier", "Identifier is required for beneficial owners", info.HasIdentifier && info.IDType != ""},
		} {
			if !f.ok {
				missing(o.ID, f.field, f.reason)
			}
		}
		needDocument(o.ID, ProblemMissingIdentityDocument, IdentityDocumentTypes, "Identity document is required for beneficial owners")
	}
	return out
}
