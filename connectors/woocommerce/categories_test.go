package woocommerce

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/fakekit"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestOrderLineItemsCarryProductCategories checks that line items get
// their product's category from GET /products, looked up in batches and
// cached across pulls until the cache entry is a day old.
func TestOrderLineItemsCarryProductCategories(t *testing.T) {
	clk := newClock(time.Now().Add(-48 * time.Hour))
	f, c := start(t, woocommercefake.Options{Now: clk.Now}, nil)
	var products []woocommercefake.Product
	for i := range 150 {
		products = append(products, woocommercefake.Product{ID: 1000 + i, Name: fmt.Sprintf("Item %d", i),
			Categories: []woocommercefake.ProductCategory{{ID: 20 + i%3, Name: []string{"Garden", "Kitchen", "Tea"}[i%3], Slug: "c"}}})
	}
	products = append(products,
		woocommercefake.Product{ID: 2001, Name: "Plain"}, // the fake files it under Uncategorized
		woocommercefake.Product{ID: 2002, Name: "Gift tea", Categories: []woocommercefake.ProductCategory{
			{ID: 15, Name: "Uncategorized", Slug: "uncategorized"}, {ID: 30, Name: "Gifts", Slug: "gifts"}, {ID: 22, Name: "Tea", Slug: "tea"}}},
	)
	f.AddProducts(products...)
	want := map[int]string{2001: "", 2002: "Gifts", 3000: ""} // 3000 does not exist
	for i := range 150 {
		want[1000+i] = []string{"Garden", "Kitchen", "Tea"}[i%3]
	}
	var orders []woocommercefake.Order
	pid := []int{2001, 2002, 3000}
	for i := range 250 {
		p := 1000 + i%150
		if i%50 == 0 {
			p = pid[(i/50)%3]
		}
		orders = append(orders, woocommercefake.Order{Total: "10.00", Currency: "EUR", Billing: woocommercefake.Billing{Email: fmt.Sprintf("c%d@example.com", i)},
			LineItems: []woocommercefake.LineItem{{ID: i + 1, Name: "x", ProductID: p, Quantity: 1, Subtotal: "10.00", Total: "10.00", Price: "10"}}})
	}
	f.AddOrders(orders...)

	pull := func() *store {
		t.Helper()
		s := newStore()
		if err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectOrder, Full: true}, s.sink); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := pull()
	checked := 0
	for _, ch := range s.upserts {
		o, _ := f.Order(mustAtoi(t, ch.Ref.ID))
		pid := o.LineItems[0].ProductID
		if got := ch.Order.Items[0].Category; got != want[pid] {
			t.Errorf("order %s product %d: category %q, want %q", ch.Ref.ID, pid, got, want[pid])
		}
		checked++
	}
	if checked != 250 {
		t.Fatalf("%d orders pulled, want 250", checked)
	}
	lookups := f.Calls()["GET /products"]
	if lookups == 0 || lookups > 5 {
		t.Fatalf("%d product lookups for 153 products over 3 pages, want a few batched calls", lookups)
	}
	pull()
	if n := f.Calls()["GET /products"]; n != lookups {
		t.Fatalf("a second pull looked products up again (%d calls after %d): the cache did not hold", n, lookups)
	}
	clk.Add(25 * time.Hour)
	pull()
	if n := f.Calls()["GET /products"]; n == lookups {
		t.Fatal("a day later the categories were not looked up again")
	}
}

// TestFetchedOrderCarriesCategory checks the webhook path: an order
// fetched by id gets its product's category too.
func TestFetchedOrderCarriesCategory(t *testing.T) {
	f, c := start(t, woocommercefake.Options{}, nil)
	f.AddProducts(woocommercefake.Product{ID: 500, Name: "Trowel", Categories: []woocommercefake.ProductCategory{{ID: 9, Name: "Garden", Slug: "garden"}}})
	id := f.AddOrders(woocommercefake.Order{Total: "5.00", Currency: "EUR", Billing: woocommercefake.Billing{Email: "ann@example.com"},
		LineItems: []woocommercefake.LineItem{{ID: 1, Name: "Trowel", ProductID: 500, Quantity: 1, Subtotal: "5.00", Total: "5.00", Price: "5"}}})[0]
	chs, err := c.Fetch(context.Background(), adapter.FetchRequest{Object: domain.ObjectOrder, IDs: []string{fmt.Sprint(id)}})
	if err != nil {
		t.Fatal(err)
	}
	if len(chs) != 1 || chs[0].Order == nil || chs[0].Order.Items[0].Category != "Garden" {
		t.Fatalf("fetched %+v", chs)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestProductLookupFailures checks that a transient failure of GET
// /products is retried and a permanent one keeps the orders (without
// categories) rather than failing the pull.
func TestProductLookupFailures(t *testing.T) {
	f, c := start(t, woocommercefake.Options{}, nil)
	f.AddProducts(woocommercefake.Product{ID: 500, Name: "Trowel", Categories: []woocommercefake.ProductCategory{{ID: 9, Name: "Garden", Slug: "garden"}}})
	f.AddOrders(woocommercefake.Order{Total: "5.00", Currency: "EUR", Billing: woocommercefake.Billing{Email: "ann@example.com"},
		LineItems: []woocommercefake.LineItem{{ID: 1, Name: "Trowel", ProductID: 500, Quantity: 1, Subtotal: "5.00", Total: "5.00", Price: "5"}}})
	pull := func() []adapter.Change {
		t.Helper()
		s := newStore()
		if err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectOrder, Full: true}, s.sink); err != nil {
			t.Fatal(err)
		}
		var out []adapter.Change
		for _, ch := range s.upserts {
			out = append(out, ch)
		}
		return out
	}
	f.Inject(fakekit.Fault{Status: 404, Path: "/products"})
	if got := pull(); len(got) != 1 || got[0].Order.Items[0].Category != "" {
		t.Fatalf("with products unreadable: %+v", got)
	}
	// The failed lookup was not cached as "no category": a later pull asks again.
	f.Inject(fakekit.Fault{Status: 503, Path: "/products"})
	if got := pull(); len(got) != 1 || got[0].Order.Items[0].Category != "Garden" {
		t.Fatalf("after a retried 503: %+v", got)
	}
}
