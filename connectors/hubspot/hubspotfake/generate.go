package hubspotfake

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// GenerateOptions shape a generated demo portal.
type GenerateOptions struct {
	Contacts  int // default 500
	Companies int // default Contacts/10
	// DealsPerContact is the mean number of deals per contact (default 1.5).
	DealsPerContact float64
	Seed            uint64
	// Until is the newest activity date (default the fake's clock); data
	// spans the three years before it.
	Until time.Time
}

func vocabulary() (firstNames, lastNames, countries, industries, stages []string) {
	firstNames = []string{"Ada", "Ben", "Chloé", "Dmitri", "Elif", "Farah", "Gus", "Hana", "Ivo", "Jun", "Kemi", "Lars", "Maya", "Nils", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq"}
	lastNames = []string{"Okafor", "Schmidt", "Dubois", "Rossi", "García", "Nakamura", "Silva", "Kowalski", "Jensen", "Murphy", "Haddad", "Novak", "Ivanova", "Chen", "Patel"}
	countries = []string{"Germany", "France", "United Kingdom", "US", "Spain", "Italy", "Netherlands", "Canada", "Japan", "Brazil"}
	industries = []string{"RETAIL", "COMPUTER_SOFTWARE", "FOOD_BEVERAGES", "APPAREL_FASHION", "HOSPITALITY", "MARKETING_AND_ADVERTISING"}
	stages = []string{"closedwon", "closedwon", "closedwon", "closedlost", "qualifiedtobuy", "contractsent"}
	return
}

// Generate fills the portal with plausible companies, contacts and deals
// (with line items) for `connector sandbox` and demos, deterministically
// from the seed. It returns the contact ids.
func (f *Fake) Generate(o GenerateOptions) []string {
	if o.Contacts <= 0 {
		o.Contacts = 500
	}
	if o.Companies <= 0 {
		o.Companies = max(1, o.Contacts/10)
	}
	if o.DealsPerContact <= 0 {
		o.DealsPerContact = 1.5
	}
	if o.Until.IsZero() {
		o.Until = f.now()
	}
	firstNames, lastNames, countries, industries, stages := vocabulary()
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	span := 3 * 365 * 24 * time.Hour
	at := func() time.Time {
		return o.Until.Add(-time.Duration(rng.Int64N(int64(span)))).Truncate(time.Millisecond)
	}

	companies := f.CreateMany("companies", o.Companies, func(i int) Object {
		t := at()
		return Object{CreatedAt: t, UpdatedAt: t, Properties: map[string]string{
			"name":   fmt.Sprintf("%s %s", lastNames[rng.IntN(len(lastNames))], []string{"GmbH", "Ltd", "SA", "Inc", "BV"}[rng.IntN(5)]),
			"domain": fmt.Sprintf("company%d.example", i), "industry": industries[rng.IntN(len(industries))],
			"numberofemployees": strconv.Itoa(1 + rng.IntN(2000)), "annualrevenue": strconv.Itoa(50_000 + rng.IntN(20_000_000)),
			"country": countries[rng.IntN(len(countries))],
		}}
	})
	contacts := f.CreateMany("contacts", o.Contacts, func(i int) Object {
		t := at()
		fn, ln := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		p := map[string]string{
			"email": fmt.Sprintf("%s.%s%d@example.com", fn, ln, i), "firstname": fn, "lastname": ln,
			"country": countries[rng.IntN(len(countries))], "lifecyclestage": []string{"lead", "customer", "customer", "subscriber"}[rng.IntN(4)],
			"associatedcompanyid": companies[rng.IntN(len(companies))],
		}
		if rng.IntN(10) == 0 {
			p["hs_email_optout"] = "true"
		}
		return Object{CreatedAt: t, UpdatedAt: t, Properties: p}
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, cid := range contacts {
		n := int(rng.ExpFloat64() * o.DealsPerContact)
		for range n {
			t := at()
			qty := 1 + rng.IntN(4)
			price := 5 + rng.IntN(300)
			li := f.createLocked("line_items", Object{CreatedAt: t, UpdatedAt: t, Properties: map[string]string{
				"name": "Product " + strconv.Itoa(price%17), "hs_sku": "SKU-" + strconv.Itoa(price%17),
				"price": strconv.Itoa(price) + ".00", "quantity": strconv.Itoa(qty),
				"category": []string{"books", "garden", "kitchen", "toys"}[price%17%4]}})
			deal := f.createLocked("deals", Object{CreatedAt: t, UpdatedAt: t, Properties: map[string]string{
				"dealname": "Order " + li, "amount": strconv.Itoa(price*qty) + ".00", "dealstage": stages[rng.IntN(len(stages))],
				"pipeline": "default", "closedate": formatTime(t), "deal_currency_code": "EUR"}})
			a, _ := strconv.ParseInt(deal, 10, 64)
			c, _ := strconv.ParseInt(cid, 10, 64)
			l, _ := strconv.ParseInt(li, 10, 64)
			f.associateLocked("deals", a, "contacts", c)
			f.associateLocked("deals", a, "line_items", l)
		}
	}
	return contacts
}

// DeliverPending sends the events recorded since the last call (see
// TakeEvents) to d.URL; the sandbox calls it on a timer.
func (f *Fake) DeliverPending(ctx context.Context, d Delivery) (DeliveryReport, error) {
	ev := f.TakeEvents()
	if len(ev) == 0 {
		return DeliveryReport{}, nil
	}
	return f.Deliver(ctx, d, ev)
}
