package grid

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// KycLinkTTL is how long a hosted KYC/KYB link stays usable after it is created.
const KycLinkTTL = 24 * time.Hour

// KycLinkProvider is the provider a link reports. Grid's contract requires the field and
// defines one value; gridd runs the hosted flow itself and reports that value so that clients
// generated from Grid's document accept the answer.
const KycLinkProvider = "SUMSUB"

// Error codes of the hosted flow. They are shown as pages, never sent as JSON.
const (
	CodeKycLinkNotFound = "KYC_LINK_NOT_FOUND"
	CodeKycLinkExpired  = "KYC_LINK_EXPIRED"
	CodeKycLinkUsed     = "KYC_LINK_USED"
	// CodeKycComplete: the customer was approved or rejected since the link was issued.
	CodeKycComplete = "KYC_COMPLETE"
	// CodeKycFormStale: a form post without a valid nonce for its link.
	CodeKycFormStale = "KYC_FORM_STALE"
)

// KycLink is a single-use, expiring link to the hosted KYC/KYB flow of one customer. Its
// token, in the link's URL, is the only credential the flow needs; only its hash is stored.
type KycLink struct {
	ID         string // KycLink:<UUIDv7>
	PlatformID string
	CustomerID string
	// TokenHash is the SHA-256 of the token (HashKycToken).
	TokenHash []byte
	// RedirectURI is where the customer is sent once the flow is complete ("" for none).
	RedirectURI string
	// CreatedBy is the API token that created the link.
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	// ConsumedAt is when a submission through the link was accepted; nil while unused.
	ConsumedAt *time.Time
	// VerificationID is the verification that consumed the link ("" while unused).
	VerificationID string
}

// KycLinkInput is the body of a link request. A nil field was not sent.
type KycLinkInput struct {
	RedirectURI *string
}

// HashKycToken returns the stored form of a link token.
func HashKycToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// newKycToken returns a fresh link token: 32 random bytes, base64url without padding.
func newKycToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateKycLink issues a fresh hosted KYC/KYB link for one of the caller's platform's customers
// and returns it with its token, which is shown once. It needs MANAGE. Earlier links stay
// valid. The customer must exist (404), not be deleted (410), not be approved or rejected
// already (400) and, where the platform requires contact verification, have every required
// channel VERIFIED (409). The link does not change the customer's status.
func (s *Service) CreateKycLink(ctx context.Context, p *Principal, customerID string, in *KycLinkInput) (*KycLink, string, error) {
	if err := p.Require(PermManage); err != nil {
		return nil, "", err
	}
	var fe FieldErrors
	redirect := ""
	if in.RedirectURI != nil {
		redirect = strings.TrimSpace(*in.RedirectURI)
		checkRedirectURI(&fe, "redirectUri", redirect)
	}
	if err := fe.Err(); err != nil {
		return nil, "", err
	}
	token := newKycToken()
	now := s.Now()
	l := &KycLink{
		ID: NewID("KycLink"), PlatformID: p.Platform.ID, TokenHash: HashKycToken(token), RedirectURI: redirect,
		CreatedBy: p.Token.ID, CreatedAt: now, ExpiresAt: now.Add(KycLinkTTL),
	}
	err := s.tx(ctx, func(tx Tx) error {
		c, err := s.customer(ctx, tx, p, customerID)
		if err != nil {
			return err
		}
		if c.Deleted() {
			return customerDeleted(c.ID)
		}
		if c.Status == StatusApproved || c.Status == StatusRejected {
			return Errorf(400, CodeInvalidInput, "the customer's %s is %s: its verification is complete and needs no link", statusField(c.Type), c.Status)
		}
		for _, ch := range enumContactVerifyChannel {
			if slices.Contains(p.Platform.ContactVerification, ch) && c.Profile.ContactVerification[ch] != "VERIFIED" {
				return Errorf(409, CodeConflict, "the customer's %s must be verified before a KYC link can be generated (see verify-%s)", ch, ch)
			}
		}
		l.CustomerID = c.ID
		return tx.InsertKycLink(ctx, l)
	})
	if err != nil {
		return nil, "", err
	}
	return l, token, nil
}

// checkRedirectURI records a redirect URI that is not an absolute http(s) URL.
func checkRedirectURI(fe *FieldErrors, field, v string) {
	if len(v) > 2048 {
		fe.Add(field, "must be at most 2048 characters")
		return
	}
	u, err := url.Parse(v)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		fe.AddFormat(field, "uri", "must be an absolute https:// URL (http:// for local development)")
	case u.User != nil:
		fe.Add(field, "must not carry credentials")
	}
}

