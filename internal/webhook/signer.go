// Package webhook delivers the webhook outbox: a Dispatcher claims due events with a lease,
// signs each body with the server's P-256 key and posts it to the platform's endpoint, and
// retries failures with exponential backoff until the event is delivered or its retry window
// ends.
package webhook

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// SignatureHeader carries a webhook's signature.
const SignatureHeader = "X-Grid-Signature"

// Signer signs webhook bodies. A signature is the base64 (standard alphabet, padded) of the
// ASN.1 DER ECDSA signature, with a P-256 key, of the SHA-256 digest of the exact body bytes:
// what Node's crypto.verify("SHA256", ...) and Python's ec.ECDSA(hashes.SHA256()) check.
type Signer struct {
	key    *ecdsa.PrivateKey
	pubPEM string
}

// NewSigner returns a Signer for a P-256 private key.
func NewSigner(key *ecdsa.PrivateKey) (*Signer, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, errors.New("webhook: the signing key must be a P-256 (secp256r1) key")
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("webhook: encode public key: %w", err)
	}
	return &Signer{key: key, pubPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}, nil
}

// GenerateKey returns a new P-256 private key as PKCS#8 DER.
func GenerateKey() ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return x509.MarshalPKCS8PrivateKey(key)
}

// ParsePKCS8 reads a P-256 private key from PKCS#8 DER.
func ParsePKCS8(der []byte) (*ecdsa.PrivateKey, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("webhook: signing key: %w", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("webhook: the signing key must be a P-256 (secp256r1) key")
	}
	return ec, nil
}

// ParseKey reads a P-256 private key given by configuration: PEM ("PRIVATE KEY", PKCS#8, or
// "EC PRIVATE KEY", SEC 1) or the base64 of PKCS#8 DER.
func ParseKey(s string) (*ecdsa.PrivateKey, error) {
	s = strings.TrimSpace(s)
	if block, _ := pem.Decode([]byte(s)); block != nil {
		switch block.Type {
		case "PRIVATE KEY":
			return ParsePKCS8(block.Bytes)
		case "EC PRIVATE KEY":
			k, err := x509.ParseECPrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("webhook: signing key: %w", err)
			}
			if k.Curve != elliptic.P256() {
				return nil, errors.New("webhook: the signing key must be a P-256 (secp256r1) key")
			}
			return k, nil
		}
		return nil, fmt.Errorf("webhook: signing key: unexpected PEM block %q", block.Type)
	}
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("webhook: signing key: neither PEM nor base64 PKCS#8")
	}
	return ParsePKCS8(der)
}

// Sign returns the X-Grid-Signature value for body.
func (s *Signer) Sign(body []byte) (string, error) {
	digest := sha256.Sum256(body)
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, digest[:])
	if err != nil {
		return "", fmt.Errorf("webhook: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// PublicKeyPEM returns the PEM "PUBLIC KEY" (SubjectPublicKeyInfo) that verifies signatures.
func (s *Signer) PublicKeyPEM() string { return s.pubPEM }

// Verify checks a signature header against body with a PEM public key, as a receiver does. It
// accepts the plain base64 signature gridd sends and the {"v":"1","s":"<base64>"} form some
// Grid guides show.
func Verify(publicKeyPEM string, body []byte, header string) error {
	block, _ := pem.Decode([]byte(publicKeyPEM))
	if block == nil {
		return errors.New("webhook: public key is not PEM")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("webhook: public key: %w", err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return errors.New("webhook: public key is not ECDSA")
	}
	sigText := strings.TrimSpace(header)
	if strings.HasPrefix(sigText, "{") {
		var v struct {
			V string `json:"v"`
			S string `json:"s"`
		}
		if err := json.Unmarshal([]byte(sigText), &v); err != nil || v.S == "" {
			return errors.New("webhook: malformed signature header")
		}
		sigText = v.S
	}
	sig, err := base64.StdEncoding.DecodeString(sigText)
	if err != nil {
		return errors.New("webhook: signature is not base64")
	}
	digest := sha256.Sum256(body)
	if !ecdsa.VerifyASN1(ec, digest[:], sig) {
		return errors.New("webhook: signature does not verify")
	}
	return nil
}
