package domain

import (
	"strings"
	"testing"
)

func TestNormalizeCountryEveryISOCode(t *testing.T) {
	n := 0
	for line := range strings.Lines(isoCountries) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		a2, rest, _ := strings.Cut(line, " ")
		a3, names, _ := strings.Cut(rest, " ")
		n++
		inputs := []string{a2, strings.ToLower(a2), a3, strings.ToLower(a3), " " + a2 + " "}
		inputs = append(inputs, strings.Split(names, "|")...)
		for _, in := range inputs {
			if got, ok := NormalizeCountry(in); !ok || got != a2 {
				t.Errorf("NormalizeCountry(%q) = %q, %v; want %q", in, got, ok, a2)
			}
		}
	}
	if n != 249 {
		t.Fatalf("reference table has %d codes, want 249", n)
	}
}

func TestNormalizeCountryAliases(t *testing.T) {
	cases := map[string]string{
		"UK": "GB", "uk": "GB", "U.K.": "GB", "England": "GB", "Great Britain": "GB", "Scotland": "GB",
		"Wales": "GB", "Northern Ireland": "GB", "Britain": "GB",
		"USA": "US", "U.S.A.": "US", "U.S.": "US", "us": "US", "America": "US", "United States of America": "US",
		"Deutschland": "DE", "Holland": "NL", "The Netherlands": "NL", "Nederland": "NL",
		"España": "ES", "espana": "ES", "Italia": "IT", "Brasil": "BR", "México": "MX", "Österreich": "AT",
		"Schweiz": "CH", "Suisse": "CH", "Sverige": "SE", "Norge": "NO", "Suomi": "FI", "Danmark": "DK",
		"Polska": "PL", "Éire": "IE", "België": "BE", "Belgique": "BE", "Česko": "CZ", "Czech Republic": "CZ",
		"Türkiye": "TR", "Turkey": "TR", "Russia": "RU", "South Korea": "KR", "North Korea": "KP",
		"Viet Nam": "VN", "Vietnam": "VN", "Ivory Coast": "CI", "Côte d'Ivoire": "CI", "UAE": "AE",
		"Taiwan": "TW", "Hong Kong": "HK", "Macau": "MO", "Burma": "MM", "Swaziland": "SZ",
		"Cape Verde": "CV", "Vatican City": "VA", "Kosovo": "XK", "XK": "XK", "the Gambia": "GM",
		"Palestine, State of": "PS", "Republic of Korea": "KR",
	}
	for in, want := range cases {
		if got, ok := NormalizeCountry(in); !ok || got != want {
			t.Errorf("NormalizeCountry(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestNormalizeCountryUnknown(t *testing.T) {
	// "DD", "RA", "DG" and "AN" are codes the library maps (East Germany,
	// Argentina's car code, Diego Garcia, the withdrawn Netherlands
	// Antilles) that are not assigned ISO 3166-1 codes today.
	for _, in := range []string{"", "  ", "Atlantis", "XX", "ZZ", "DD", "RA", "DG", "AN", "YU", "EU", "12", "?", "Narnia, Kingdom of"} {
		if got, ok := NormalizeCountry(in); ok || got != "" {
			t.Errorf("NormalizeCountry(%q) = %q, %v; want unknown", in, got, ok)
		}
	}
}
