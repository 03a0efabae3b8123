package grid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// DeliveryState is where an outbox event stands in its delivery.
type DeliveryState string

// Delivery states. PENDING events are sent, and retried with backoff, until they are
// DELIVERED; an event still failing at the end of its retry window is DEAD; an event whose
// platform has no webhook endpoint when its turn comes is UNDELIVERABLE. An operator may
// schedule any event again (RedeliverWebhookEvent).
const (
	DeliveryPending       DeliveryState = "PENDING"
	DeliveryDelivered     DeliveryState = "DELIVERED"
	DeliveryDead          DeliveryState = "DEAD"
	DeliveryUndeliverable DeliveryState = "UNDELIVERABLE"
)

// DeliveryStates lists every delivery state.
func DeliveryStates() []string {
	return []string{string(DeliveryPending), string(DeliveryDelivered), string(DeliveryDead), string(DeliveryUndeliverable)}
}

// WebhookTypeTest is the type of the webhook that checks a platform's endpoint. It is never
// retried.
const WebhookTypeTest = "TEST"

// EventDelivery is an outbox event with its delivery state.
type EventDelivery struct {
	Event
	State DeliveryState
	// Attempts counts every HTTP attempt made; Failures the failed ones since ScheduledAt.
	Attempts int
	Failures int
	// NextAttemptAt is when a pending event is due.
	NextAttemptAt time.Time
	// ScheduledAt starts the current retry window: the creation, or the last redelivery.
	ScheduledAt time.Time
	// DeliveredAt is when the receiver last accepted the event; zero if never.
	DeliveredAt time.Time
	// LeaseOwner holds the event until LeaseUntil while it sends it.
	LeaseOwner string
	LeaseUntil time.Time
}

// DeliveryAttempt is one HTTP delivery of an event.
type DeliveryAttempt struct {
	ID         string // WebhookAttempt:<UUIDv7>
	EventID    string
	PlatformID string
	// Node is the lease owner that made the attempt.
	Node string
	At   time.Time
	// StatusCode is the receiver's HTTP status, or 0 when no answer came back.
	StatusCode int
	Latency    time.Duration
	// Error says why the attempt failed; empty for a success.
	Error string
}

// EventClaim asks for due events of one platform (see Outbox.ClaimEvents).
type EventClaim struct {
	PlatformID string
	Owner      string
	Now        time.Time
	LeaseUntil time.Time
	Limit      int
}

// DeliveryOutcome is what a node reports after handling a claimed event (see
// Outbox.FinishDelivery).
type DeliveryOutcome struct {
	EventID string
	// Owner and LeaseUntil identify the claim; the outcome applies only while it holds.
	Owner      string
	LeaseUntil time.Time
	// Attempt is the HTTP attempt made, or nil when none was (the event is handed back).
	Attempt       *DeliveryAttempt
	State         DeliveryState
	Failures      int
	NextAttemptAt time.Time
	// DeliveredAt is set when State is DELIVERED.
	DeliveredAt time.Time
}

// EventFilter selects events for a list.
type EventFilter struct {
	State DeliveryState
	// BeforeID is the keyset position: only ids smaller than it are returned.
	BeforeID string
	Limit    int
}

// EventPage is one page of events, newest first.
type EventPage struct {
	Events     []*EventDelivery
	HasMore    bool
	TotalCount int
}

// WebhookSender signs a webhook body and posts it to a URL.
type WebhookSender interface {
	// PublicKeyPEM returns the PEM "PUBLIC KEY" that verifies the signatures.
	PublicKeyPEM() string
	// Send posts body, signed, to url and returns the receiver's answer, whatever its status;
	// an error means no answer came back.
	Send(ctx context.Context, url string, body []byte) (*WebhookResponse, error)
}

// WebhookResponse is a receiver's answer to a webhook.
type WebhookResponse struct {
	Status int
	// Body is the start of the answer's body.
	Body    []byte
	Latency time.Duration
}

// TestWebhookResult reports how a platform's endpoint answered a test webhook.
type TestWebhookResult struct {
	URL    string
	Status int
	Body   string
}

// newTestEvent builds a TEST webhook: like every webhook, with an empty data object.
func (s *Service) newTestEvent(platformID string, at time.Time) (*Event, error) {
	ev := &Event{ID: NewID("Webhook"), PlatformID: platformID, Type: WebhookTypeTest, CreatedAt: at}
	body, err := json.Marshal(eventBody{ID: ev.ID, Type: WebhookTypeTest, Timestamp: at.UTC().Format(time.RFC3339), Data: map[string]any{}})
	if err != nil {
		return nil, err
	}
	ev.Body = body
	return ev, nil
}

// announceEndpoint queues a TEST webhook inside tx when a platform's webhook endpoint is set to
// a new URL, as Grid does, so the platform sees at once that its receiver works.
func (s *Service) announceEndpoint(ctx context.Context, tx Tx, platformID, prev, cur string, at time.Time) error {
	if cur == "" || cur == prev {
		return nil
	}
	ev, err := s.newTestEvent(platformID, at)
	if err != nil {
		return err
	}
	return tx.InsertEvent(ctx, ev)
}

