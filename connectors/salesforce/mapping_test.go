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

func TestCountryCodeAndDomain(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"Germany": "DE", "united states": "US", "us": "US", "GB": "GB", " France ": "FR"} {
		if got, ok := countryCode(in); !ok || got != want {
			t.Errorf("countryCode(%q) = %q, %v", in, got, ok)
		}
	}
	if _, ok := countryCode("Atlantis"); ok {
		t.Error("an unknown country was mapped")
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
