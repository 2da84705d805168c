package segment

import (
	"fmt"
	"strings"
	"testing"
)

// Warnings fire only when something is wrong: a top-1% value tier holding
// 1% of the customers is as designed, behavioural and lifecycle "churned"
// with the same window are the same rule, and empty segments are one
// warning, not one each.
func TestWarningsOnlyWhenSomethingIsWrong(t *testing.T) {
	asOf := goldenAsOf
	ds := &Dataset{Currency: "USD"}
	for i := range 1500 {
		// 1500 buyers, recency 1..750 days, 1..3 orders
		ds.Customers = append(ds.Customers, buyer(fmt.Sprintf("c%d", i), 1+i/2, 1+i%3, int64(1000+37*i), asOf))
	}
	for i := range 200 { // leads: the top-1% tier is 0.88% of all customers
		ds.Customers = append(ds.Customers, Customer{ID: fmt.Sprintf("l%d", i), Email: fmt.Sprintf("l%d@example.com", i)})
	}
	r := run(t, ds, asOf, []any{
		map[string]any{"name": "value", "kind": "value"},
		map[string]any{"name": "behavioral", "kind": "behavioral"},
		map[string]any{"name": "lifecycle", "kind": "lifecycle"},
	}, Options{})
	empty := 0
	for _, w := range r.Warnings {
		m := w.Message
		if strings.Contains(m, "value:top-1") || strings.Contains(m, "value:top-20") {
			t.Errorf("a value tier warned about: %s", m)
		}
		if strings.Contains(m, "behavioral:churned and lifecycle:churned") {
			t.Errorf("identical-by-definition pair warned about: %s", m)
		}
		if strings.Contains(m, "is empty") || strings.Contains(m, "are empty") {
			empty++
		}
	}
	if empty > 1 {
		t.Errorf("%d warnings about empty segments, want them grouped in one: %+v", empty, r.Warnings)
	}
	if len(r.Members("value:top-1")) != 15 || len(r.Members("behavioral:churned")) == 0 {
		t.Fatalf("top-1 %d members, churned %d: the scenario does not exercise the rules", len(r.Members("value:top-1")), len(r.Members("behavioral:churned")))
	}
	t.Logf("warnings: %+v", r.Warnings)
}

// Churn and retention state their window; realised revenue per customer
// and predicted CLV are told apart, with horizon, discount and currency.
func TestKPILabelsStateWindowHorizonAndCurrency(t *testing.T) {
	g := map[string]GlossaryEntry{}
	for _, e := range Glossary(90, 365, 0.1, "GBP") {
		g[e.Key] = e
	}
	for key, want := range map[string]string{
		"churn_rate":           "Churn (no order in last 90 days)",
		"retention_rate":       "Retention (ordered in last 90 days)",
		"revenue_per_customer": "Revenue per customer, GBP",
		"avg_predicted_clv":    "Predicted CLV (365 days, 10%/yr discount, GBP)",
	} {
		if g[key].Label != want {
			t.Errorf("%s label %q, want %q", key, g[key].Label, want)
		}
	}
	asOf := goldenAsOf
	ds := &Dataset{Currency: "USD", Customers: []Customer{buyer("a", 10, 2, 5000, asOf), buyer("b", 200, 1, 1000, asOf)}}
	r := run(t, ds, asOf, []any{map[string]any{"name": "stage", "kind": "lifecycle"}}, Options{KPIWindowDays: 30})
	for _, k := range r.KPIs {
		if k.WindowDays != 30 || k.RevenuePerCustomer != k.AvgRealisedCLV {
			t.Errorf("%s: window %d, revenue per customer %v vs %v", k.Segment, k.WindowDays, k.RevenuePerCustomer, k.AvgRealisedCLV)
		}
	}
}
