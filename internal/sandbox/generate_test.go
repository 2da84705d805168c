package sandbox

import (
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

var asOf = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

func TestGenerateDeterministic(t *testing.T) {
	a, err := Generate(GenOptions{Seed: 7, Customers: 500, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(GenOptions{Seed: 7, Customers: 500, AsOf: asOf})
	c, _ := Generate(GenOptions{Seed: 8, Customers: 500, AsOf: asOf})
	if a.Hash() != b.Hash() {
		t.Fatal("same seed, different datasets")
	}
	if a.Hash() == c.Hash() {
		t.Fatal("different seeds, same dataset")
	}
	if _, err := Generate(GenOptions{Seed: 1}); err == nil || !strings.Contains(err.Error(), "AsOf") {
		t.Fatalf("missing AsOf: %v", err)
	}
}

// shape summarises a dataset's statistics.
type shape struct {
	people, buyers, leads, prospects, churned, seasonal, bulk, guests int
	woo, hs, sf, multi                                                int
	purchases, completed                                              int
	casingDiffers, ordersOutsideSeason, seasonalOrders                int
	bulkItems, normalItems, bulkOrders, normalOrders                  int64
	openDeals, wonDeals, lostDeals                                    int
	companiesWithFirmo                                                int
	devices                                                           map[string]int
}

func measure(d *Dataset) shape {
	s := shape{people: len(d.People), devices: map[string]int{}}
	for _, p := range d.People {
		switch p.Kind {
		case KindBuyer:
			s.buyers++
			s.purchases += p.Purchases
		case KindLead:
			s.leads++
		case KindProspect:
			s.prospects++
		}
		if p.Churned() {
			s.churned++
		}
		if p.Seasonal != "" {
			s.seasonal++
		}
		if p.Bulk {
			s.bulk++
		}
		if p.WooGuest {
			s.guests++
		}
		n := 0
		for _, in := range []bool{p.InWooCommerce, p.InHubSpot, p.InSalesforce} {
			if in {
				n++
			}
		}
		if n > 1 {
			s.multi++
		}
		if p.InWooCommerce {
			s.woo++
		}
		if p.InHubSpot {
			s.hs++
		}
		if p.InSalesforce {
			s.sf++
		}
	}
	for _, c := range d.Salesforce.Contacts {
		if c.Emails[0] != strings.ToLower(c.Emails[0]) {
			s.casingDiffers++
		}
	}
	for _, o := range d.WooCommerce.Orders {
		if o.Status == domain.StatusCompleted {
			s.completed++
		}
		var q int64
		for _, it := range o.Items {
			q += it.Quantity
		}
		s.devices[o.Device]++
		if q >= 10 {
			s.bulkItems += q
			s.bulkOrders++
		} else {
			s.normalItems += q
			s.normalOrders++
		}
	}
	for _, r := range []Records{d.HubSpot, d.Salesforce} {
		for _, o := range r.Orders {
			switch o.Status {
			case domain.StatusOpen:
				s.openDeals++
			case domain.StatusCompleted:
				s.wonDeals++
			case domain.StatusLost:
				s.lostDeals++
			}
		}
	}
	for _, c := range d.Companies {
		if c.Industry != "" && c.Employees > 0 && c.AnnualRevenue.Amount > 0 && c.Country != "" {
			s.companiesWithFirmo++
		}
	}
	return s
}

func TestGenerateShape(t *testing.T) {
	d, err := Generate(GenOptions{Seed: 42, Customers: 4000, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	s := measure(d)
	t.Logf("%+v", s)
	share := func(n int) float64 { return float64(n) / float64(s.people) }
	within := func(name string, got, lo, hi float64) {
		t.Helper()
		if got < lo || got > hi {
			t.Errorf("%s = %.3f, want within [%.2f, %.2f]", name, got, lo, hi)
		}
	}
	within("buyer share", share(s.buyers), 0.58, 0.66)
	within("lead share", share(s.leads), 0.22, 0.28)
	within("prospect share", share(s.prospects), 0.10, 0.16)
	within("woocommerce share", share(s.woo), 0.56, 0.68)
	within("hubspot share", share(s.hs), 0.45, 0.57)
	within("salesforce share", share(s.sf), 0.35, 0.46)
	within("on two or more platforms", share(s.multi), 0.35, 0.75)
	within("churned share of buyers", float64(s.churned)/float64(s.buyers), 0.25, 0.75)
	within("seasonal share of buyers", float64(s.seasonal)/float64(s.buyers), 0.07, 0.13)
	within("bulk share of buyers", float64(s.bulk)/float64(s.buyers), 0.04, 0.08)
	within("guest share of buyers", float64(s.guests)/float64(s.buyers), 0.07, 0.13)
	within("mean orders per buyer", float64(s.purchases)/float64(s.buyers), 2, 8)
	within("Salesforce emails with upper case", float64(s.casingDiffers)/float64(len(d.Salesforce.Contacts)), 0.4, 0.8)
	within("items per bulk order", float64(s.bulkItems)/float64(s.bulkOrders), 15, 120)
	within("items per normal order", float64(s.normalItems)/float64(s.normalOrders), 1, 6)
	within("mobile share of orders", float64(s.devices["mobile"])/float64(len(d.WooCommerce.Orders)), 0.4, 0.65)
	if s.openDeals < s.prospects || s.wonDeals == 0 || s.lostDeals == 0 {
		t.Errorf("deals: open %d (prospects %d), won %d, lost %d", s.openDeals, s.prospects, s.wonDeals, s.lostDeals)
	}
	if s.companiesWithFirmo != len(d.Companies) {
		t.Errorf("%d of %d companies have full firmographics", s.companiesWithFirmo, len(d.Companies))
	}

	// Every lead and prospect is known to a CRM; leads never have orders.
	byEmail := map[string]*Person{}
	for i := range d.People {
		p := &d.People[i]
		byEmail[p.Email] = p
		if p.Kind != KindBuyer && !p.InHubSpot && !p.InSalesforce && !(p.Kind == KindLead && p.InWooCommerce) {
			t.Fatalf("%s (%s) is on no platform that can hold them", p.Key, p.Kind)
		}
	}
	for _, o := range d.WooCommerce.Orders {
		p := byEmail[domain.NormalizeEmail(o.BillingEmail)]
		if p == nil {
			t.Fatalf("order %s billed to unknown %q", o.Ref.ID, o.BillingEmail)
		}
		if p.Kind != KindBuyer {
			t.Fatalf("order %s belongs to a %s", o.Ref.ID, p.Kind)
		}
		if o.CreatedAt.After(asOf) || o.CreatedAt.Before(asOf.AddDate(-3, 0, 0).Add(-time.Hour)) {
			t.Fatalf("order %s at %s is outside the history", o.Ref.ID, o.CreatedAt)
		}
		if p.Churned() && o.CreatedAt.After(p.ChurnedAt) {
			t.Fatalf("order %s after %s churned", o.Ref.ID, p.Key)
		}
		var sum int64
		for _, it := range o.Items {
			sum += it.Quantity * it.UnitPrice.Amount
		}
		if sum != o.Total.Amount {
			t.Fatalf("order %s total %d != items %d", o.Ref.ID, o.Total.Amount, sum)
		}
		if p.Seasonal != "" {
			s.seasonalOrders++
			m := int(o.CreatedAt.Month())
			in := false
			for _, x := range seasons {
				if x.name == p.Seasonal {
					in = m == x.months[0] || m == x.months[len(x.months)-1]
				}
			}
			if !in {
				s.ordersOutsideSeason++
			}
		}
	}
	if s.seasonalOrders == 0 || s.ordersOutsideSeason != 0 {
		t.Errorf("seasonal buyers: %d orders, %d outside their season", s.seasonalOrders, s.ordersOutsideSeason)
	}
	// Guests have orders but no account.
	woo := map[string]bool{}
	for _, c := range d.WooCommerce.Contacts {
		woo[domain.NormalizeEmail(c.Emails[0])] = true
	}
	for _, p := range d.People {
		if p.WooGuest && woo[p.Email] {
			t.Fatalf("guest %s has an account", p.Key)
		}
	}
}

// BenchmarkGenerate measures generating a 10,000-person business.
func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		if _, err := Generate(GenOptions{Seed: 1, Customers: 10000, AsOf: asOf}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGenerateOrdersWithinHistory checks that every generated order and
// deal falls between the start of the history and AsOf. Slow buyers
// (a small purchase rate) draw gaps of centuries; converted to a
// time.Duration those overflowed and sent orders back to year −3043.
func TestGenerateOrdersWithinHistory(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 3000
	}
	start := asOf.AddDate(-3, 0, 0)
	for seed := uint64(1); seed <= 4; seed++ {
		d, err := Generate(GenOptions{Seed: seed, Customers: n, AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{WooCommerce, HubSpot, Salesforce} {
			for _, o := range d.Platform(name).Orders {
				if o.CreatedAt.Before(start) || o.CreatedAt.After(asOf) {
					t.Fatalf("seed %d: %s order %s created %s, outside %s..%s", seed, name, o.Ref.ID, o.CreatedAt, start, asOf)
				}
			}
		}
	}
}
