package grid

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"time"
)

// The contact verification channels.
const (
	ChannelEmail = "email"
	ChannelPhone = "phone"
)

// The states of one contact verification channel on a customer.
const (
	ContactPending  = "PENDING"
	ContactVerified = "VERIFIED"
)

// SandboxContactCode is the code customers of sandbox platforms always receive.
const SandboxContactCode = "123456"

// ContactCodeLength is the number of digits of a verification code.
const ContactCodeLength = 6

// Default contact verification limits.
const (
	DefaultContactCodeTTL     = 10 * time.Minute
	DefaultContactMaxAttempts = 5
	DefaultContactMaxSends    = 5
	DefaultContactSendWindow  = time.Hour
)

// ContactPolicy sets how long codes live and how often they may be sent and guessed. Zero
// fields mean the defaults.
type ContactPolicy struct {
	// CodeTTL is how long a code can be confirmed after it was sent.
	CodeTTL time.Duration
	// MaxAttempts is how many wrong codes are accepted for one code; after that every
	// confirmation is refused until a new code is sent.
	MaxAttempts int
	// MaxSends is how many codes one channel of one customer may be sent per SendWindow.
	MaxSends   int
	SendWindow time.Duration
}

func (p ContactPolicy) withDefaults() ContactPolicy {
	if p.CodeTTL <= 0 {
		p.CodeTTL = DefaultContactCodeTTL
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultContactMaxAttempts
	}
	if p.MaxSends <= 0 {
		p.MaxSends = DefaultContactMaxSends
	}
	if p.SendWindow <= 0 {
		p.SendWindow = DefaultContactSendWindow
	}
	return p
}

// ContactMessage is one verification code to deliver to a customer.
type ContactMessage struct {
	PlatformID string
	CustomerID string
	// Channel is ChannelEmail or ChannelPhone; To is the email address or E.164 number.
	Channel string
	To      string
	// Code is the plain code. It is never stored and must never be logged outside sandbox.
	Code      string
	ExpiresAt time.Time
	// Sandbox marks a sandbox platform: Code is SandboxContactCode and nothing should be sent.
	Sandbox bool
}

// ContactSender delivers verification codes (by email, SMS, or to a log).
type ContactSender interface {
	SendContactCode(ctx context.Context, m ContactMessage) error
}

// ContactCode is the stored state of one channel of one customer: the outstanding code (only
// its hash), the wrong guesses at it and the codes sent in the current rate window.
type ContactCode struct {
	PlatformID string
	CustomerID string
	Channel    string
	// CodeHash is the hash of the outstanding code, nil once it was used.
	CodeHash []byte
	// DestinationHash identifies the email address or phone number the code was sent to.
	DestinationHash []byte
	ExpiresAt       time.Time
	// Attempts counts wrong guesses at the outstanding code.
	Attempts int
	// WindowStart is when the current rate window began; Sends counts the codes sent in it.
	WindowStart time.Time
	Sends       int
	// Version is 1 for a new row and grows by one with every write; writes compare and set it.
	Version   int64
	UpdatedAt time.Time
}

// contactSettings are the Service's contact verification dependencies.
type contactSettings struct {
	sender ContactSender
	policy ContactPolicy
}

// SetContactSender sets how verification codes are delivered. Without one, codes are not
// delivered and a warning naming the customer is logged.
func (s *Service) SetContactSender(cs ContactSender) { s.contact.sender = cs }

// SetContactPolicy sets the contact verification limits; zero fields mean the defaults.
func (s *Service) SetContactPolicy(p ContactPolicy) { s.contact.policy = p }

func (s *Service) contactSender() ContactSender {
	if s.contact.sender == nil {
		return undelivered{}
	}
	return s.contact.sender
}

// undelivered is the sender of a Service nobody gave one.
type undelivered struct{}

func (undelivered) SendContactCode(ctx context.Context, m ContactMessage) error {
	slog.WarnContext(ctx, "contact verification code not delivered: no sender configured",
		"platform", m.PlatformID, "customer", m.CustomerID, "channel", m.Channel)
	return nil
}

// PendingContactChannels returns the channels of a customer that still await verification, in
// a fixed order. A customer must have none before KYC can begin.
func PendingContactChannels(c *Customer) []string {
	var out []string
	for _, ch := range []string{ChannelEmail, ChannelPhone} {
		if st, ok := c.Profile.ContactVerification[ch]; ok && st != ContactVerified {
			out = append(out, ch)
		}
	}
	return out
}

