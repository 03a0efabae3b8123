package seal

import (
	"bytes"
	"errors"
	"testing"
)

func TestRoundTripAndWrongKey(t *testing.T) {
	a, err := New(NewKey())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New(NewKey())
	msg := []byte(`{"identifier":"123-45-6789"}`)
	sealed, err := a.Seal(msg)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("123-45-6789")) {
		t.Fatalf("sealed value contains the plaintext")
	}
	got, err := a.Open(sealed)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("Open = %q, %v; want %q", got, err, msg)
	}
	if _, err := b.Open(sealed); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Open with another key: err = %v, want ErrWrongKey", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := a.Open(sealed); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Open of a tampered value: err = %v, want ErrWrongKey", err)
	}
}

func TestKeyText(t *testing.T) {
	k := NewKey()
	back, err := DecodeKey(EncodeKey(k))
	if err != nil || !bytes.Equal(back, k) {
		t.Fatalf("DecodeKey(EncodeKey(k)) = %x, %v", back, err)
	}
	for _, bad := range []string{"", "not base64!", EncodeKey(k[:16])} {
		if _, err := DecodeKey(bad); err == nil {
			t.Errorf("DecodeKey(%q) succeeded, want an error", bad)
		}
	}
}
