package grid

import (
	"context"
	"time"
)

// Store is the storage contract the service consumes. Implementations only read, write and
// translate driver errors: ErrNotFound for a missing row, *DuplicateError for a broken unique
// rule, ErrRetry when the database asks for the transaction to be run again. Every read is
// scoped to a platform where the row belongs to one.
type Store interface {
	Reader
	Outbox
	// WithTx runs fn in one transaction; it commits when fn returns nil and rolls back
	// otherwise. A commit that returns nil is durable.
	WithTx(ctx context.Context, fn func(Tx) error) error
	// Close releases the store's connections.
	Close() error
}

// Reader is the read side of the store, available inside and outside transactions.
type Reader interface {
	// GetPlatform returns a platform by id, or ErrNotFound.
	GetPlatform(ctx context.Context, id string) (*Platform, error)
	// ListPlatforms returns every platform, oldest first.
	ListPlatforms(ctx context.Context) ([]*Platform, error)
	// TokenByClientID returns the token with that client id, or ErrNotFound.
	TokenByClientID(ctx context.Context, clientID string) (*Token, error)
	// GetToken returns a platform's token by id, or ErrNotFound.
	GetToken(ctx context.Context, platformID, id string) (*Token, error)
	// ListTokens returns one page of a platform's tokens.
	ListTokens(ctx context.Context, platformID string, f TokenFilter) (TokenPage, error)
	// GetCustomer returns a platform's customer by id (deleted ones too), or ErrNotFound.
	GetCustomer(ctx context.Context, platformID, id string) (*Customer, error)
	// ListCustomers returns one page of a platform's customers in id order.
	ListCustomers(ctx context.Context, platformID string, f CustomerFilter) (CustomerPage, error)
	// ListStatusChanges returns a customer's verification history, oldest first.
	ListStatusChanges(ctx context.Context, platformID, customerID string) ([]StatusChange, error)
	// GetMeta returns a server-wide value by key, or ErrNotFound.
	GetMeta(ctx context.Context, key string) ([]byte, error)
	// GetIdempotencyKey returns a platform's Idempotency-Key row, expired or not, or
	// ErrNotFound.
	GetIdempotencyKey(ctx context.Context, platformID, key string) (*IdempotencyRecord, error)
	// GetBeneficialOwner returns a platform's beneficial owner, or ErrNotFound.
	GetBeneficialOwner(ctx context.Context, platformID, id string) (*BeneficialOwner, error)
	// ListBeneficialOwners returns one page of a platform's beneficial owners in id order.
	ListBeneficialOwners(ctx context.Context, platformID string, f OwnerFilter) (OwnerPage, error)
	// GetDocument returns a platform's document without its file, or ErrNotFound.
	GetDocument(ctx context.Context, platformID, id string) (*Document, error)
	// GetDocumentContent returns the stored (sealed) file of a platform's document, or
	// ErrNotFound.
	GetDocumentContent(ctx context.Context, platformID, id string) ([]byte, error)
	// ListDocuments returns one page of a platform's documents in id order, without files.
	ListDocuments(ctx context.Context, platformID string, f DocumentFilter) (DocumentPage, error)
	// GetVerification returns a platform's verification, or ErrNotFound.
	GetVerification(ctx context.Context, platformID, id string) (*Verification, error)
	// ListVerifications returns one page of a platform's verifications in id order.
	ListVerifications(ctx context.Context, platformID string, f VerificationFilter) (VerificationPage, error)
	// ListInternalAccounts returns one page of a platform's internal accounts in id order.
	ListInternalAccounts(ctx context.Context, platformID string, f InternalAccountFilter) (InternalAccountPage, error)
	// GetBulkJob returns a platform's bulk import job (without Errors), or ErrNotFound.
	GetBulkJob(ctx context.Context, platformID, id string) (*BulkJob, error)
	// ListBulkJobErrors returns up to limit row errors of a job, in row order.
	ListBulkJobErrors(ctx context.Context, jobID string, limit int) ([]BulkRowError, error)
	// ListClaimableBulkJobs returns up to limit jobs of any platform that are PENDING or
	// PROCESSING with a lease that ended before now, oldest first.
	ListClaimableBulkJobs(ctx context.Context, now time.Time, limit int) ([]*BulkJob, error)
	// GetBulkChunk returns piece seq of a job's stored file, or ErrNotFound.
	GetBulkChunk(ctx context.Context, jobID string, seq int) ([]byte, error)
	// GetContactCode returns the verification code state of one channel of a platform's
	// customer, or ErrNotFound when no code was ever sent to it.
	GetContactCode(ctx context.Context, platformID, customerID, channel string) (*ContactCode, error)
	// GetKycLinkByTokenHash returns the hosted KYC link whose token hashes to hash, whatever
	// its platform (the token is the credential), or ErrNotFound.
	GetKycLinkByTokenHash(ctx context.Context, hash []byte) (*KycLink, error)
}

