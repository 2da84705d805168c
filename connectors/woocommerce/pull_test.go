package woocommerce

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/fakekit"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// checkOrders asserts the store matches the fake: every live order stored
// with its current modified date and status, every trashed order absent.
func checkOrders(t *testing.T, f *woocommercefake.Fake, s *store, skip map[int]bool) {
	t.Helper()
	missing, stale := 0, 0
	for _, id := range f.OrderIDs() {
		if skip[id] {
			continue
		}
		o, _ := f.Order(id)
		key := strconv.Itoa(id)
		if o.Status == "trash" {
			if _, ok := s.upserts[key]; ok {
				t.Errorf("order %d is trashed but still stored", id)
			}
			continue
		}
		ch, ok := s.upserts[key]
		if !ok {
			missing++
			if missing < 5 {
				t.Errorf("order %d (modified %s) never pulled: a gap", id, o.DateModifiedGMT)
			}
			continue
		}
		if got := ch.Ref.LastModified.Format("2006-01-02T15:04:05"); got != o.DateModifiedGMT || ch.Order.RawStatus != o.Status {
			stale++
			if stale < 5 {
				t.Errorf("order %d stored as %s/%s, store has %s/%s", id, got, ch.Order.RawStatus, o.DateModifiedGMT, o.Status)
			}
		}
	}
	if missing+stale > 0 {
		t.Fatalf("%d orders missing, %d stale", missing, stale)
	}
}

func TestPullOrders30kIncrementalWithChangesDuringPull(t *testing.T) {
	if testing.Short() {
		t.Skip("30,000-order pull skipped in -short")
	}
	clk := newClock(time.Now().Add(-3 * time.Hour))
	f, c := start(t, woocommercefake.Options{Now: clk.Now}, nil)
	f.AddOrders(genOrders(30000, 500, clk.Now().Add(-1000*time.Hour))...)
	clk.Add(time.Hour)

	s := newStore()
	hardDeleted := map[int]bool{}
	changedAt := 0
	sink := func(ctx context.Context, p adapter.Page) error {
		if err := s.sink(ctx, p); err != nil {
			return err
		}
		if s.pages != 100 {
			return nil
		}
		// The shop keeps working while we read: edits behind and ahead of
		// the reader, trash and hard deletes behind it (shifting offsets
		// left by far more than the page overlap), new orders.
		clk.Add(time.Second)
		var cur orderCursor
		_ = decodeCursor(p.Cursor, &cur)
		changedAt = cur.LastID
		for i := 0; i < 50; i++ {
			f.UpdateOrder(100+i*150, func(o *woocommercefake.Order) { o.Status = "completed" })
			f.UpdateOrder(cur.LastID+10+i*300, func(o *woocommercefake.Order) { o.Status = "refunded" })
		}
		for i := 0; i < 20; i++ {
			f.UpdateOrder(5000+i*7, func(o *woocommercefake.Order) { o.Status = "trash" })
			f.UpdateOrder(cur.LastID+5+i*400, func(o *woocommercefake.Order) { o.Status = "trash" })
		}
		for i := 0; i < 10; i++ {
			hardDeleted[3000+i] = true
			f.DeleteOrder(3000 + i)
		}
		f.AddOrders(genOrders(100, 500, clk.Now())...)
		return nil
	}
	if err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectOrder}, sink); err != nil {
		t.Fatal(err)
	}
	if changedAt == 0 {
		t.Fatal("the pull ended before page 100")
	}
	if s.pages < 300 {
		t.Fatalf("pulled %d pages, want ≥ 300", s.pages)
	}
	clk.Add(10 * time.Second)
	if err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectOrder, Cursor: s.cursor}, s.sink); err != nil {
		t.Fatal(err)
	}
	if d := s.dups(); len(d) > 0 {
		t.Fatalf("%d records emitted twice, e.g. %v", len(d), d[:min(5, len(d))])
	}
	checkOrders(t, f, s, hardDeleted)
	if len(s.upserts) < 30000 {
		t.Fatalf("stored %d orders", len(s.upserts))
	}

	// A third pull with nothing changed emits nothing.
	before := len(s.emitted)
	clk.Add(10 * time.Minute)
	if err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectOrder, Cursor: s.cursor}, s.sink); err != nil {
		t.Fatal(err)
	}
	if len(s.emitted) != before || len(s.dups()) > 0 {
		t.Fatalf("an idle pull emitted %d records", len(s.emitted)-before)
	}
}

