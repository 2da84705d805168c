package hubspot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func seedContacts(f *hubspotfake.Fake, n int, at func(i int) time.Time) []string {
	return f.CreateMany("contacts", n, func(i int) hubspotfake.Object {
		o := hubspotfake.Object{Properties: map[string]string{
			"email": fmt.Sprintf("Person%d@Example.com", i), "firstname": "P" + strconv.Itoa(i), "lastname": "L",
			"country": "Germany", "lifecyclestage": "customer",
		}}
		if at != nil {
			o.CreatedAt = at(i)
			o.UpdatedAt = at(i)
		}
		return o
	})
}

func TestPullFullThenIncrementalOnlyChanges(t *testing.T) {
	t.Parallel()
	clk := &testenv.Clock{}
	e := newEnv(t, hubspotfake.Options{Now: clk.Now}, adapter.Config{"archived_sweep": "0s"})
	co := e.fake.Create("companies", hubspotfake.Object{Properties: map[string]string{
		"name": "Acme", "industry": "RETAIL", "numberofemployees": "120", "annualrevenue": "2500000.50", "country": "France"}})
	past := time.Now().Add(-time.Hour)
	ids := seedContacts(e.fake, 250, func(i int) time.Time { return past.Add(time.Duration(i) * time.Second) })
	e.fake.Update("contacts", ids[0], map[string]string{"associatedcompanyid": co})
	clk.Advance(3 * time.Millisecond) // the sweep starts on a later millisecond than the seeding

	pages, cur := e.pullAll(domain.ObjectContact, "", false)
	got := map[string]*domain.Contact{}
	for _, ch := range changesOf(pages) {
		if ch.Kind != adapter.ChangeUpsert {
			t.Fatalf("first sync: unexpected %s of %s", ch.Kind, ch.Ref.ID)
		}
		if got[ch.Ref.ID] != nil {
			t.Fatalf("contact %s delivered twice", ch.Ref.ID)
		}
		got[ch.Ref.ID] = ch.Contact
	}
	if len(got) != 250 {
		t.Fatalf("first sync delivered %d contacts, want 250", len(got))
	}
	c0 := got[ids[0]]
	if c0.Company == nil || c0.Company.Employees != 120 || c0.Company.AnnualRevenue.Amount != 250000050 || c0.Company.Country != "FR" || c0.Company.Industry != "RETAIL" {
		t.Fatalf("firmographics not attached: %+v", c0.Company)
	}
	if c0.Address.Country != "DE" || c0.Emails[0] != "Person0@Example.com" || c0.LifecycleStage != "customer" {
		t.Fatalf("contact mapping: %+v", c0)
	}
	if calls := e.fake.CallCount("GET /crm/v3/objects/contacts"); calls != 3+1 { // 3 pages + archived sweep
		t.Fatalf("first sync made %d list calls, want 4", calls)
	}

	// Nothing changed: one search call, one archived listing.
	e.fake.ResetCalls()
	pages, cur = e.pullAll(domain.ObjectContact, cur, false)
	if n := len(changesOf(pages)); n != 0 {
		t.Fatalf("unchanged portal delivered %d changes", n)
	}
	calls := e.fake.Calls()
	total := 0
	for _, n := range calls {
		total += n
	}
	if calls["POST /crm/v3/objects/contacts/search"] != 1 || total != 2 {
		t.Fatalf("unchanged run made calls %v, want one search and one archived listing", calls)
	}

	// Change three, archive one, merge two.
	clk.Advance(2 * time.Millisecond)
	for _, id := range ids[10:13] {
		e.fake.Update("contacts", id, map[string]string{"firstname": "Changed"})
	}
	e.fake.Archive("contacts", ids[20])
	e.fake.Merge("contacts", ids[30], ids[31])
	clk.Advance(2 * time.Millisecond)
	pages, _ = e.pullAll(domain.ObjectContact, cur, false)
	upserts, deletes, merges := map[string]bool{}, map[string]bool{}, map[string]string{}
	for _, ch := range changesOf(pages) {
		switch ch.Kind {
		case adapter.ChangeUpsert:
			upserts[ch.Ref.ID] = true
		case adapter.ChangeDelete:
			deletes[ch.Ref.ID] = true
		case adapter.ChangeMerge:
			merges[ch.Ref.ID] = ch.MergedInto.ID
		}
	}
	want := map[string]bool{ids[10]: true, ids[11]: true, ids[12]: true, ids[30]: true}
	if fmt.Sprint(upserts) != fmt.Sprint(want) {
		t.Fatalf("incremental upserts %v, want %v", upserts, want)
	}
	if !deletes[ids[20]] || len(deletes) != 1 {
		t.Fatalf("deletes %v, want %s", deletes, ids[20])
	}
	if merges[ids[31]] != ids[30] || len(merges) != 1 {
		t.Fatalf("merges %v, want %s→%s", merges, ids[31], ids[30])
	}
}