// SendContactCode sends a new verification code to one channel (ChannelEmail or ChannelPhone)
// of one of the caller's platform's customers, replacing any code sent before. It needs
// MANAGE. Sandbox platforms always get SandboxContactCode. The code is stored (as a hash)
// before it is handed to the sender; a delivery failure is returned as an internal error.
func (s *Service) SendContactCode(ctx context.Context, p *Principal, customerID, channel string) error {
	if err := p.Require(PermManage); err != nil {
		return err
	}
	c, err := s.customer(ctx, s.store, p, customerID)
	if err != nil {
		return err
	}
	if _, err := contactTarget(p.Platform, c, channel); err != nil {
		return err
	}
	code := SandboxContactCode
	if !p.Platform.Sandbox {
		code = newContactCode()
	}
	pol := s.contact.policy.withDefaults()
	var msg ContactMessage
	err = s.tx(ctx, func(tx Tx) error {
		c, err := s.customer(ctx, tx, p, customerID)
		if err != nil {
			return err
		}
		to, err := contactTarget(p.Platform, c, channel)
		if err != nil {
			return err
		}
		prev, err := tx.GetContactCode(ctx, p.Platform.ID, c.ID, channel)
		if errors.Is(err, ErrNotFound) {
			prev = nil
		} else if err != nil {
			return err
		}
		now := s.Now()
		next, err := pol.issue(prev, c, channel, to, code, now)
		if err != nil {
			return err
		}
		if err := saveContactCode(ctx, tx, next, prev); err != nil {
			return err
		}
		msg = ContactMessage{
			PlatformID: c.PlatformID, CustomerID: c.ID, Channel: channel, To: to, Code: code,
			ExpiresAt: next.ExpiresAt, Sandbox: p.Platform.Sandbox,
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.contactSender().SendContactCode(ctx, msg); err != nil {
		return fmt.Errorf("contact verification: deliver %s code of customer %s: %w", channel, msg.CustomerID, err)
	}
	return nil
}

// ConfirmContactCode checks a code sent to one channel of one of the caller's platform's
// customers and, when it is right, marks the channel VERIFIED and returns the customer. It
// needs MANAGE. A wrong code is counted; after ContactPolicy.MaxAttempts of them every
// confirmation is refused (429) until a new code is sent.
func (s *Service) ConfirmContactCode(ctx context.Context, p *Principal, customerID, channel, code string) (*Customer, error) {
	if err := p.Require(PermManage); err != nil {
		return nil, err
	}
	c, err := s.customer(ctx, s.store, p, customerID)
	if err != nil {
		return nil, err
	}
	if _, err := contactTarget(p.Platform, c, channel); err != nil {
		return nil, err
	}
	if err := checkCodeFormat(code); err != nil {
		return nil, err
	}
	pol := s.contact.policy.withDefaults()
	var out *Customer
	// verdict is the answer to a wrong code: the counted attempt must commit, so the
	// transaction succeeds and the error is returned after it.
	var verdict error
	err = s.tx(ctx, func(tx Tx) error {
		out, verdict = nil, nil
		c, err := s.customer(ctx, tx, p, customerID)
		if err != nil {
			return err
		}
		to, err := contactTarget(p.Platform, c, channel)
		if err != nil {
			return err
		}
		rec, err := tx.GetContactCode(ctx, p.Platform.ID, c.ID, channel)
		if errors.Is(err, ErrNotFound) {
			return noCodeSent(c.ID, channel)
		} else if err != nil {
			return err
		}
		now := s.Now()
		next, judged := pol.check(rec, c.ID, to, code, now)
		if next == nil {
			return judged
		}
		if err := saveContactCode(ctx, tx, next, rec); err != nil {
			return err
		}
		if judged != nil {
			verdict = judged
			return nil
		}
		if c.Profile.ContactVerification == nil {
			c.Profile.ContactVerification = map[string]string{}
		}
		c.Profile.ContactVerification[channel] = ContactVerified
		c.UpdatedAt = now
		if err := tx.UpdateCustomer(ctx, c); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	if verdict != nil {
		return nil, verdict
	}
	return out, nil
}

// saveContactCode writes next over prev (nil when there was no row). Another transaction that
// wrote the row in between makes this one run again.
func saveContactCode(ctx context.Context, tx Tx, next, prev *ContactCode) error {
	var prevVersion int64
	if prev != nil {
		prevVersion = prev.Version
	}
	err := tx.SaveContactCode(ctx, next, prevVersion)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("contact code of customer %s changed concurrently: %w", next.CustomerID, ErrRetry)
	}
	return err
}

// contactTarget checks that a channel of a customer can be verified now and returns the
// address or number to verify. A channel needs verification when the platform requires it or
// the customer carries a state for it.
func contactTarget(pl *Platform, c *Customer, channel string) (string, error) {
	if c.Deleted() {
		return "", customerDeleted(c.ID)
	}
	st, has := c.Profile.ContactVerification[channel]
	if !has && !slices.Contains(pl.ContactVerification, channel) {
		return "", Errorf(409, CodeConflict, "%s verification is not required for customers of this platform", channel)
	}
	if st == ContactVerified {
		return "", Errorf(409, CodeConflict, "the %s of customer %s is already verified", channel, c.ID)
	}
	field, to := "email", c.Profile.Email
	if channel == ChannelPhone {
		field, to = "phoneNumber", c.Profile.PhoneNumber
	}
	if to == "" {
		return "", &Error{
			Status: 400, Code: CodeMissingMandatoryUserInf,
			Message: fmt.Sprintf("customer %s has no %s to verify; set one with PATCH /customers/{customerId}", c.ID, field),
			Fields:  []FieldError{{Field: field, Message: "is required for " + channel + " verification"}},
		}
	}
	return to, nil
}

// checkCodeFormat rejects what cannot be a code, without counting it as a guess.
func checkCodeFormat(code string) error {
	if code == "" {
		return InvalidInput(FieldError{Field: "code", Message: "is required"})
	}
	if len(code) != ContactCodeLength || !isDigits(code) {
		return InvalidInput(FieldError{Field: "code", Message: fmt.Sprintf("must be the %d-digit code that was sent", ContactCodeLength)})
	}
	return nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// issue returns the row that records a new code sent to channel at now, replacing prev (nil
// when none), or a 429 when the channel has had MaxSends codes in the current window.
func (pol ContactPolicy) issue(prev *ContactCode, c *Customer, channel, to, code string, now time.Time) (*ContactCode, error) {
	next := &ContactCode{
		PlatformID: c.PlatformID, CustomerID: c.ID, Channel: channel,
		CodeHash:        contactHash("code", c.ID, channel, code),
		DestinationHash: contactHash("destination", c.ID, channel, to),
		ExpiresAt:       now.Add(pol.CodeTTL),
		WindowStart:     now, Sends: 1, Version: 1, UpdatedAt: now,
	}
	if prev == nil {
		return next, nil
	}
	next.Version = prev.Version + 1
	if end := prev.WindowStart.Add(pol.SendWindow); now.Before(end) {
		if prev.Sends >= pol.MaxSends {
			return nil, rateLimited(end.Sub(now), "customer %s was sent %d %s codes recently, the most allowed; retry after the Retry-After delay", c.ID, prev.Sends, channel)
		}
		next.WindowStart, next.Sends = prev.WindowStart, prev.Sends+1
	}
	return next, nil
}

// check judges a code against the stored row rec of customer customerID, whose current
// address or number is to. It returns the row to write and the answer: (next, nil) for the
// right code, which is then used up; (next, 400) for a wrong one, which is counted; (nil,
// error) when nothing is to be written.
func (pol ContactPolicy) check(rec *ContactCode, customerID, to, code string, now time.Time) (*ContactCode, error) {
	if rec.CodeHash == nil {
		return nil, noCodeSent(customerID, rec.Channel)
	}
	if rec.Attempts >= pol.MaxAttempts {
		wait := time.Duration(0)
		if end := rec.WindowStart.Add(pol.SendWindow); rec.Sends >= pol.MaxSends && now.Before(end) {
			wait = end.Sub(now)
		}
		return nil, rateLimited(wait, "%d wrong codes were tried; send a new code with POST /customers/{customerId}/verify-%s", rec.Attempts, rec.Channel)
	}
	if !now.Before(rec.ExpiresAt) {
		return nil, InvalidInput(FieldError{Field: "code", Message: "has expired; send a new code with POST /customers/{customerId}/verify-" + rec.Channel})
	}
	if subtle.ConstantTimeCompare(rec.DestinationHash, contactHash("destination", customerID, rec.Channel, to)) != 1 {
		return nil, InvalidInput(FieldError{Field: "code", Message: "was sent to a previous " + rec.Channel + " of the customer; send a new code"})
	}
	next := *rec
	next.Version, next.UpdatedAt = rec.Version+1, now
	if subtle.ConstantTimeCompare(rec.CodeHash, contactHash("code", customerID, rec.Channel, code)) != 1 {
		next.Attempts++
		left := pol.MaxAttempts - next.Attempts
		return &next, InvalidInput(FieldError{Field: "code", Message: fmt.Sprintf("is not the code that was sent; %d attempts left", left)})
	}
	next.CodeHash, next.Attempts = nil, 0
	return &next, nil
}

func noCodeSent(customerID, channel string) error {
	return InvalidInput(FieldError{Field: "code", Message: fmt.Sprintf("no %s code is outstanding for customer %s; send one with POST /customers/{customerId}/verify-%s", channel, customerID, channel)})
}

func rateLimited(wait time.Duration, format string, args ...any) *Error {
	e := Errorf(429, CodeRateLimited, format, args...)
	e.RetryAfter = wait
	return e
}

// contactHash is the stored form of a code or destination: SHA-256 over a purpose label, the
// customer id and the channel as salt, and the value.
func contactHash(purpose, customerID, channel, value string) []byte {
	h := sha256.New()
	for _, part := range []string{"gridd contact " + purpose, customerID, channel, value} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

// newContactCode returns a uniformly random code of ContactCodeLength digits.
func newContactCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return fmt.Sprintf("%06d", n.Int64())
}
