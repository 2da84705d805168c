package segment

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/core/clv"
)

// expected_next_order_days comes from the fitted BG/NBD on CDNOW: a rule
// reading it agrees with the model's own conditional expectation, a
// frequent buyer who has gone silent is expected nowhere (where the
// customer's own gap would call them due now), and explain states it.
func TestExpectedNextOrderFromTheModel(t *testing.T) {
	ds := loadCDNOW(t, "data/cdnow/CDNOW_sample.txt", 1, 2)
	r := run(t, ds, cdnowCalibrationEnd, []any{
		map[string]any{"name": "clv", "kind": "predictive", "params": map[string]any{"fit_sample": 0}},
		map[string]any{"name": "due-soon", "kind": "rule", "params": map[string]any{
			"expr": "expected_next_order_days >= 0 && expected_next_order_days <= 60 && avg_days_between_orders > 0"}},
	}, Options{})
	pm := r.Models()["purchase"]
	p := clv.BGNBDParams{R: pm.Params["r"], Alpha: pm.Params["alpha"], A: pm.Params["a"], B: pm.Params["b"]}
	members := map[int]bool{}
	for _, i := range r.Members("due-soon") {
		members[i] = true
	}
	if len(members) == 0 || len(members) == len(ds.Customers) {
		t.Fatalf("due-soon has %d of %d customers", len(members), len(ds.Customers))
	}
	var lapsedOwnDue int
	for i := range ds.Customers {
		f := &r.Features[i]
		want := -1
		x, tx, T := f.ModelInputs()
		if w, ok := clv.TimeToNextPurchase(p, x, tx, T, 730.0/7); ok {
			want = int(math.Ceil(w * 7))
		}
		if got := NextOrderDays(p, f); got != want {
			t.Fatalf("customer %s: %d days, want %d", ds.Customers[i].ID, got, want)
		}
		in := want >= 0 && want <= 60 && f.PurchaseDays >= 2
		if members[i] != in {
			t.Errorf("customer %s: member %v, next order in %d days", ds.Customers[i].ID, members[i], want)
		}
		if want < 0 && f.PurchaseDays >= 3 && ownNextOrderDays(f) == 0 {
			lapsedOwnDue++
		}
	}
	if lapsedOwnDue == 0 {
		t.Error("no repeat buyer whom the model gives up on while their own gap calls them due")
	}
	t.Logf("due-soon: %d; repeat buyers the model expects no more from but their own gap calls due: %d", len(members), lapsedOwnDue)
	ex, err := r.Explain("1")
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range ex.Definitions[0].Reasons {
		if strings.HasPrefix(l, "next order") {
			line = l
		}
	}
	// customer 1: E[X(39 weeks)] = 1.226, so the next order falls before day 273
	if !strings.HasPrefix(line, "next order expected in ") || !strings.Contains(line, "average days between orders: 106.5") {
		t.Errorf("explain line %q", line)
	}
	if rs := ex.Definitions[1].Reasons; len(rs) != 1 || !strings.Contains(rs[0], "expected_next_order_days=") {
		t.Errorf("rule explain %q does not show expected_next_order_days", rs)
	}
}

// Without a model (too few repeat buyers for a fit) the next order is the
// customer's own average gap past the last order.
func TestExpectedNextOrderFromOwnGap(t *testing.T) {
	asOf := time.Date(2024, 6, 30, 0, 0, 0, 0, time.UTC)
	d := func(days int) OrderFact {
		t := asOf.AddDate(0, 0, -days)
		return OrderFact{Day: DayOf(t), Year: uint16(t.Year()), Month: uint8(t.Month()), Amount: 1000, Items: 1}
	}
	ds := &Dataset{Currency: "EUR", Devices: []string{""}, Channels: []string{""}, Customers: []Customer{
		{ID: "a", Orders: []OrderFact{d(100), d(70), d(40), d(10)}}, // every 30 days, last 10 days ago
		{ID: "b", Orders: []OrderFact{d(300), d(200)}},              // every 100 days, 100 overdue
		{ID: "c", Orders: []OrderFact{d(5)}},                        // one order
	}}
	r := run(t, ds, asOf, []any{
		map[string]any{"name": "due", "kind": "rule", "params": map[string]any{"expr": "expected_next_order_days >= 0 && expected_next_order_days <= 20"}},
	}, Options{})
	want := map[string]int{"a": 20, "b": 0, "c": -1}
	for id, w := range want {
		i, _ := r.Lookup(id)
		if got := ownNextOrderDays(&r.Features[i]); got != w {
			t.Errorf("%s: %d days, want %d", id, got, w)
		}
	}
	got := r.Members("due")
	if len(got) != 2 {
		t.Errorf("due: %v, want a and b", got)
	}
}
