package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func testMigrations(t *testing.T, open Factory) {
	s := open(t, store.Options{})
	v, err := s.Migrate(context.Background())
	if err != nil || v < 1 {
		t.Fatalf("Migrate again = %d, %v; want the current version and no error", v, err)
	}
	// One Migrate creates every table of the database: the job queue's
	// and the outbound deliveries' too (`connector store migrate`).
	for _, table := range []string{"river_job", "river_migration", "outbound_deliveries", "inbox", "outbox"} {
		var n int
		if err := s.Database().SQL.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Errorf("table %s after Migrate: %v", table, err)
		}
	}
}

func testThreePlatformsOnePerson(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	apply(t, s, "hubspot", "contact", contact("hubspot", "101", "Ann.Lee@Example.com", "Ann", t0))
	apply(t, s, "salesforce", "contact", contact("salesforce", "003A", "  ann.lee@example.COM ", "Annie", t0.Add(time.Hour)))
	woo := contact("woocommerce", "7", "ANN.LEE@EXAMPLE.COM", "", t0.Add(30*time.Minute))
	woo.Contact.LastName = "Lee"
	res := apply(t, s, "woocommerce", "contact", woo)
	apply(t, s, "woocommerce", "order", order("woocommerce", "5001", ref("woocommerce", domain.ObjectContact, "7"), "ann.lee@example.com", t0, 4200))

	if n, _ := s.CountProfiles(ctx); n != 1 {
		t.Fatalf("CountProfiles = %d, want 1 profile for one person from three platforms", n)
	}
	p := mustProfileByEmail(t, s, "ann.lee@example.com")
	if len(res.Touched) != 1 || res.Touched[0] != p.ID {
		t.Errorf("woocommerce page touched %v, want [%s]", res.Touched, p.ID)
	}
	want := []string{"hubspot//contact/101", "salesforce//contact/003A", "woocommerce//contact/7"}
	if got := refKeys(p.Refs); !slices.Equal(got, want) {
		t.Errorf("refs = %v, want %v", got, want)
	}
	if !slices.Equal(p.Emails, []string{"ann.lee@example.com"}) {
		t.Errorf("emails = %v, want one normalised address", p.Emails)
	}
	if p.FirstName != "Annie" || p.Sources["first_name"] != "salesforce//contact/003A" {
		t.Errorf("first name %q from %q; want the most recent (salesforce) value", p.FirstName, p.Sources["first_name"])
	}
	if p.LastName != "Lee" || p.Sources["last_name"] != "woocommerce//contact/7" {
		t.Errorf("last name %q from %q; want woocommerce's", p.LastName, p.Sources["last_name"])
	}
	for _, r := range p.Refs {
		byRef, err := s.ProfileByRef(ctx, r)
		if err != nil || byRef.ID != p.ID {
			t.Errorf("ProfileByRef(%s) = %s, %v; want %s", r.Key(), byRef.ID, err, p.ID)
		}
	}
	orders, err := s.Orders(ctx, p.ID)
	if err != nil || len(orders) != 1 || orders[0].Total.Amount != 4200 {
		t.Fatalf("Orders = %+v, %v; want the woocommerce order", orders, err)
	}
	x, err := s.Explain(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Links) != 3 {
		t.Errorf("Explain links = %+v, want 3", x.Links)
	}
	if x.Sources["first_name"] != "salesforce//contact/003A" {
		t.Errorf("Explain sources = %v", x.Sources)
	}
}

