package domain

import (
	"encoding/json"
	"testing"
	"time"
)

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"Ann@Example.COM":                  "ann@example.com",
		"  bob@shop.example \n":            "bob@shop.example",
		"o'brien+vip@mail.example":         "o'brien+vip@mail.example",
		"":                                 "",
		"not-an-address":                   "",
		"@example.com":                     "",
		"ann@":                             "",
		"ann @example.com":                 "",
		"ann@example.com, bob@example.com": "",
		"<ann@example.com>":                "",
		"ann@@example.com":                 "",
		"ann@b@example.com":                "",
	} {
		if got := NormalizeEmail(in); got != want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrimaryEmail(t *testing.T) {
	if got := (&Profile{}).PrimaryEmail(); got != "" {
		t.Errorf("no emails: %q", got)
	}
	if got := (&Profile{Emails: []string{"a@x.example", "b@x.example"}}).PrimaryEmail(); got != "a@x.example" {
		t.Errorf("primary: %q", got)
	}
}

func TestExternalRefKey(t *testing.T) {
	a := ExternalRef{Platform: "hubspot", Account: "123", ObjectType: ObjectContact, ID: "42", LastModified: time.Unix(1, 0)}
	b := a
	b.LastModified = time.Unix(2, 0)
	if a.Key() != b.Key() || a.Key() != "hubspot/123/contact/42" {
		t.Errorf("keys %q, %q: must ignore LastModified", a.Key(), b.Key())
	}
	for _, other := range []ExternalRef{
		{Platform: "salesforce", Account: "123", ObjectType: ObjectContact, ID: "42"},
		{Platform: "hubspot", Account: "124", ObjectType: ObjectContact, ID: "42"},
		{Platform: "hubspot", Account: "123", ObjectType: ObjectCompany, ID: "42"},
		{Platform: "hubspot", Account: "123", ObjectType: ObjectContact, ID: "43"},
	} {
		if other.Key() == a.Key() {
			t.Errorf("%+v has the same key as %+v", other, a)
		}
	}
	if !(ExternalRef{Platform: "hubspot"}).IsZero() || a.IsZero() {
		t.Error("IsZero")
	}
}

// TestCompanyCountryRawJSON checks the unknown-country field survives the
// JSON the store keeps, and is left out when empty.
func TestCompanyCountryRawJSON(t *testing.T) {
	b, err := json.Marshal(Company{Name: "Acme", CountryRaw: "Atlantis"})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"name":"Acme","country_raw":"Atlantis"}` {
		t.Errorf("json %s", b)
	}
	var back Company
	if err := json.Unmarshal(b, &back); err != nil || back.CountryRaw != "Atlantis" {
		t.Errorf("round trip %+v %v", back, err)
	}
	b, _ = json.Marshal(Company{Name: "Acme", Country: "GB"})
	if string(b) != `{"name":"Acme","country":"GB"}` {
		t.Errorf("json %s", b)
	}
}
