package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/sdk/domain"
)

var asOf = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// startSandbox starts a sandbox of customers generated as of at and an
// App pointed at it.
func startSandbox(t *testing.T, customers int, at time.Time) (*sandbox.Sandbox, *app.App, *config.Loaded) {
	t.Helper()
	return apptest.StartSandbox(t, customers, at, app.Options{})
}

// TestFullCycleLeavesEveryPlatformExact: two full cycles, with values a
// person set by hand in between, leave every platform holding exactly the
// computed segments, and the hand-made values untouched.
func TestFullCycleLeavesEveryPlatformExact(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end cycle against three fake platforms")
	}
	ctx := context.Background()
	sb, env, _ := startSandbox(t, 150, asOf)
	rep, err := env.Cycle(ctx, asOf, nil)
	if err != nil {
		t.Fatal(err)
	}
	for p, e := range rep.PullErrors {
		t.Fatalf("pull %s: %s", p, e)
	}
	for p, e := range rep.PushErrors {
		t.Fatalf("push %s: %s", p, e)
	}
	if rep.Profiles == 0 || rep.Changes == 0 {
		t.Fatalf("nothing happened: %+v", rep)
	}

	// A person sets values by hand, beside the connector's own.
	hs := env.Pipeline.TargetIDs(sandbox.HubSpot)
	champions := hs["list:rfm:champions"]
	if champions == "" {
		t.Fatalf("no HubSpot list for rfm:champions among %v", hs)
	}
	expHS := apptest.ComputeExpected(t, env, sandbox.HubSpot)
	handHS := ""
	for rk := range expHS.Props {
		if !expHS.Lists["list:rfm:champions"][rk] {
			handHS = strings.TrimPrefix(rk, "contact/")
			break
		}
	}
	sb.HubSpotFake.AddToList(champions, handHS)
	wooIDs := sb.WooFake.CustomerIDs()
	handWoo := wooIDs[0]
	sb.WooFake.UpdateCustomer(handWoo, func(c *woocommercefake.Customer) {
		c.MetaData = append(c.MetaData, woocommercefake.Meta{Key: "_vip_note", Value: "set by hand"})
	})

	// The business moves on: new orders change some segments.
	for i := 0; i < 10; i++ {
		c, _ := sb.WooFake.Customer(wooIDs[(i*7)%len(wooIDs)])
		sb.NewWooOrder(c.ID, c.Email, []domain.LineItem{{SKU: "X-1", Name: "gift", Category: "garden", Quantity: 3,
			UnitPrice: domain.Money{Amount: 250_00, Currency: "USD"}}}, "mobile")
	}
	rep2, err := env.Cycle(ctx, asOf.Add(24*time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	for p, e := range rep2.PushErrors {
		t.Fatalf("second cycle push %s: %s", p, e)
	}

	var checked int
	for _, p := range []string{sandbox.HubSpot, sandbox.WooCommerce, sandbox.Salesforce} {
		probs, n := apptest.Mismatches(t, env, sb, p, apptest.HandMade{HubSpotList: "list:rfm:champions", HubSpotContact: handHS, WooCustomer: handWoo})
		for _, pr := range probs {
			t.Error(pr)
		}
		checked += n
	}
	expHS = apptest.ComputeExpected(t, env, sandbox.HubSpot)
	expSF := apptest.ComputeExpected(t, env, sandbox.Salesforce)
	t.Logf("checked %d values; hubspot lists %d, salesforce campaigns %d", checked, len(expHS.Lists), len(expSF.Lists))
	if checked < 100 {
		t.Fatalf("only %d values checked; the test is not looking at enough records", checked)
	}
}
