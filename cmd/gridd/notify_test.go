package main

import (
	"io"
	"log/slog"
	"testing"

	"github.com/gridd/gridd/internal/notify"
)

func TestContactSenderFromEnv(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cases := []struct {
		name     string
		env      map[string]string
		wantSMTP bool
		wantErr  bool
	}{
		{"nothing set: the log", map[string]string{}, false, false},
		{"SMTP", map[string]string{"GRIDD_SMTP_ADDR": "smtp.example.com:587", "GRIDD_SMTP_FROM": "verify@acme.example", "GRIDD_SMTP_USER": "u", "GRIDD_SMTP_PASSWORD": "p"}, true, false},
		{"SMTP without a sender", map[string]string{"GRIDD_SMTP_ADDR": "smtp.example.com:587"}, false, true},
		{"SMTP without a port", map[string]string{"GRIDD_SMTP_ADDR": "smtp.example.com", "GRIDD_SMTP_FROM": "verify@acme.example"}, false, true},
		{"user without password", map[string]string{"GRIDD_SMTP_ADDR": "smtp.example.com:587", "GRIDD_SMTP_FROM": "verify@acme.example", "GRIDD_SMTP_USER": "u"}, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := contactSender(func(k string) string { return tc.env[k] }, log)
			if (err != nil) != tc.wantErr {
				t.Fatalf("contactSender: %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			r, ok := s.(notify.Router)
			if !ok {
				t.Fatalf("sender is %T, want notify.Router", s)
			}
			if (r.Email != nil) != tc.wantSMTP || r.Phone != nil {
				t.Errorf("router = %+v, want SMTP for email: %v, nothing for phone", r, tc.wantSMTP)
			}
		})
	}
}
