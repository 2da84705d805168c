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

// CurrencyExponent returns the number of decimal places (minor unit digits)
// of an ISO 4217 currency, in any case. Unknown codes use 2, the most
// common exponent.
func CurrencyExponent(currency string) int {
	switch strings.ToUpper(currency) {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
		"RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	case "CLF", "UYW":
		return 4
	default:
		return 2
	}
}

// ErrBadAmount is wrapped by ParseMoney and ParseMinor for text that is not
// a decimal amount; the error says what is wrong with it.
var ErrBadAmount = errors.New("not a decimal amount")

// ErrAmountRange is wrapped for an amount whose minor units do not fit in
// an int64.
var ErrAmountRange = errors.New("amount out of range")

// ErrBadCurrency is wrapped by ParseMoney for a currency that is not a
// three-letter ISO 4217 code.
var ErrBadCurrency = errors.New("not a three-letter ISO 4217 currency code")

// ParseMoney parses a decimal string such as "12.5", "-3", "1,234.56" or
// "0.125" exactly into minor units of currency (see ParseMinor for the
// accepted text and the rounding). The currency must be three letters, in
// any case; it is stored upper-cased. It never goes through float64.
func ParseMoney(s, currency string) (Money, error) {
	cur := strings.ToUpper(strings.TrimSpace(currency))
	if len(cur) != 3 || strings.IndexFunc(cur, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return Money{}, fmt.Errorf("parsing amount %q: currency %q: %w", s, currency, ErrBadCurrency)
	}
	amt, err := ParseMinor(s, CurrencyExponent(cur))
	if err != nil {
		return Money{}, err
	}
	return Money{Amount: amt, Currency: cur}, nil
}

// ParseMinor parses a decimal string into an integer scaled by 10^exp.
//
// The text is an optional sign, digits, and an optional point followed by
// digits ("12", "-3.5", ".5", "7."), with surrounding space allowed. Commas
// may separate thousands in the integer part ("1,234,567.89") and nowhere
// else, so a decimal comma ("12,50") is an error rather than 1250. Digits
// beyond exp places are rounded half away from zero, which the first dropped
// digit decides ("0.125" → 13 cents, "-0.125" → -13, "0.1249" → 12).
func ParseMinor(s string, exp int) (int64, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("parsing amount %q: %w: %s", s, ErrBadAmount, fmt.Sprintf(format, a...))
	}
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, bad("empty")
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
		return 0, bad("no digits")
	}
	if strings.Contains(intPart, ",") {
		groups := strings.Split(intPart, ",")
		if len(groups[0]) == 0 || len(groups[0]) > 3 {
			return 0, bad("a comma must separate groups of three digits (is it a decimal comma?)")
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return 0, bad("a comma must separate groups of three digits (is it a decimal comma?)")
			}
		}
		intPart = strings.Join(groups, "")
	}
	for _, part := range []string{intPart, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, bad("unexpected %q", c)
			}
		}
	}
	tooLarge := fmt.Errorf("parsing amount %q: %w: more than 64-bit minor units", s, ErrAmountRange)
	var v int64
	push := func(d int64) bool { // v = v*10 + d unless that overflows
		if v > (math.MaxInt64-d)/10 {
			return false
		}
		v = v*10 + d
		return true
	}
	for _, c := range intPart {
		if !push(int64(c - '0')) {
			return 0, tooLarge
		}
	}
	for i := 0; i < exp; i++ {
		var d int64
		if i < len(frac) {
			d = int64(frac[i] - '0')
		}
		if !push(d) {
			return 0, tooLarge
		}
	}
	if len(frac) > exp && frac[exp] >= '5' {
		if v == math.MaxInt64 {
			return 0, tooLarge
		}
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
