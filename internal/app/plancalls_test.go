package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func totalCalls(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestApplyMakesExactlyThePlannedCalls checks, with the fakes' own request
// counters, that writing a plan takes exactly the API calls the plan
// predicted on every platform: property updates, list and campaign
// membership additions, and removals.
func TestApplyMakesExactlyThePlannedCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end cycle against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, env, _ := startSandbox(t, 300, now)
	// The first cycle creates properties, lists and campaigns.
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	// The business moves on; a later as-of moves people between groups.
	ids := sb.WooFake.CustomerIDs()
	for i := 0; i < len(ids)/2; i++ {
		c, _ := sb.WooFake.Customer(ids[(i*13)%len(ids)])
		sb.NewWooOrder(c.ID, c.Email, []domain.LineItem{{SKU: "P", Name: "p", Category: "garden", Quantity: 2,
			UnitPrice: domain.Money{Amount: 400_00, Currency: "USD"}}}, "desktop")
	}
	for _, p := range env.Pipeline.Platforms() {
		if _, err := env.Pipeline.Sync(ctx, p, false); err != nil {
			t.Fatal(err)
		}
	}
	plan, err := env.Pipeline.Plan(ctx, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	// Each plan shows its share of the platform's daily budget as the
	// platform last reported it: the HubSpot fake's daily headers (not the
	// Professional tier's 650,000 the configuration assumes), Salesforce's
	// Sforce-Limit-Info.
	quotas := map[string][2]int{
		sandbox.HubSpot:    {sb.HubSpotFake.Stats().DailyMax, sb.HubSpotFake.Stats().DailyMax - sb.HubSpotFake.Stats().DailyUsed},
		sandbox.Salesforce: {salesforcefake.DefaultDailyLimit, salesforcefake.DefaultDailyLimit - sb.SalesforceFake.Usage()},
	}
	for _, pp := range plan.Platforms {
		want, ok := quotas[pp.Platform]
		if !ok {
			continue
		}
		// What is left is what the last answer said: no less than what
		// the fake counts now, no more than the whole budget.
		left := -1
		if pp.QuotaRemaining != nil {
			left = *pp.QuotaRemaining
		}
		if pp.DailyQuota != want[0] || left < want[1] || left >= want[0] || pp.QuotaShare != float64(pp.Calls)/float64(want[0]) {
			t.Errorf("%s: plan quota %d (%d left, share %v); the platform's budget is %d with %d left now", pp.Platform, pp.DailyQuota, left, pp.QuotaShare, want[0], want[1])
		}
	}
	counters := map[string]func() map[string]int{
		sandbox.HubSpot: sb.HubSpotFake.Calls, sandbox.Salesforce: sb.SalesforceFake.Calls, sandbox.WooCommerce: sb.WooFake.Calls,
	}
	// Properties, lists and campaigns new to this plan are made first, as
	// `segments apply` does; what follows is the write-back proper.
	if err := env.Pipeline.EnsureTargets(ctx, plan); err != nil {
		t.Fatal(err)
	}
	before := map[string]int{}
	for p, f := range counters {
		before[p] = totalCalls(f())
	}
	if err := env.Apply(ctx, plan); err != nil {
		t.Fatal(err)
	}
	removals := 0
	for _, pp := range plan.Platforms {
		st, err := env.Pipeline.Drain(ctx, pp.Platform)
		if err != nil {
			t.Fatalf("draining %s: %v", pp.Platform, err)
		}
		made := totalCalls(counters[pp.Platform]()) - before[pp.Platform]
		for _, it := range pp.Items {
			removals += len(it.Remove)
		}
		t.Logf("%s: %d records, planned %d calls, made %d (%d ok)", pp.Platform, len(pp.Items), pp.Calls, made, st.OK)
		if made != pp.Calls {
			t.Errorf("%s: apply made %d API calls, the plan predicted %d", pp.Platform, made, pp.Calls)
		}
		if len(pp.Items) == 0 {
			t.Errorf("%s: nothing to write; the test does not exercise write-back", pp.Platform)
		}
	}
	if removals == 0 {
		t.Error("no list removals in the plan; the test does not exercise them")
	}
}
