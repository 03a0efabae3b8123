package grid

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Sealer encrypts and decrypts write-only values before they reach the store.
type Sealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(ciphertext []byte) ([]byte, error)
}

// Service carries out every operation of the API: it validates, authorises, assigns ids and
// timestamps, applies verification rules and writes through the Store in one transaction per
// change.
type Service struct {
	store  Store
	sealer Sealer
	now    func() time.Time
	render Renderer
	// idem holds the Idempotency-Key timings; zero fields mean the defaults.
	idem IdempotencyPolicy
	// contact holds the sender and limits of contact verification codes.
	contact contactSettings
	// auth caches recent authentications for a second.
	auth authCache
	// changes is the store's ChangeCounter, nil when it has none; cache is nil unless
	// EnableCustomerCache turned it on.
	changes ChangeCounter
	cache   *customerCache
}

// NewService returns a Service over a store. now may be nil for the wall clock.
func NewService(store Store, sealer Sealer, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{store: store, sealer: sealer, now: now}
	if cc, ok := store.(ChangeCounted); ok {
		s.changes = cc.CustomerChanges()
	}
	return s
}

// Store returns the service's store, for operator commands and tests.
func (s *Service) Store() Store { return s.store }

// Now returns the service clock's current time in UTC, truncated to microseconds, the
// precision every store keeps.
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// NewID returns a fresh resource id of the form "<prefix>:<UUIDv7>".
func NewID(prefix string) string {
	return prefix + ":" + uuid.Must(uuid.NewV7()).String()
}

// tx runs fn in a transaction, retrying a few times when the store asks for it. On a store
// with a ChangeCounter, the customers the transaction changed are announced before it returns
// (customersChanged).
func (s *Service) tx(ctx context.Context, fn func(Tx) error) error {
	if s.changes != nil {
		var changed []string
		inner := fn
		fn = func(tx Tx) error { return inner(changeTx{Tx: tx, changed: &changed}) }
		defer func() {
			if len(changed) > 0 {
				s.customersChanged(changed)
			}
		}()
	}
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		err = s.store.WithTx(ctx, fn)
		if !errors.Is(err, ErrRetry) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return err
}

// Principal is an authenticated caller: a token and the platform it belongs to.
type Principal struct {
	Token    *Token
	Platform *Platform
}

// Require returns a 403 error unless the caller's token has the permission.
func (p *Principal) Require(perm Permission) error {
	if p.Token.Has(perm) {
		return nil
	}
	return Forbidden(perm)
}

