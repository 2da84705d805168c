package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/segconn/connector/internal/identity"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// testBillingCompanyKeepsFirmographics: a shop's newer billing company
// (a name and a country) merges into the CRM company instead of replacing
// it, so the profile keeps employees, industry and revenue.
func testBillingCompanyKeepsFirmographics(t *testing.T, open Factory) {
	s := open(t, store.Options{})
	acme := ref("hubspot", domain.ObjectCompany, "c1")
	apply(t, s, "hubspot", "company", adapter.Change{Kind: adapter.ChangeUpsert, Ref: acme, Company: &domain.Company{
		Ref: acme, Name: "Acme Ltd", Industry: "Manufacturing", Employees: 250,
		AnnualRevenue: domain.Money{Amount: 12_000_000_00, Currency: "USD"}, UpdatedAt: t0}})
	c := contact("hubspot", "70", "ida@acme.test", "Ida", t0)
	c.Contact.CompanyRef = acme
	apply(t, s, "hubspot", "contact", c)
	w := contact("woocommerce", "9", "ida@acme.test", "", t0.Add(time.Hour))
	w.Contact.Company = &domain.Company{Name: "ACME", Country: "GB"}
	apply(t, s, "woocommerce", "contact", w)

	p := mustProfileByEmail(t, s, "ida@acme.test")
	if p.Company == nil || p.Company.Employees != 250 || p.Company.Industry != "Manufacturing" || p.Company.AnnualRevenue.Amount != 12_000_000_00 {
		t.Fatalf("profile company = %+v; a billing company must not wipe the CRM's firmographics", p.Company)
	}
	if p.Company.Name != "ACME" || p.Company.Country != "GB" || p.Company.Ref != acme {
		t.Errorf("profile company = %+v; want the newer name and country merged into the CRM account %s", p.Company, acme.Key())
	}
	if p.Sources["company.employees"] != "hubspot//contact/70" || p.Sources["company.name"] != "woocommerce//contact/9" {
		t.Errorf("sources = %v; want each company field's own source", p.Sources)
	}

	// With a priority for company fields the CRM's name stays.
	s2 := open(t, store.Options{Survivorship: identity.Policy{"company": {"salesforce", "hubspot", "woocommerce"}}})
	apply(t, s2, "hubspot", "company", adapter.Change{Kind: adapter.ChangeUpsert, Ref: acme, Company: &domain.Company{
		Ref: acme, Name: "Acme Ltd", Employees: 250, UpdatedAt: t0}})
	apply(t, s2, "hubspot", "contact", c)
	apply(t, s2, "woocommerce", "contact", w)
	p = mustProfileByEmail(t, s2, "ida@acme.test")
	if p.Company == nil || p.Company.Name != "Acme Ltd" || p.Company.Country != "GB" {
		t.Errorf("profile company = %+v; want hubspot's name by priority and woocommerce's country (hubspot has none)", p.Company)
	}
}

// testEchoMovesNoField: a record re-read with a later modification stamp
// but the same values (the platform bumped the stamp for a write of ours)
// changes no field's precedence; a real change of one field moves that
// field only.
func testEchoMovesNoField(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	hs := contact("hubspot", "1", "eve@example.com", "Eve", t0)
	hs.Contact.LifecycleStage = "opportunity"
	sf := contact("salesforce", "00Q1", "eve@example.com", "Eva", t0.Add(time.Minute))
	sf.Contact.LifecycleStage = "lead"
	apply(t, s, "hubspot", "contact", hs)
	apply(t, s, "salesforce", "contact", sf)
	p := mustProfileByEmail(t, s, "eve@example.com")
	if p.LifecycleStage != "lead" || p.FirstName != "Eva" {
		t.Fatalf("before: stage %q name %q; want salesforce's newer values", p.LifecycleStage, p.FirstName)
	}
	before := p.UpdatedAt

	// The connector writes a segment property to HubSpot: the stamp moves,
	// the values we read do not.
	echo := hs
	ec := *hs.Contact
	ec.UpdatedAt = t0.Add(time.Hour)
	echo.Contact = &ec
	res := apply(t, s, "hubspot", "contact", echo)
	p = mustProfileByEmail(t, s, "eve@example.com")
	if p.LifecycleStage != "lead" || p.FirstName != "Eva" || p.Sources["lifecycle_stage"] != "salesforce//contact/00Q1" {
		t.Errorf("after an echo: stage %q name %q (from %q); an unchanged record must not overtake salesforce", p.LifecycleStage, p.FirstName, p.Sources["lifecycle_stage"])
	}
	if len(res.Touched) != 0 || !p.UpdatedAt.Equal(before) {
		t.Errorf("an echo touched %v and moved updated_at %v -> %v; want no change", res.Touched, before, p.UpdatedAt)
	}

	// A person changes HubSpot's first name: that field moves, the stage
	// stays with salesforce.
	edit := hs
	rc := *hs.Contact
	rc.FirstName, rc.UpdatedAt = "Evelyn", t0.Add(2*time.Hour)
	edit.Contact = &rc
	apply(t, s, "hubspot", "contact", edit)
	p = mustProfileByEmail(t, s, "eve@example.com")
	if p.FirstName != "Evelyn" || p.LifecycleStage != "lead" {
		t.Errorf("after a real change: name %q stage %q; want hubspot's new name and salesforce's stage", p.FirstName, p.LifecycleStage)
	}
	x, err := s.Explain(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if x.Sources["first_name"] != "hubspot//contact/1" {
		t.Errorf("Explain sources = %v", x.Sources)
	}
}
