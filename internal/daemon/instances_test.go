package daemon_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/health"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestTwoShopsWebhooksMetricsAndStatus: under the daemon, each shop's
// webhooks go to /webhooks/<instance> and verify with that instance's
// secret only (the other shop's signature is refused), their orders land
// on the instance that sent them, and /metrics and /api/v1/status show
// each shop as its own platform with its adapter. Before instances, the
// shops could not be configured, and one woocommerce section had one
// secret and one path.
func TestTwoShopsWebhooksMetricsAndStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("daemon against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	m := daemon.NewMetrics()
	ts := apptest.StartTwoShops(t, 120, now, app.Options{ObserveHTTP: m.HTTPObserver})
	env := &testEnv{App: ts.App, metrics: m}
	_, base := startDaemon(t, env)
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}

	// A customer of each shop buys; each shop signs with its own secret.
	buyer := func(inst string) (int, string) {
		f := ts.Fakes[inst]
		id := f.CustomerIDs()[0]
		c, _ := f.Customer(id)
		p, err := env.Store.ProfileByEmail(ctx, domain.NormalizeEmail(c.Email))
		if err != nil {
			t.Fatalf("%s customer %d (%s): %v", inst, id, c.Email, err)
		}
		return id, p.ID
	}
	item := []domain.LineItem{{SKU: "HOOK", Name: "webhook order", Category: "garden", Quantity: 1, UnitPrice: domain.Money{Amount: 75_00, Currency: "USD"}}}
	orders := map[string]int{}
	profiles := map[string]string{}
	for i, inst := range []string{apptest.ShopEU, apptest.ShopUS} {
		cust, pid := buyer(inst)
		profiles[inst] = pid
		f := ts.Fakes[inst]
		f.AddWebhook("segconn "+inst, "order.created", base+"/webhooks/"+inst, ts.Secrets[inst])
		orders[inst] = ts.Sandbox.NewShopOrder(sandbox.ShopName(i), cust, "", item, "mobile")
		for _, d := range f.Trigger(ctx, "order.created", orders[inst]) {
			if d.Status != http.StatusOK {
				t.Fatalf("%s webhook for order %d: HTTP %d, want 200", inst, orders[inst], d.Status)
			}
		}
	}
	// shop-us's delivery sent to shop-eu's path does not verify there.
	us := ts.Fakes[apptest.ShopUS]
	misrouted := us.AddWebhook("misrouted", "order.updated", base+"/webhooks/"+apptest.ShopEU, ts.Secrets[apptest.ShopUS])
	refused := false
	for _, d := range us.Trigger(ctx, "order.updated", orders[apptest.ShopUS]) {
		if d.WebhookID == misrouted {
			refused = d.Status == http.StatusUnauthorized
			if !refused {
				t.Errorf("shop-us's signature at /webhooks/shop-eu: HTTP %d, want 401", d.Status)
			}
		}
	}
	if !refused {
		t.Error("the misrouted delivery was not sent")
	}

	// Each order is stored under the instance that sent it.
	landed := func(inst string) bool {
		os, err := env.Store.Orders(ctx, profiles[inst])
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(os, func(o domain.Order) bool {
			return o.Ref.Platform == inst && o.Ref.ID == strconv.Itoa(orders[inst])
		})
	}
	testenv.Eventually(t, 20*time.Second, "each shop's webhook order stored under its instance", func() bool {
		return landed(apptest.ShopEU) && landed(apptest.ShopUS)
	})

	fams := scrape(t, base)
	for _, c := range []struct {
		name   string
		labels map[string]string
	}{
		{"connector_webhooks_received_total", map[string]string{"platform": apptest.ShopEU, "result": "accepted"}},
		{"connector_webhooks_received_total", map[string]string{"platform": apptest.ShopUS, "result": "accepted"}},
		{"connector_webhooks_received_total", map[string]string{"platform": apptest.ShopEU, "result": "unauthorized"}},
		{"connector_platform_requests_total", map[string]string{"platform": apptest.ShopEU}},
		{"connector_platform_requests_total", map[string]string{"platform": apptest.ShopUS}},
	} {
		if n, _ := sum(fams, c.name, c.labels); n < 1 {
			t.Errorf("%s%v = %v, want at least 1", c.name, c.labels, n)
		}
	}
	if _, n := sum(fams, "connector_platform_requests_total", map[string]string{"platform": sandbox.WooCommerce}); n > 0 {
		t.Errorf("requests counted under the adapter's name woocommerce rather than the shops'")
	}

	rep := readStatus(t, base)
	for _, inst := range []string{apptest.ShopEU, apptest.ShopUS} {
		st := state(rep, inst)
		if st.Platform != inst || st.Adapter != sandbox.WooCommerce || st.State != health.OK {
			t.Errorf("/api/v1/status for %s: %+v, want adapter woocommerce, state ok", inst, st)
		}
	}
	if st := state(rep, sandbox.WooCommerce); st.Platform != "" {
		t.Errorf("/api/v1/status reports the adapter woocommerce as a platform: %+v", st)
	}
}
