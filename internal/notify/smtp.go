package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

// DefaultSMTPTimeout bounds one delivery when SMTP.Timeout is zero.
const DefaultSMTPTimeout = 30 * time.Second

// SMTP sends codes by email through an SMTP server (a relay or a provider's submission port).
// On port 465 it speaks TLS from the start; elsewhere it upgrades with STARTTLS whenever the
// server offers it. Credentials, when set, are sent with AUTH PLAIN, which net/smtp refuses
// over an unencrypted connection except to localhost.
type SMTP struct {
	// Addr is the server's host:port.
	Addr string
	// From is the sender, e.g. "Acme <verify@acme.example>".
	From string
	// Username and Password are the AUTH PLAIN credentials; empty means no AUTH.
	Username string
	Password string
	// Timeout bounds one delivery, from dialling to QUIT; zero means DefaultSMTPTimeout.
	Timeout time.Duration
	// TLSConfig, when set, replaces the default TLS settings (ServerName from Addr).
	TLSConfig *tls.Config
}

var _ grid.ContactSender = (*SMTP)(nil)

// NewSMTP checks the settings and returns the sender.
func NewSMTP(addr, from, username, password string) (*SMTP, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("notify: SMTP address %q must be host:port: %w", addr, err)
	}
	if _, err := mail.ParseAddress(from); err != nil || strings.ContainsAny(from, "\r\n") {
		return nil, fmt.Errorf("notify: SMTP sender %q is not an email address", from)
	}
	if (username == "") != (password == "") {
		return nil, errors.New("notify: set both the SMTP user and password, or neither")
	}
	return &SMTP{Addr: addr, From: from, Username: username, Password: password}, nil
}

// SendContactCode emails the code to m.To.
func (s *SMTP) SendContactCode(ctx context.Context, m grid.ContactMessage) error {
	if m.Channel != grid.ChannelEmail {
		return fmt.Errorf("notify: SMTP cannot deliver to the %s channel", m.Channel)
	}
	from, err := mail.ParseAddress(s.From)
	if err != nil {
		return fmt.Errorf("notify: SMTP sender: %w", err)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil || strings.ContainsAny(m.To, "\r\n") {
		return fmt.Errorf("notify: customer %s: the email address cannot be used", m.CustomerID)
	}
	msg := s.message(from, to, m)

	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultSMTPTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.deliver(ctx, from.Address, to.Address, msg); err != nil {
		return fmt.Errorf("notify: SMTP %s: %w", s.Addr, err)
	}
	return nil
}

func (s *SMTP) deliver(ctx context.Context, from, to string, msg []byte) error {
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return err
	}
	tlsConfig := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if s.TLSConfig != nil {
		tlsConfig = s.TLSConfig
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return err
	}
	// The deadline bounds every exchange; cancelling ctx closes the connection.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	raw := conn
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	if port == "465" {
		conn = tls.Client(conn, tlsConfig)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && port != "465" {
		if err := c.StartTLS(tlsConfig); err != nil {
			return err
		}
	}
	if s.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("the server does not offer AUTH")
		}
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// message renders the email: plain text, CRLF line ends.
func (s *SMTP) message(from, to *mail.Address, m grid.ContactMessage) []byte {
	domain := "gridd.local"
	if _, d, ok := strings.Cut(from.Address, "@"); ok {
		domain = d
	}
	id := make([]byte, 12)
	rand.Read(id)
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from.String())
	header("To", to.String())
	header("Subject", "Your verification code")
	header("Date", time.Now().UTC().Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	fmt.Fprintf(&b, "Your verification code is %s.\r\n\r\n", m.Code)
	fmt.Fprintf(&b, "It is valid until %s UTC. If you did not ask for it, you can ignore this email.\r\n",
		m.ExpiresAt.UTC().Format("2006-01-02 15:04"))
	return b.Bytes()
}
