package grid

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Event is a webhook in the outbox. It is written in the same transaction as the change it
// announces, so no event exists for a change that rolled back, and none is lost for a change
// that committed.
type Event struct {
	ID         string // Webhook:<UUIDv7>
	PlatformID string
	Type       string // WebhookType, e.g. CUSTOMER.KYC_APPROVED
	// OrderKey groups events delivered in order (a customer id, a bulk job id).
	OrderKey string
	// Body is the exact JSON body sent: {id, type, timestamp, data}.
	Body      []byte
	CreatedAt time.Time
}

// Renderer turns a domain resource (*Customer, and other resources as they come) into the value
// its GET operation returns, for the data of a webhook.
type Renderer func(resource any) (any, error)

// SetRenderer sets how webhook data is rendered. Without one, events carry no data.
func (s *Service) SetRenderer(r Renderer) { s.render = r }

type eventBody struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      any    `json:"data,omitempty"`
}

// NewEvent builds an event announcing resource, rendered as its GET returns it.
func (s *Service) NewEvent(platformID, typ, orderKey string, resource any, at time.Time) (*Event, error) {
	var data any
	if s.render != nil && resource != nil {
		var err error
		if data, err = s.render(resource); err != nil {
			return nil, fmt.Errorf("render %s event: %w", typ, err)
		}
	}
	ev := &Event{ID: NewID("Webhook"), PlatformID: platformID, Type: typ, OrderKey: orderKey, CreatedAt: at}
	body, err := json.Marshal(eventBody{ID: ev.ID, Type: typ, Timestamp: at.UTC().Format(time.RFC3339), Data: data})
	if err != nil {
		return nil, err
	}
	ev.Body = body
	return ev, nil
}

// emit writes an event to the outbox inside tx.
func (s *Service) emit(ctx context.Context, tx Tx, platformID, typ, orderKey string, resource any, at time.Time) error {
	ev, err := s.NewEvent(platformID, typ, orderKey, resource, at)
	if err != nil {
		return err
	}
	return tx.InsertEvent(ctx, ev)
}

// customerEventType is the webhook that announces a customer reaching a status, or "" when
// the API has none for it (UNVERIFIED, HOLD).
func customerEventType(t CustomerType, st Status) string {
	prefix := "CUSTOMER.KYC_"
	if t == Business {
		prefix = "CUSTOMER.KYB_"
	}
	switch st {
	case StatusApproved, StatusRejected, StatusPending:
		return prefix + string(st)
	}
	return ""
}

// recordStatusChange writes a customer's history entry and announces the new status, inside
// the transaction that stores the customer. Every status change goes through here.
func (s *Service) recordStatusChange(ctx context.Context, tx Tx, c *Customer, ch *StatusChange) error {
	if err := tx.InsertStatusChange(ctx, ch); err != nil {
		return err
	}
	if typ := customerEventType(c.Type, ch.To); typ != "" {
		return s.emit(ctx, tx, c.PlatformID, typ, c.ID, c, ch.At)
	}
	return nil
}
