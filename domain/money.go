package domain

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Money is an exact amount: Amount counts the minor units (cents for USD,
// yen for JPY) of Currency, an ISO 4217 code in upper case.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// CurrencyExponent returns the number of decimal places of an ISO 4217
// currency. Unknown codes use 2, the most common exponent.
func CurrencyExponent(currency string) int {
	switch strings.ToUpper(currency) {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
		"RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	default:
		return 2
	}
}

// ErrBadAmount is wrapped by ParseMoney for text that is not a decimal amount.
var ErrBadAmount = errors.New("not a decimal amount")

// ParseMoney parses a decimal string such as "12.5", "-3", "1,234.56" or
// "0.125" exactly into minor units of currency. More decimal places than the
// currency has are rounded half away from zero. It never goes through float64.
func ParseMoney(s, currency string) (Money, error) {
	cur := strings.ToUpper(strings.TrimSpace(currency))
	amt, err := ParseMinor(s, CurrencyExponent(cur))
	if err != nil {
		return Money{}, err
	}
	return Money{Amount: amt, Currency: cur}, nil
}

// ParseMinor parses a decimal string into an integer scaled by 10^exp,
// rounding half away from zero beyond exp places.
func ParseMinor(s string, exp int) (int64, error) {
	t := strings.TrimSpace(s)
	t = strings.ReplaceAll(t, ",", "")
	if t == "" {
		return 0, fmt.Errorf("parsing amount %q: %w", s, ErrBadAmount)
	}
	neg := false
	switch t[0] {
	case '-':
		neg = true
		t = t[1:]
	case '+':
		t = t[1:]
	}
	intPart, frac, _ := strings.Cut(t, ".")
	if intPart == "" && frac == "" {
		return 0, fmt.Errorf("parsing amount %q: %w", s, ErrBadAmount)
	}
	for _, part := range []string{intPart, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("parsing amount %q: %w", s, ErrBadAmount)
			}
		}
	}
	var v int64
	for _, c := range intPart {
		if v > (math.MaxInt64-9)/10 {
			return 0, fmt.Errorf("parsing amount %q: too large", s)
		}
		v = v*10 + int64(c-'0')
	}
	for i := 0; i < exp; i++ {
		if v > (math.MaxInt64-9)/10 {
			return 0, fmt.Errorf("parsing amount %q: too large", s)
		}
		v *= 10
		if i < len(frac) {
			v += int64(frac[i] - '0')
		}
	}
	if len(frac) > exp && frac[exp] >= '5' {
		v++
	}
	if neg {
		v = -v
	}
	return v, nil
}

// String formats m as a plain decimal with its currency, e.g. "12.50 EUR".
func (m Money) String() string {
	return m.Decimal() + " " + m.Currency
}

// Decimal formats the amount alone, with the currency's decimal places.
func (m Money) Decimal() string {
	return FormatMinor(m.Amount, CurrencyExponent(m.Currency))
}

// FormatMinor formats v scaled by 10^exp as a decimal string.
func FormatMinor(v int64, exp int) string {
	neg := v < 0
	u := uint64(v)
	if neg {
		u = uint64(-v)
	}
	s := strconv.FormatUint(u, 10)
	if exp > 0 {
		if len(s) <= exp {
			s = strings.Repeat("0", exp-len(s)+1) + s
		}
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Float returns the amount in major units as a float64, for statistics only;
// never store or sum money through it.
func (m Money) Float() float64 {
	return float64(m.Amount) / math.Pow10(CurrencyExponent(m.Currency))
}