// HashSecret returns the stored form of a token secret.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// Authenticate checks HTTP Basic credentials (the token's client id and secret) and returns
// the caller.
func (s *Service) Authenticate(ctx context.Context, user, secret string) (*Principal, error) {
	if user == "" || secret == "" {
		return nil, ErrUnauthorized
	}
	now := time.Now()
	if p, ok := s.auth.get(user, secret, now); ok {
		return p, nil
	}
	tok, err := s.store.TokenByClientID(ctx, user)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUnauthorized
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if subtle.ConstantTimeCompare(tok.SecretHash, HashSecret(secret)) != 1 {
		return nil, ErrUnauthorized
	}
	p, err := s.store.GetPlatform(ctx, tok.PlatformID)
	if err != nil {
		return nil, fmt.Errorf("authenticate: platform of token %s: %w", tok.ID, err)
	}
	pr := &Principal{Token: tok, Platform: p}
	s.auth.put(pr, now)
	return pr, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// PlatformSpec describes a platform an operator creates.
type PlatformSpec struct {
	Name       string
	UMADomain  string
	Webhook    string
	Currencies []string
	Regulated  bool
	Sandbox    bool
	// ContactVerification lists channels ("email", "phone") customers must verify.
	ContactVerification []string
}

// DefaultCurrencies are the currencies a new platform supports unless told otherwise.
var DefaultCurrencies = []string{"USD", "EUR", "GBP", "MXN", "BRL", "CAD", "INR", "NGN", "PHP", "KES", "USDC", "USDT", "BTC"}

// CreatePlatform adds a platform and returns it. It is an operator action, outside the API.
func (s *Service) CreatePlatform(ctx context.Context, spec PlatformSpec) (*Platform, error) {
	p, err := s.newPlatform(spec)
	if err != nil {
		return nil, err
	}
	if err := s.tx(ctx, func(tx Tx) error { return tx.InsertPlatform(ctx, p) }); err != nil {
		return nil, err
	}
	return p, nil
}

// newPlatform validates a platform spec and builds the platform without storing it.
func (s *Service) newPlatform(spec PlatformSpec) (*Platform, error) {
	now := s.Now()
	p := &Platform{
		ID: NewID("PlatformConfig"), Name: spec.Name, UMADomain: strings.ToLower(spec.UMADomain),
		Webhook: spec.Webhook, Regulated: spec.Regulated, Sandbox: spec.Sandbox,
		ContactVerification: spec.ContactVerification, CreatedAt: now, UpdatedAt: now,
	}
	if p.Name == "" {
		p.Name = "platform"
	}
	if p.UMADomain == "" {
		p.UMADomain = "uma.example.com"
	}
	codes := spec.Currencies
	if len(codes) == 0 {
		codes = DefaultCurrencies
	}
	var fe FieldErrors
	if !validHostname(p.UMADomain) {
		fe.Add("umaDomain", "must be a domain name")
	}
	if p.Webhook != "" {
		if msg := checkWebhookURL(p.Webhook); msg != "" {
			fe.Add("webhookEndpoint", "%s", msg)
		}
	}
	for i, c := range codes {
		if !isCurrency(c) {
			fe.Add(fmt.Sprintf("supportedCurrencies[%d]", i), "unknown currency code %q", c)
		}
		p.Currencies = append(p.Currencies, defaultCurrencyConfig(c))
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

func defaultCurrencyConfig(code string) CurrencyConfig {
	return CurrencyConfig{
		Code: code, MinAmount: 1, MaxAmount: 100_000_000,
		RequiredCounterpartyFields: []CounterpartyField{},
		EnabledTransactionTypes:    []string{"INCOMING", "OUTGOING"},
	}
}

// NewTokenSpec describes a token to create.
type NewTokenSpec struct {
	Name        string
	Permissions []Permission
	// ClientID and Secret are set only by the bootstrap path; otherwise both are generated.
	ClientID string
	Secret   string
}

// IssueToken creates a token for a platform and returns it with its secret, which is shown
// once and never stored.
func (s *Service) IssueToken(ctx context.Context, platformID string, spec NewTokenSpec) (*Token, string, error) {
	var fe FieldErrors
	if strings.TrimSpace(spec.Name) == "" {
		fe.Add("name", "is required")
	} else if len(spec.Name) > 200 {
		fe.Add("name", "must be at most 200 characters")
	}
	if len(spec.Permissions) == 0 {
		fe.Add("permissions", "must list at least one permission")
	}
	seen := map[Permission]bool{}
	perms := make([]Permission, 0, len(spec.Permissions))
	for i, p := range spec.Permissions {
		if p != PermView && p != PermTransact && p != PermManage {
			fe.AddEnum(fmt.Sprintf("permissions[%d]", i), permStrings())
			continue
		}
		if !seen[p] {
			seen[p] = true
			perms = append(perms, p)
		}
	}
	if err := fe.Err(); err != nil {
		return nil, "", err
	}
	id := uuid.Must(uuid.NewV7())
	now := s.Now()
	t := &Token{
		ID: "Token:" + id.String(), PlatformID: platformID, Name: spec.Name,
		ClientID: hex.EncodeToString(id[:]), Permissions: perms, CreatedAt: now, UpdatedAt: now,
	}
	secret := randomHex(32)
	if spec.ClientID != "" {
		t.ClientID, secret = spec.ClientID, spec.Secret
	}
	t.SecretHash = HashSecret(secret)
	if err := s.tx(ctx, func(tx Tx) error { return tx.InsertToken(ctx, t) }); err != nil {
		var dup *DuplicateError
		if errors.As(err, &dup) {
			return nil, "", Errorf(409, CodeConflict, "a token with this client id already exists")
		}
		return nil, "", err
	}
	return t, secret, nil
}

func permStrings() []string {
	out := make([]string, len(AllPermissions))
	for i, p := range AllPermissions {
		out[i] = string(p)
	}
	return out
}

// CreateToken creates a token for the caller's platform. It needs MANAGE.
func (s *Service) CreateToken(ctx context.Context, p *Principal, name string, perms []Permission) (*Token, string, error) {
	if err := p.Require(PermManage); err != nil {
		return nil, "", err
	}
	return s.IssueToken(ctx, p.Platform.ID, NewTokenSpec{Name: name, Permissions: perms})
}

// GetToken returns one of the caller's platform's tokens. It needs VIEW.
func (s *Service) GetToken(ctx context.Context, p *Principal, id string) (*Token, error) {
	if err := p.Require(PermView); err != nil {
		return nil, err
	}
	t, err := s.store.GetToken(ctx, p.Platform.ID, id)
	if errors.Is(err, ErrNotFound) {
		return nil, NotFound(CodeTokenNotFound, "token")
	}
	return t, err
}

// ListTokens lists the caller's platform's tokens. It needs VIEW.
func (s *Service) ListTokens(ctx context.Context, p *Principal, f TokenFilter) (TokenPage, error) {
	if err := p.Require(PermView); err != nil {
		return TokenPage{}, err
	}
	return s.store.ListTokens(ctx, p.Platform.ID, f)
}

// DeleteToken revokes one of the caller's platform's tokens. It needs MANAGE.
func (s *Service) DeleteToken(ctx context.Context, p *Principal, id string) error {
	if err := p.Require(PermManage); err != nil {
		return err
	}
	return s.RevokeToken(ctx, p.Platform.ID, id)
}

// RevokeToken deletes a token of a platform; the operator path has no principal.
func (s *Service) RevokeToken(ctx context.Context, platformID, id string) error {
	err := s.tx(ctx, func(tx Tx) error { return tx.DeleteToken(ctx, platformID, id) })
	s.auth.forget(id, "")
	if errors.Is(err, ErrNotFound) {
		return NotFound(CodeTokenNotFound, "token")
	}
	return err
}

// ConfigUpdate is a partial update of a platform's configuration.
type ConfigUpdate struct {
	UMADomain  *string
	Webhook    *string
	Currencies *[]CurrencyConfig
}

// GetConfig returns the caller's platform. It needs VIEW.
func (s *Service) GetConfig(ctx context.Context, p *Principal) (*Platform, error) {
	if err := p.Require(PermView); err != nil {
		return nil, err
	}
	return s.store.GetPlatform(ctx, p.Platform.ID)
}

// UpdateConfig applies a partial update to the caller's platform. It needs MANAGE.
func (s *Service) UpdateConfig(ctx context.Context, p *Principal, u ConfigUpdate) (*Platform, error) {
	if err := p.Require(PermManage); err != nil {
		return nil, err
	}
	var fe FieldErrors
	if u.UMADomain != nil && !validHostname(strings.ToLower(*u.UMADomain)) {
		fe.AddFormat("umaDomain", "hostname", "must be a domain name such as uma.example.com")
	}
	if u.Webhook != nil && *u.Webhook != "" {
		if msg := checkWebhookURL(*u.Webhook); msg != "" {
			fe.AddFormat("webhookEndpoint", "url", msg)
		}
	}
	if u.Currencies != nil {
		seen := map[string]bool{}
		if len(*u.Currencies) == 0 {
			fe.Add("supportedCurrencies", "must list at least one currency")
		}
		for i, c := range *u.Currencies {
			path := fmt.Sprintf("supportedCurrencies[%d]", i)
			switch {
			case c.Code == "":
				fe.Add(path+".currencyCode", "is required")
			case !isCurrency(c.Code):
				fe.Add(path+".currencyCode", "unknown currency code %q", c.Code)
			case seen[c.Code]:
				fe.Add(path+".currencyCode", "%s is listed twice", c.Code)
			}
			seen[c.Code] = true
			if c.MinAmount < 0 {
				fe.Add(path+".minAmount", "must not be negative")
			}
			if c.MaxAmount < c.MinAmount {
				fe.Add(path+".maxAmount", "must be at least minAmount")
			}
			for _, t := range c.EnabledTransactionTypes {
				if t != "INCOMING" && t != "OUTGOING" {
					fe.AddEnum(path+".enabledTransactionTypes", []string{"INCOMING", "OUTGOING"})
					break
				}
			}
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	var out *Platform
	err := s.tx(ctx, func(tx Tx) error {
		cur, err := tx.GetPlatform(ctx, p.Platform.ID)
		if err != nil {
			return err
		}
		if u.UMADomain != nil {
			cur.UMADomain = strings.ToLower(*u.UMADomain)
		}
		if u.Webhook != nil {
			if err := s.announceEndpoint(ctx, tx, cur.ID, cur.Webhook, *u.Webhook, s.Now()); err != nil {
				return err
			}
			cur.Webhook = *u.Webhook
		}
		if u.Currencies != nil {
			cur.Currencies = *u.Currencies
			for i := range cur.Currencies {
				if cur.Currencies[i].RequiredCounterpartyFields == nil {
					cur.Currencies[i].RequiredCounterpartyFields = []CounterpartyField{}
				}
				if cur.Currencies[i].EnabledTransactionTypes == nil {
					cur.Currencies[i].EnabledTransactionTypes = []string{}
				}
			}
		}
		cur.UpdatedAt = s.Now()
		out = cur
		return tx.UpdatePlatform(ctx, cur)
	})
	s.auth.forget("", p.Platform.ID)
	return out, err
}