// Outbox is the delivery side of the webhook outbox (see Event). Each method runs in a short
// transaction of its own, outside WithTx, so that several nodes can share the work: an event is
// leased to one node at a time, and a lease that runs out lets another node take it.
type Outbox interface {
	// ClaimEvents leases to c.Owner, until c.LeaseUntil, up to c.Limit of c.PlatformID's events
	// that are pending, due at c.Now, not leased at c.Now, and not preceded by a pending event of
	// their OrderKey; it returns them, at most one per OrderKey. Two concurrent claims never
	// return the same event. ErrRetry when the database asks for the claim to be run again.
	ClaimEvents(ctx context.Context, c EventClaim) ([]*EventDelivery, error)
	// FinishDelivery records o.Attempt (when set) and moves the event to o.State, provided
	// o.Owner still holds the lease o.LeaseUntil that its claim set; otherwise the attempt is
	// still recorded and the event is left alone, and it returns ErrNotFound.
	FinishDelivery(ctx context.Context, o DeliveryOutcome) error
	// SkipEvents marks UNDELIVERABLE the pending, unleased (at now) events of a platform created
	// before createdBefore, provided the platform has no webhook endpoint when it runs; it
	// returns how many it marked.
	SkipEvents(ctx context.Context, platformID string, createdBefore, now time.Time) (int64, error)
	// RescheduleEvent makes a platform's event pending again, due at, with a fresh retry
	// window starting at, or returns ErrNotFound.
	RescheduleEvent(ctx context.Context, platformID, id string, at time.Time) error
	// GetEvent returns a platform's event with its delivery state, or ErrNotFound.
	GetEvent(ctx context.Context, platformID, id string) (*EventDelivery, error)
	// ListEvents returns one page of a platform's events, newest first.
	ListEvents(ctx context.Context, platformID string, f EventFilter) (EventPage, error)
	// ListDeliveryAttempts returns the delivery attempts of a platform's event, oldest first
	// (none for an unknown event).
	ListDeliveryAttempts(ctx context.Context, platformID, eventID string) ([]DeliveryAttempt, error)
}

