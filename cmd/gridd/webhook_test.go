package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridd/gridd/internal/webhook"
)

// TestServeDeliversSignedWebhooks runs the server end to end with a receiver on loopback: the
// test webhook sent when the endpoint is set and a customer's webhook arrive, signed with the
// key that the API and the operator command both show.
func TestServeDeliversSignedWebhooks(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"GRIDD_ADDR":            "127.0.0.1:0",
		"GRIDD_DATABASE_URL":    filepath.Join(dir, "gridd.db"),
		"GRIDD_BOOTSTRAP_TOKEN": "wh-token:wh-secret",
	}
	url, stop := startServer(t, env)
	defer stop()

	status, body := call(t, "GET", url+"/webhooks/public-key", "wh-token", "wh-secret", "")
	if status != 200 {
		t.Fatalf("GET /webhooks/public-key = %d %s", status, body)
	}
	var pk struct{ PublicKey string }
	json.Unmarshal([]byte(body), &pk)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"webhook", "public-key"}, func(k string) string { return env[k] }, &out, io.Discard); err != nil {
		t.Fatalf("gridd webhook public-key: %v", err)
	}
	if out.String() != pk.PublicKey || !strings.HasPrefix(pk.PublicKey, "-----BEGIN PUBLIC KEY-----") {
		t.Fatalf("operator command printed %q, API served %q", out.String(), pk.PublicKey)
	}

	var mu sync.Mutex
	var got []map[string]any
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(pk.PublicKey, b, r.Header.Get("X-Grid-Signature")); err != nil {
			t.Errorf("webhook %s: %v", b, err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	defer rcv.Close()

	if status, body := call(t, "PATCH", url+"/config", "wh-token", "wh-secret", fmt.Sprintf(`{"webhookEndpoint":%q}`, rcv.URL)); status != 200 {
		t.Fatalf("PATCH /config = %d %s", status, body)
	}
	if status, body := call(t, "POST", url+"/customers", "wh-token", "wh-secret",
		`{"customerType":"INDIVIDUAL","platformCustomerId":"wh-1","region":"US","fullName":"Jane Smith","birthDate":"1990-01-15","nationality":"US"}`); status != 201 {
		t.Fatalf("POST /customers = %d %s", status, body)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("received %d webhooks, want 2", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	// The two have no order between them: only webhooks of one customer do.
	byType := map[string]map[string]any{}
	for _, m := range got {
		byType[m["type"].(string)] = m
	}
	if len(got) != 2 || byType["TEST"] == nil || byType["CUSTOMER.KYC_APPROVED"] == nil {
		t.Fatalf("webhooks %v, want one TEST and one CUSTOMER.KYC_APPROVED", got)
	}
	if data, _ := byType["CUSTOMER.KYC_APPROVED"]["data"].(map[string]any); data["platformCustomerId"] != "wh-1" {
		t.Errorf("customer webhook data = %v", data)
	}
}

// TestConfiguredSigningKey: a key given in GRIDD_WEBHOOK_SIGNING_KEY signs instead of the
// stored one; a malformed one stops the start.
func TestConfiguredSigningKey(t *testing.T) {
	der, err := webhook.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	key, _ := webhook.ParsePKCS8(der)
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	wantPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	env := map[string]string{
		"GRIDD_ADDR":                "127.0.0.1:0",
		"GRIDD_DATABASE_URL":        filepath.Join(t.TempDir(), "gridd.db"),
		"GRIDD_BOOTSTRAP_TOKEN":     "wh-token:wh-secret",
		"GRIDD_WEBHOOK_SIGNING_KEY": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
	}
	url, stop := startServer(t, env)
	status, body := call(t, "GET", url+"/webhooks/public-key", "wh-token", "wh-secret", "")
	stop()
	var pk struct{ PublicKey string }
	json.Unmarshal([]byte(body), &pk)
	if status != 200 || pk.PublicKey != wantPEM {
		t.Errorf("public key = %d %q, want the configured key's %q", status, pk.PublicKey, wantPEM)
	}

	env["GRIDD_WEBHOOK_SIGNING_KEY"] = "not a key"
	err = run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "GRIDD_WEBHOOK_SIGNING_KEY") {
		t.Errorf("start with a bad key: err = %v, want one naming GRIDD_WEBHOOK_SIGNING_KEY", err)
	}
}
