package grid

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"path"
	"slices"
	"strings"
	"time"
)

// MaxDocumentSize is the largest document file accepted, in bytes (10 MiB).
const MaxDocumentSize = 10 << 20

// Document is a verification document of a customer or of a beneficial owner. Its file is
// stored sealed in the database, apart from this description, and is never returned by the API.
type Document struct {
	ID         string // Document:<UUIDv7>
	PlatformID string
	// HolderID is the Customer or BeneficialOwner the document belongs to.
	HolderID string
	// CustomerID is the customer the holder is or belongs to.
	CustomerID       string
	Type             string
	Side             string
	Country          string
	Number           string
	IssuingAuthority string
	FileName         string
	// ContentType is the file's type as its bytes show it: image/jpeg, image/png or
	// application/pdf.
	ContentType string
	Size        int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// DocumentInput is the body of a document upload or replacement. A nil field was not sent.
type DocumentInput struct {
	HolderID         *string
	Type             *string
	Side             *string
	Country          *string
	Number           *string
	IssuingAuthority *string
	// File is the uploaded file, nil when none was sent.
	File *DocumentFile
}

// DocumentFile is an uploaded file as received.
type DocumentFile struct {
	Name string
	// DeclaredType is the Content-Type the client gave the file part ("" when none).
	DeclaredType string
	Data         []byte
}

// DocumentFilter selects documents for a list.
type DocumentFilter struct {
	HolderID   string
	CustomerID string
	AfterID    string
	Limit      int
}

// DocumentPage is one page of documents.
type DocumentPage struct {
	Documents  []*Document
	HasMore    bool
	TotalCount int
}

// The document types and sides of the API.
var (
	enumDocumentType = []string{"PASSPORT", "DRIVERS_LICENSE", "NATIONAL_ID", "PROOF_OF_ADDRESS", "BANK_STATEMENT", "TAX_RETURN",
		"CERTIFICATE_OF_INCORPORATION", "ARTICLES_OF_INCORPORATION", "ARTICLES_OF_ASSOCIATION", "STATE_REGISTRY_EXCERPT",
		"GOOD_STANDING_CERTIFICATE", "INFORMATION_STATEMENT", "INCUMBENCY_CERTIFICATE", "BUSINESS_LICENSE", "SHAREHOLDER_REGISTER",
		"POWER_OF_ATTORNEY", "UTILITY_BILL", "ELECTRICITY_BILL", "RENT_OR_LEASE_AGREEMENT", "DIRECTOR_REGISTRY", "TRUST_AGREEMENT",
		"STATE_COMPANY_REGISTRY", "PARTNERSHIP_CONTROL_AGREEMENT", "PARTNERSHIP_AGREEMENT", "SELFIE", "OTHER"}
	enumDocumentSide = []string{"FRONT", "BACK"}
)

// The document types that satisfy each document requirement of a verification, in the order
// a verification error lists them as acceptedDocumentTypes.
var (
	// IdentityDocumentTypes prove a person's identity.
	IdentityDocumentTypes = []string{"PASSPORT", "DRIVERS_LICENSE", "NATIONAL_ID"}
	// LegalPresenceDocumentTypes prove that a business was formed and exists.
	LegalPresenceDocumentTypes = []string{"CERTIFICATE_OF_INCORPORATION", "ARTICLES_OF_INCORPORATION", "ARTICLES_OF_ASSOCIATION", "STATE_REGISTRY_EXCERPT"}
	// OwnershipDocumentTypes show who owns a business.
	OwnershipDocumentTypes = []string{"SHAREHOLDER_REGISTER", "TRUST_AGREEMENT", "PARTNERSHIP_AGREEMENT"}
	// ProofOfAddressTypes show where a business is.
	ProofOfAddressTypes = []string{"PROOF_OF_ADDRESS", "UTILITY_BILL", "RENT_OR_LEASE_AGREEMENT", "ELECTRICITY_BILL", "BANK_STATEMENT", "TAX_RETURN"}
)

// Accepted file types, told by their first bytes; a declared type or a file name extension
// that contradicts the bytes is refused.
var fileSignatures = []struct {
	contentType string
	magic       []byte
	extensions  []string
}{
	{"image/jpeg", []byte{0xFF, 0xD8, 0xFF}, []string{".jpg", ".jpeg"}},
	{"image/png", []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, []string{".png"}},
	{"application/pdf", []byte("%PDF-"), []string{".pdf"}},
}

// SniffDocument returns the content type of an accepted document file, judged by its bytes,
// or "" when the bytes are not a JPEG, PNG or PDF file.
func SniffDocument(data []byte) string {
	for _, sig := range fileSignatures {
		if bytes.HasPrefix(data, sig.magic) {
			return sig.contentType
		}
	}
	return ""
}

// checkFile records what is wrong with an uploaded file and returns its content type.
func checkFile(fe *FieldErrors, f *DocumentFile) string {
	if len(f.Data) == 0 {
		fe.Add("file", "is empty")
		return ""
	}
	ct := SniffDocument(f.Data)
	if ct == "" {
		fe.Add("file", "must be a PDF, JPEG or PNG file; its content is none of these")
		return ""
	}
	if f.DeclaredType != "" {
		mt, _, err := mime.ParseMediaType(f.DeclaredType)
		if mt == "image/jpg" || mt == "image/pjpeg" {
			mt = "image/jpeg"
		}
		if err != nil || (mt != ct && mt != "application/octet-stream") {
			fe.Add("file", "is declared as %s but its content is %s", f.DeclaredType, ct)
			return ""
		}
	}
	ext := strings.ToLower(path.Ext(f.Name))
	for _, sig := range fileSignatures {
		if slices.Contains(sig.extensions, ext) && sig.contentType != ct {
			fe.Add("file", "is named %s but its content is %s", f.Name, ct)
			return ""
		}
	}
	return ct
}

// validate checks the metadata of an upload or replacement; replacing keeps the holder.
func (in *DocumentInput) validate(fe *FieldErrors) {
	if in.Type == nil {
		fe.Add("documentType", "is required")
	} else {
		checkEnum(fe, "documentType", in.Type, enumDocumentType)
	}
	if in.Country == nil {
		fe.Add("country", "is required")
	} else {
		checkCountry(fe, "country", in.Country)
	}
	checkEnum(fe, "side", in.Side, enumDocumentSide)
	checkText(fe, "documentNumber", in.Number, 100)
	checkText(fe, "issuingAuthority", in.IssuingAuthority, 200)
	if in.File != nil && len(in.File.Name) > 255 {
		fe.Add("file", "its file name must be at most 255 characters")
	}
}

// apply copies the metadata onto the document: a replacement sets every field anew.
func (in *DocumentInput) apply(d *Document) {
	d.Type, d.Country = *in.Type, *in.Country
	d.Side, d.Number, d.IssuingAuthority = "", "", ""
	setStr(&d.Side, in.Side)
	setStr(&d.Number, in.Number)
	setStr(&d.IssuingAuthority, in.IssuingAuthority)
}

// fileName is the name a document keeps for an uploaded file.
func fileName(f *DocumentFile, ct string) string {
	name := path.Base(strings.ReplaceAll(strings.TrimSpace(f.Name), `\`, "/"))
	if name == "." || name == "/" || name == "" {
		for _, sig := range fileSignatures {
			if sig.contentType == ct {
				return "document" + sig.extensions[0]
			}
		}
	}
	return name
}

// UploadDocument stores a verification document for a customer or one of its beneficial owners.
// It needs MANAGE. The file must be a JPEG, PNG or PDF by its content, at most MaxDocumentSize
// bytes; it is stored sealed.
func (s *Service) UploadDocument(ctx context.Context, p *Principal, in *DocumentInput) (*Document, error) {
	if err := p.Require(PermManage); err != nil {
		return nil, err
	}
	var fe FieldErrors
	if in.HolderID == nil || strings.TrimSpace(*in.HolderID) == "" {
		fe.Add("documentHolder", "is required")
	}
	in.validate(&fe)
	ct := ""
	if in.File == nil {
		fe.Add("file", "is required")
	} else {
		ct = checkFile(&fe, in.File)
	}
	if err := sortFieldErrors(fe).Err(); err != nil {
		return nil, err
	}
	if len(in.File.Data) > MaxDocumentSize {
		return nil, documentTooLarge()
	}
	sealed, err := s.sealer.Seal(in.File.Data)
	if err != nil {
		return nil, fmt.Errorf("seal document: %w", err)
	}
	now := s.Now()
	d := &Document{
		ID: NewID("Document"), PlatformID: p.Platform.ID, HolderID: strings.TrimSpace(*in.HolderID),
		FileName: fileName(in.File, ct), ContentType: ct, Size: int64(len(in.File.Data)), CreatedAt: now, UpdatedAt: now,
	}
	in.apply(d)
	err = s.tx(ctx, func(tx Tx) error {
		customerID, err := s.documentHolder(ctx, tx, p, d.HolderID)
		if err != nil {
			return err
		}
		d.CustomerID = customerID
		return tx.InsertDocument(ctx, d, sealed)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// ReplaceDocument replaces a document's description and, when a file is sent, its file. It
// needs MANAGE. The holder cannot change.
func (s *Service) ReplaceDocument(ctx context.Context, p *Principal, id string, in *DocumentInput) (*Document, error) {
	if err := p.Require(PermManage); err != nil {
		return nil, err
	}
	var fe FieldErrors
	in.validate(&fe)
	ct := ""
	if in.File != nil {
		ct = checkFile(&fe, in.File)
	}
	if err := sortFieldErrors(fe).Err(); err != nil {
		return nil, err
	}
	var sealed []byte
	if in.File != nil {
		if len(in.File.Data) > MaxDocumentSize {
			return nil, documentTooLarge()
		}
		var err error
		if sealed, err = s.sealer.Seal(in.File.Data); err != nil {
			return nil, fmt.Errorf("seal document: %w", err)
		}
	}
	var out *Document
	err := s.tx(ctx, func(tx Tx) error {
		d, err := s.document(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if in.HolderID != nil && strings.TrimSpace(*in.HolderID) != d.HolderID {
			return InvalidInput(FieldError{Field: "documentHolder", Message: "cannot be changed: the document belongs to " + d.HolderID})
		}
		if _, err := s.documentHolder(ctx, tx, p, d.HolderID); err != nil {
			return err
		}
		in.apply(d)
		if in.File != nil {
			d.FileName, d.ContentType, d.Size = fileName(in.File, ct), ct, int64(len(in.File.Data))
		}
		d.UpdatedAt = s.Now()
		out = d
		return tx.UpdateDocument(ctx, d, sealed)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// GetDocument returns the description of one of the caller's platform's documents. It needs
// VIEW.
func (s *Service) GetDocument(ctx context.Context, p *Principal, id string) (*Document, error) {
	if err := p.Require(PermView); err != nil {
		return nil, err
	}
	return s.document(ctx, s.store, p, id)
}

// DocumentFileContent returns the bytes of a document's file, opened. It needs VIEW.
func (s *Service) DocumentFileContent(ctx context.Context, p *Principal, id string) (*Document, []byte, error) {
	d, err := s.GetDocument(ctx, p, id)
	if err != nil {
		return nil, nil, err
	}
	sealed, err := s.store.GetDocumentContent(ctx, p.Platform.ID, id)
	if err != nil {
		return nil, nil, err
	}
	data, err := s.sealer.Open(sealed)
	if err != nil {
		return nil, nil, fmt.Errorf("open document %s: %w", id, err)
	}
	return d, data, nil
}

// ListDocuments returns one page of the caller's platform's documents in id order, those of
// one holder when HolderID is set. It needs VIEW.
func (s *Service) ListDocuments(ctx context.Context, p *Principal, f DocumentFilter) (DocumentPage, error) {
	if err := p.Require(PermView); err != nil {
		return DocumentPage{}, err
	}
	f.Limit = clampPageSize(f.Limit)
	return s.store.ListDocuments(ctx, p.Platform.ID, f)
}

// DeleteDocument removes a document and its file. It needs MANAGE. A document cannot be
// deleted while its customer is under review or once the customer has been decided: it is part
// of the record of that decision (409).
func (s *Service) DeleteDocument(ctx context.Context, p *Principal, id string) error {
	if err := p.Require(PermManage); err != nil {
		return err
	}
	return s.tx(ctx, func(tx Tx) error {
		d, err := s.document(ctx, tx, p, id)
		if err != nil {
			return err
		}
		c, err := tx.GetCustomer(ctx, p.Platform.ID, d.CustomerID)
		if err != nil {
			return err
		}
		if c.Status == StatusApproved || c.Status == StatusRejected {
			return Errorf(409, CodeConflict, "document %s is part of the record of a decided verification (%s is %s) and cannot be deleted", d.ID, statusField(c.Type), c.Status)
		}
		open, err := s.openReview(ctx, tx, c)
		if err != nil {
			return err
		}
		if open != nil {
			return Errorf(409, CodeConflict, "document %s cannot be deleted while verification %s is under review", d.ID, open.ID)
		}
		return tx.DeleteDocument(ctx, p.Platform.ID, d.ID)
	})
}

// document reads one of the caller's platform's documents and answers 404 for an unknown id.
func (s *Service) document(ctx context.Context, r Reader, p *Principal, id string) (*Document, error) {
	d, err := r.GetDocument(ctx, p.Platform.ID, id)
	if errors.Is(err, ErrNotFound) {
		return nil, NotFound(CodeReferenceNotFound, "document "+id)
	}
	return d, err
}

// documentHolder checks that a holder id names one of the platform's customers or beneficial
// owners, not deleted, and returns the customer it is or belongs to.
func (s *Service) documentHolder(ctx context.Context, r Reader, p *Principal, holderID string) (string, error) {
	customerID := holderID
	if strings.HasPrefix(holderID, "BeneficialOwner:") {
		o, err := r.GetBeneficialOwner(ctx, p.Platform.ID, holderID)
		if errors.Is(err, ErrNotFound) {
			return "", NotFound(CodeReferenceNotFound, "document holder "+holderID)
		}
		if err != nil {
			return "", err
		}
		customerID = o.CustomerID
	}
	c, err := r.GetCustomer(ctx, p.Platform.ID, customerID)
	if errors.Is(err, ErrNotFound) {
		return "", NotFound(CodeUserNotFound, "document holder "+holderID)
	}
	if err != nil {
		return "", err
	}
	if c.Deleted() {
		return "", customerDeleted(c.ID)
	}
	return c.ID, nil
}

func documentTooLarge() *Error {
	return &Error{Status: 413, Code: CodePayloadTooLarge, Message: fmt.Sprintf("the document file is larger than %d bytes (10 MiB)", MaxDocumentSize),
		Fields: []FieldError{{Field: "file", Message: "must be at most 10 MiB"}}}
}
