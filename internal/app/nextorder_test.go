package app_test

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestNextOrderWriteBack: a definition's write-back can name properties
// for the expected next-order date and the average days between orders;
// HubSpot then holds, on every buyer's contact, a date property with the
// date the run computed (YYYY-MM-DD, which the fake accepts only at
// midnight UTC) and a number property with the gap, and a customer with
// no expected order holds none; Salesforce's Date field holds the same.
func TestNextOrderWriteBack(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end cycle against three fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 200, AsOf: now})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	l := sb.ConnectorConfig(t.TempDir())
	l.Segments = []map[string]any{{"name": "predicted", "kind": "predictive", "params": map[string]any{"min_customers": 20},
		"writeback": map[string]any{sandbox.HubSpot: map[string]any{"property": "predicted_segment",
			"next_order_date_property": "expected_next_order_date", "avg_days_between_orders_property": "avg_days_between_orders"},
			sandbox.Salesforce: map[string]any{"next_order_date_property": "Expected_Next_Order__c", "avg_days_between_orders_property": "Avg_Days_Between_Orders__c"}}}}
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	rep, err := a.Cycle(ctx, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	for p, e := range rep.PushErrors {
		t.Fatalf("push %s: %s", p, e)
	}
	if def, ok := sb.HubSpotFake.PropertyDef("contacts", "expected_next_order_date"); !ok || def.Type != "date" || def.FieldType != "date" {
		t.Fatalf("the next-order property is %+v, want a HubSpot date property", def)
	}
	if def, ok := sb.HubSpotFake.PropertyDef("contacts", "avg_days_between_orders"); !ok || def.Type != "number" {
		t.Fatalf("the order-gap property is %+v, want a HubSpot number property", def)
	}
	res := a.Pipeline.LastResult()
	dated, none, sfChecked := 0, 0, 0
	for i, c := range res.Dataset.Customers {
		p, err := a.Store.Profile(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		date, gap := res.NextOrder(i)
		for _, r := range p.Refs {
			if r.Platform == sandbox.Salesforce && r.ObjectType == domain.ObjectContact {
				rec := sb.SalesforceFake.Get("Contact", r.ID)
				got := ""
				switch v := rec["Expected_Next_Order__c"].(type) {
				case time.Time:
					got = v.Format(time.DateOnly)
				case string:
					got = v
				}
				if got != date {
					t.Errorf("Salesforce contact %s: Expected_Next_Order__c %v, want %q", r.ID, rec["Expected_Next_Order__c"], date)
				}
				sfChecked++
			}
			if r.Platform != sandbox.HubSpot || r.ObjectType != domain.ObjectContact {
				continue
			}
			o, ok := sb.HubSpotFake.Get("contacts", r.ID)
			if !ok {
				t.Fatalf("contact %s is gone", r.ID)
			}
			if got := o.Properties["expected_next_order_date"]; got != date {
				t.Errorf("contact %s: expected_next_order_date %q, want %q", r.ID, got, date)
			}
			if got := o.Properties["avg_days_between_orders"]; got != gap {
				t.Errorf("contact %s: avg_days_between_orders %q, want %q", r.ID, got, gap)
			}
			if date == "" {
				none++
				continue
			}
			dated++
			d, err := time.Parse(time.DateOnly, date)
			if err != nil || d.Before(now.Truncate(24*time.Hour)) {
				t.Errorf("contact %s: next order %q is not a date from today on", r.ID, date)
			}
			if g, err := strconv.ParseFloat(gap, 64); gap != "" && (err != nil || g <= 0) {
				t.Errorf("contact %s: gap %q is not a positive number", r.ID, gap)
			}
		}
	}
	t.Logf("%d HubSpot contacts got a next-order date, %d none; %d Salesforce contacts checked", dated, none, sfChecked)
	if sfChecked == 0 {
		t.Error("no Salesforce contact was checked")
	}
	if dated == 0 || none == 0 {
		t.Errorf("%d contacts with a date and %d without: want both", dated, none)
	}

	// A webhook rescoring buyers against the cached run (within its
	// staleness bound) plans their next-order dates as of then, never an
	// empty value that would clear the property; twenty days later the
	// cached run is stale and a fresh recompute plans them.
	var ids []string
	for i, c := range res.Dataset.Customers {
		if d, _ := res.NextOrder(i); d != "" {
			ids = append(ids, c.ID)
		}
	}
	for _, step := range []struct {
		name      string
		after     time.Duration
		maxClears int
	}{{"rescored within the day", 12 * time.Hour, 0}, {"recomputed 20 days later", 20 * 24 * time.Hour, 3}} {
		later := now.Add(step.after)
		plan, err := a.Pipeline.Resegment(ctx, ids, later)
		if err != nil {
			t.Fatal(err)
		}
		dated, cleared := 0, 0
		for _, pp := range plan.Platforms {
			if pp.Platform != sandbox.HubSpot {
				continue
			}
			for _, it := range pp.Items {
				v, ok := it.Properties["prop:expected_next_order_date"]
				switch {
				case !ok:
				case v == "":
					cleared++
				default:
					dated++
					if d, err := time.Parse(time.DateOnly, v); err != nil || d.Before(later.Truncate(24*time.Hour)) {
						t.Errorf("%s: contact %s: next order %q is not a date from that day on", step.name, it.Ref.ID, v)
					}
				}
			}
		}
		// Silent days can leave a customer with no order expected within
		// two years (a cleared date), but not many.
		t.Logf("%s: %d buyers, %d HubSpot next-order dates move, %d are cleared", step.name, len(ids), dated, cleared)
		if cleared > step.maxClears {
			t.Errorf("%s: %d next-order dates would be cleared (at most %d expected)", step.name, cleared, step.maxClears)
		}
	}
}