// SendTestWebhook sends a signed TEST webhook to the caller's platform's endpoint, now, and
// reports the receiver's answer whatever its status. It needs MANAGE. No endpoint is 400
// WEBHOOK_ENDPOINT_NOT_SET; no answer at all (refused, timed out) is 400 WEBHOOK_DELIVERY_ERROR.
func (s *Service) SendTestWebhook(ctx context.Context, p *Principal, sender WebhookSender) (*TestWebhookResult, error) {
	if err := p.Require(PermManage); err != nil {
		return nil, err
	}
	if sender == nil {
		return nil, Errorf(501, CodeNotImplemented, "this server does not send webhooks")
	}
	pl, err := s.store.GetPlatform(ctx, p.Platform.ID)
	if err != nil {
		return nil, err
	}
	if pl.Webhook == "" {
		return nil, Errorf(400, CodeWebhookEndpointNotSet, "the platform has no webhookEndpoint; set one with PATCH /config")
	}
	ev, err := s.newTestEvent(pl.ID, s.Now())
	if err != nil {
		return nil, err
	}
	res, err := sender.Send(ctx, pl.Webhook, ev.Body)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		e := Errorf(400, CodeWebhookDeliveryError, "the webhook endpoint did not answer: %v", err)
		e.Details = map[string]any{"url": pl.Webhook}
		return nil, e
	}
	return &TestWebhookResult{URL: pl.Webhook, Status: res.Status, Body: string(res.Body)}, nil
}

// WebhookPublicKey returns the PEM public key that verifies webhook signatures. It needs VIEW.
func (s *Service) WebhookPublicKey(p *Principal, sender WebhookSender) (string, error) {
	if err := p.Require(PermView); err != nil {
		return "", err
	}
	if sender == nil {
		return "", Errorf(501, CodeNotImplemented, "this server does not send webhooks")
	}
	return sender.PublicKeyPEM(), nil
}

// ListWebhookEvents lists the caller's platform's webhooks with their delivery state, newest
// first. It needs VIEW.
func (s *Service) ListWebhookEvents(ctx context.Context, p *Principal, f EventFilter) (EventPage, error) {
	if err := p.Require(PermView); err != nil {
		return EventPage{}, err
	}
	return s.store.ListEvents(ctx, p.Platform.ID, f)
}

// GetWebhookEvent returns one of the caller's platform's webhooks with its delivery state. It
// needs VIEW.
func (s *Service) GetWebhookEvent(ctx context.Context, p *Principal, id string) (*EventDelivery, error) {
	if err := p.Require(PermView); err != nil {
		return nil, err
	}
	return s.webhookEvent(ctx, p, id)
}

// WebhookEventAttempts returns one of the caller's platform's webhooks and its delivery
// attempts, oldest first. It needs VIEW.
func (s *Service) WebhookEventAttempts(ctx context.Context, p *Principal, id string) (*EventDelivery, []DeliveryAttempt, error) {
	if err := p.Require(PermView); err != nil {
		return nil, nil, err
	}
	ev, err := s.webhookEvent(ctx, p, id)
	if err != nil {
		return nil, nil, err
	}
	as, err := s.store.ListDeliveryAttempts(ctx, p.Platform.ID, id)
	if err != nil {
		return nil, nil, err
	}
	return ev, as, nil
}

// RedeliverWebhookEvent schedules one of the caller's platform's webhooks to be sent again
// now, with a fresh retry window, whatever its state. It needs MANAGE.
func (s *Service) RedeliverWebhookEvent(ctx context.Context, p *Principal, id string) (*EventDelivery, error) {
	if err := p.Require(PermManage); err != nil {
		return nil, err
	}
	err := s.store.RescheduleEvent(ctx, p.Platform.ID, id, s.Now())
	if errors.Is(err, ErrNotFound) {
		return nil, NotFound(CodeNotFound, "webhook event")
	}
	if err != nil {
		return nil, err
	}
	return s.webhookEvent(ctx, p, id)
}

func (s *Service) webhookEvent(ctx context.Context, p *Principal, id string) (*EventDelivery, error) {
	ev, err := s.store.GetEvent(ctx, p.Platform.ID, id)
	if errors.Is(err, ErrNotFound) {
		return nil, NotFound(CodeNotFound, "webhook event")
	}
	return ev, err
}

// metaWebhookKey is the meta key of the webhook signing key, sealed.
const metaWebhookKey = "webhook.signing_key"

// WebhookSigningKey returns the webhook signing key every node of the database shares: the
// one stored, or else newKey's, stored sealed. The service treats it as opaque bytes.
func (s *Service) WebhookSigningKey(ctx context.Context, newKey func() ([]byte, error)) ([]byte, error) {
	stored, err := s.store.GetMeta(ctx, metaWebhookKey)
	if errors.Is(err, ErrNotFound) {
		key, kerr := newKey()
		if kerr != nil {
			return nil, kerr
		}
		sealed, serr := s.sealer.Seal(key)
		if serr != nil {
			return nil, serr
		}
		// Nodes that start together agree on whichever key was stored first.
		err = s.tx(ctx, func(tx Tx) error {
			var perr error
			stored, perr = tx.PutMetaIfAbsent(ctx, metaWebhookKey, sealed)
			return perr
		})
	}
	if err != nil {
		return nil, fmt.Errorf("webhook signing key: %w", err)
	}
	key, err := s.sealer.Open(stored)
	if err != nil {
		return nil, fmt.Errorf("webhook signing key: %w", err)
	}
	return key, nil
}
