package refdata

import (
	"errors"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// IsCountry reports whether code is an ISO 3166-1 alpha-2 code (uppercase, exact).
func IsCountry(code string) bool {
	_, ok := isoCountries[code]
	return ok
}

// CountryName returns the ISO 3166-1 short name for an alpha-2 country code.
func CountryName(code string) (string, bool) {
	name, ok := isoCountries[code]
	return name, ok
}

// IsFiatCurrency reports whether code is an active ISO 4217 fiat currency code (uppercase, exact).
func IsFiatCurrency(code string) bool {
	return fiatCurrencies[code]
}

// IsCrypto reports whether code is a crypto ticker supported by the API (uppercase, exact).
func IsCrypto(code string) bool {
	return cryptoTickers[code]
}

// IsCurrency reports whether code is a supported fiat currency or crypto ticker.
func IsCurrency(code string) bool {
	return IsFiatCurrency(code) || IsCrypto(code)
}

// CountryCurrency returns the primary local fiat currency of a country.
func CountryCurrency(country string) (string, bool) {
	cur, ok := countryCurrency[country]
	return cur, ok
}

// CurrencyHomeCountry returns the single country a fiat currency identifies, or false if it is shared or unknown.
func CurrencyHomeCountry(currency string) (string, bool) {
	country, ok := currencyHome[currency]
	return country, ok
}

// ErrPhoneFormat is returned by NormalizePhone for input that is not strict E.164.
var ErrPhoneFormat = errors.New("must be in E.164 format, e.g. +14155551234")

// ErrPhoneInvalid is returned by NormalizePhone for well-formed input that is not a valid number.
var ErrPhoneInvalid = errors.New("is not a valid phone number")

var e164Re = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// NormalizePhone validates a strict E.164 phone number and returns it in canonical E.164 form.
func NormalizePhone(s string) (string, error) {
	if !e164Re.MatchString(s) {
		return "", ErrPhoneFormat
	}
	num, err := phonenumbers.Parse(s, "ZZ")
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", ErrPhoneInvalid
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// ValidEmail reports whether s is a bare email address of the form local@domain.tld.
func ValidEmail(s string) bool {
	if len(s) > 254 {
		return false
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if local == "" || len(local) > 64 || strings.ContainsAny(domain, "[]") {
		return false
	}
	dot := strings.IndexByte(domain, '.')
	return dot > 0 && !strings.HasSuffix(domain, ".")
}

// ParseDate parses a strict YYYY-MM-DD calendar date as midnight UTC.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != len(time.DateOnly) {
		return time.Time{}, errors.New("must be a valid date in YYYY-MM-DD format")
	}
	return t, nil
}