func testMostRecentWins(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	newer := contact("hubspot", "1", "bo@example.com", "Bob", t0.Add(2*time.Hour))
	newer.Contact.Attributes = map[string]string{"tier": "gold"}
	apply(t, s, "hubspot", "contact", newer)
	older := contact("salesforce", "S1", "bo@example.com", "Robert", t0)
	older.Contact.Attributes = map[string]string{"tier": "silver", "region": "north"}
	older.Contact.Consent = domain.Consent{Email: domain.ConsentGranted, UpdatedAt: t0.Add(3 * time.Hour)}
	apply(t, s, "salesforce", "contact", older)
	p := mustProfileByEmail(t, s, "bo@example.com")
	if p.FirstName != "Bob" || p.Attributes["tier"] != "gold" || p.Attributes["region"] != "north" {
		t.Errorf("profile %+v: want the newer record's name and tier and the older's region", p)
	}
	if p.Consent.Email != domain.ConsentGranted || p.Sources["consent.email"] != "salesforce//contact/S1" {
		t.Errorf("consent %+v from %q; want salesforce's consent, which is the most recent", p.Consent, p.Sources["consent.email"])
	}
	// A stale update of the same record is ignored.
	stale := contact("hubspot", "1", "bo@example.com", "Bobby", t0.Add(time.Hour))
	res := apply(t, s, "hubspot", "contact", stale)
	if res.Skipped != 1 || len(res.Touched) != 0 {
		t.Errorf("stale update result %+v; want skipped and nothing touched", res)
	}
	p, _ = s.Profile(ctx, p.ID)
	if p.FirstName != "Bob" {
		t.Errorf("first name = %q after a stale update, want Bob", p.FirstName)
	}
}

type snapshot struct {
	Profiles []domain.Profile
	Orders   map[string][]domain.Order
	Explain  map[string]store.Explanation
}

