package main

import (
	"log/slog"

	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/notify"
)

// useContactSender sets how the service's contact verification codes leave the server.
func useContactSender(svc *grid.Service, getenv func(string) string, log *slog.Logger) error {
	s, err := contactSender(getenv, log)
	if err != nil {
		return err
	}
	svc.SetContactSender(s)
	return nil
}

// contactSender builds the sender from the environment. With GRIDD_SMTP_ADDR set, codes for
// email addresses are sent through that SMTP server (GRIDD_SMTP_FROM is then required;
// GRIDD_SMTP_USER and GRIDD_SMTP_PASSWORD are optional, both or neither). Phone codes,
// sandbox platforms and email without SMTP go to the log, which never holds a code.
func contactSender(getenv func(string) string, log *slog.Logger) (grid.ContactSender, error) {
	r := notify.Router{Log: notify.Log{Logger: log}}
	addr := getenv("GRIDD_SMTP_ADDR")
	if addr == "" {
		log.Info("contact verification codes are logged, not sent: GRIDD_SMTP_ADDR is not set")
		return r, nil
	}
	s, err := notify.NewSMTP(addr, getenv("GRIDD_SMTP_FROM"), getenv("GRIDD_SMTP_USER"), getenv("GRIDD_SMTP_PASSWORD"))
	if err != nil {
		return nil, err
	}
	r.Email = s
	log.Info("contact verification emails go through SMTP", "addr", addr)
	return r, nil
}
