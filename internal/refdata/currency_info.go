package refdata

// minorUnitExceptions lists the fiat currencies whose minor unit is not two decimal places,
// from the ISO 4217 list one published by SIX (amendment 178, 2025). XCG and ZWG use two.
var minorUnitExceptions = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	"CLF": 4, "UYW": 4,
}

// cryptoInfo gives the name and the smallest-unit decimals of each supported crypto ticker
// (satoshis for BTC, wei for ETH, lamports for SOL, the token decimals of the stablecoins).
var cryptoInfo = map[string]struct {
	name     string
	decimals int
}{
	"BTC": {"Bitcoin", 8}, "ETH": {"Ether", 18}, "SOL": {"Solana", 9},
	"USDC": {"USD Coin", 6}, "USDT": {"Tether USD", 6}, "EURC": {"Euro Coin", 6}, "PYUSD": {"PayPal USD", 6},
}

// CurrencyName returns the name of a supported currency code or crypto ticker.
func CurrencyName(code string) (string, bool) {
	if c, ok := cryptoInfo[code]; ok {
		return c.name, true
	}
	if !IsFiatCurrency(code) {
		return "", false
	}
	if name, ok := isoCurrencies[code]; ok {
		return name, true
	}
	name, ok := extraCurrencies[code]
	return name, ok
}

// MinorUnits returns how many decimal places the smallest unit of a currency has (2 for USD:
// amounts are in cents), or false for an unknown code.
func MinorUnits(code string) (int, bool) {
	if c, ok := cryptoInfo[code]; ok {
		return c.decimals, true
	}
	if !IsFiatCurrency(code) {
		return 0, false
	}
	if d, ok := minorUnitExceptions[code]; ok {
		return d, true
	}
	return 2, true
}