func takeSnapshot(t testing.TB, s store.Store) snapshot {
	t.Helper()
	ctx := context.Background()
	snap := snapshot{Orders: map[string][]domain.Order{}, Explain: map[string]store.Explanation{}}
	err := s.EachProfile(ctx, func(po store.ProfileOrders) error {
		snap.Profiles = append(snap.Profiles, po.Profile)
		snap.Orders[po.Profile.ID] = po.Orders
		x, err := s.Explain(ctx, po.Profile.ID)
		snap.Explain[po.Profile.ID] = x
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

func testIdempotent(t *testing.T, open Factory) {
	s := open(t, store.Options{})
	page := []adapter.Change{
		contact("hubspot", "1", "a@example.com", "A", t0),
		contact("hubspot", "2", "b@example.com", "B", t0),
		contact("hubspot", "3", "b@example.com", "B2", t0.Add(time.Minute)), // joins 2
		order("hubspot", "o1", ref("hubspot", domain.ObjectContact, "1"), "", t0, 1000),
		order("hubspot", "o2", domain.ExternalRef{}, "guest@example.com", t0, 500),
		{Kind: adapter.ChangeMerge, Ref: ref("hubspot", domain.ObjectContact, "3"), MergedInto: ref("hubspot", domain.ObjectContact, "2")},
	}
	first := apply(t, s, "hubspot", "contact", page...)
	if len(first.Created) != 3 || len(first.Touched) != 3 {
		t.Errorf("first apply %+v; want 3 profiles created and touched", first)
	}
	before := takeSnapshot(t, s)
	second := apply(t, s, "hubspot", "contact", page...)
	if len(second.Touched) != 0 || len(second.Created) != 0 || len(second.Merged) != 0 {
		t.Errorf("second apply of the same page %+v; want nothing touched, created or merged", second)
	}
	after := takeSnapshot(t, s)
	a, _ := json.Marshal(before)
	b, _ := json.Marshal(after)
	if string(a) != string(b) {
		t.Errorf("applying the same page twice changed the store:\nbefore %s\nafter  %s", a, b)
	}
}

func testEmailJoinsTwoProfiles(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	apply(t, s, "hubspot", "contact", contact("hubspot", "1", "carl@example.com", "Carl", t0))
	apply(t, s, "woocommerce", "contact", contact("woocommerce", "9", "c.smith@example.org", "C.", t0))
	apply(t, s, "hubspot", "order", order("hubspot", "d1", ref("hubspot", domain.ObjectContact, "1"), "", t0, 100))
	apply(t, s, "woocommerce", "order", order("woocommerce", "w1", ref("woocommerce", domain.ObjectContact, "9"), "", t0, 200))
	p1 := mustProfileByEmail(t, s, "carl@example.com")
	p2 := mustProfileByEmail(t, s, "c.smith@example.org")
	if p1.ID == p2.ID {
		t.Fatal("two different emails made one profile before any evidence joined them")
	}
	// The HubSpot contact gains the address the WooCommerce profile has.
	gain := contact("hubspot", "1", "carl@example.com", "Carl", t0.Add(time.Hour))
	gain.Contact.Emails = append(gain.Contact.Emails, "C.Smith@example.org")
	res := apply(t, s, "hubspot", "contact", gain)
	if len(res.Merged) != 1 {
		t.Fatalf("merged = %v, want one profile merged into the other", res.Merged)
	}
	var from, into string
	for f, i := range res.Merged {
		from, into = f, i
	}
	if n, _ := s.CountProfiles(ctx); n != 1 {
		t.Errorf("CountProfiles = %d after the merge, want 1", n)
	}
	if !slices.Contains(res.Touched, into) || slices.Contains(res.Touched, from) {
		t.Errorf("touched %v; want the survivor %s and not the merged-away %s", res.Touched, into, from)
	}
	orders, _ := s.Orders(ctx, into)
	if len(orders) != 2 {
		t.Errorf("survivor has %d orders, want both", len(orders))
	}
	old, err := s.Profile(ctx, from)
	if err != nil || old.ID != into {
		t.Errorf("Profile(merged-away id) = %s, %v; want the survivor %s", old.ID, err, into)
	}
	x, _ := s.Explain(ctx, from)
	if len(x.Merges) != 1 || x.Merges[0].From != from || x.Merges[0].Reason != "email" || x.Merges[0].Evidence != "c.smith@example.org" {
		t.Errorf("merges = %+v; want one merge by email c.smith@example.org", x.Merges)
	}
	if len(x.Links) != 2 {
		t.Errorf("links = %+v; want both platform records", x.Links)
	}
}

func testPlatformMerge(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	apply(t, s, "hubspot", "contact",
		contact("hubspot", "10", "dora@example.com", "Dora", t0),
		contact("hubspot", "11", "dora.work@example.com", "D.", t0))
	apply(t, s, "hubspot", "order", order("hubspot", "deal-1", ref("hubspot", domain.ObjectContact, "11"), "", t0, 900))
	if n, _ := s.CountProfiles(ctx); n != 2 {
		t.Fatalf("CountProfiles = %d, want 2 before the merge", n)
	}
	res := apply(t, s, "hubspot", "contact", adapter.Change{Kind: adapter.ChangeMerge,
		Ref: ref("hubspot", domain.ObjectContact, "11"), MergedInto: ref("hubspot", domain.ObjectContact, "10")})
	if len(res.Merged) != 1 {
		t.Fatalf("merged = %v, want one", res.Merged)
	}
	p := mustProfileByEmail(t, s, "dora@example.com")
	if got := refKeys(p.Refs); !slices.Equal(got, []string{"hubspot//contact/10"}) {
		t.Errorf("active refs = %v; the merged record should no longer be a write-back target", got)
	}
	orders, _ := s.Orders(ctx, p.ID)
	if len(orders) != 1 {
		t.Errorf("orders = %d, want the merged record's deal", len(orders))
	}
	x, _ := s.Explain(ctx, p.ID)
	var merged *store.Link
	for i := range x.Links {
		if x.Links[i].Ref.ID == "11" {
			merged = &x.Links[i]
		}
	}
	if merged == nil || merged.State != store.LinkMerged || merged.MergedInto != "hubspot//contact/10" {
		t.Errorf("link of 11 = %+v; want kept as merged into 10", merged)
	}
	if len(x.Merges) != 1 || x.Merges[0].Reason != "platform merge" {
		t.Errorf("merges = %+v; want a platform merge", x.Merges)
	}
	// The merged record's data no longer feeds the profile.
	if slices.Contains(p.Emails, "dora.work@example.com") {
		t.Errorf("emails %v still carry the merged-away record's address", p.Emails)
	}
}

func testMergedIDs(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	apply(t, s, "hubspot", "contact",
		contact("hubspot", "20", "eve@example.com", "Eve", t0),
		contact("hubspot", "21", "eve2@example.com", "Eve", t0))
	surv := contact("hubspot", "20", "eve@example.com", "Eve", t0.Add(time.Hour))
	surv.Contact.MergedIDs = []string{"21"}
	res := apply(t, s, "hubspot", "contact", surv)
	if len(res.Merged) != 1 {
		t.Fatalf("merged = %v; hs_merged_object_ids should merge the profiles", res.Merged)
	}
	if n, _ := s.CountProfiles(ctx); n != 1 {
		t.Errorf("CountProfiles = %d, want 1", n)
	}
	p, err := s.ProfileByRef(ctx, ref("hubspot", domain.ObjectContact, "21"))
	if err != nil || p.PrimaryEmail() != "eve@example.com" {
		t.Errorf("ProfileByRef(21) = %+v, %v; want the survivor", p, err)
	}
}

func testDeleteKeepsHistory(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	apply(t, s, "hubspot", "contact", contact("hubspot", "30", "fay@example.com", "Fay", t0))
	apply(t, s, "salesforce", "contact", contact("salesforce", "S30", "fay@example.com", "Faye", t0.Add(time.Hour)))
	apply(t, s, "salesforce", "order", order("salesforce", "opp1", ref("salesforce", domain.ObjectContact, "S30"), "", t0, 5000))
	p := mustProfileByEmail(t, s, "fay@example.com")
	res := apply(t, s, "salesforce", "contact", adapter.Change{Kind: adapter.ChangeDelete, Ref: ref("salesforce", domain.ObjectContact, "S30")})
	if res.Deleted != 1 || !slices.Equal(res.Touched, []string{p.ID}) {
		t.Errorf("delete result %+v; want one delete touching %s", res, p.ID)
	}
	p2, err := s.Profile(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p2.FirstName != "Fay" || refKeys(p2.Refs)[0] != "hubspot//contact/30" || len(p2.Refs) != 1 {
		t.Errorf("after delete: %+v; want the hubspot record alone to feed the profile", p2)
	}
	orders, _ := s.Orders(ctx, p.ID)
	if len(orders) != 1 {
		t.Errorf("orders = %d; a deleted contact must not lose the profile's orders", len(orders))
	}
	x, _ := s.Explain(ctx, p.ID)
	found := false
	for _, l := range x.Links {
		if l.Ref.ID == "S30" && l.State == store.LinkDeleted {
			found = true
		}
	}
	hasEvent := false
	for _, ev := range x.Events {
		if ev.Kind == "deleted" && ev.RefKey == "salesforce//contact/S30" {
			hasEvent = true
		}
	}
	if !found || !hasEvent {
		t.Errorf("explain %+v; want the deleted link and a deleted event kept", x)
	}
}

func testPrivacyErase(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	c := contact("woocommerce", "40", "gil@example.com", "Gil", t0)
	c.Contact.Phones = []string{"+44 20 7946 0000"}
	c.Contact.Address = domain.Address{Line1: "1 High St", City: "York", Country: "GB"}
	apply(t, s, "woocommerce", "contact", c)
	apply(t, s, "woocommerce", "order", order("woocommerce", "w40", ref("woocommerce", domain.ObjectContact, "40"), "gil@example.com", t0, 1234))
	p := mustProfileByEmail(t, s, "gil@example.com")
	apply(t, s, "woocommerce", "contact", adapter.Change{Kind: adapter.ChangeDelete, Privacy: true, Ref: ref("woocommerce", domain.ObjectContact, "40")})
	if _, err := s.ProfileByEmail(ctx, "gil@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ProfileByEmail after erasure: %v; want not found", err)
	}
	p2, err := s.Profile(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.Emails) != 0 || p2.FirstName != "" || len(p2.Phones) != 0 || p2.Address != (domain.Address{}) {
		t.Errorf("profile after erasure still has personal data: %+v", p2)
	}
	orders, _ := s.Orders(ctx, p.ID)
	if len(orders) != 1 || orders[0].BillingEmail != "" || orders[0].Total.Amount != 1234 {
		t.Errorf("orders after erasure = %+v; want the order kept without its billing email", orders)
	}
	// A later upsert of the erased record is not imported again.
	apply(t, s, "woocommerce", "contact", contact("woocommerce", "40", "gil@example.com", "Gil", t0.Add(time.Hour)))
	if _, err := s.ProfileByEmail(ctx, "gil@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the erased record came back: %v", err)
	}
}

func testGuestOrders(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	res := apply(t, s, "woocommerce", "order",
		order("woocommerce", "g1", domain.ExternalRef{}, "Guest.Buyer@Example.com", t0, 300),
		order("woocommerce", "g2", domain.ExternalRef{}, "guest.buyer@example.com", t0.Add(24*time.Hour), 700))
	if len(res.Created) != 1 {
		t.Fatalf("created %v; two guest orders by one email make one profile", res.Created)
	}
	p := mustProfileByEmail(t, s, "guest.buyer@example.com")
	if len(p.Refs) != 0 {
		t.Errorf("guest profile refs = %v; a guest has no platform record to write back to", p.Refs)
	}
	orders, _ := s.Orders(ctx, p.ID)
	if len(orders) != 2 || orders[0].Ref.ID != "g1" || orders[1].Ref.ID != "g2" {
		t.Errorf("orders = %+v; want g1 then g2", orders)
	}
	// The buyer later registers: same profile.
	apply(t, s, "hubspot", "contact", contact("hubspot", "50", "GUEST.buyer@example.com", "Gus", t0.Add(48*time.Hour)))
	p2 := mustProfileByEmail(t, s, "guest.buyer@example.com")
	if p2.ID != p.ID || p2.FirstName != "Gus" {
		t.Errorf("registered buyer = %+v; want the guest profile %s enriched", p2, p.ID)
	}
}

func testOrders(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	cust := ref("woocommerce", domain.ObjectContact, "60")
	// The order arrives before its customer.
	o := order("woocommerce", "600", cust, "hal@example.com", t0, 1999)
	o.Order.Refunded = domain.Money{Amount: 500, Currency: "EUR"}
	o.Order.Items = append(o.Order.Items, domain.LineItem{SKU: "X", Quantity: 1, UnitPrice: domain.Money{Amount: 1, Currency: "EUR"}})
	apply(t, s, "woocommerce", "order", o)
	apply(t, s, "woocommerce", "contact", contact("woocommerce", "60", "hal@example.com", "Hal", t0))
	if n, _ := s.CountProfiles(ctx); n != 1 {
		t.Fatalf("CountProfiles = %d; the customer must join the placeholder its order made", n)
	}
	p := mustProfileByEmail(t, s, "hal@example.com")
	if p.FirstName != "Hal" {
		t.Errorf("first name %q", p.FirstName)
	}
	orders, _ := s.Orders(ctx, p.ID)
	if len(orders) != 1 {
		t.Fatalf("orders = %+v", orders)
	}
	got := orders[0]
	if got.Total != (domain.Money{Amount: 1999, Currency: "EUR"}) || got.Net().Amount != 1499 || len(got.Items) != 2 ||
		got.Items[1].SKU != "X" || got.Items[0].UnitPrice.Amount != 999 || got.BillingEmail != "hal@example.com" || !got.CreatedAt.Equal(t0) {
		t.Errorf("order round trip = %+v", got)
	}
	// A stale version is ignored; a newer one replaces items.
	stale := order("woocommerce", "600", cust, "hal@example.com", t0, 1)
	stale.Order.UpdatedAt = t0.Add(-time.Hour)
	apply(t, s, "woocommerce", "order", stale)
	newer := order("woocommerce", "600", cust, "hal@example.com", t0, 2500)
	newer.Order.UpdatedAt = t0.Add(time.Hour)
	newer.Order.Status = domain.StatusRefunded
	apply(t, s, "woocommerce", "order", newer)
	orders, _ = s.Orders(ctx, p.ID)
	if len(orders) != 1 || orders[0].Total.Amount != 2500 || orders[0].Status != domain.StatusRefunded || len(orders[0].Items) != 1 {
		t.Errorf("after stale and newer updates: %+v", orders)
	}
	res := apply(t, s, "woocommerce", "order", adapter.Change{Kind: adapter.ChangeDelete, Ref: ref("woocommerce", domain.ObjectOrder, "600")})
	orders, _ = s.Orders(ctx, p.ID)
	if len(orders) != 0 || !slices.Equal(res.Touched, []string{p.ID}) {
		t.Errorf("after delete: orders %+v, touched %v", orders, res.Touched)
	}
}

func testCompanies(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	acme := ref("hubspot", domain.ObjectCompany, "c1")
	c := contact("hubspot", "70", "ida@acme.test", "Ida", t0)
	c.Contact.CompanyRef = acme
	apply(t, s, "hubspot", "contact", c)
	res := apply(t, s, "hubspot", "company", adapter.Change{Kind: adapter.ChangeUpsert, Ref: acme, Company: &domain.Company{
		Ref: acme, Name: "Acme", Industry: "Manufacturing", Employees: 250,
		AnnualRevenue: domain.Money{Amount: 12_000_000_00, Currency: "USD"}, UpdatedAt: t0}})
	p := mustProfileByEmail(t, s, "ida@acme.test")
	if !slices.Equal(res.Touched, []string{p.ID}) {
		t.Errorf("company page touched %v; want the employee's profile", res.Touched)
	}
	if p.Company == nil || p.Company.Name != "Acme" || p.Company.Employees != 250 || p.Company.AnnualRevenue.Amount != 12_000_000_00 {
		t.Errorf("profile company = %+v; want Acme's firmographics", p.Company)
	}
	co, err := s.Company(ctx, acme)
	if err != nil || co.Industry != "Manufacturing" {
		t.Errorf("Company = %+v, %v", co, err)
	}
}

func testQuarantine(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	bad := order("woocommerce", "q1", domain.ExternalRef{}, "jo@example.com", time.Time{}, 10) // no created_at
	noID := adapter.Change{Kind: adapter.ChangeUpsert, Contact: &domain.Contact{FirstName: "Nobody"}}
	good := contact("woocommerce", "80", "jo@example.com", "Jo", t0)
	rejected := []adapter.Rejected{{Ref: ref("woocommerce", domain.ObjectContact, "81"), Reason: "email: not an address", Raw: []byte(`{"id":81}`)}}
	res, err := s.ApplyPage(ctx, "woocommerce", "shop.test", "contact", []adapter.Change{bad, noID, good}, rejected, "page-2")
	if err != nil {
		t.Fatal(err)
	}
	if res.Quarantined != 3 || res.Upserted != 1 {
		t.Errorf("result %+v; want 3 quarantined and the good record stored", res)
	}
	mustProfileByEmail(t, s, "jo@example.com")
	if c, _ := s.Cursor(ctx, "woocommerce", "shop.test", "contact"); c != "page-2" {
		t.Errorf("cursor = %q, want page-2", c)
	}
	// The same page again (a retried pull) adds no quarantine rows.
	if _, err := s.ApplyPage(ctx, "woocommerce", "shop.test", "contact", []adapter.Change{bad, noID, good}, rejected, "page-2"); err != nil {
		t.Fatal(err)
	}
	q, err := s.Quarantined(ctx, "woocommerce", 10)
	if err != nil || len(q) != 3 {
		t.Fatalf("Quarantined = %+v, %v; want 3 rows after the page was applied twice", q, err)
	}
	reasons := map[string]bool{}
	for _, r := range q {
		reasons[r.Reason] = true
		if r.Ref.ID == "81" && string(r.Raw) != `{"id":81}` {
			t.Errorf("raw = %q", r.Raw)
		}
	}
	for _, want := range []string{"email: not an address", `change 0 (order): order "woocommerce/shop.test/order/q1": created_at is missing`, "change 1 (upsert): upsert change without a record id"} {
		if !reasons[want] {
			t.Errorf("quarantine reasons %v lack %q", reasons, want)
		}
	}
}

// testImplicitRefs: connectors may leave platform, account and object type
// to the page; a qualified cursor object ("webhook/contact") still yields
// plain record types.
func testImplicitRefs(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	c := &domain.Contact{Ref: domain.ExternalRef{ID: "9"}, Emails: []string{"pat@example.com"}, UpdatedAt: t0}
	if _, err := s.ApplyPage(ctx, "hubspot", "portal-1", "webhook/contact", []adapter.Change{{Kind: adapter.ChangeUpsert, Contact: c}}, nil, ""); err != nil {
		t.Fatal(err)
	}
	p := mustProfileByEmail(t, s, "pat@example.com")
	if got := refKeys(p.Refs); len(got) != 1 || got[0] != "hubspot/portal-1/contact/9" {
		t.Errorf("refs = %v; want hubspot/portal-1/contact/9", got)
	}
	if c.Ref.Platform != "" {
		t.Error("ApplyPage modified the caller's record")
	}
}

func testCursor(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	if c, err := s.Cursor(ctx, "hubspot", "p1", "contact"); c != "" || err != nil {
		t.Errorf("empty cursor = %q, %v", c, err)
	}
	if err := s.SetCursor(ctx, "hubspot", "p1", "contact", "abc"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyPage(ctx, "hubspot", "p1", "order", nil, nil, "o-1"); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Cursor(ctx, "hubspot", "p1", "contact"); c != "abc" {
		t.Errorf("contact cursor = %q", c)
	}
	if c, _ := s.Cursor(ctx, "hubspot", "p1", "order"); c != "o-1" {
		t.Errorf("order cursor = %q", c)
	}
	// A failing page does not move the cursor.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.ApplyPage(cctx, "hubspot", "p1", "order", []adapter.Change{contact("hubspot", "1", "x@example.com", "X", t0)}, nil, "o-2"); err == nil {
		t.Error("ApplyPage with a cancelled context succeeded")
	}
	if c, _ := s.Cursor(ctx, "hubspot", "p1", "order"); c != "o-1" {
		t.Errorf("cursor moved to %q by a failed page", c)
	}
}

func testListAndEach(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	var chs []adapter.Change
	for i := 0; i < 1200; i++ {
		id := string(rune('a'+i%26)) + itoa(i)
		chs = append(chs, contact("woocommerce", id, id+"@example.com", "N", t0))
		if i%3 == 0 {
			chs = append(chs, order("woocommerce", "o"+id, ref("woocommerce", domain.ObjectContact, id), "", t0.Add(time.Duration(i)*time.Minute), int64(i)))
		}
	}
	apply(t, s, "woocommerce", "contact", chs...)
	if n, _ := s.CountProfiles(ctx); n != 1200 {
		t.Fatalf("CountProfiles = %d", n)
	}
	var seen []string
	after := ""
	for {
		page, err := s.ListProfiles(ctx, after, 700)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, p := range page {
			seen = append(seen, p.ID)
		}
		after = page[len(page)-1].ID
	}
	if len(seen) != 1200 || !slices.IsSorted(seen) {
		t.Errorf("paged %d profiles, sorted %v", len(seen), slices.IsSorted(seen))
	}
	n, orders := 0, 0
	err := s.EachProfile(ctx, func(po store.ProfileOrders) error {
		n++
		orders += len(po.Orders)
		if len(po.Profile.Refs) != 1 {
			t.Fatalf("profile %s refs %v", po.Profile.ID, po.Profile.Refs)
		}
		return nil
	})
	if err != nil || n != 1200 || orders != 400 {
		t.Errorf("EachProfile: %d profiles, %d orders, %v; want 1200, 400", n, orders, err)
	}
	stop := errors.New("stop")
	if err := s.EachProfile(ctx, func(store.ProfileOrders) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("EachProfile error = %v, want the callback's", err)
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
