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
}

// Tx is one transaction: reads see its own writes.
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
