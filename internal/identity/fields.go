package identity

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// Field names, as used in Profile.Sources, Record.FieldTimes and Policy.
// Company fields are "company.<name>" (company.employees), attributes
// "attributes.<key>".
const (
	FieldFirstName       = "first_name"
	FieldLastName        = "last_name"
	FieldGender          = "gender"
	FieldBirthDate       = "birth_date"
	FieldLifecycleStage  = "lifecycle_stage"
	FieldAddress         = "address"
	FieldEmails          = "emails"
	FieldPhones          = "phones"
	FieldCompany         = "company"
	FieldAttributes      = "attributes"
	FieldConsentEmail    = "consent.email"
	FieldConsentSMS      = "consent.sms"
	FieldConsentTracking = "consent.tracking"
)

// companyField is one firmographic field, merged on its own.
type companyField struct {
	name  string
	empty func(*domain.Company) bool
	copy  func(dst, src *domain.Company)
	value func(*domain.Company) string
}

var companyFields = []companyField{
	{"name", func(c *domain.Company) bool { return strings.TrimSpace(c.Name) == "" },
		func(d, s *domain.Company) { d.Name = strings.TrimSpace(s.Name) }, func(c *domain.Company) string { return c.Name }},
	{"domain", func(c *domain.Company) bool { return c.Domain == "" },
		func(d, s *domain.Company) { d.Domain = s.Domain }, func(c *domain.Company) string { return c.Domain }},
	{"industry", func(c *domain.Company) bool { return c.Industry == "" },
		func(d, s *domain.Company) { d.Industry = s.Industry }, func(c *domain.Company) string { return c.Industry }},
	{"employees", func(c *domain.Company) bool { return c.Employees <= 0 },
		func(d, s *domain.Company) { d.Employees = s.Employees },
		func(c *domain.Company) string { return strconv.FormatInt(c.Employees, 10) }},
	{"annual_revenue", func(c *domain.Company) bool { return c.AnnualRevenue.Amount == 0 },
		func(d, s *domain.Company) { d.AnnualRevenue = s.AnnualRevenue },
		func(c *domain.Company) string {
			return strconv.FormatInt(c.AnnualRevenue.Amount, 10) + " " + c.AnnualRevenue.Currency
		}},
	{"country", func(c *domain.Company) bool { return c.Country == "" },
		func(d, s *domain.Company) { d.Country = s.Country }, func(c *domain.Company) string { return c.Country }},
}

// Policy is the configured source priority per field: the platforms whose
// values win, best first. A record from a platform the list does not name
// ranks after every named one; among equals the newest value wins. A key
// may name a field group ("company", "attributes") or one member
// ("company.employees", "attributes.tier"); the member's list wins. Fields
// without a list use "newest non-empty value wins". Emails and phones
// take no priority: they are a union. Consent without a list takes the
// most restrictive answer (see Resolver); with one, priority then newest.
type Policy map[string][]string

// rank returns the position of platform in field's priority list, or the
// list's length when it is not named (or no list applies).
func (p Policy) rank(field, platform string) int {
	list, ok := p[field]
	if !ok {
		if group, _, found := strings.Cut(field, "."); found {
			list = p[group]
		}
	}
	if i := slices.Index(list, platform); i >= 0 {
		return i
	}
	return len(list)
}

// PolicyFields lists the field names a Policy key may be (besides
// "attributes.<key>").
func PolicyFields() []string {
	out := []string{FieldFirstName, FieldLastName, FieldGender, FieldBirthDate, FieldLifecycleStage, FieldAddress, FieldCompany, FieldAttributes}
	for _, f := range companyFields {
		out = append(out, FieldCompany+"."+f.name)
	}
	return out
}

// CheckField returns an error when field cannot take a source priority.
func CheckField(field string) error {
	if slices.Contains(PolicyFields(), field) {
		return nil
	}
	if k, ok := strings.CutPrefix(field, FieldAttributes+"."); ok && k != "" {
		return nil
	}
	return fmt.Errorf("unknown field %q; known: %s, attributes.<key>", field, strings.Join(PolicyFields(), ", "))
}

// values returns every field's value of a contact in a comparable form.
// Fields without a value are absent.
func values(c *domain.Contact) map[string]string {
	out := map[string]string{}
	set := func(field, v string) {
		if v != "" {
			out[field] = v
		}
	}
	set(FieldFirstName, strings.TrimSpace(c.FirstName))
	set(FieldLastName, strings.TrimSpace(c.LastName))
	set(FieldGender, strings.TrimSpace(c.Gender))
	set(FieldBirthDate, strings.TrimSpace(c.BirthDate))
	set(FieldLifecycleStage, strings.ToLower(strings.TrimSpace(c.LifecycleStage)))
	if a := c.Address; a != (domain.Address{}) {
		set(FieldAddress, strings.Join([]string{a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.Country}, "\x00"))
	}
	set(FieldEmails, strings.Join(Emails(c), "\x00"))
	set(FieldPhones, strings.Join(c.Phones, "\x00"))
	set(FieldConsentEmail, string(c.Consent.Email))
	set(FieldConsentSMS, string(c.Consent.SMS))
	set(FieldConsentTracking, string(c.Consent.Tracking))
	if co := c.Company; co != nil {
		for _, f := range companyFields {
			if !f.empty(co) {
				set(FieldCompany+"."+f.name, f.value(co))
			}
		}
	}
	for k, v := range c.Attributes {
		set(FieldAttributes+"."+k, v)
	}
	return out
}

// ChangedFields returns the field times of a record after it changed from
// old (with its times oldTimes; nil old for a record seen for the first
// time) to cur: a field whose value is the same keeps its time (from
// oldTimes, else old.UpdatedAt), a field whose value changed takes
// cur.UpdatedAt. So a platform's modification stamp moved by a write that
// changed nothing the connector reads (or only what it wrote itself)
// moves no field, and no field's precedence.
func ChangedFields(old *domain.Contact, oldTimes map[string]time.Time, cur *domain.Contact) map[string]time.Time {
	now := values(cur)
	out := make(map[string]time.Time, len(now))
	var was map[string]string
	if old != nil {
		was = values(old)
	}
	for _, f := range slices.Sorted(maps.Keys(now)) {
		t := cur.UpdatedAt
		if old != nil && was[f] == now[f] {
			if ot, ok := oldTimes[f]; ok && !ot.IsZero() {
				t = ot
			} else if !old.UpdatedAt.IsZero() {
				t = old.UpdatedAt
			}
		}
		out[f] = t.UTC()
	}
	return out
}
