package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/segconn/connector/domain"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/store"
)

// TestFlappingRecordIsHeld: a HubSpot contact written back four times in
// the last hour is not written a fifth time at once when its segments
// change again: its write-back waits in the outbox (newer states replace
// it there) and the other platforms are written as usual.
func TestFlappingRecordIsHeld(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end write-back against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, env, _ := startSandbox(t, 150, now)
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
	// Four write-backs of the contact within the hour.
	for range 4 {
		if err := env.Store.OutboxEnqueue(ctx, []store.OutboxItem{{Platform: sandbox.HubSpot, Account: ref.Account, Key: ref.Key(), Payload: []byte("{}")}}); err != nil {
			t.Fatal(err)
		}
		c, err := env.Store.OutboxClaim(ctx, sandbox.HubSpot, ref.Account, 10, time.Minute)
		if err != nil || len(c) != 1 {
			t.Fatalf("claim: %v, %d", err, len(c))
		}
		if err := env.Store.OutboxDone(ctx, []int64{c[0].ID}); err != nil {
			t.Fatal(err)
		}
	}
	for range 8 {
		sb.NewWooOrder(wooID, "", []domain.LineItem{{SKU: "BIG", Name: "big order", Category: "garden", Quantity: 4,
			UnitPrice: domain.Money{Amount: 900_00, Currency: "USD"}}}, "mobile")
	}
	rep, err := env.Cycle(ctx, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Plan() == nil || rep.Plan().Held == 0 {
		t.Fatal("the plan held nothing")
	}
	champions := env.Pipeline.TargetIDs(sandbox.HubSpot)["list:rfm:champions"]
	for _, id := range sb.HubSpotFake.ListMembers(champions) {
		if id == hsID {
			t.Fatal("the flapping contact was written to the champions list at once")
		}
	}
	open, err := env.Store.OutboxOpenKeys(ctx, sandbox.HubSpot, ref.Account)
	if err != nil || !open[ref.Key()] {
		t.Fatalf("the held write-back is not waiting in the outbox (%v)", err)
	}
	key := env.Pipeline.TargetIDs(sandbox.WooCommerce)["prop:rfm_segment"]
	c, _ := sb.WooFake.Customer(wooID)
	got := ""
	for _, m := range c.MetaData {
		if m.Key == key {
			got, _ = m.Value.(string)
		}
	}
	if got != "Champions" {
		t.Fatalf("WooCommerce, which was not flapping, holds rfm_segment %q; want Champions", got)
	}
}
