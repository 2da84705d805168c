package daemon_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/health"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestDisabledWooWebhookIsReportedThenReenabled: while the connector is
// down, WooCommerce fails its order deliveries and disables the webhook
// (on the seventh consecutive failure, as WC_Webhook::failed_delivery
// does). The next daemon, with the default read-only watch, reports the
// webhook disabled in /api/v1/status and leaves it so; a daemon allowed
// to manage webhooks re-enables it, and the next order arrives by
// webhook again.
func TestDisabledWooWebhookIsReportedThenReenabled(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 5, Customers: 30, AsOf: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	l := sb.ConnectorConfig(t.TempDir())
	addr := freeAddr(t)
	hook := "http://" + addr + "/webhooks/woocommerce"
	secret := sb.Endpoints()[2].Credentials["webhook_secret"]
	topics := []string{"customer.created", "customer.updated", "customer.deleted", "order.created", "order.updated", "order.deleted"}
	ids := map[string]int{}
	for _, topic := range topics {
		ids[topic] = sb.WooFake.AddWebhook("segconn "+topic, topic, hook, secret)
	}
	customer := sb.WooFake.CustomerIDs()[0]
	order := func() []int {
		oid := sb.NewWooOrder(customer, "", []domain.LineItem{{SKU: "X", Name: "x", Quantity: 1,
			UnitPrice: domain.Money{Amount: 10_00, Currency: "USD"}}}, "mobile")
		var statuses []int
		for _, d := range sb.WooFake.Trigger(ctx, "order.created", oid) {
			statuses = append(statuses, d.Status)
		}
		return statuses
	}

	// The outage: nobody listens, and the seventh failure disables it.
	for i := 0; i < 7; i++ {
		if got := order(); len(got) != 1 || got[0] != 0 {
			t.Fatalf("delivery %d during the outage: %v, want one failed delivery", i+1, got)
		}
	}
	if got := order(); len(got) != 0 {
		t.Fatalf("the webhook still delivers after 7 failures: %v", got)
	}

	readOnly := startWatchingDaemon(t, l, addr, false, hook)
	status := func() *health.Webhooks {
		var rep app.HealthReport
		resp, err := http.Get("http://" + addr + "/api/v1/status")
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		if json.NewDecoder(resp.Body).Decode(&rep) != nil {
			return nil
		}
		for _, p := range rep.Platforms {
			if p.Platform == sandbox.WooCommerce {
				return p.Webhooks
			}
		}
		return nil
	}
	testenv.Eventually(t, 20*time.Second, "the status to report the disabled webhook", func() bool {
		w := status()
		return w != nil && w.State == health.WebhooksInactive && len(w.Inactive) == 1 &&
			w.Inactive[0] == adapter.WebhookSubscription{ID: strconv.Itoa(ids["order.created"]), Topic: "order.created", Status: "disabled"} &&
			w.Active == len(topics)-1
	})
	readOnly()
	for _, w := range sb.WooFake.Webhooks() {
		if w.Topic == "order.created" && w.Status != "disabled" {
			t.Fatalf("the read-only watch changed the webhook: %+v", w)
		}
	}

	managing := startWatchingDaemon(t, l, addr, true, hook)
	defer managing()
	testenv.Eventually(t, 20*time.Second, "the managing daemon to re-enable the webhook and report all active", func() bool {
		w := status()
		return w != nil && w.State == health.WebhooksOK && w.Active == len(topics)
	})
	if got := order(); len(got) != 1 || got[0] != http.StatusOK {
		t.Fatalf("an order after the re-enable: deliveries %v, want one acknowledged", got)
	}
}

// startWatchingDaemon runs a daemon on addr that looks at the platforms'
// webhooks every 100ms, managing WooCommerce's when manage is set, until
// the returned stop is called.
func startWatchingDaemon(t *testing.T, l *config.Loaded, addr string, manage bool, hook string) (stop func()) {
	t.Helper()
	ctx := context.Background()
	wh := l.Config.Platforms[sandbox.WooCommerce]["webhooks"].(map[string]any)
	wh["manage"], wh["delivery_url"] = manage, hook
	env, err := openApp(ctx, l, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		env.Close(ctx)
		t.Fatal(err)
	}
	d := env.newDaemon(daemon.Options{Listener: ln, NoSchedule: true, WebhookCheckInterval: 100 * time.Millisecond})
	dctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(dctx) }()
	d.Addr()
	return func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("daemon: %v", err)
		}
		env.Close(ctx)
	}
}
