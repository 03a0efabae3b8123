package refdata

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestIsCountry(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"US", true},
		{"MX", true},
		{"CW", true},
		{"SX", true},
		{"AQ", true},
		{"us", false},
		{"Us", false},
		{"USA", false},
		{"", false},
		{" US", false},
		// XK (Kosovo) is a user-assigned code, not part of ISO 3166-1, and
		// iso-codes does not list it. It is deliberately not accepted.
		{"XK", false},
		{"ZZ", false},
	}
	for _, tt := range tests {
		if got := IsCountry(tt.code); got != tt.want {
			t.Errorf("IsCountry(%q) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

func TestCountryName(t *testing.T) {
	tests := []struct {
		code, want string
		ok         bool
	}{
		{"US", "United States", true},
		{"MX", "Mexico", true},
		{"DE", "Germany", true},
		{"us", "", false},
		{"XK", "", false},
	}
	for _, tt := range tests {
		got, ok := CountryName(tt.code)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CountryName(%q) = %q, %v, want %q, %v", tt.code, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCurrencies(t *testing.T) {
	tests := []struct {
		code             string
		fiat, crypto, ok bool
	}{
		{"USD", true, false, true},
		{"EUR", true, false, true},
		{"MXN", true, false, true},
		{"VES", true, false, true},
		{"MRU", true, false, true},
		{"SLE", true, false, true},
		{"ZWG", true, false, true},
		{"XCG", true, false, true},
		{"XOF", true, false, true},
		{"DEM", false, false, false},
		{"YUM", false, false, false},
		{"VEF", false, false, false},
		{"MRO", false, false, false},
		{"ZWL", false, false, false},
		{"HRK", false, false, false},
		{"SLL", false, false, false},
		{"ANG", false, false, false},
		{"BGN", false, false, false},
		{"XTS", false, false, false},
		{"XXX", false, false, false},
		{"XAU", false, false, false},
		{"usd", false, false, false},
		{"", false, false, false},
		{"BTC", false, true, true},
		{"ETH", false, true, true},
		{"SOL", false, true, true},
		{"USDC", false, true, true},
		{"USDT", false, true, true},
		{"EURC", false, true, true},
		{"PYUSD", false, true, true},
		{"btc", false, false, false},
		{"DOGE", false, false, false},
	}
	for _, tt := range tests {
		if got := IsFiatCurrency(tt.code); got != tt.fiat {
			t.Errorf("IsFiatCurrency(%q) = %v, want %v", tt.code, got, tt.fiat)
		}
		if got := IsCrypto(tt.code); got != tt.crypto {
			t.Errorf("IsCrypto(%q) = %v, want %v", tt.code, got, tt.crypto)
		}
		if got := IsCurrency(tt.code); got != tt.ok {
			t.Errorf("IsCurrency(%q) = %v, want %v", tt.code, got, tt.ok)
		}
	}
}

func TestCryptoNotFiat(t *testing.T) {
	for code := range cryptoTickers {
		if _, ok := isoCurrencies[code]; ok {
			t.Errorf("crypto ticker %q collides with an ISO 4217 code", code)
		}
	}
}

func TestCountryCurrency(t *testing.T) {
	tests := []struct {
		country, want string
		ok            bool
	}{
		{"MX", "MXN", true},
		{"BR", "BRL", true},
		{"US", "USD", true},
		{"DE", "EUR", true},
		{"GB", "GBP", true},
		{"NG", "NGN", true},
		{"EC", "USD", true},
		{"SV", "USD", true},
		{"PA", "USD", true},
		{"VE", "VES", true},
		{"MR", "MRU", true},
		{"SL", "SLE", true},
		{"ZW", "ZWG", true},
		{"CW", "XCG", true},
		{"SX", "XCG", true},
		{"HR", "EUR", true},
		{"BG", "EUR", true},
		{"AQ", "", false},
		{"mx", "", false},
		{"XK", "", false},
	}
	for _, tt := range tests {
		got, ok := CountryCurrency(tt.country)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CountryCurrency(%q) = %q, %v, want %q, %v", tt.country, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCountryCurrencyTableConsistent(t *testing.T) {
	for country, cur := range countryCurrency {
		if !IsCountry(country) {
			t.Errorf("countryCurrency key %q: IsCountry = false, want true", country)
		}
		if !IsFiatCurrency(cur) {
			t.Errorf("countryCurrency[%q] = %q: IsFiatCurrency = false, want true", country, cur)
		}
	}
	for country := range isoCountries {
		_, has := countryCurrency[country]
		if want := !noCurrency[country]; has != want {
			t.Errorf("country %q has currency mapping = %v, want %v", country, has, want)
		}
	}
	for country := range noCurrency {
		if !IsCountry(country) {
			t.Errorf("noCurrency key %q: IsCountry = false, want true", country)
		}
	}
	for cur, country := range homeCountryOverrides {
		if got, ok := countryCurrency[country]; !ok || got != cur {
			t.Errorf("override %s->%s: countryCurrency[%q] = %q, %v, want %q, true", cur, country, country, got, ok, cur)
		}
	}
}

func TestExtraAndWithdrawn(t *testing.T) {
	for code := range extraCurrencies {
		if withdrawn[code] {
			t.Errorf("extra currency %q is also in withdrawn list", code)
		}
	}
	for code := range withdrawn {
		if IsCurrency(code) {
			t.Errorf("IsCurrency(%q) = true, want false (withdrawn)", code)
		}
	}
}

func TestCurrencyHomeCountry(t *testing.T) {
	tests := []struct {
		currency, want string
		ok             bool
	}{
		{"USD", "US", true},
		{"GBP", "GB", true},
		{"BRL", "BR", true},
		{"MXN", "MX", true},
		{"CHF", "CH", true},
		{"AUD", "AU", true},
		{"NZD", "NZ", true},
		{"INR", "IN", true},
		{"DKK", "DK", true},
		{"NOK", "NO", true},
		{"ZAR", "ZA", true},
		{"ILS", "IL", true},
		{"MAD", "MA", true},
		{"NGN", "NG", true},
		{"VES", "VE", true},
		{"ZWG", "ZW", true},
		{"EUR", "", false},
		{"XOF", "", false},
		{"XAF", "", false},
		{"XCD", "", false},
		{"XPF", "", false},
		{"XCG", "", false},
		{"BTC", "", false},
		{"USDC", "", false},
		{"usd", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := CurrencyHomeCountry(tt.currency)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CurrencyHomeCountry(%q) = %q, %v, want %q, %v", tt.currency, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"+14155551234", "+14155551234", nil},
		{"+525512345678", "+525512345678", nil},
		{"+5511987654321", "+5511987654321", nil},
		{"+447911123456", "+447911123456", nil},
		{"+1415555", "", ErrPhoneInvalid},
		{"+999123456789", "", ErrPhoneInvalid},
		{"+1 415 555 1234", "", ErrPhoneFormat},
		{"0014155551234", "", ErrPhoneFormat},
		{"14155551234", "", ErrPhoneFormat},
		{"+04155551234", "", ErrPhoneFormat},
		{"+1415555123456789", "", ErrPhoneFormat},
		{"+1-415-555-1234", "", ErrPhoneFormat},
		{"", "", ErrPhoneFormat},
	}
	for _, tt := range tests {
		got, err := NormalizePhone(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("NormalizePhone(%q) = %q, %v, want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestValidEmail(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"alice@example.com", true},
		{"a.b+tag@sub.example.co.uk", true},
		{"Alice <alice@example.com>", false},
		{"<alice@example.com>", false},
		{"alice@localhost", false},
		{"alice@", false},
		{"@example.com", false},
		{"alice", false},
		{"alice@example.com ", false},
		{" alice@example.com", false},
		{"alice@@example.com", false},
		{"alice@example.", false},
		{"alice@.example.com", false},
		{"alice@[192.168.0.1]", false},
		{"alice@example.com (Alice)", false},
		{"", false},
		{"a@" + strings.Repeat("b", 250) + ".com", false},
	}
	for _, tt := range tests {
		if got := ValidEmail(tt.in); got != tt.want {
			t.Errorf("ValidEmail(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2024-02-29", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), true},
		{"1990-12-31", time.Date(1990, 12, 31, 0, 0, 0, 0, time.UTC), true},
		{"2023-02-29", time.Time{}, false},
		{"2023-04-31", time.Time{}, false},
		{"2023-13-01", time.Time{}, false},
		{"2023-1-05", time.Time{}, false},
		{"2023-01-5", time.Time{}, false},
		{"23-01-05", time.Time{}, false},
		{"2023/01/05", time.Time{}, false},
		{"2023-01-05T00:00:00Z", time.Time{}, false},
		{" 2023-01-05", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("ParseDate(%q) = %v, %v, want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
