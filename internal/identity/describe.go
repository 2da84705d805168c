package identity

import (
	"slices"
	"strings"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// FieldValue is one field of a profile with the record its value came
// from, as Describe lists them.
type FieldValue struct {
	Field  string `json:"field"`
	Value  string `json:"value"`
	Source string `json:"source,omitempty"` // record key; "" when no record gave it
}

// Describe lists every field of p that has a value, in a fixed order
// (person, address, company, consent, attributes), each with its source
// from p.Sources.
func Describe(p *domain.Profile) []FieldValue {
	var out []FieldValue
	add := func(field, v string) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, FieldValue{Field: field, Value: v, Source: p.Sources[field]})
		}
	}
	add(FieldFirstName, p.FirstName)
	add(FieldLastName, p.LastName)
	add(FieldGender, p.Gender)
	add(FieldBirthDate, p.BirthDate)
	add(FieldLifecycleStage, p.LifecycleStage)
	add(FieldEmails, strings.Join(p.Emails, ", "))
	add(FieldPhones, strings.Join(p.Phones, ", "))
	a := p.Address
	var parts []string
	for _, s := range []string{a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.Country} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	add(FieldAddress, strings.Join(parts, ", "))
	if c := p.Company; c != nil {
		for _, f := range companyFields {
			if f.empty(c) {
				continue
			}
			v := f.value(c)
			if f.name == "annual_revenue" {
				v = c.AnnualRevenue.String()
			}
			add(FieldCompany+"."+f.name, v)
		}
	}
	add(FieldConsentEmail, string(p.Consent.Email))
	add(FieldConsentSMS, string(p.Consent.SMS))
	add(FieldConsentTracking, string(p.Consent.Tracking))
	keys := make([]string, 0, len(p.Attributes))
	for k := range p.Attributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		add(FieldAttributes+"."+k, p.Attributes[k])
	}
	return out
}
