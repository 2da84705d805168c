package salesforce

import (
	"strings"
	"testing"
)

func TestQuoteString(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`plain`:            `'plain'`,
		`O'Brien`:          `'O\'Brien'`,
		`back\slash`:       `'back\\slash'`,
		`a "quote"`:        `'a \"quote\"'`,
		"line\nbreak\tTab": `'line\nbreak\tTab'`,
		`\' OR Id != '`:    `'\\\' OR Id != \''`,
	} {
		if got := quoteString(in); got != want {
			t.Errorf("quoteString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestFieldAPIName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Segment__c":           "Segment__c",
		"VIP segment":          "VIP_segment__c",
		"conformance_segments": "conformance_segments__c",
		"2024 cohort":          "Segment_2024_cohort__c",
		"  rfm: champions! ":   "rfm_champions__c",
	} {
		if got := fieldAPIName(in); got != want {
			t.Errorf("fieldAPIName(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestCountryAndDomain checks that Contact, Lead and Account countries go
// through the shared normaliser ("UK" is GB, not "UK") and that text naming
// no country stays visible.
func TestCountryAndDomain(t *testing.T) {
	t.Parallel()
	m := &mapper{org: "00D000000000001AAA", currency: "EUR"}
	for _, tc := range []struct{ in, code, raw string }{
		{"Germany", "DE", ""}, {"united states", "US", ""}, {"GB", "GB", ""}, {" France ", "FR", ""},
		{"UK", "GB", ""}, {"uk", "GB", ""}, {"Côte d'Ivoire", "CI", ""}, {"Atlantis", "", "Atlantis"},
	} {
		stamp := "2026-01-01T00:00:00.000+0000"
		ch, err := m.mapRow("Contact", row{"Id": "003000000000001AAA", "SystemModstamp": stamp, "MailingCountry": tc.in})
		if err != nil {
			t.Fatal(err)
		}
		if got := ch.Contact; got.Address.Country != tc.code || got.Attributes["country_raw"] != tc.raw {
			t.Errorf("Contact %q: country %q, country_raw %q; want %q, %q", tc.in, got.Address.Country, got.Attributes["country_raw"], tc.code, tc.raw)
		}
		ch, err = m.mapRow("Lead", row{"Id": "00Q000000000001AAA", "SystemModstamp": stamp, "Country": tc.in})
		if err != nil {
			t.Fatal(err)
		}
		if got := ch.Contact; got.Address.Country != tc.code || got.Attributes["country_raw"] != tc.raw {
			t.Errorf("Lead %q: country %q, country_raw %q; want %q, %q", tc.in, got.Address.Country, got.Attributes["country_raw"], tc.code, tc.raw)
		}
		ch, err = m.mapRow("Account", row{"Id": "001000000000001AAA", "SystemModstamp": stamp, "BillingCountry": tc.in})
		if err != nil {
			t.Fatal(err)
		}
		if got := ch.Company; got.Country != tc.code || got.CountryRaw != tc.raw {
			t.Errorf("Account %q: country %q, raw %q; want %q, %q", tc.in, got.Country, got.CountryRaw, tc.code, tc.raw)
		}
	}
	for in, want := range map[string]string{"https://www.Acme.example/about": "acme.example", "acme.example": "acme.example"} {
		if got := domainOf(in); got != want {
			t.Errorf("domainOf(%q) = %q", in, got)
		}
	}
}

func TestMapRowNamesTheBadField(t *testing.T) {
	t.Parallel()
	m := &mapper{org: "00D000000000001AAA", currency: "EUR"}
	for _, tc := range []struct {
		object string
		r      row
		field  string
	}{
		{"Contact", row{"SystemModstamp": "2026-01-01T00:00:00.000+0000"}, "Id"},
		{"Contact", row{"Id": "003000000000001AAA"}, "SystemModstamp"},
		{"Contact", row{"Id": "003000000000001AAA", "SystemModstamp": "2026-01-01T00:00:00.000+0000", "Birthdate": "17/05/1980"}, "Birthdate"},
		{"Account", row{"Id": "001000000000001AAA", "SystemModstamp": "2026-01-01T00:00:00.000+0000", "NumberOfEmployees": "many"}, "NumberOfEmployees"},
		{"Opportunity", row{"Id": "006000000000001AAA", "SystemModstamp": "2026-01-01T00:00:00.000+0000", "CloseDate": "yesterday"}, "CloseDate"},
	} {
		_, err := m.mapRow(tc.object, tc.r)
		if err == nil || !strings.Contains(err.Error(), "field "+tc.field) {
			t.Errorf("%s %v: err = %v, want one naming field %s", tc.object, tc.r, err, tc.field)
		}
	}
	ch, err := m.mapRow("Account", row{"Id": "001000000000001AAA", "SystemModstamp": "2026-01-01T00:00:00Z", "AnnualRevenue": "1234.565"})
	if err != nil || ch.Company.AnnualRevenue.Amount != 123457 || ch.Company.AnnualRevenue.Currency != "EUR" {
		t.Fatalf("money: %+v %v", ch.Company, err)
	}
}