func TestPullOrdersExactUnder20PercentFaults(t *testing.T) {
	clk := newClock(time.Now().Add(-2 * time.Hour))
	f, c := start(t, woocommercefake.Options{Now: clk.Now}, func(cfg adapter.Config) {
		cfg["retry"] = map[string]any{"max": 2, "wait_min": "1ms", "wait_max": "2ms", "max_retry_after": "5ms"}
	})
	f.AddOrders(genOrders(4000, 300, clk.Now().Add(-500*time.Hour))...)
	clk.Add(time.Hour)
	f.SetRate(0.2, 42)

	s := newStore()
	failures := 0
	pullAll := func() {
		for {
			err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectOrder, Cursor: s.cursor}, s.sink)
			if err == nil {
				return
			}
			if !adapter.IsRetryable(err) {
				t.Fatalf("non-retryable error under transient faults: %v", err)
			}
			if strings.Contains(err.Error(), "invalid character '<'") {
				t.Fatalf("an HTML page was reported as a JSON error: %v", err)
			}
			failures++
			if failures > 500 {
				t.Fatal("no progress")
			}
		}
	}
	pullAll()
	clk.Add(time.Second)
	for i := 0; i < 200; i++ {
		f.UpdateOrder(1+i*17, func(o *woocommercefake.Order) { o.Total = "99.99" })
	}
	for i := 0; i < 30; i++ {
		f.UpdateOrder(2+i*101, func(o *woocommercefake.Order) { o.Status = "trash" })
	}
	clk.Add(time.Second)
	pullAll()
	if f.ServedTotal() == 0 {
		t.Fatal("no faults were injected")
	}
	checkOrders(t, f, s, nil)
	for i := 0; i < 200; i++ {
		id := strconv.Itoa(1 + i*17)
		if ch, ok := s.upserts[id]; ok && ch.Order.Total.Amount != 9999 {
			t.Fatalf("order %s total %v, want 99.99", id, ch.Order.Total)
		}
	}
	t.Logf("faults served %d, pulls resumed from cursor %d times", f.ServedTotal(), failures)
}

