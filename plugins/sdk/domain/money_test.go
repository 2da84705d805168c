package domain

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseMoneyExact(t *testing.T) {
	cases := []struct {
		in, cur string
		want    int64
		wantCur string
	}{
		{"12.5", "usd", 1250, "USD"},
		{"12.50", "EUR", 1250, "EUR"},
		{"-3", "EUR", -300, "EUR"},
		{"+3", "EUR", 300, "EUR"},
		{" 7. ", "EUR", 700, "EUR"},
		{".5", "EUR", 50, "EUR"},
		{"-.5", "EUR", -50, "EUR"},
		{"0", "EUR", 0, "EUR"},
		{"-0.00", "EUR", 0, "EUR"},
		{"1,234.56", "EUR", 123456, "EUR"},
		{"1,234,567", "EUR", 123456700, "EUR"},
		{"123,456.78", "EUR", 12345678, "EUR"},
		// 0.1 + 0.2 style values stay exact: no float64 on the way.
		{"0.1", "EUR", 10, "EUR"},
		{"0.3", "EUR", 30, "EUR"},
		{"19.99", "EUR", 1999, "EUR"},
		{"92233720368547758.07", "EUR", math.MaxInt64, "EUR"},
		{"-92233720368547758.07", "EUR", -math.MaxInt64, "EUR"},
		// Rounding: half away from zero, decided by the first dropped digit.
		{"0.125", "EUR", 13, "EUR"},
		{"-0.125", "EUR", -13, "EUR"},
		{"0.1249999", "EUR", 12, "EUR"},
		{"0.135", "EUR", 14, "EUR"},
		{"0.145", "EUR", 15, "EUR"},
		{"2.675", "EUR", 268, "EUR"}, // 2.675 is 2.67499… as a float64
		{"1.005", "EUR", 101, "EUR"}, // 1.00499… as a float64
		{"0.004", "EUR", 0, "EUR"},
		{"-0.005", "EUR", -1, "EUR"},
		// Zero-decimal currencies.
		{"1500", "JPY", 1500, "JPY"},
		{"1500.5", "JPY", 1501, "JPY"},
		{"1500.49", "jpy", 1500, "JPY"},
		{"-1,000", "KRW", -1000, "KRW"},
		{"12", "ISK", 12, "ISK"},
		// Three-decimal currencies.
		{"1.234", "KWD", 1234, "KWD"},
		{"1.2345", "BHD", 1235, "BHD"},
		{"0.5", "OMR", 500, "OMR"},
		{"-7", "TND", -7000, "TND"},
		// Four-decimal units of account.
		{"1.23456", "CLF", 12346, "CLF"},
	}
	for _, tc := range cases {
		got, err := ParseMoney(tc.in, tc.cur)
		if err != nil {
			t.Errorf("ParseMoney(%q, %q): %v", tc.in, tc.cur, err)
			continue
		}
		if got.Amount != tc.want || got.Currency != tc.wantCur {
			t.Errorf("ParseMoney(%q, %q) = %d %s, want %d %s", tc.in, tc.cur, got.Amount, got.Currency, tc.want, tc.wantCur)
		}
	}
}

func TestParseMoneyBadInput(t *testing.T) {
	cases := []struct {
		in, cur string
		is      error
		says    string
	}{
		{"", "EUR", ErrBadAmount, `parsing amount "": not a decimal amount: empty`},
		{"   ", "EUR", ErrBadAmount, "empty"},
		{"-", "EUR", ErrBadAmount, "no digits"},
		{".", "EUR", ErrBadAmount, "no digits"},
		{"12,50", "EUR", ErrBadAmount, `parsing amount "12,50": not a decimal amount: a comma must separate groups of three digits`},
		{"1,2345", "EUR", ErrBadAmount, "decimal comma"},
		{",123", "EUR", ErrBadAmount, "decimal comma"},
		{"1234,567", "EUR", ErrBadAmount, "decimal comma"},
		{"1.234,56", "EUR", ErrBadAmount, `unexpected ','`},
		{"12,50 EUR", "EUR", ErrBadAmount, "decimal comma"},
		{"12.50 EUR", "EUR", ErrBadAmount, `unexpected ' '`},
		{"$12", "USD", ErrBadAmount, `unexpected '$'`},
		{"1e5", "EUR", ErrBadAmount, `unexpected 'e'`},
		{"1.2.3", "EUR", ErrBadAmount, `unexpected '.'`},
		{"--1", "EUR", ErrBadAmount, `unexpected '-'`},
		{"+-1", "EUR", ErrBadAmount, `unexpected '-'`},
		{"NaN", "EUR", ErrBadAmount, `unexpected 'N'`},
		{"１２", "EUR", ErrBadAmount, `unexpected '１'`},
		{"92233720368547758.08", "EUR", ErrAmountRange, "more than 64-bit minor units"},
		{"99999999999999999999", "JPY", ErrAmountRange, "out of range"},
		{"92233720368547758.075", "EUR", ErrAmountRange, "out of range"}, // rounds past the limit
		{"12", "", ErrBadCurrency, `parsing amount "12": currency "": not a three-letter ISO 4217 currency code`},
		{"12", "EURO", ErrBadCurrency, "currency"},
		{"12", "€", ErrBadCurrency, "currency"},
		{"12", "E1R", ErrBadCurrency, "currency"},
	}
	for _, tc := range cases {
		got, err := ParseMoney(tc.in, tc.cur)
		if err == nil {
			t.Errorf("ParseMoney(%q, %q) = %v, want an error", tc.in, tc.cur, got)
			continue
		}
		if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("ParseMoney(%q, %q) error %q; want one wrapping %v and saying %q", tc.in, tc.cur, err, tc.is, tc.says)
		}
	}
}

