// Package refdata holds reference data and validators for the Grid customer
// API: ISO 3166-1 countries, ISO 4217 currencies, supported crypto tickers,
// country-to-currency mappings, and E.164 phone, email and date checks.
//
// The ISO tables are generated from the JSON data of the Debian iso-codes
// package; run go generate in this directory to refresh them.
package refdata

//go:generate go run ./gen
