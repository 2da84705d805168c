package identity

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

func usd(n int64) domain.Money { return domain.Money{Amount: n, Currency: "USD"} }

// crm is a CRM contact of one company with full firmographics.
func crm(key string, at time.Time, stage string) Record {
	r := rec(key, at, domain.Contact{FirstName: "Ann", LifecycleStage: stage})
	r.Company = &domain.Company{Ref: domain.ExternalRef{Platform: strings.Split(key, "/")[0], ObjectType: "company", ID: "c1"},
		Name: "Acme Ltd", Industry: "Retail", Employees: 120, AnnualRevenue: usd(5_000_000_00), Country: "GB", UpdatedAt: at}
	return r
}

// shop is a WooCommerce customer whose billing company knows only a name
// and a country.
func shop(at time.Time) Record {
	r := rec("woocommerce//contact/7", at, domain.Contact{FirstName: "", LastName: "Lee"})
	r.Contact.Company = &domain.Company{Name: "ACME", Country: "GB"}
	r.Company = r.Contact.Company
	return r
}

func TestResolverSurvivorship(t *testing.T) {
	type want struct {
		field, value, source string
	}
	cases := []struct {
		name   string
		policy Policy
		recs   []Record
		want   []want
	}{
		{
			name: "a newer record's empty value does not erase an older value",
			recs: []Record{
				crm("hubspot//contact/1", t0, "lead"),
				rec("salesforce//contact/9", t0.Add(time.Hour), domain.Contact{FirstName: " ", LifecycleStage: ""}),
			},
			want: []want{{"first_name", "Ann", "hubspot//contact/1"}, {"lifecycle_stage", "lead", "hubspot//contact/1"}},
		},
		{
			name: "a billing company merges into the CRM company field by field",
			recs: []Record{crm("hubspot//contact/1", t0, "customer"), shop(t0.Add(time.Hour))},
			want: []want{
				{"company.name", "ACME", "woocommerce//contact/7"},
				{"company.employees", "120", "hubspot//contact/1"},
				{"company.industry", "Retail", "hubspot//contact/1"},
				{"company.annual_revenue", "500000000 USD", "hubspot//contact/1"},
				{"company.country", "GB", "woocommerce//contact/7"},
			},
		},
		{
			name:   "a company priority keeps the CRM's name over a newer shop's",
			policy: Policy{"company": {"salesforce", "hubspot", "woocommerce"}},
			recs:   []Record{crm("hubspot//contact/1", t0, "customer"), shop(t0.Add(time.Hour))},
			want: []want{
				{"company.name", "Acme Ltd", "hubspot//contact/1"},
				{"company.country", "GB", "hubspot//contact/1"},
				{"company.employees", "120", "hubspot//contact/1"},
			},
		},
		{
			name:   "a member's list beats its group's",
			policy: Policy{"company": {"woocommerce"}, "company.industry": {"hubspot"}},
			recs:   []Record{crm("hubspot//contact/1", t0.Add(time.Hour), "customer"), shop(t0)},
			want:   []want{{"company.name", "ACME", "woocommerce//contact/7"}, {"company.industry", "Retail", "hubspot//contact/1"}},
		},
		{
			name:   "lifecycle priority: Salesforce's older stage beats HubSpot's newer one",
			policy: Policy{"lifecycle_stage": {"salesforce", "hubspot"}},
			recs:   []Record{crm("hubspot//contact/1", t0.Add(time.Hour), "opportunity"), crm("salesforce//lead/2", t0, "Lead")},
			want:   []want{{"lifecycle_stage", "lead", "salesforce//lead/2"}, {"first_name", "Ann", "hubspot//contact/1"}},
		},
		{
			name:   "a platform the list does not name ranks after the named ones",
			policy: Policy{"lifecycle_stage": {"salesforce"}},
			recs: []Record{crm("hubspot//contact/1", t0.Add(time.Hour), "opportunity"),
				crm("salesforce//lead/2", t0, "lead"), crm("zendesk//user/3", t0.Add(2*time.Hour), "customer")},
			want: []want{{"lifecycle_stage", "lead", "salesforce//lead/2"}},
		},
		{
			name:   "a listed platform without a value does not block the others",
			policy: Policy{"lifecycle_stage": {"salesforce", "hubspot"}},
			recs: []Record{crm("hubspot//contact/1", t0, "opportunity"),
				rec("salesforce//contact/2", t0.Add(time.Hour), domain.Contact{FirstName: "Annie"})},
			want: []want{{"lifecycle_stage", "opportunity", "hubspot//contact/1"}, {"first_name", "Annie", "salesforce//contact/2"}},
		},
		{
			name: "a field's own change time decides, not the record's modification stamp",
			recs: []Record{
				func() Record {
					r := crm("hubspot//contact/1", t0.Add(5*time.Hour), "opportunity") // stamp moved by our write-back
					r.FieldTimes = map[string]time.Time{"lifecycle_stage": t0, "first_name": t0}
					return r
				}(),
				rec("salesforce//lead/2", t0.Add(time.Hour), domain.Contact{FirstName: "Anne", LifecycleStage: "lead"}),
			},
			want: []want{{"lifecycle_stage", "lead", "salesforce//lead/2"}, {"first_name", "Anne", "salesforce//lead/2"}},
		},
		{
			name: "the record whose emails changed last gives the primary email",
			recs: []Record{
				func() Record {
					r := rec("hubspot//contact/1", t0.Add(5*time.Hour), domain.Contact{Emails: []string{"old@x.test"}})
					r.FieldTimes = map[string]time.Time{"emails": t0}
					return r
				}(),
				rec("salesforce//contact/2", t0.Add(time.Hour), domain.Contact{Emails: []string{"new@x.test"}}),
			},
			want: []want{{"emails", "new@x.test,old@x.test", "salesforce//contact/2"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Resolver{Policy: tc.policy}.Fold(tc.recs)
			for _, w := range tc.want {
				if got := fieldValue(&p, w.field); got != w.value || p.Sources[w.field] != w.source {
					t.Errorf("%s = %q from %q; want %q from %q", w.field, got, p.Sources[w.field], w.value, w.source)
				}
			}
		})
	}
}

// fieldValue reads one field of a profile for the table above.
func fieldValue(p *domain.Profile, field string) string {
	switch field {
	case "first_name":
		return p.FirstName
	case "lifecycle_stage":
		return p.LifecycleStage
	case "emails":
		return strings.Join(p.Emails, ",")
	}
	if f, ok := strings.CutPrefix(field, "company."); ok && p.Company != nil {
		for _, cf := range companyFields {
			if cf.name == f {
				return cf.value(p.Company)
			}
		}
	}
	return "?"
}

func TestResolverCompanyKeepsItsFirmographicsAndRef(t *testing.T) {
	p := Fold([]Record{crm("hubspot//contact/1", t0, "customer"), shop(t0.Add(time.Hour))})
	want := &domain.Company{Name: "ACME", Industry: "Retail", Employees: 120, AnnualRevenue: usd(5_000_000_00), Country: "GB", UpdatedAt: t0}
	// The shop's billing company has no ref: the merged company is still
	// the CRM's account.
	if p.Company == nil || p.Company.Ref.ID != "c1" || p.Sources["company"] != "hubspot//contact/1" {
		t.Errorf("company ref %+v from %q; want the CRM account", p.Company, p.Sources["company"])
	}
	if p.Company == nil || p.Company.Employees != 120 || p.Company.Industry != want.Industry || p.Company.AnnualRevenue != want.AnnualRevenue {
		t.Fatalf("company = %+v; want the CRM firmographics kept", p.Company)
	}
}

func TestChangedFields(t *testing.T) {
	base := domain.Contact{FirstName: "Ann", LifecycleStage: "lead", Emails: []string{"a@x.test"},
		Attributes: map[string]string{"segments": "vip"}, UpdatedAt: t0}
	later := t0.Add(time.Hour)
	cases := []struct {
		name     string
		old      *domain.Contact
		oldTimes map[string]time.Time
		cur      func(c *domain.Contact)
		want     map[string]time.Time
	}{
		{
			name: "first sight: every field at the record's time",
			cur:  func(*domain.Contact) {},
			want: map[string]time.Time{"first_name": later, "lifecycle_stage": later, "emails": later, "attributes.segments": later},
		},
		{
			name: "only the stamp moved: every field keeps its time",
			old:  &base,
			cur:  func(*domain.Contact) {},
			want: map[string]time.Time{"first_name": t0, "lifecycle_stage": t0, "emails": t0, "attributes.segments": t0},
		},
		{
			name: "one value changed: only that field moves",
			old:  &base, oldTimes: map[string]time.Time{"first_name": t0.Add(-time.Hour)},
			cur: func(c *domain.Contact) {
				c.Attributes = map[string]string{"segments": "vip;champions"}
				c.LifecycleStage = "LEAD " // same value, other spelling
			},
			want: map[string]time.Time{"first_name": t0.Add(-time.Hour), "lifecycle_stage": t0, "emails": t0, "attributes.segments": later},
		},
		{
			name: "a field that empties drops out",
			old:  &base,
			cur:  func(c *domain.Contact) { c.FirstName = "" },
			want: map[string]time.Time{"lifecycle_stage": t0, "emails": t0, "attributes.segments": t0},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cur := base
			cur.Attributes = map[string]string{"segments": "vip"}
			cur.UpdatedAt = later
			tc.cur(&cur)
			if got := ChangedFields(tc.old, tc.oldTimes, &cur); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ChangedFields = %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestCheckField(t *testing.T) {
	for _, ok := range []string{"lifecycle_stage", "company", "company.employees", "attributes", "attributes.tier"} {
		if err := CheckField(ok); err != nil {
			t.Errorf("CheckField(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "emails", "consent.email", "company.ceo", "attributes.", "lifecyclestage"} {
		if err := CheckField(bad); err == nil {
			t.Errorf("CheckField(%q) accepted", bad)
		}
	}
}

func TestDescribeListsValuesWithSources(t *testing.T) {
	p := Fold([]Record{crm("hubspot//contact/1", t0, "Customer"), shop(t0.Add(time.Hour))})
	got := map[string]FieldValue{}
	for _, f := range Describe(&p) {
		got[f.Field] = f
	}
	want := []FieldValue{
		{"first_name", "Ann", "hubspot//contact/1"},
		{"last_name", "Lee", "woocommerce//contact/7"},
		{"lifecycle_stage", "customer", "hubspot//contact/1"},
		{"company.name", "ACME", "woocommerce//contact/7"},
		{"company.employees", "120", "hubspot//contact/1"},
		{"company.annual_revenue", "5000000.00 USD", "hubspot//contact/1"},
	}
	for _, w := range want {
		if got[w.Field] != w {
			t.Errorf("Describe %s = %+v; want %+v", w.Field, got[w.Field], w)
		}
	}
}
