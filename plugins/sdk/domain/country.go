package domain

import (
	"strings"
	"unicode"

	"github.com/biter777/countries"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// NormalizeCountry returns the ISO 3166-1 alpha-2 code (upper case) for a
// country written the way platforms and people write it: an alpha-2 or
// alpha-3 code in any case ("gb", "DEU"), an English short name
// ("United Kingdom", "Korea, Republic of"), a common alias ("UK", "U.S.A.",
// "England", "Great Britain", "Holland") or a name in the country's own
// language ("Deutschland", "España", "Sverige"). Case, accents, dots,
// spaces and a leading "the" do not matter.
//
// ok is false for text that names no country (empty, "Atlantis", "XX");
// callers keep such text visible rather than dropping it.
//
// Codes and names come from github.com/biter777/countries: a dependency-free
// package that carries every officially assigned ISO 3166-1 code with its
// alpha-3 and English name plus many spelling variants, so the table is not
// ours to keep current. Two-letter and three-letter input is accepted only
// when it is exactly an assigned code (or one of the aliases below): the
// library also maps sports and withdrawn codes ("DD", "RA", "AN") that would
// turn abbreviations into wrong countries. Kosovo's user-assigned "XK",
// which the EU and most platforms use, is accepted as well.
func NormalizeCountry(s string) (code string, ok bool) {
	key := countryKey(s)
	if key == "" {
		return "", false
	}
	if c := countryAlias(key); c != "" {
		return c, true
	}
	if len(key) <= 3 {
		return countryByCode(key)
	}
	if c, ok := countryByName(key); ok {
		return c, true
	}
	// ISO's own short names add a qualifier in brackets ("Saint Martin
	// (French part)") or invert the state form after a comma ("Venezuela,
	// Bolivarian Republic of"); the part before it names the country when
	// the whole does not.
	for _, sep := range []string{"(", ","} {
		head, _, found := strings.Cut(s, sep)
		if k := countryKey(head); found && k != "" && k != key {
			if c := countryAlias(k); c != "" {
				return c, true
			}
			if c, ok := countryByName(k); ok {
				return c, true
			}
		}
	}
	if rest, found := strings.CutPrefix(key, "THE"); found && rest != "" {
		return NormalizeCountry(rest)
	}
	return "", false
}

// countryKey folds s to upper-case ASCII letters: accents are removed
// ("México" → "MEXICO") and everything that is not a letter is dropped.
func countryKey(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	folded, _, err := transform.String(t, s)
	if err != nil {
		folded = s
	}
	var b strings.Builder
	for _, r := range folded {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r)
		case unicode.IsLetter(r):
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// countryByCode accepts key only when it is an assigned alpha-2 or alpha-3
// code.
func countryByCode(key string) (string, bool) {
	c := countries.ByName(key)
	if !assigned(c) {
		return "", false
	}
	if (len(key) == 2 && c.Alpha2() == key) || (len(key) == 3 && c.Alpha3() == key) {
		return c.Alpha2(), true
	}
	return "", false
}

// countryByName asks the library for a name; key is already folded.
func countryByName(key string) (string, bool) {
	c := countries.ByName(key)
	if !assigned(c) {
		return "", false
	}
	return c.Alpha2(), true
}

// assigned reports whether c is a country with an officially assigned
// ISO 3166-1 code, or Kosovo.
func assigned(c countries.CountryCode) bool {
	if c == countries.Unknown || c == countries.None || !c.IsValid() {
		return false
	}
	switch c.Alpha2() {
	case "AN", "YU": // Netherlands Antilles and Yugoslavia: withdrawn
		return false
	}
	return len(c.Alpha2()) == 2
}

// countryAlias covers aliases the library lacks: abbreviations, common
// English forms and names in the country's own language. Keys are folded by
// countryKey.
func countryAlias(key string) string {
	switch key {
	case "UK", "GREATBRITAIN", "BRITAIN", "ENGLAND", "SCOTLAND", "WALES", "NORTHERNIRELAND":
		return "GB"
	case "USA", "US", "AMERICA", "UNITEDSTATES", "UNITEDSTATESOFAMERICA", "USOFA", "USOFAMERICA":
		return "US"
	case "UAE", "EMIRATES":
		return "AE"
	case "KSA":
		return "SA"
	case "DEUTSCHLAND", "BRD":
		return "DE"
	case "HOLLAND", "NEDERLAND":
		return "NL"
	case "ESPANA":
		return "ES"
	case "ITALIA":
		return "IT"
	case "BRASIL":
		return "BR"
	case "SVERIGE":
		return "SE"
	case "NORGE", "NOREG":
		return "NO"
	case "SUOMI":
		return "FI"
	case "DANMARK":
		return "DK"
	case "POLSKA":
		return "PL"
	case "EIRE":
		return "IE"
	case "BELGIE", "BELGIQUE", "BELGIEN":
		return "BE"
	case "HELLAS", "ELLADA":
		return "GR"
	case "MAGYARORSZAG":
		return "HU"
	case "CESKO", "CESKAREPUBLIKA":
		return "CZ"
	case "SLOVENSKO", "SLOVAKREPUBLIC":
		return "SK"
	case "HRVATSKA":
		return "HR"
	case "OSTERREICH":
		return "AT"
	case "SCHWEIZ", "SUISSE", "SVIZZERA":
		return "CH"
	case "NIPPON", "NIHON":
		return "JP"
	case "ZHONGGUO":
		return "CN"
	case "MEJICO":
		return "MX"
	case "SOUTHKOREA":
		return "KR"
	case "NORTHKOREA":
		return "KP"
	case "RUSSIA":
		return "RU"
	case "TURKIYE", "TURKEY":
		return "TR"
	}
	return ""
}
