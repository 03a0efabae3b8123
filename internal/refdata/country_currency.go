package refdata

// countryCurrency maps each ISO 3166-1 alpha-2 country to its primary local
// fiat currency (ISO 4217). It is maintained by hand because iso-codes has no
// such mapping. Where ISO 4217 lists several currencies for a country, the one
// used for everyday payments is chosen (EC, PA, SV, TL: USD; PS: ILS).
// Countries with no currency (see noCurrency) are omitted.
var countryCurrency = map[string]string{
	"AD": "EUR", "AE": "AED", "AF": "AFN", "AG": "XCD", "AI": "XCD",
	"AL": "ALL", "AM": "AMD", "AO": "AOA", "AR": "ARS", "AS": "USD",
	"AT": "EUR", "AU": "AUD", "AW": "AWG", "AX": "EUR", "AZ": "AZN",
	"BA": "BAM", "BB": "BBD", "BD": "BDT", "BE": "EUR", "BF": "XOF",
	"BG": "EUR", "BH": "BHD", "BI": "BIF", "BJ": "XOF", "BL": "EUR",
	"BM": "BMD", "BN": "BND", "BO": "BOB", "BQ": "USD", "BR": "BRL",
	"BS": "BSD", "BT": "BTN", "BV": "NOK", "BW": "BWP", "BY": "BYN",
	"BZ": "BZD", "CA": "CAD", "CC": "AUD", "CD": "CDF", "CF": "XAF",
	"CG": "XAF", "CH": "CHF", "CI": "XOF", "CK": "NZD", "CL": "CLP",
	"CM": "XAF", "CN": "CNY", "CO": "COP", "CR": "CRC", "CU": "CUP",
	"CV": "CVE", "CW": "XCG", "CX": "AUD", "CY": "EUR", "CZ": "CZK",
	"DE": "EUR", "DJ": "DJF", "DK": "DKK", "DM": "XCD", "DO": "DOP",
	"DZ": "DZD", "EC": "USD", "EE": "EUR", "EG": "EGP", "EH": "MAD",
	"ER": "ERN", "ES": "EUR", "ET": "ETB", "FI": "EUR", "FJ": "FJD",
	"FK": "FKP", "FM": "USD", "FO": "DKK", "FR": "EUR", "GA": "XAF",
	"GB": "GBP", "GD": "XCD", "GE": "GEL", "GF": "EUR", "GG": "GBP",
	"GH": "GHS", "GI": "GIP", "GL": "DKK", "GM": "GMD", "GN": "GNF",
	"GP": "EUR", "GQ": "XAF", "GR": "EUR", "GT": "GTQ", "GU": "USD",
	"GW": "XOF", "GY": "GYD", "HK": "HKD", "HM": "AUD", "HN": "HNL",
	"HR": "EUR", "HT": "HTG", "HU": "HUF", "ID": "IDR", "IE": "EUR",
	"IL": "ILS", "IM": "GBP", "IN": "INR", "IO": "USD", "IQ": "IQD",
	"IR": "IRR", "IS": "ISK", "IT": "EUR", "JE": "GBP", "JM": "JMD",
	"JO": "JOD", "JP": "JPY", "KE": "KES", "KG": "KGS", "KH": "KHR",
	"KI": "AUD", "KM": "KMF", "KN": "XCD", "KP": "KPW", "KR": "KRW",
	"KW": "KWD", "KY": "KYD", "KZ": "KZT", "LA": "LAK", "LB": "LBP",
	"LC": "XCD", "LI": "CHF", "LK": "LKR", "LR": "LRD", "LS": "LSL",
	"LT": "EUR", "LU": "EUR", "LV": "EUR", "LY": "LYD", "MA": "MAD",
	"MC": "EUR", "MD": "MDL", "ME": "EUR", "MF": "EUR", "MG": "MGA",
	"MH": "USD", "MK": "MKD", "ML": "XOF", "MM": "MMK", "MN": "MNT",
	"MO": "MOP", "MP": "USD", "MQ": "EUR", "MR": "MRU", "MS": "XCD",
	"MT": "EUR", "MU": "MUR", "MV": "MVR", "MW": "MWK", "MX": "MXN",
	"MY": "MYR", "MZ": "MZN", "NA": "NAD", "NC": "XPF", "NE": "XOF",
	"NF": "AUD", "NG": "NGN", "NI": "NIO", "NL": "EUR", "NO": "NOK",
	"NP": "NPR", "NR": "AUD", "NU": "NZD", "NZ": "NZD", "OM": "OMR",
	"PA": "USD", "PE": "PEN", "PF": "XPF", "PG": "PGK", "PH": "PHP",
	"PK": "PKR", "PL": "PLN", "PM": "EUR", "PN": "NZD", "PR": "USD",
	"PS": "ILS", "PT": "EUR", "PW": "USD", "PY": "PYG", "QA": "QAR",
	"RE": "EUR", "RO": "RON", "RS": "RSD", "RU": "RUB", "RW": "RWF",
	"SA": "SAR", "SB": "SBD", "SC": "SCR", "SD": "SDG", "SE": "SEK",
	"SG": "SGD", "SH": "SHP", "SI": "EUR", "SJ": "NOK", "SK": "EUR",
	"SL": "SLE", "SM": "EUR", "SN": "XOF", "SO": "SOS", "SR": "SRD",
	"SS": "SSP", "ST": "STN", "SV": "USD", "SX": "XCG", "SY": "SYP",
	"SZ": "SZL", "TC": "USD", "TD": "XAF", "TF": "EUR", "TG": "XOF",
	"TH": "THB", "TJ": "TJS", "TK": "NZD", "TL": "USD", "TM": "TMT",
	"TN": "TND", "TO": "TOP", "TR": "TRY", "TT": "TTD", "TV": "AUD",
	"TW": "TWD", "TZ": "TZS", "UA": "UAH", "UG": "UGX", "UM": "USD",
	"US": "USD", "UY": "UYU", "UZ": "UZS", "VA": "EUR", "VC": "XCD",
	"VE": "VES", "VG": "USD", "VI": "USD", "VN": "VND", "VU": "VUV",
	"WF": "XPF", "WS": "WST", "YE": "YER", "YT": "EUR", "ZA": "ZAR",
	"ZM": "ZMW", "ZW": "ZWG",
}

// noCurrency lists countries deliberately absent from countryCurrency:
// ISO 4217 gives them "no universal currency" and they have no resident
// payment market.
var noCurrency = map[string]bool{
	"AQ": true, // Antarctica
	"GS": true, // South Georgia and the South Sandwich Islands
}

// homeCountryOverrides names the home country of currencies that several
// countries or territories use but that clearly belong to one issuer.
var homeCountryOverrides = map[string]string{
	"USD": "US",
	"AUD": "AU",
	"NZD": "NZ",
	"CHF": "CH",
	"DKK": "DK",
	"NOK": "NO",
	"INR": "IN",
	"ZAR": "ZA",
	"GBP": "GB",
	"ILS": "IL",
	"MAD": "MA",
}

// currencyHome maps a fiat currency to the single country it identifies:
// the override if any, otherwise the country when exactly one maps to it.
var currencyHome = func() map[string]string {
	users := make(map[string][]string)
	for country, cur := range countryCurrency {
		users[cur] = append(users[cur], country)
	}
	m := make(map[string]string, len(users)+len(homeCountryOverrides))
	for cur, countries := range users {
		if len(countries) == 1 {
			m[cur] = countries[0]
		}
	}
	for cur, country := range homeCountryOverrides {
		m[cur] = country
	}
	return m
}()
