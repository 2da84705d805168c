package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestFlappingRecordIsHeld: a person becomes a Champion, is refunded and
// buys again within the hour. The first swing back is written; the next
// one is held in the outbox (newer states replace it there) rather than
// written at once, and the plan says so.
func TestFlappingRecordIsHeld(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end write-back against fake platforms")
	}
	ctx := context.Background()
	// The fakes' clock, stepped past WooCommerce's whole-second
	// modification times below instead of sleeping.
	clk := &testenv.Clock{}
	now := clk.Now().UTC()
	sb, env, _ := apptest.StartSandboxWith(t, sandbox.Options{Customers: 150, AsOf: now, Now: clk.Now}, app.Options{})
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	wooID, hsID, profileID := apptest.NotYetChampion(t, env)
	p, err := env.Store.Profile(ctx, profileID)
	if err != nil {
		t.Fatal(err)
	}
	var ref domain.ExternalRef
	for _, r := range p.Refs {
		if r.Platform == sandbox.HubSpot && r.ID == hsID {
			ref = r
		}
	}
	var orders []int
	for range 8 {
		orders = append(orders, sb.NewWooOrder(wooID, "", []domain.LineItem{{SKU: "BIG", Name: "big order", Category: "garden", Quantity: 4,
			UnitPrice: domain.Money{Amount: 900_00, Currency: "USD"}}}, "mobile"))
	}
	setStatus := func(status string) {
		for _, id := range orders {
			sb.WooFake.UpdateOrder(id, func(o *woocommercefake.Order) { o.Status = status })
		}
	}
	inChampions := func() bool {
		for _, id := range sb.HubSpotFake.ListMembers(env.Pipeline.TargetIDs(sandbox.HubSpot)["list:rfm:champions"]) {
			if id == hsID {
				return true
			}
		}
		return false
	}
	held := 0
	for i, step := range []struct {
		status string
		want   bool // in the champions list afterwards
	}{{"completed", true}, {"refunded", false}, {"completed", false}} {
		// WooCommerce's modification times are whole seconds: a change in
		// the second of the last pull would wait for the next pull.
		clk.Advance(1100 * time.Millisecond)
		setStatus(step.status)
		rep, err := env.Cycle(ctx, now, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Plan() != nil {
			held = rep.Plan().Held
		}
		if got := inChampions(); got != step.want {
			t.Fatalf("step %d (orders %s): in the champions list %v, want %v (held %d)", i+1, step.status, got, step.want, held)
		}
	}
	if held == 0 {
		t.Fatal("the last swing back was not counted as held")
	}
	open, err := env.Store.OutboxOpenKeys(ctx, sandbox.HubSpot, ref.Account)
	if err != nil || !open[ref.Key()] {
		t.Fatalf("the held write-back is not waiting in the outbox (%v)", err)
	}
}
