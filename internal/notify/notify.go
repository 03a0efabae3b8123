// Package notify delivers contact verification codes: by email over SMTP, or to the log when
// no real channel is configured. Phone numbers are only ever logged: gridd sends no SMS.
package notify

import (
	"context"
	"log/slog"

	"github.com/gridd/gridd/internal/grid"
)

// Log is the sender used when nothing else is configured. It logs ids and the channel, never
// the address, the number or the code, except that for a sandbox platform it says the code is
// the documented sandbox code.
type Log struct {
	Logger *slog.Logger
}

var _ grid.ContactSender = Log{}

// SendContactCode logs that a code was issued and, outside sandbox, that it went nowhere.
func (l Log) SendContactCode(ctx context.Context, m grid.ContactMessage) error {
	log := l.Logger
	if log == nil {
		log = slog.Default()
	}
	attrs := []any{"platform", m.PlatformID, "customer", m.CustomerID, "channel", m.Channel, "expiresAt", m.ExpiresAt}
	if m.Sandbox && m.Code == grid.SandboxContactCode {
		log.InfoContext(ctx, "contact verification code issued on a sandbox platform; nothing is sent and the code is "+grid.SandboxContactCode, attrs...)
		return nil
	}
	log.WarnContext(ctx, "contact verification code not delivered: no sender is configured for this channel", attrs...)
	return nil
}

// Router picks a sender per message: sandbox platforms never get anything sent, email goes to
// Email and phone numbers to Phone when they are set, and everything else to Log.
type Router struct {
	Email grid.ContactSender
	Phone grid.ContactSender
	Log   Log
}

var _ grid.ContactSender = Router{}

// SendContactCode hands the message to the sender its channel is routed to.
func (r Router) SendContactCode(ctx context.Context, m grid.ContactMessage) error {
	var to grid.ContactSender
	switch {
	case m.Sandbox:
	case m.Channel == grid.ChannelEmail:
		to = r.Email
	case m.Channel == grid.ChannelPhone:
		to = r.Phone
	}
	if to == nil {
		to = r.Log
	}
	return to.SendContactCode(ctx, m)
}
