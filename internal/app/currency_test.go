package app_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/store"
)

// TestSegmentsMeasureTheConfiguredCurrency: a shop that sells in pounds
// sets `currency: GBP` and its orders count; with USD (the default),
// every order is left out and the run says so rather than computing
// segments over nothing in silence. Before the setting existed the
// segment currency was fixed to USD, so a GBP shop had no revenue at all.
func TestSegmentsMeasureTheConfiguredCurrency(t *testing.T) {
	if testing.Short() {
		t.Skip("full cycle against the fake platforms")
	}
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 120, AsOf: asOf, Currency: "GBP"})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()

	run := func(currency string) *app.CycleReport {
		t.Helper()
		l := sb.ConnectorConfig(t.TempDir())
		l.Currency = currency
		if err := apptest.PrepareSandbox(sb, l); err != nil {
			t.Fatal(err)
		}
		a, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close(ctx)
		rep, err := a.Cycle(ctx, asOf, nil)
		if err != nil {
			t.Fatal(err)
		}
		for p, e := range rep.PullErrors {
			t.Fatalf("pull %s: %s", p, e)
		}
		var orders int
		if err := a.Store.EachProfile(ctx, func(po store.ProfileOrders) error {
			orders += len(po.Orders)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if orders == 0 {
			t.Fatal("the sandbox's orders were not pulled")
		}
		return rep
	}
	leftOut := func(rep *app.CycleReport) string {
		for _, w := range rep.Warnings {
			if strings.Contains(w.Message, "left out") {
				return w.Message
			}
		}
		return ""
	}
	revenue := func(rep *app.CycleReport) float64 {
		var sum float64
		for _, k := range rep.Segments {
			if strings.HasPrefix(k.Segment, "rfm:") {
				sum += k.Revenue
			}
		}
		return sum
	}

	gbp := run("GBP")
	if w := leftOut(gbp); w != "" {
		t.Errorf("with currency GBP, orders were still left out: %s", w)
	}
	if revenue(gbp) <= 0 {
		t.Errorf("with currency GBP, the RFM segments hold no revenue: %+v", gbp.Segments)
	}

	usd := run("USD")
	w := leftOut(usd)
	if w == "" || !strings.Contains(w, "GBP") {
		t.Errorf("with the default USD, the GBP orders were left out without a warning naming them; warnings: %+v", usd.Warnings)
	}
	if r := revenue(usd); r != 0 {
		t.Errorf("with the default USD, RFM revenue = %v from GBP orders, want 0 (no conversion)", r)
	}
}
