package webhook_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"testing"

	"github.com/gridd/gridd/internal/webhook"
)

func TestParseKeyForms(t *testing.T) {
	der, err := webhook.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	key, err := webhook.ParsePKCS8(der)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	forms := map[string]string{
		"PKCS#8 PEM": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"SEC 1 PEM":  string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})),
		"base64":     base64.StdEncoding.EncodeToString(der),
		"base64 nl":  base64.StdEncoding.EncodeToString(der) + "\n",
	}
	for name, s := range forms {
		got, err := webhook.ParseKey(s)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !got.Equal(key) {
			t.Errorf("%s: parsed another key", name)
		}
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der384, _ := x509.MarshalPKCS8PrivateKey(p384)
	for name, s := range map[string]string{
		"P-384":   base64.StdEncoding.EncodeToString(der384),
		"garbage": "not a key",
		"cert":    string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})),
	} {
		if _, err := webhook.ParseKey(s); err == nil {
			t.Errorf("ParseKey(%s) accepted it", name)
		}
	}
}

// TestSignature checks the header format: base64 of an ASN.1 DER ECDSA signature over the
// SHA-256 of the exact body, verifiable with the PEM public key alone.
func TestSignature(t *testing.T) {
	der, _ := webhook.GenerateKey()
	key, _ := webhook.ParsePKCS8(der)
	s, err := webhook.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"id":"Webhook:019542f5-b3e7-1d02-0000-000000000007","type":"TEST","timestamp":"2025-08-15T14:32:00Z","data":{}}`)
	sig, err := s.Sign(body)
	if err != nil {
		t.Fatal(err)
	}
	// Independent check with the standard library only.
	block, _ := pem.Decode([]byte(s.PublicKeyPEM()))
	if block == nil || block.Type != "PUBLIC KEY" {
		t.Fatalf("public key PEM = %q", s.PublicKeyPEM())
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		t.Fatalf("signature %q is not standard base64: %v", sig, err)
	}
	digest := sha256.Sum256(body)
	if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest[:], raw) {
		t.Fatal("the signature is not an ASN.1 ECDSA signature of SHA-256(body)")
	}

	if err := webhook.Verify(s.PublicKeyPEM(), body, sig); err != nil {
		t.Errorf("Verify plain header: %v", err)
	}
	if err := webhook.Verify(s.PublicKeyPEM(), body, fmt.Sprintf(`{"v":"1","s":"%s"}`, sig)); err != nil {
		t.Errorf("Verify JSON header: %v", err)
	}
	if err := webhook.Verify(s.PublicKeyPEM(), append(body, ' '), sig); err == nil {
		t.Error("Verify accepted a changed body")
	}
	other, _ := webhook.GenerateKey()
	okey, _ := webhook.ParsePKCS8(other)
	os, _ := webhook.NewSigner(okey)
	if err := webhook.Verify(os.PublicKeyPEM(), body, sig); err == nil {
		t.Error("Verify accepted another key")
	}
}