func TestPullTwentyFiveThousandWithTwelveThousandTies(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("large sync")
	}
	e := newEnv(t, hubspotfake.Options{}, adapter.Config{"firmographics": false})
	tie := time.Now().Add(-2 * time.Hour).Truncate(time.Millisecond)
	// 11,000 distinct times before the tie (the forward walk must restart
	// before HubSpot's 10,000-result cap), 12,000 on one millisecond, 2,000 after.
	seedContacts(e.fake, 25000, func(i int) time.Time {
		switch {
		case i < 11000:
			return tie.Add(-time.Duration(11000-i) * time.Second)
		case i < 23000:
			return tie
		default:
			return tie.Add(time.Duration(i-22999) * time.Second)
		}
	})
	// Start incrementally from the epoch so that every record comes through search.
	start := cursor{V: 1, Mode: "inc", Since: 0, Archived: time.Now().UnixMilli()}.encode()
	pages, cur := e.pullAll(domain.ObjectContact, start, false)
	seen := map[string]int{}
	for _, ch := range changesOf(pages) {
		seen[ch.Ref.ID]++
	}
	dups := 0
	for _, n := range seen {
		if n > 1 {
			dups++
		}
	}
	if len(seen) != 25000 || dups != 0 {
		t.Fatalf("synced %d distinct contacts with %d duplicated, want 25000 and 0", len(seen), dups)
	}
	searches := e.fake.CallCount("POST /crm/v3/objects/contacts/search")
	// 125 full pages is the floor; allow the pages re-read when the forward
	// walk hits the crowded timestamp and switches to walking it by id.
	if searches > 140 {
		t.Fatalf("made %d search calls for 25,000 contacts (floor 125): looping?", searches)
	}
	if e.fake.Stats().RejectedRequests != 0 {
		t.Fatalf("fake rejected %d requests (10,000-result cap hit?)", e.fake.Stats().RejectedRequests)
	}
	// And a second run finds nothing.
	e.fake.ResetCalls()
	pages, _ = e.pullAll(domain.ObjectContact, cur, false)
	if n := len(changesOf(pages)); n != 0 || e.fake.CallCount("POST /crm/v3/objects/contacts/search") != 1 {
		t.Fatalf("second run: %d changes, calls %v", n, e.fake.Calls())
	}
	t.Logf("25,000 contacts (12,000 tied) in %d search calls", searches)
}

func TestPullResumesFromEveryPageCursor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hubspotfake.Options{}, adapter.Config{"firmographics": false, "search_page_size": 50})
	tie := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	seedContacts(e.fake, 400, func(i int) time.Time {
		if i%2 == 0 {
			return tie
		}
		return tie.Add(time.Duration(i) * time.Millisecond)
	})
	// Stop after every page and resume from its cursor: nothing lost or repeated.
	cur := cursor{V: 1, Mode: "inc", Since: 0, Archived: time.Now().UnixMilli()}.encode()
	seen := map[string]int{}
	errStop := errors.New("stop")
	for range 100 {
		var got bool
		err := e.conn.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact, Cursor: cur}, func(_ context.Context, p adapter.Page) error {
			if got {
				return errStop
			}
			for _, ch := range p.Changes {
				seen[ch.Ref.ID]++
			}
			cur, got = p.Cursor, true
			return nil
		})
		if err == nil {
			break
		}
		if !errors.Is(err, errStop) {
			t.Fatal(err)
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Fatalf("contact %s delivered %d times across resumes", id, n)
		}
	}
	if len(seen) != 400 {
		t.Fatalf("resumed pulls delivered %d contacts, want 400", len(seen))
	}
}

func TestPullDealsAsOrdersAndQuarantine(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hubspotfake.Options{}, nil)
	person := e.fake.Create("contacts", hubspotfake.Object{Properties: map[string]string{"email": "a@b.co"}})
	li := e.fake.Create("line_items", hubspotfake.Object{Properties: map[string]string{"name": "Widget", "hs_sku": "W-1", "price": "19.99", "quantity": "3"}})
	won := e.fake.Create("deals", hubspotfake.Object{Properties: map[string]string{
		"dealname": "Big", "amount": "59.97", "dealstage": "closedwon", "closedate": "2024-03-05T10:00:00.000Z", "deal_currency_code": "EUR"},
		Associations: map[string][]string{"contacts": {person}, "line_items": {li}}})
	open := e.fake.Create("deals", hubspotfake.Object{Properties: map[string]string{"dealname": "Maybe", "amount": "10", "dealstage": "qualifiedtobuy"}})
	bad := e.fake.Create("deals", hubspotfake.Object{Properties: map[string]string{"dealname": "Broken", "amount": "12,5x", "dealstage": "closedwon"}})

	pages, _ := e.pullAll(domain.ObjectDeal, "", false)
	orders := map[string]*domain.Order{}
	var rejected []adapter.Rejected
	for _, p := range pages {
		rejected = append(rejected, p.Quarantined...)
		for _, ch := range p.Changes {
			orders[ch.Ref.ID] = ch.Order
		}
	}
	w := orders[won]
	if w == nil || w.Status != domain.StatusCompleted || w.Total != (domain.Money{Amount: 5997, Currency: "EUR"}) ||
		w.CustomerRef.ID != person || !w.CreatedAt.Equal(time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("won deal mapped to %+v", w)
	}
	if len(w.Items) != 1 || w.Items[0].SKU != "W-1" || w.Items[0].Quantity != 3 || w.Items[0].UnitPrice.Amount != 1999 {
		t.Fatalf("line items %+v", w.Items)
	}
	if o := orders[open]; o == nil || o.Status != domain.StatusOpen {
		t.Fatalf("open deal mapped to %+v", o)
	}
	if len(rejected) != 1 || rejected[0].Ref.ID != bad || !containsAll(rejected[0].Reason, "properties.amount", "12,5x") {
		t.Fatalf("quarantine %+v, want deal %s rejected naming properties.amount", rejected, bad)
	}
	if _, ok := orders[bad]; ok {
		t.Fatal("malformed deal was also delivered")
	}
}

