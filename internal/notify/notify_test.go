package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

func message(channel string, sandbox bool) grid.ContactMessage {
	m := grid.ContactMessage{
		PlatformID: "PlatformConfig:p1", CustomerID: "Customer:c1", Channel: channel,
		To: "jane@example.com", Code: "734912", ExpiresAt: time.Date(2025, 7, 21, 17, 42, 0, 0, time.UTC),
	}
	if channel == grid.ChannelPhone {
		m.To = "+14155550100"
	}
	if sandbox {
		m.Code, m.Sandbox = grid.SandboxContactCode, true
	}
	return m
}

func TestLogNeverHoldsTheCodeOrAddress(t *testing.T) {
	for _, ch := range []string{grid.ChannelEmail, grid.ChannelPhone} {
		var buf bytes.Buffer
		l := Log{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
		m := message(ch, false)
		if err := l.SendContactCode(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, secret := range []string{m.Code, m.To} {
			if strings.Contains(out, secret) {
				t.Errorf("%s: log holds %q: %s", ch, secret, out)
			}
		}
		var rec map[string]any
		if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v", err)
		}
		if rec["customer"] != m.CustomerID || rec["platform"] != m.PlatformID || rec["channel"] != ch || rec["level"] != "WARN" {
			t.Errorf("%s: log line %v, want a warning naming the ids and the channel", ch, rec)
		}
	}
}

func TestLogSandbox(t *testing.T) {
	var buf bytes.Buffer
	l := Log{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	if err := l.SendContactCode(t.Context(), message(grid.ChannelEmail, true)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, `"level":"INFO"`) || !strings.Contains(out, grid.SandboxContactCode) || strings.Contains(out, "jane@example.com") {
		t.Errorf("sandbox log = %s, want an info line naming the sandbox code and no address", out)
	}
}

type recordSender struct{ got []grid.ContactMessage }

func (r *recordSender) SendContactCode(_ context.Context, m grid.ContactMessage) error {
	r.got = append(r.got, m)
	return nil
}

func TestRouter(t *testing.T) {
	cases := []struct {
		name      string
		email     bool
		phone     bool
		msg       grid.ContactMessage
		wantEmail int
		wantPhone int
		wantLog   bool
	}{
		{"email to SMTP", true, true, message(grid.ChannelEmail, false), 1, 0, false},
		{"phone to its sender", true, true, message(grid.ChannelPhone, false), 0, 1, false},
		{"sandbox email logged", true, true, message(grid.ChannelEmail, true), 0, 0, true},
		{"sandbox phone logged", true, true, message(grid.ChannelPhone, true), 0, 0, true},
		{"no email sender", false, false, message(grid.ChannelEmail, false), 0, 0, true},
		{"no phone sender", true, false, message(grid.ChannelPhone, false), 0, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			email, phone := &recordSender{}, &recordSender{}
			r := Router{Log: Log{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}}
			if tc.email {
				r.Email = email
			}
			if tc.phone {
				r.Phone = phone
			}
			if err := r.SendContactCode(t.Context(), tc.msg); err != nil {
				t.Fatal(err)
			}
			if len(email.got) != tc.wantEmail || len(phone.got) != tc.wantPhone || (buf.Len() > 0) != tc.wantLog {
				t.Errorf("email %d, phone %d, logged %v; want %d, %d, %v", len(email.got), len(phone.got), buf.Len() > 0, tc.wantEmail, tc.wantPhone, tc.wantLog)
			}
		})
	}
}

func TestNewSMTPChecksSettings(t *testing.T) {
	cases := []struct {
		addr, from, user, pass string
		ok                     bool
	}{
		{"smtp.example.com:587", "Acme <verify@acme.example>", "u", "p", true},
		{"127.0.0.1:25", "verify@acme.example", "", "", true},
		{"smtp.example.com", "verify@acme.example", "", "", false},
		{"smtp.example.com:587", "", "", "", false},
		{"smtp.example.com:587", "not an address", "", "", false},
		{"smtp.example.com:587", "verify@acme.example", "u", "", false},
	}
	for _, tc := range cases {
		_, err := NewSMTP(tc.addr, tc.from, tc.user, tc.pass)
		if (err == nil) != tc.ok {
			t.Errorf("NewSMTP(%q, %q, %q, %q) = %v, want ok %v", tc.addr, tc.from, tc.user, tc.pass, err, tc.ok)
		}
	}
}

func TestSMTPRefusesPhoneAndBadAddresses(t *testing.T) {
	s, err := NewSMTP("127.0.0.1:1", "verify@acme.example", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendContactCode(t.Context(), message(grid.ChannelPhone, false)); err == nil {
		t.Error("SMTP accepted a phone message")
	}
	m := message(grid.ChannelEmail, false)
	m.To = "jane@example.com\r\nBcc: eve@example.com"
	err = s.SendContactCode(t.Context(), m)
	if err == nil || strings.Contains(err.Error(), "eve@") {
		t.Errorf("header injection: %v, want a refusal that does not echo the address", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Errorf("unexpected %v", err)
	}
}
