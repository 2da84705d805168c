package hubspot

import "testing"

func props(kv ...string) map[string]*string {
	m := map[string]*string{}
	for i := 0; i+1 < len(kv); i += 2 {
		v := kv[i+1]
		m[kv[i]] = &v
	}
	return m
}

// TestCountryNormalised checks contacts and companies go through the shared
// normaliser ("UK" is GB, not "UK") and that text naming no country stays
// visible on both.
func TestCountryNormalised(t *testing.T) {
	s := state{cfg: Config{Currency: "EUR"}}
	for _, tc := range []struct{ in, code, raw string }{
		{"UK", "GB", ""},
		{"gb", "GB", ""},
		{"Holland", "NL", ""},
		{"Viet Nam", "VN", ""},
		{"Atlantis", "", "Atlantis"},
	} {
		o := hsObject{ID: "1", Properties: props("email", "a@b.example", "country", tc.in, "name", "Acme")}
		c := s.mapContact(o)
		if c.Address.Country != tc.code || c.Attributes["country_raw"] != tc.raw {
			t.Errorf("contact %q: country %q, country_raw %q; want %q, %q", tc.in, c.Address.Country, c.Attributes["country_raw"], tc.code, tc.raw)
		}
		co, err := s.mapCompany(o)
		if err != nil {
			t.Fatal(err)
		}
		if co.Country != tc.code || co.CountryRaw != tc.raw {
			t.Errorf("company %q: country %q, raw %q; want %q, %q", tc.in, co.Country, co.CountryRaw, tc.code, tc.raw)
		}
	}
}