func TestPullCustomersOnlyChangedAndDeleted(t *testing.T) {
	f, c := start(t, woocommercefake.Options{}, nil)
	var cs []woocommercefake.Customer
	for i := 0; i < 250; i++ {
		cs = append(cs, woocommercefake.Customer{Email: "user" + strconv.Itoa(i) + "@example.com", FirstName: "U" + strconv.Itoa(i),
			Billing: woocommercefake.Billing{Email: "user" + strconv.Itoa(i) + "@example.com", Country: "fr", Phone: "+33 1"}})
	}
	ids := f.AddCustomers(cs...)
	f.AddCustomers(woocommercefake.Customer{Email: "admin@example.com", Role: "administrator"})

	s := newStore()
	pull := func() {
		t.Helper()
		if err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact, Cursor: s.cursor}, s.sink); err != nil {
			t.Fatal(err)
		}
	}
	pull()
	if len(s.upserts) != 251 {
		t.Fatalf("first sweep stored %d customers, want 251 (role=all)", len(s.upserts))
	}
	ct := s.upserts[strconv.Itoa(ids[0])].Contact
	if ct.Address.Country != "FR" || ct.Emails[0] != "user0@example.com" || ct.Phones[0] != "+33 1" {
		t.Fatalf("mapped contact %+v", ct)
	}
	s.emitted = map[string]int{}
	pull()
	if len(s.emitted) != 0 {
		t.Fatalf("an unchanged sweep emitted %d customers", len(s.emitted))
	}

	// Our own write-back must not count as a change; a name edit must.
	items := []adapter.PushItem{}
	for i := 0; i < 5; i++ {
		items = append(items, adapter.PushItem{ID: "p" + strconv.Itoa(i), Ref: domain.ExternalRef{ObjectType: domain.ObjectContact, ID: strconv.Itoa(ids[i])},
			Properties: map[string]string{"segments": "vip;loyal"}})
	}
	if _, err := c.Push(context.Background(), adapter.PushRequest{Items: items, Targets: map[string]string{"segments": "_segments"}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids[10:13] {
		f.UpdateCustomer(id, func(c *woocommercefake.Customer) { c.LastName = "Changed" })
	}
	f.DeleteCustomer(ids[100])
	f.DeleteCustomer(ids[249])
	pull()
	var up, del []string
	for k := range s.emitted {
		if strings.HasPrefix(k, "del|") {
			del = append(del, k)
		} else {
			up = append(up, k)
		}
	}
	if len(up) != 3 || len(del) != 2 {
		t.Fatalf("after 3 edits, 2 deletions and 5 write-backs the sweep emitted %v and %v", up, del)
	}
}

func TestGuestOrdersMergeByEmailAndMoneyIsExact(t *testing.T) {
	f, c := start(t, woocommercefake.Options{}, nil)
	cid := f.AddCustomers(woocommercefake.Customer{Email: "ann@example.com"})[0]
	refund := woocommercefake.Refund{ID: 1, Reason: "damaged", Total: "-0.10"}
	f.AddOrders(
		woocommercefake.Order{CustomerID: cid, Total: "0.10", Currency: "USD", Billing: woocommercefake.Billing{Email: "ann@example.com"}},
		woocommercefake.Order{CustomerID: 0, Total: "0.20", Currency: "USD", Billing: woocommercefake.Billing{Email: " Ann@Example.COM"},
			CreatedVia: "admin", CustomerUserAgent: "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)"},
		woocommercefake.Order{CustomerID: 0, Total: "5.00", Currency: "USD", Status: "refunded", Billing: woocommercefake.Billing{Email: "bob@example.com"}, Refunds: []woocommercefake.Refund{refund}},
	)
	s := newStore()
	if err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectOrder}, s.sink); err != nil {
		t.Fatal(err)
	}
	// Attach orders to people the way the store does: the platform
	// customer when there is one, else the normalised billing email.
	emailOf := map[string]string{strconv.Itoa(cid): "ann@example.com"}
	spent := map[string]int64{}
	for _, ch := range s.upserts {
		o := ch.Order
		who := domain.NormalizeEmail(o.BillingEmail)
		if !o.CustomerRef.IsZero() {
			who = emailOf[o.CustomerRef.ID]
		}
		if o.Status.IsPurchase() {
			spent[who] += o.Net().Amount
		}
	}
	if spent["ann@example.com"] != 30 {
		t.Fatalf("ann spent %d minor units, want exactly 30 (0.10 + 0.20)", spent["ann@example.com"])
	}
	if _, ok := spent["bob@example.com"]; ok {
		t.Fatal("a refunded order counted as a purchase")
	}
	for _, ch := range s.upserts {
		o := ch.Order
		switch o.Total.Amount {
		case 20:
			if !o.CustomerRef.IsZero() || o.Channel != "admin" || o.Device != "tablet" {
				t.Fatalf("guest order mapped as %+v", o)
			}
		case 500:
			if o.Refunded.Amount != 500 || o.Status != domain.StatusRefunded {
				t.Fatalf("refunded order mapped as %+v", o)
			}
		}
	}
}

