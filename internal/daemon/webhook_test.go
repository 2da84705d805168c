package daemon_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// startDaemon runs the daemon on a loopback port until the test ends.
func startDaemon(t *testing.T, env *testEnv) (*daemon.Daemon, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := env.newDaemon(daemon.Options{Listener: ln, NoSchedule: true, DrainInterval: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("daemon: %v", err)
		}
	})
	return d, "http://" + d.Addr()
}

func TestWooOrderWebhookMakesAChampionEverywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end webhook path against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, env, _ := startSandboxEnvAt(t, 150, now)
	_, base := startDaemon(t, env)
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}

	// Someone on WooCommerce and HubSpot who is not a Champion yet.
	wooID, hsID, profileID := apptest.NotYetChampion(t, env.App)

	// They buy a lot, and WooCommerce tells us through its signed webhooks.
	secret := sb.Endpoints()[2].Credentials["webhook_secret"]
	sb.WooFake.AddWebhook("test order.created", "order.created", base+"/webhooks/woocommerce", secret)
	for i := 0; i < 8; i++ {
		oid := sb.NewWooOrder(wooID, "", []domain.LineItem{{SKU: "BIG", Name: "big order", Category: "garden", Quantity: 4,
			UnitPrice: domain.Money{Amount: 900_00, Currency: "USD"}}}, "mobile")
		for _, d := range sb.WooFake.Trigger(ctx, "order.created", oid) {
			if d.Status != 200 {
				t.Fatalf("webhook delivery for order %d got HTTP %d", oid, d.Status)
			}
		}
	}

	hs := func() (string, bool) {
		props := env.Pipeline.TargetIDs(sandbox.HubSpot)
		obj, _ := sb.HubSpotFake.Get("contacts", hsID)
		inList := false
		for _, id := range sb.HubSpotFake.ListMembers(props["list:rfm:champions"]) {
			inList = inList || id == hsID
		}
		return obj.Properties[props["prop:rfm_segment"]], inList
	}
	woo := func() string {
		key := env.Pipeline.TargetIDs(sandbox.WooCommerce)["prop:rfm_segment"]
		c, _ := sb.WooFake.Customer(wooID)
		for _, m := range c.MetaData {
			if m.Key == key {
				s, _ := m.Value.(string)
				return s
			}
		}
		return ""
	}
	testenv.Await(t, 20*time.Second, "Champions on HubSpot and WooCommerce after the webhooks", func() error {
		prop, inList := hs()
		meta := woo()
		if prop == "Champions" && inList && meta == "Champions" {
			return nil
		}
		ms, _ := env.Store.Memberships(ctx, profileID)
		return fmt.Errorf("hubspot rfm_segment=%q in champions list=%v, woocommerce meta=%q; memberships %v", prop, inList, meta, ms)
	})
}