func TestPullCommerceOrdersAndCompanies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hubspotfake.Options{}, nil)
	person := e.fake.Create("contacts", hubspotfake.Object{Properties: map[string]string{"email": "a@b.co"}})
	ord := e.fake.Create("orders", hubspotfake.Object{Properties: map[string]string{
		"hs_order_name": "#1001", "hs_total_price": "120.50", "hs_currency_code": "gbp", "hs_pipeline_stage": "Shipped",
		"hs_refund_amount": "20", "hs_external_created_date": "2025-01-02T03:04:05.000Z"},
		Associations: map[string][]string{"contacts": {person}}})
	pages, _ := e.pullAll(domain.ObjectOrder, "", false)
	ch := changesOf(pages)
	if len(ch) != 1 || ch[0].Ref.ID != ord {
		t.Fatalf("orders: %+v", ch)
	}
	o := ch[0].Order
	if o.Status != domain.StatusCompleted || o.Total.Amount != 12050 || o.Total.Currency != "GBP" || o.Refunded.Amount != 2000 || o.CustomerRef.ID != person {
		t.Fatalf("order mapped to %+v", o)
	}

	good := e.fake.Create("companies", hubspotfake.Object{Properties: map[string]string{"name": "Ok", "numberofemployees": "12"}})
	bad := e.fake.Create("companies", hubspotfake.Object{Properties: map[string]string{"name": "Bad", "numberofemployees": "lots"}})
	pages, _ = e.pullAll(domain.ObjectCompany, "", false)
	if ch := changesOf(pages); len(ch) != 1 || ch[0].Ref.ID != good || ch[0].Company.Employees != 12 {
		t.Fatalf("companies: %+v", ch)
	}
	if q := pages[0].Quarantined; len(q) != 1 || q[0].Ref.ID != bad || !containsAll(q[0].Reason, "numberofemployees", "lots") {
		t.Fatalf("company quarantine: %+v", q)
	}
}

func TestFetchMissingAndMerged(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hubspotfake.Options{}, nil)
	ids := seedContacts(e.fake, 3, nil)
	e.fake.Merge("contacts", ids[0], ids[1])
	e.fake.Archive("contacts", ids[2])
	chs, err := e.conn.Fetch(context.Background(), adapter.FetchRequest{Object: domain.ObjectContact, IDs: []string{ids[0], ids[1], ids[2], "999999"}})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]adapter.ChangeKind{}
	for _, ch := range chs {
		kinds[ch.Ref.ID] = ch.Kind
		if ch.Kind == adapter.ChangeMerge && ch.MergedInto.ID != ids[0] {
			t.Fatalf("merge into %s, want %s", ch.MergedInto.ID, ids[0])
		}
	}
	want := map[string]adapter.ChangeKind{ids[0]: adapter.ChangeUpsert, ids[1]: adapter.ChangeMerge, ids[2]: adapter.ChangeDelete, "999999": adapter.ChangeDelete}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Fatalf("fetch kinds %v, want %v", kinds, want)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !contains(s, p) {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestPullFollowsHubSpotsClockWhenOursIsOff(t *testing.T) {
	t.Parallel()
	// HubSpot's clock is an hour behind ours: cursors must be in its time,
	// or every change after the first sync would look older than the cursor.
	behind := func() time.Time { return time.Now().Add(-time.Hour) }
	e := newEnv(t, hubspotfake.Options{Now: behind}, adapter.Config{"firmographics": false})
	ids := seedContacts(e.fake, 20, func(i int) time.Time { return behind().Add(-time.Minute) })
	_, cur := e.pullAll(domain.ObjectContact, "", false)
	for _, id := range ids[:3] {
		e.fake.Update("contacts", id, map[string]string{"firstname": "Changed"})
	}
	// Move our clock on instead of sleeping: the Date header's one-second
	// precision keeps the corrected window a second behind.
	WithClock(func() time.Time { return time.Now().Add(3 * time.Second) })(e.conn)
	pages, _ := e.pullAll(domain.ObjectContact, cur, false)
	if n := len(changesOf(pages)); n != 3 {
		t.Fatalf("incremental pull with HubSpot's clock an hour behind found %d changes, want 3", n)
	}
}