// Tx is one transaction: reads see its own writes. GetCustomer inside a transaction holds the
// customer's row against concurrent changes until the transaction ends, so that no
// read-check-write of a customer acts on a stale read (PostgreSQL locks the row; SQLite runs
// one writer at a time).
type Tx interface {
	Reader
	// InsertPlatform adds a platform.
	InsertPlatform(ctx context.Context, p *Platform) error
	// UpdatePlatform replaces a platform's settings.
	UpdatePlatform(ctx context.Context, p *Platform) error
	// InsertToken adds a token; *DuplicateError{KeyTokenClientID} when the client id is taken.
	InsertToken(ctx context.Context, t *Token) error
	// DeleteToken removes a platform's token, or returns ErrNotFound.
	DeleteToken(ctx context.Context, platformID, id string) error
	// InsertCustomer adds a customer; *DuplicateError{KeyPlatformCustomerID|KeyUMAAddress}
	// when an active customer of the platform already holds that key.
	InsertCustomer(ctx context.Context, c *Customer) error
	// UpdateCustomer replaces a customer's row; same duplicate rules as InsertCustomer.
	UpdateCustomer(ctx context.Context, c *Customer) error
	// InsertStatusChange appends to a customer's verification history.
	InsertStatusChange(ctx context.Context, s *StatusChange) error
	// InsertEvent adds a webhook to the outbox.
	InsertEvent(ctx context.Context, e *Event) error
	// PutMetaIfAbsent stores a server-wide value unless the key exists, and returns the value
	// that is stored afterwards.
	PutMetaIfAbsent(ctx context.Context, key string, value []byte) ([]byte, error)
	// PutMeta stores a server-wide value, replacing any previous one.
	PutMeta(ctx context.Context, key string, value []byte) error
	// InsertIdempotencyKey adds an Idempotency-Key row (normally pending);
	// *DuplicateError{KeyIdempotency} when the platform already has a row for that key. The
	// failed insert leaves the transaction usable.
	InsertIdempotencyKey(ctx context.Context, r *IdempotencyRecord) error
	// ReclaimIdempotencyKey overwrites the row of (r.PlatformID, r.Key) with r only if it still
	// has prev's state and claimed_at (compare-and-set), or returns ErrNotFound.
	ReclaimIdempotencyKey(ctx context.Context, r, prev *IdempotencyRecord) error
	// CompleteIdempotencyKey records the response of a pending row claimed at claimedAt and
	// marks it done, or returns ErrNotFound when no such pending claim exists.
	CompleteIdempotencyKey(ctx context.Context, platformID, key string, claimedAt time.Time, status int, contentType string, body []byte) error
	// DeleteIdempotencyKey removes a pending row claimed at claimedAt, or returns ErrNotFound
	// when no such pending claim exists.
	DeleteIdempotencyKey(ctx context.Context, platformID, key string, claimedAt time.Time) error
	// DeleteIdempotencyKeysBefore removes every Idempotency-Key row created before t and
	// returns how many it removed.
	DeleteIdempotencyKeysBefore(ctx context.Context, t time.Time) (int64, error)
	// InsertBeneficialOwner adds a beneficial owner.
	InsertBeneficialOwner(ctx context.Context, o *BeneficialOwner) error
	// UpdateBeneficialOwner replaces a platform's beneficial owner, or returns ErrNotFound.
	UpdateBeneficialOwner(ctx context.Context, o *BeneficialOwner) error
	// InsertDocument adds a document with its (sealed) file.
	InsertDocument(ctx context.Context, d *Document, content []byte) error
	// UpdateDocument replaces a platform's document, and its file unless content is nil, or
	// returns ErrNotFound.
	UpdateDocument(ctx context.Context, d *Document, content []byte) error
	// DeleteDocument removes a platform's document with its file, or returns ErrNotFound.
	DeleteDocument(ctx context.Context, platformID, id string) error
	// InsertVerification adds a verification.
	InsertVerification(ctx context.Context, v *Verification) error
	// UpdateVerification replaces a platform's verification, or returns ErrNotFound.
	UpdateVerification(ctx context.Context, v *Verification) error
	// InsertInternalAccount adds an internal account; *DuplicateError{KeyInternalAccount} when
	// the customer already has one in that currency.
	InsertInternalAccount(ctx context.Context, a *InternalAccount) error
	// UpdateInternalAccount replaces a platform's internal account, or returns ErrNotFound.
	UpdateInternalAccount(ctx context.Context, a *InternalAccount) error
	// InsertCustomerIfAbsent adds a customer like InsertCustomer, but a taken key returns
	// *DuplicateError{KeyPlatformCustomerID|KeyUMAAddress} with the transaction still usable
	// and nothing written.
	InsertCustomerIfAbsent(ctx context.Context, c *Customer) error
	// InsertBulkJob adds a bulk import job.
	InsertBulkJob(ctx context.Context, j *BulkJob) error
	// UpdateBulkJob replaces a job's row with j if the stored version is still prevVersion
	// (compare-and-set), or returns ErrNotFound.
	UpdateBulkJob(ctx context.Context, j *BulkJob, prevVersion int64) error
	// DeleteBulkJob removes a platform's job with its chunks and errors, or returns
	// ErrNotFound.
	DeleteBulkJob(ctx context.Context, platformID, id string) error
	// DeleteStaleBulkUploads removes every UPLOADING job last updated before t, with its
	// chunks, and returns how many jobs it removed.
	DeleteStaleBulkUploads(ctx context.Context, t time.Time) (int64, error)
	// InsertBulkChunk stores piece seq of a job's file.
	InsertBulkChunk(ctx context.Context, jobID string, seq int, data []byte) error
	// DeleteBulkChunks removes a job's stored file.
	DeleteBulkChunks(ctx context.Context, jobID string) error
	// InsertBulkJobError records why a row of a job failed.
	InsertBulkJobError(ctx context.Context, jobID string, e *BulkRowError) error
	// SaveContactCode writes the code state of (c.CustomerID, c.Channel) if the stored row is
	// still at prevVersion (0: no row may exist yet), compare-and-set; otherwise it returns
	// ErrNotFound and writes nothing.
	SaveContactCode(ctx context.Context, c *ContactCode, prevVersion int64) error
	// InsertKycLink adds a hosted KYC link.
	InsertKycLink(ctx context.Context, l *KycLink) error
	// ConsumeKycLink marks a platform's hosted KYC link consumed at at by a verification,
	// provided it is not consumed yet (compare-and-set); otherwise it returns ErrNotFound and
	// writes nothing.
	ConsumeKycLink(ctx context.Context, platformID, id string, at time.Time, verificationID string) error
}

// Page limits shared by list operations.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// TimeRange bounds a timestamp, both ends inclusive; zero means unbounded.
type TimeRange struct {
	After  time.Time
	Before time.Time
}

// CustomerFilter selects customers for a list.
type CustomerFilter struct {
	PlatformCustomerID string
	Type               CustomerType
	Region             string
	Currency           string
	UMAAddress         string
	Created            TimeRange
	Updated            TimeRange
	IncludeDeleted     bool
	// AfterID is the keyset position: only ids greater than it are returned.
	AfterID string
	Limit   int
	// SkipCount leaves CustomerPage.TotalCount at -1. Later pages of a list set it: counting
	// every matching row is the one part of a list whose cost grows with the data.
	SkipCount bool
}

// CustomerPage is one page of customers.
type CustomerPage struct {
	Customers  []*Customer
	HasMore    bool
	TotalCount int
}

// TokenFilter selects tokens for a list.
type TokenFilter struct {
	Name    string
	Created TimeRange
	Updated TimeRange
	AfterID string
	Limit   int
}

// TokenPage is one page of tokens.
type TokenPage struct {
	Tokens     []*Token
	HasMore    bool
	TotalCount int
}
