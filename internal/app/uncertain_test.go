package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestPartlyWrittenStateIsUndone: a write-back that reached HubSpot only
// in part (its list calls went through, its property update failed) is not
// recorded as owned. When the person's state then changes back before the
// retry, the list changes the failed attempt made must still be undone:
// the newer state is written whole, not measured against ownership that
// never saw the first attempt.
func TestPartlyWrittenStateIsUndone(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end write-back against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, env, _ := startSandbox(t, 150, now)
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	if probs, _ := apptest.PlatformState(t, env, sb); len(probs) > 0 {
		t.Fatalf("not exact after the first cycle: %v", probs[:min(5, len(probs))])
	}

	// They become a Champion, and HubSpot fails their property update:
	// the list calls of the same push go through.
	wooID, hsID, _ := apptest.NotYetChampion(t, env)
	sb.HubSpotFake.FailUpdatesFor("INTERNAL_ERROR", hsID)
	var orders []int
	for range 8 {
		orders = append(orders, sb.NewWooOrder(wooID, "", []domain.LineItem{{SKU: "BIG", Name: "big order", Category: "garden", Quantity: 4,
			UnitPrice: domain.Money{Amount: 900_00, Currency: "USD"}}}, "mobile"))
	}
	rep, err := env.Cycle(ctx, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	retried := 0
	for _, w := range rep.Written {
		retried += w.Retryable
	}
	if retried == 0 {
		t.Fatalf("the injected failure did not fail the write-back: %+v", rep.Written)
	}
	props := env.Pipeline.TargetIDs("hubspot")
	inChampions := false
	for _, id := range sb.HubSpotFake.ListMembers(props["list:rfm:champions"]) {
		inChampions = inChampions || id == hsID
	}
	if !inChampions {
		t.Fatal("the list call of the failed push did not reach HubSpot; the test needs it to")
	}

	// The orders are refunded before the retry: they are no Champion
	// after all, and HubSpot works again.
	sb.HubSpotFake.FailUpdatesFor("", hsID)
	for _, id := range orders {
		sb.WooFake.UpdateOrder(id, func(o *woocommercefake.Order) { o.Status = "refunded" })
	}
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	if probs, _ := apptest.PlatformState(t, env, sb); len(probs) > 0 {
		t.Errorf("after the refund, %d values differ, e.g.:\n%s", len(probs), strings.Join(probs[:min(5, len(probs))], "\n"))
	}
}
