package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/gridd/gridd/internal/grid"
)

// DefaultTimeout bounds one delivery: connecting, sending and reading the answer.
const DefaultTimeout = 10 * time.Second

// maxAnswerBytes is how much of a receiver's answer is kept.
const maxAnswerBytes = 4 << 10

// Client posts signed webhooks. It is the grid.WebhookSender of the API's test webhook and
// the transport of the Dispatcher.
type Client struct {
	signer *Signer
	http   *http.Client
}

var _ grid.WebhookSender = (*Client)(nil)

// NewClient returns a Client that signs with signer and gives each delivery at most timeout
// (zero: DefaultTimeout), connection included. Redirects are not followed: a webhook goes to
// the configured URL or counts as failed.
func NewClient(signer *Signer, timeout time.Duration) *Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &Client{signer: signer, http: &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// PublicKeyPEM returns the key that verifies the Client's signatures.
func (c *Client) PublicKeyPEM() string { return c.signer.PublicKeyPEM() }

// Send posts body to endpoint with Content-Type application/json and the X-Grid-Signature header.
// It returns the answer, whatever its status, with the first 4 KiB of its body; an error
// means no answer came back.
func (c *Client) Send(ctx context.Context, endpoint string, body []byte) (*grid.WebhookResponse, error) {
	sig, err := c.signer.Sign(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("bad webhook URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gridd-webhooks/1")
	req.Header.Set(SignatureHeader, sig)
	start := time.Now()
	res, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && ctx.Err() == nil {
			// Drop the "Post \"url\": " prefix: the URL is known to the reader.
			err = ue.Err
		}
		return nil, err
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(res.Body, maxAnswerBytes))
	latency := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	// Read a little more so the connection can be reused; a huge answer is cut off instead.
	io.CopyN(io.Discard, res.Body, 64<<10)
	return &grid.WebhookResponse{Status: res.StatusCode, Body: answer, Latency: latency}, nil
}