func TestParseMinorWholeNumbers(t *testing.T) {
	for in, want := range map[string]int64{"120": 120, "1,200": 1200, "12.5": 13, "12.4": 12, "-2.5": -3} {
		if got, err := ParseMinor(in, 0); err != nil || got != want {
			t.Errorf("ParseMinor(%q, 0) = %d, %v; want %d", in, got, err, want)
		}
	}
}

func TestCurrencyExponent(t *testing.T) {
	for cur, want := range map[string]int{
		"USD": 2, "eur": 2, "GBP": 2, "JPY": 0, "krw": 0, "VND": 0, "CLP": 0, "ISK": 0, "XOF": 0,
		"KWD": 3, "BHD": 3, "JOD": 3, "OMR": 3, "TND": 3, "LYD": 3, "IQD": 3, "CLF": 4, "UYW": 4, "XYZ": 2, "": 2,
	} {
		if got := CurrencyExponent(cur); got != want {
			t.Errorf("CurrencyExponent(%q) = %d, want %d", cur, got, want)
		}
	}
}

func TestMoneyFormatting(t *testing.T) {
	for _, tc := range []struct {
		m        Money
		dec, str string
		float    float64
	}{
		{Money{1250, "EUR"}, "12.50", "12.50 EUR", 12.5},
		{Money{-5, "EUR"}, "-0.05", "-0.05 EUR", -0.05},
		{Money{0, "USD"}, "0.00", "0.00 USD", 0},
		{Money{1500, "JPY"}, "1500", "1500 JPY", 1500},
		{Money{1234, "KWD"}, "1.234", "1.234 KWD", 1.234},
		{Money{7, "KWD"}, "0.007", "0.007 KWD", 0.007},
		{Money{math.MaxInt64, "EUR"}, "92233720368547758.07", "92233720368547758.07 EUR", 92233720368547758.07},
		{Money{math.MinInt64, "EUR"}, "-92233720368547758.08", "-92233720368547758.08 EUR", -92233720368547758.08},
	} {
		if got := tc.m.Decimal(); got != tc.dec {
			t.Errorf("%#v.Decimal() = %q, want %q", tc.m, got, tc.dec)
		}
		if got := tc.m.String(); got != tc.str {
			t.Errorf("%#v.String() = %q, want %q", tc.m, got, tc.str)
		}
		if got := tc.m.Float(); got != tc.float {
			t.Errorf("%#v.Float() = %v, want %v", tc.m, got, tc.float)
		}
	}
}

// TestParseFormatRoundTrip checks that formatting then parsing gives the
// same minor units for every exponent in use.
func TestParseFormatRoundTrip(t *testing.T) {
	for _, cur := range []string{"EUR", "JPY", "KWD", "CLF"} {
		for _, v := range []int64{0, 1, -1, 9, 10, 99, 100, 101, 123456789, -987654321, math.MaxInt64, -math.MaxInt64} {
			m := Money{Amount: v, Currency: cur}
			back, err := ParseMoney(m.Decimal(), cur)
			if err != nil || back != m {
				t.Errorf("%v → %q → %v, %v", m, m.Decimal(), back, err)
			}
		}
	}
}

func FuzzParseMinor(f *testing.F) {
	for _, s := range []string{"12.5", "-0.125", "1,234.56", "", "12,50", "1e5", "92233720368547758.07"} {
		f.Add(s, 2)
	}
	f.Fuzz(func(t *testing.T, s string, exp int) {
		exp = ((exp % 5) + 5) % 5
		v, err := ParseMinor(s, exp)
		if err != nil {
			if !errors.Is(err, ErrBadAmount) && !errors.Is(err, ErrAmountRange) {
				t.Fatalf("ParseMinor(%q, %d): unexpected error kind %v", s, exp, err)
			}
			return
		}
		// What parses formats back to text that parses to the same value.
		back, err := ParseMinor(FormatMinor(v, exp), exp)
		if err != nil || back != v {
			t.Fatalf("ParseMinor(%q, %d) = %d; formatted %q parses to %d, %v", s, exp, v, FormatMinor(v, exp), back, err)
		}
	})
}
