// Package grid holds the domain of the Grid customer API: platforms, API tokens, customers and
// their verification state, the rules that govern them, and the storage contract they need.
// It does no I/O of its own; adapters implement Store and translate its errors to the wire.
package grid

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error codes used on the wire. They are the codes the Grid API lists per HTTP status.
const (
	CodeInvalidInput            = "INVALID_INPUT"
	CodeInvalidUMAAddress       = "INVALID_UMA_ADDRESS"
	CodeTermsVersionNotFound    = "END_USER_TERMS_VERSION_NOT_FOUND"
	CodeWebhookEndpointNotSet   = "WEBHOOK_ENDPOINT_NOT_SET"
	CodeWebhookDeliveryError    = "WEBHOOK_DELIVERY_ERROR"
	CodeUnauthorized            = "UNAUTHORIZED"
	CodeForbidden               = "FORBIDDEN"
	CodeUserNotFound            = "USER_NOT_FOUND"
	CodeTokenNotFound           = "TOKEN_NOT_FOUND"
	CodeBulkJobNotFound         = "BULK_UPLOAD_JOB_NOT_FOUND"
	CodeReferenceNotFound       = "REFERENCE_NOT_FOUND"
	CodeNotFound                = "NOT_FOUND"
	CodeMethodNotAllowed        = "METHOD_NOT_ALLOWED"
	CodeConflict                = "CONFLICT"
	CodeUMAAddressExists        = "UMA_ADDRESS_EXISTS"
	CodeCustomerDeleted         = "CUSTOMER_DELETED"
	CodePayloadTooLarge         = "PAYLOAD_TOO_LARGE"
	CodeUnsupportedMediaType    = "UNSUPPORTED_MEDIA_TYPE"
	CodeRateLimited             = "RATE_LIMITED"
	CodeInternal                = "INTERNAL_ERROR"
	CodeNotImplemented          = "NOT_IMPLEMENTED"
	CodeServiceUnavailable      = "SERVICE_UNAVAILABLE"
	CodeIdempotencyKeyReused    = "IDEMPOTENCY_KEY_REUSED"
	CodeIdempotencyKeyInFlight  = "IDEMPOTENCY_KEY_IN_USE"
	CodeMissingMandatoryUserInf = "MISSING_MANDATORY_USER_INFO"
)

// FieldError names one invalid field of a request by its dot path.
type FieldError struct {
	Field   string
	Message string
	// Enum, when set, lists the values the field accepts.
	Enum []string
	// Format, when set, names the format the value must satisfy (email, date, e.164, ...).
	Format string
}

// Error is the one error type the domain returns for anything a client did or can act on.
// Status is the HTTP status the Grid API assigns to Code.
type Error struct {
	Status  int
	Code    string
	Message string
	Fields  []FieldError
	// Details carries extra, code-specific information for the client.
	Details map[string]any
	// RetryAfter, for a 429 or 503, is how long the client should wait; zero means a second.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return fmt.Sprintf("%d %s: %s (%s)", e.Status, e.Code, e.Message, strings.Join(parts, "; "))
}

// RetryAfterSeconds is RetryAfter in whole seconds, rounded up, at least 1.
func (e *Error) RetryAfterSeconds() int {
	if e.RetryAfter <= time.Second {
		return 1
	}
	return int((e.RetryAfter + time.Second - 1) / time.Second)
}

// AsError returns the domain error inside err, if there is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Errorf returns an Error with the given status, code and formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns a 404 error with the given code.
func NotFound(code, what string) *Error {
	return &Error{Status: 404, Code: code, Message: what + " not found"}
}

// ErrUnauthorized is returned when credentials are missing or wrong.
var ErrUnauthorized = &Error{Status: 401, Code: CodeUnauthorized, Message: "missing or invalid API credentials"}

// Forbidden returns a 403 error saying which permission is missing.
func Forbidden(perm Permission) *Error {
	return &Error{Status: 403, Code: CodeForbidden, Message: "this API token lacks the " + string(perm) + " permission"}
}

// FieldErrors collects field errors; its Err method turns them into one 400 error.
type FieldErrors []FieldError

// Add records a problem with one field.
func (fe *FieldErrors) Add(field, format string, args ...any) {
	*fe = append(*fe, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// AddEnum records a value outside a fixed set, listing the allowed values.
func (fe *FieldErrors) AddEnum(field string, allowed []string) {
	*fe = append(*fe, FieldError{Field: field, Message: "must be one of " + strings.Join(allowed, ", "), Enum: allowed})
}

// AddFormat records a value that does not satisfy a named format.
func (fe *FieldErrors) AddFormat(field, format, message string) {
	*fe = append(*fe, FieldError{Field: field, Message: message, Format: format})
}

// Err returns nil when no field error was recorded, else a 400 INVALID_INPUT error naming them all.
func (fe FieldErrors) Err() error {
	if len(fe) == 0 {
		return nil
	}
	return InvalidInput(fe...)
}

// InvalidInput returns a 400 INVALID_INPUT error naming the given fields.
func InvalidInput(fields ...FieldError) *Error {
	msg := "the request has invalid fields"
	if len(fields) == 1 {
		msg = "invalid field " + fields[0].Field + ": " + fields[0].Message
	}
	return &Error{Status: 400, Code: CodeInvalidInput, Message: msg, Fields: fields}
}

// Conflict kinds a Store reports when a unique key is already taken.
const (
	KeyPlatformCustomerID = "platformCustomerId"
	KeyUMAAddress         = "umaAddress"
	KeyIdempotency        = "idempotencyKey"
	KeyTokenClientID      = "clientId"
)

// DuplicateError is returned by a Store when a write would break a uniqueness rule.
type DuplicateError struct {
	Key string
}

func (e *DuplicateError) Error() string { return "duplicate " + e.Key }

// ErrNotFound is returned by a Store when the row asked for does not exist (for that platform).
var ErrNotFound = errors.New("not found")

// ErrRetry is returned by a Store when the database asked for the transaction to be retried
// (serialization failure, deadlock, busy). The service retries such transactions itself.
var ErrRetry = errors.New("transaction must be retried")
