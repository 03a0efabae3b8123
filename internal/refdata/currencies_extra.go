package refdata

// extraCurrencies lists active ISO 4217 codes missing from iso-codes 4.15.
var extraCurrencies = map[string]string{
	// ISO 4217 amendment 177 (ZWG, 2024): Zimbabwe Gold replaces ZWL.
	"ZWG": "Zimbabwe Gold",
	// ISO 4217 amendment 176 (XCG, 2025): Caribbean guilder (Curaçao and
	// Sint Maarten) replaces ANG.
	"XCG": "Caribbean Guilder",
}

// withdrawn lists codes withdrawn by ISO 4217 that must never be accepted,
// even where iso-codes still lists them. Some entries are already absent
// from iso-codes and are kept here as a guard against older data.
var withdrawn = map[string]bool{
	"HRK": true, // Croatian kuna, replaced by EUR (2023).
	"SLL": true, // Sierra Leonean leone (old), replaced by SLE (2024).
	"ANG": true, // Netherlands Antillean guilder, replaced by XCG (2025).
	"ZWL": true, // Zimbabwe dollar, replaced by ZWG (2024).
	"VEF": true, // Venezuelan bolívar fuerte, replaced by VES (2018).
	"MRO": true, // Mauritanian ouguiya (old), replaced by MRU (2018).
	"BGN": true, // Bulgarian lev, replaced by EUR (2026).
}

// notFiat lists ISO 4217 codes that are not spendable fiat money: precious
// metals, bond-market and accounting units, and the testing/no-currency codes.
var notFiat = map[string]bool{
	"XAG": true, "XAU": true, "XPD": true, "XPT": true, // precious metals
	"XBA": true, "XBB": true, "XBC": true, "XBD": true, // bond-market units
	"XDR": true, "XSU": true, "XUA": true, // units of account
	"XTS": true, "XXX": true, // testing / no currency
}

// fiatCurrencies is the set of accepted fiat codes: iso-codes plus
// extraCurrencies, minus withdrawn and notFiat codes.
var fiatCurrencies = func() map[string]bool {
	m := make(map[string]bool, len(isoCurrencies)+len(extraCurrencies))
	for _, src := range []map[string]string{isoCurrencies, extraCurrencies} {
		for code := range src {
			if !withdrawn[code] && !notFiat[code] {
				m[code] = true
			}
		}
	}
	return m
}()

// cryptoTickers lists the crypto assets supported by the API. These are
// market tickers, not ISO 4217 codes.
var cryptoTickers = map[string]bool{
	"BTC":   true,
	"ETH":   true,
	"SOL":   true,
	"USDC":  true,
	"USDT":  true,
	"EURC":  true,
	"PYUSD": true,
}