// KycSession is a hosted link opened by its token: what the customer may see of their
// record, and what keeps it from being verified. The mutating operations (KycLinkFill,
// KycLinkAddOwner, KycLinkUpload, SubmitKycLink) take a session opened by OpenKycLinkForm.
type KycSession struct {
	Link      *KycLink
	Platform  *Platform
	Customer  *Customer
	Owners    []*BeneficialOwner
	Documents []*Document
	// Requirements lists every problem a submission would report now, as a RESOLVE_ERRORS
	// verification lists them; empty when the data is complete or when a sandbox submission
	// would be decided at once.
	Requirements []VerificationError
	// DecidedAtSubmit is set for a sandbox business whose registration number decides its
	// verification at submission, whatever its data: the flow has nothing to ask for.
	DecidedAtSubmit bool

	principal *Principal
	// form is set when the session was opened by a form post with a valid nonce.
	form bool
}

// OpenKycLink opens a hosted link by its token: 404 KYC_LINK_NOT_FOUND for an unknown token,
// 410 KYC_LINK_EXPIRED, KYC_LINK_USED, CUSTOMER_DELETED or KYC_COMPLETE for a link that can no
// longer be used. It needs no principal: the token is the credential.
func (s *Service) OpenKycLink(ctx context.Context, token string) (*KycSession, error) {
	l, err := s.store.GetKycLinkByTokenHash(ctx, HashKycToken(token))
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(404, CodeKycLinkNotFound, "this verification link does not exist")
	}
	if err != nil {
		return nil, err
	}
	if err := kycLinkUsable(l, s.Now()); err != nil {
		return nil, err
	}
	platform, err := s.store.GetPlatform(ctx, l.PlatformID)
	if err != nil {
		return nil, fmt.Errorf("open kyc link %s: platform: %w", l.ID, err)
	}
	sess := &KycSession{Link: l, Platform: platform, principal: kycLinkPrincipal(l, platform)}
	c, err := s.customer(ctx, s.store, sess.principal, l.CustomerID)
	if err != nil {
		return nil, err
	}
	if c.Deleted() {
		return nil, customerDeleted(c.ID)
	}
	if c.Status == StatusApproved || c.Status == StatusRejected {
		return nil, Errorf(410, CodeKycComplete, "the verification of this customer is complete (%s)", c.Status)
	}
	sess.Customer = c
	if c.Type == Business {
		if sess.Owners, err = s.allOwners(ctx, s.store, c.PlatformID, c.ID); err != nil {
			return nil, err
		}
	}
	if sess.Documents, err = s.customerDocuments(ctx, s.store, c); err != nil {
		return nil, err
	}
	_, sess.DecidedAtSubmit = sandboxKYBDecision(platform, c)
	if !sess.DecidedAtSubmit {
		sess.Requirements = VerificationProblems(platform, c, sess.Owners, sess.Documents)
	}
	return sess, nil
}

// OpenKycLinkForm opens a hosted link for a form post, which must carry a nonce that
// KycFormNonce issued for the same link (403 KYC_FORM_STALE otherwise). Only a session opened
// this way may change the customer.
func (s *Service) OpenKycLinkForm(ctx context.Context, token, nonce string) (*KycSession, error) {
	sess, err := s.OpenKycLink(ctx, token)
	if err != nil {
		return nil, err
	}
	if !s.checkKycFormNonce(sess.Link, nonce) {
		return nil, Errorf(403, CodeKycFormStale, "the form was not issued for this link; reload the page and try again")
	}
	sess.form = true
	return sess, nil
}

