package main

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/gridd/gridd/internal/grid"
	"github.com/gridd/gridd/internal/webhook"
)

// webhooks is the webhook side of a running server: the signing client, which the API uses
// for the test webhook and the public key, and the dispatcher that drains the outbox.
type webhooks struct {
	client     *webhook.Client
	dispatcher *webhook.Dispatcher
}

// newWebhooks loads the signing key and prepares the dispatcher; Run starts it.
func newWebhooks(ctx context.Context, svc *grid.Service, getenv func(string) string, log *slog.Logger) (*webhooks, error) {
	signer, err := webhookSigner(ctx, svc, getenv)
	if err != nil {
		return nil, err
	}
	client := webhook.NewClient(signer, 0)
	d := webhook.New(svc.Store(), client, webhook.Options{Logger: log})
	log.Info("webhook dispatcher ready", "node", d.Node())
	return &webhooks{client: client, dispatcher: d}, nil
}

// Run delivers webhooks until ctx ends.
func (w *webhooks) Run(ctx context.Context) error { return w.dispatcher.Run(ctx) }

// webhookSigner returns the signer of every webhook: the key in GRIDD_WEBHOOK_SIGNING_KEY
// (PEM, or base64 PKCS#8), else the key kept in the database, generated on first start and
// shared by every node.
func webhookSigner(ctx context.Context, svc *grid.Service, getenv func(string) string) (*webhook.Signer, error) {
	var key *ecdsa.PrivateKey
	if v := getenv("GRIDD_WEBHOOK_SIGNING_KEY"); v != "" {
		k, err := webhook.ParseKey(v)
		if err != nil {
			return nil, fmt.Errorf("GRIDD_WEBHOOK_SIGNING_KEY: %w", err)
		}
		key = k
	} else {
		der, err := svc.WebhookSigningKey(ctx, webhook.GenerateKey)
		if err != nil {
			return nil, err
		}
		if key, err = webhook.ParsePKCS8(der); err != nil {
			return nil, err
		}
	}
	return webhook.NewSigner(key)
}

// webhookCmd runs "gridd webhook public-key": it prints the PEM public key that verifies the
// webhooks of the server using the same database and configuration.
func webhookCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "public-key" {
		return errors.New("usage: gridd webhook public-key [flags]")
	}
	var c config
	fs := flag.NewFlagSet("webhook public-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.bind(fs, getenv)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	svc, st, err := c.open(ctx, c.logger(stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	signer, err := webhookSigner(ctx, svc, getenv)
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, signer.PublicKeyPEM())
	return err
}
