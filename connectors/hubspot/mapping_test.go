package hubspot

import (
	"encoding/json"
	"testing"
)

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

// TestAssocToObjectID checks that association targets decode whether
// HubSpot sends the id as a string (its v4 spec) or a number (its guide).
func TestAssocToObjectID(t *testing.T) {
	var r assocResp
	body := `{"results":[{"from":{"id":"1"},"to":[{"toObjectId":"42","associationTypes":[]},{"toObjectId":43}]}]}`
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	if got := r.Results[0].To; len(got) != 2 || got[0].ToObjectID != "42" || got[1].ToObjectID != "43" {
		t.Fatalf("ids %+v", got)
	}
	for _, bad := range []string{`{"toObjectId":4.5}`, `{"toObjectId":true}`} {
		var to struct {
			ToObjectID objectID `json:"toObjectId"`
		}
		if err := json.Unmarshal([]byte(bad), &to); err == nil {
			t.Errorf("%s decoded to %q", bad, to.ToObjectID)
		}
	}
}
