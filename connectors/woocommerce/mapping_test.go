package woocommerce

import "testing"

// TestContactCountry checks that the billing country goes through the
// shared normaliser ("UK" is GB, not "UK") and that text naming no country
// stays visible.
func TestContactCountry(t *testing.T) {
	m := &mapper{account: "shop.example"}
	for _, tc := range []struct{ in, code, raw string }{
		{"GB", "GB", ""},
		{"uk", "GB", ""},
		{"United Kingdom", "GB", ""},
		{"Deutschland", "DE", ""},
		{"Atlantis", "", "Atlantis"},
	} {
		c := &wcCustomer{ID: 7, Email: "a@b.example", DateCreatedGMT: "2026-01-02T03:04:05",
			Billing: wcAddress{Country: tc.in, Company: "Acme"}}
		ct, err := m.contact(c)
		if err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if ct.Address.Country != tc.code || ct.Attributes["country_raw"] != tc.raw {
			t.Errorf("%q: country %q, country_raw %q; want %q, %q", tc.in, ct.Address.Country, ct.Attributes["country_raw"], tc.code, tc.raw)
		}
		if ct.Company == nil || ct.Company.Country != tc.code || ct.Company.CountryRaw != tc.raw {
			t.Errorf("%q: company %+v; want country %q, raw %q", tc.in, ct.Company, tc.code, tc.raw)
		}
	}
}
