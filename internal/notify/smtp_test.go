package notify

import (
	"bufio"
	"encoding/base64"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

// fakeSMTP is a minimal SMTP server on loopback that records one session.
type fakeSMTP struct {
	ln   net.Listener
	mu   sync.Mutex
	cmds []string
	auth string
	data string
	done chan struct{}
}

func startFakeSMTP(t *testing.T, offerAuth bool) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSMTP{ln: ln, done: make(chan struct{})}
	t.Cleanup(func() { ln.Close(); <-f.done })
	go f.serve(offerAuth)
	return f
}

func (f *fakeSMTP) serve(offerAuth bool) {
	defer close(f.done)
	conn, err := f.ln.Accept()
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(conn)
	tp.PrintfLine("220 fake ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.cmds = append(f.cmds, strings.ToUpper(strings.Fields(line + " x")[0]))
		f.mu.Unlock()
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		switch verb {
		case "EHLO":
			if offerAuth {
				tp.PrintfLine("250-fake\r\n250 AUTH PLAIN")
			} else {
				tp.PrintfLine("250 fake")
			}
		case "AUTH":
			parts := strings.Fields(line)
			raw, _ := base64.StdEncoding.DecodeString(parts[len(parts)-1])
			f.mu.Lock()
			f.auth = string(raw)
			f.mu.Unlock()
			tp.PrintfLine("235 ok")
		case "MAIL", "RCPT":
			tp.PrintfLine("250 ok")
		case "DATA":
			tp.PrintfLine("354 go on")
			body, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.data = string(body)
			f.mu.Unlock()
			tp.PrintfLine("250 queued")
		case "QUIT":
			tp.PrintfLine("221 bye")
			return
		default:
			tp.PrintfLine("502 unknown")
		}
	}
}

func TestSMTPDelivers(t *testing.T) {
	f := startFakeSMTP(t, true)
	s, err := NewSMTP(f.ln.Addr().String(), "Acme <verify@acme.example>", "relay-user", "relay-pass")
	if err != nil {
		t.Fatal(err)
	}
	m := message(grid.ChannelEmail, false)
	if err := s.SendContactCode(t.Context(), m); err != nil {
		t.Fatalf("SendContactCode: %v", err)
	}
	f.ln.Close()
	<-f.done
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := strings.Join(f.cmds, " "); got != "EHLO AUTH MAIL RCPT DATA QUIT" {
		t.Errorf("commands = %s", got)
	}
	if f.auth != "\x00relay-user\x00relay-pass" {
		t.Errorf("AUTH PLAIN = %q", f.auth)
	}
	msg, err := textproto.NewReader(bufio.NewReader(strings.NewReader(f.data))).ReadMIMEHeader()
	if err != nil {
		t.Fatalf("message header: %v\n%s", err, f.data)
	}
	if msg.Get("From") != `"Acme" <verify@acme.example>` || msg.Get("To") != "<jane@example.com>" || msg.Get("Subject") == "" {
		t.Errorf("headers = %v", msg)
	}
	if !strings.Contains(f.data, m.Code) || !strings.Contains(f.data, "2025-07-21 17:42 UTC") {
		t.Errorf("body lacks the code or its expiry:\n%s", f.data)
	}
}

func TestSMTPWithoutAuth(t *testing.T) {
	f := startFakeSMTP(t, false)
	s, err := NewSMTP(f.ln.Addr().String(), "verify@acme.example", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendContactCode(t.Context(), message(grid.ChannelEmail, false)); err != nil {
		t.Fatalf("SendContactCode: %v", err)
	}
}

func TestSMTPNeedsAuthWhenConfigured(t *testing.T) {
	f := startFakeSMTP(t, false)
	s, err := NewSMTP(f.ln.Addr().String(), "verify@acme.example", "u", "p")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendContactCode(t.Context(), message(grid.ChannelEmail, false)); err == nil || !strings.Contains(err.Error(), "AUTH") {
		t.Errorf("SendContactCode = %v, want a refusal: the server offers no AUTH", err)
	}
}

func TestSMTPTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		// Accept and say nothing.
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			time.Sleep(2 * time.Second)
		}
	}()
	s, err := NewSMTP(ln.Addr().String(), "verify@acme.example", "", "")
	if err != nil {
		t.Fatal(err)
	}
	s.Timeout = 100 * time.Millisecond
	start := time.Now()
	if err := s.SendContactCode(t.Context(), message(grid.ChannelEmail, false)); err == nil {
		t.Fatal("a silent server was taken for a delivery")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("gave up after %v, want about the 100ms timeout", d)
	}
}