func TestMalformedOrdersQuarantinedRestStored(t *testing.T) {
	f, c := start(t, woocommercefake.Options{}, nil)
	f.AddOrders(genOrders(30, 5, time.Now().Add(-time.Hour))...)
	bad := f.AddOrders(
		woocommercefake.Order{Total: "12,50 EUR", Billing: woocommercefake.Billing{Email: "x@example.com"}},
		woocommercefake.Order{Total: "1.00", DateCreatedGMT: "yesterday", Billing: woocommercefake.Billing{Email: "y@example.com"}},
		woocommercefake.Order{Total: "1.00"}, // guest without an email
	)
	f.AddOrders(genOrders(30, 5, time.Now().Add(-time.Hour))...)
	s := newStore()
	if err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectOrder, PageSize: 10}, s.sink); err != nil {
		t.Fatal(err)
	}
	if len(s.upserts) != 60 || len(s.quar) != 3 {
		t.Fatalf("stored %d and quarantined %d, want 60 and 3", len(s.upserts), len(s.quar))
	}
	wants := []string{"total:", "date_created_gmt: cannot parse \"yesterday\"", "billing.email: missing"}
	for i, q := range s.quar {
		if q.Ref.ID != strconv.Itoa(bad[i]) || !strings.Contains(q.Reason, wants[i]) || len(q.Raw) == 0 {
			t.Errorf("quarantined %s: %q, want id %d and %q", q.Ref.ID, q.Reason, bad[i], wants[i])
		}
	}
}

func TestFetchReportsMissingAndTrashedAsDeleted(t *testing.T) {
	f, c := start(t, woocommercefake.Options{}, nil)
	ids := f.AddOrders(genOrders(3, 2, time.Now().Add(-time.Hour))...)
	f.UpdateOrder(ids[1], func(o *woocommercefake.Order) { o.Status = "trash" })
	got, err := c.Fetch(context.Background(), adapter.FetchRequest{Object: domain.ObjectOrder,
		IDs: []string{strconv.Itoa(ids[0]), strconv.Itoa(ids[1]), "999999"}})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]adapter.ChangeKind{}
	for _, ch := range got {
		kinds[ch.Ref.ID] = ch.Kind
	}
	if kinds[strconv.Itoa(ids[0])] != adapter.ChangeUpsert || kinds[strconv.Itoa(ids[1])] != adapter.ChangeDelete || kinds["999999"] != adapter.ChangeDelete {
		t.Fatalf("fetch gave %v", kinds)
	}
	if _, err := c.Fetch(context.Background(), adapter.FetchRequest{Object: domain.ObjectOrder, IDs: []string{"abc"}}); !errors.Is(err, adapter.ErrPermanent) {
		t.Fatalf("bad id: %v", err)
	}
}

// Connection resets mid-body, bodies cut short of their framing and
// truncated JSON on pull pages are retried like a 5xx: one pull finishes
// with every record, without resuming from its cursor.
func TestPullSurvivesBrokenBodiesInOneRun(t *testing.T) {
	clk := newClock(time.Now().Add(-2 * time.Hour))
	f, c := start(t, woocommercefake.Options{Now: clk.Now}, nil)
	f.AddOrders(genOrders(1500, 200, clk.Now().Add(-500*time.Hour))...)
	var cs []woocommercefake.Customer
	for i := 0; i < 400; i++ {
		cs = append(cs, woocommercefake.Customer{Email: "user" + strconv.Itoa(i) + "@example.com"})
	}
	f.AddCustomers(cs...)
	clk.Add(time.Hour)
	f.SetRate(0.25, 7, fakekit.Fault{Body: fakekit.BodyReset},
		fakekit.Fault{Body: fakekit.BodyShort}, fakekit.Fault{Body: fakekit.BodyTruncated})
	orders, customers := newStore(), newStore()
	if err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectOrder}, orders.sink); err != nil {
		t.Fatalf("order pull aborted by a broken body: %v", err)
	}
	if err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact}, customers.sink); err != nil {
		t.Fatalf("customer pull aborted by a broken body: %v", err)
	}
	if f.ServedTotal() == 0 {
		t.Fatal("no faults were injected")
	}
	checkOrders(t, f, orders, nil)
	if len(customers.upserts) != 400 {
		t.Fatalf("stored %d customers, want 400", len(customers.upserts))
	}
	t.Logf("%d broken bodies served in %d calls", f.ServedTotal(), f.TotalCalls())
}