// kycLinkUsable returns the 410 error of a consumed or expired link, or nil.
func kycLinkUsable(l *KycLink, now time.Time) error {
	if l.ConsumedAt != nil {
		return Errorf(410, CodeKycLinkUsed, "this verification link was already used")
	}
	if !now.Before(l.ExpiresAt) {
		return Errorf(410, CodeKycLinkExpired, "this verification link expired at %s", l.ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

// kycLinkPrincipal is the caller a hosted link acts as: its platform, with the rights the flow
// needs. The link's id is the actor recorded in the customer's history.
func kycLinkPrincipal(l *KycLink, p *Platform) *Principal {
	return &Principal{
		Token:    &Token{ID: l.ID, PlatformID: l.PlatformID, Name: "hosted KYC link", Permissions: []Permission{PermView, PermManage}},
		Platform: p,
	}
}

// kycNoncePurpose prefixes what a form nonce seals, so that no other sealed value passes as one.
const kycNoncePurpose = "gridd/kyc-link-form\x00"

// KycFormNonce returns a fresh nonce for a form of the session's link: the link's id, sealed
// with the server's key. Every call returns a different value; each is valid for the life of
// the link, on every node sharing the key.
func (s *Service) KycFormNonce(sess *KycSession) (string, error) {
	sealed, err := s.sealer.Seal([]byte(kycNoncePurpose + sess.Link.ID))
	if err != nil {
		return "", fmt.Errorf("seal form nonce: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

func (s *Service) checkKycFormNonce(l *KycLink, nonce string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(raw) == 0 {
		return false
	}
	plain, err := s.sealer.Open(raw)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(plain, []byte(kycNoncePurpose+l.ID)) == 1
}

func (sess *KycSession) checkForm() error {
	if !sess.form {
		return Errorf(403, CodeKycFormStale, "the session was not opened by a form post")
	}
	return nil
}

// KycLinkDetails are the customer fields the holder of a hosted link may fill in: only those
// the customer lacks (KycFillable). What is on file is the platform's to change.
type KycLinkDetails struct {
	FullName    *string
	BirthDate   *string
	Nationality *string
	IDType      *string
	Identifier  *string
	Address     *AddressInput
	// Business may carry LegalName, Country, RegistrationNumber, IncorporatedOn, EntityType,
	// TaxID and CountriesOfOperation; other fields are refused.
	Business *BusinessInput
}

// KycFillable lists the fields of a customer that the hosted flow may fill in, by the field
// names a verification reports them under: the verification fields the customer lacks.
// "identifier" stands for idType and identifier together.
func KycFillable(c *Customer) []string {
	pr := &c.Profile
	var out []string
	add := func(field string, missing bool) {
		if missing {
			out = append(out, field)
		}
	}
	if c.Type == Individual {
		add("fullName", pr.FullName == "")
		add("birthDate", pr.BirthDate == "")
		add("nationality", pr.Nationality == "")
		add("identifier", !pr.HasIdentifier || pr.IDType == "")
		add("address", pr.Address == nil)
		return out
	}
	b := pr.Business
	if b == nil {
		b = &BusinessInfo{}
	}
	add("businessInfo.legalName", b.LegalName == "")
	add("businessInfo.country", b.Country == "")
	add("businessInfo.registrationNumber", b.RegistrationNumber == "")
	add("businessInfo.incorporatedOn", b.IncorporatedOn == "")
	add("businessInfo.entityType", b.EntityType == "")
	add("businessInfo.taxId", !b.HasTaxID)
	add("businessInfo.countriesOfOperation", len(b.CountriesOfOperation) == 0)
	add("address", pr.Address == nil)
	return out
}

// customerInput turns the details into the update they make, refusing any field that is on
// file already or does not belong to the customer's type. It returns nil when nothing was sent.
func (d *KycLinkDetails) customerInput(c *Customer) (*CustomerInput, error) {
	fillable := KycFillable(c)
	var fe FieldErrors
	in := &CustomerInput{}
	sent := false
	// takeAs copies v to dst when the fillable field named by key is missing; field is the name
	// an error reports.
	takeAs := func(key, field string, v *string, dst **string) {
		if v == nil {
			return
		}
		if !slices.Contains(fillable, key) {
			fe.Add(field, "is already on file and cannot be changed here")
			return
		}
		*dst, sent = v, true
	}
	take := func(field string, v *string, dst **string) { takeAs(field, field, v, dst) }
	if c.Type == Individual {
		take("fullName", d.FullName, &in.FullName)
		take("birthDate", d.BirthDate, &in.BirthDate)
		take("nationality", d.Nationality, &in.Nationality)
		takeAs("identifier", "idType", d.IDType, &in.IDType)
		take("identifier", d.Identifier, &in.Identifier)
		if d.Business != nil {
			fe.Add("businessInfo", "belongs to business customers only")
		}
	} else {
		for _, f := range []struct {
			field string
			v     *string
		}{{"fullName", d.FullName}, {"birthDate", d.BirthDate}, {"nationality", d.Nationality}, {"idType", d.IDType}, {"identifier", d.Identifier}} {
			if f.v != nil {
				fe.Add(f.field, "belongs to individual customers only")
			}
		}
		if b := d.Business; b != nil {
			bi := &BusinessInput{}
			take("businessInfo.legalName", b.LegalName, &bi.LegalName)
			take("businessInfo.country", b.Country, &bi.Country)
			take("businessInfo.registrationNumber", b.RegistrationNumber, &bi.RegistrationNumber)
			take("businessInfo.incorporatedOn", b.IncorporatedOn, &bi.IncorporatedOn)
			take("businessInfo.entityType", b.EntityType, &bi.EntityType)
			take("businessInfo.taxId", b.TaxID, &bi.TaxID)
			if b.CountriesOfOperation != nil {
				if slices.Contains(fillable, "businessInfo.countriesOfOperation") {
					bi.CountriesOfOperation, sent = b.CountriesOfOperation, true
				} else {
					fe.Add("businessInfo.countriesOfOperation", "is already on file and cannot be changed here")
				}
			}
			if *bi != (BusinessInput{}) {
				in.Business = bi
			}
		}
	}
	if d.Address != nil {
		if slices.Contains(fillable, "address") {
			in.Address, sent = d.Address, true
		} else {
			fe.Add("address", "is already on file and cannot be changed here")
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	if !sent {
		return nil, nil
	}
	typ := string(c.Type)
	in.CustomerType = &typ
	return in, nil
}

// KycLinkFill stores the details the customer filled in through the hosted flow, with the same
// rules as PATCH /customers/{customerId}. Only missing fields may be sent (400 otherwise).
func (s *Service) KycLinkFill(ctx context.Context, sess *KycSession, d *KycLinkDetails) error {
	if err := sess.checkForm(); err != nil {
		return err
	}
	in, err := d.customerInput(sess.Customer)
	if err != nil || in == nil {
		return err
	}
	c, err := s.UpdateCustomer(ctx, sess.principal, sess.Customer.ID, in)
	if err != nil {
		return err
	}
	sess.Customer = c
	return nil
}

// KycLinkAddOwner adds a beneficial owner to the session's business customer, with the same
// rules as POST /beneficial-owners. The owner always belongs to the link's customer.
func (s *Service) KycLinkAddOwner(ctx context.Context, sess *KycSession, in *OwnerInput) (*BeneficialOwner, error) {
	if err := sess.checkForm(); err != nil {
		return nil, err
	}
	if sess.Customer.Type != Business {
		return nil, InvalidInput(FieldError{Field: "customerId", Message: "must be a BUSINESS customer: only businesses have beneficial owners"})
	}
	v := *in
	id := sess.Customer.ID
	v.CustomerID = &id
	o, err := s.CreateBeneficialOwner(ctx, sess.principal, &v)
	if err != nil {
		return nil, err
	}
	sess.Owners = append(sess.Owners, o)
	return o, nil
}

// KycLinkUpload stores a document of the session's customer or of one of its beneficial
// owners, with the same checks as POST /documents. Any other holder is 400.
func (s *Service) KycLinkUpload(ctx context.Context, sess *KycSession, in *DocumentInput) (*Document, error) {
	if err := sess.checkForm(); err != nil {
		return nil, err
	}
	holder := ""
	if in.HolderID != nil {
		holder = strings.TrimSpace(*in.HolderID)
	}
	ok := holder == sess.Customer.ID || slices.ContainsFunc(sess.Owners, func(o *BeneficialOwner) bool { return o.ID == holder })
	if !ok {
		return nil, InvalidInput(FieldError{Field: "documentHolder", Message: "must be the customer or one of its beneficial owners"})
	}
	d, err := s.UploadDocument(ctx, sess.principal, in)
	if err != nil {
		return nil, err
	}
	sess.Documents = append(sess.Documents, d)
	return d, nil
}

// SubmitKycLink submits the session's customer for verification exactly as POST /verifications
// does, and consumes the link in the same transaction unless the verification is
// RESOLVE_ERRORS (the customer fixes what is listed and submits again through the same link).
// A link used or expired meanwhile is 410 and the submission is undone.
func (s *Service) SubmitKycLink(ctx context.Context, sess *KycSession) (*Verification, error) {
	if err := sess.checkForm(); err != nil {
		return nil, err
	}
	var consumedAt time.Time
	v, err := s.submitVerification(ctx, sess.principal, sess.Customer.ID, func(tx Tx, v *Verification) error {
		l, err := tx.GetKycLinkByTokenHash(ctx, sess.Link.TokenHash)
		if err != nil {
			return err
		}
		now := s.Now()
		if err := kycLinkUsable(l, now); err != nil {
			return err
		}
		if v.Status == VerificationResolveErrors {
			return nil
		}
		err = tx.ConsumeKycLink(ctx, l.PlatformID, l.ID, now, v.ID)
		if errors.Is(err, ErrNotFound) {
			return Errorf(410, CodeKycLinkUsed, "this verification link was already used")
		}
		consumedAt = now
		return err
	})
	if err != nil {
		return nil, err
	}
	if !consumedAt.IsZero() {
		sess.Link.ConsumedAt, sess.Link.VerificationID = &consumedAt, v.ID
	}
	return v, nil
}

// Value sets the hosted flow offers in its forms.

// IndividualIDTypes are the identification types of an individual customer.
func IndividualIDTypes() []string { return slices.Clone(enumIndividualIDType) }

// OwnerIDTypes are the identification types of a beneficial owner.
func OwnerIDTypes() []string { return slices.Clone(enumIDType) }

// EntityTypes are the legal entity types of a business.
func EntityTypes() []string { return slices.Clone(enumEntityType) }

// OwnerRoles are the roles a beneficial owner may hold.
func OwnerRoles() []string { return slices.Clone(enumOwnerRole) }
