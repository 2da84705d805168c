package daemon_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestConcurrentWebhooksForOneCustomer fires WooCommerce order webhooks
// for random customers at an in-process daemon, so that a customer's
// second resegmentation can run while the write-back of the first is in
// flight, and checks that every platform ends exact.
//
// It found that write-back deltas were planned against ownership lagging
// in-flight pushes (fixed by carrying the desired state in the outbox),
// and that a property's ownership kept every value ever written, so a
// stale one could read as current (fixed: writing a value releases the
// others, and the latest write wins).
func TestConcurrentWebhooksForOneCustomer(t *testing.T) {
	if testing.Short() {
		t.Skip("400 webhooks through a live daemon and three fakes (about three minutes under -race)")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, env, _ := startSandboxEnvAt(t, 250, now)
	_, base := startDaemon(t, env)
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	rep, err := sb.FireWebhooks(ctx, map[string]string{sandbox.WooCommerce: sb.Targets(base + "/webhooks")[sandbox.WooCommerce]}, 200, 400)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fired %v, acknowledged %v", rep.Changes, rep.Delivered)
	apptest.WaitStoreQuiet(t, env.Store, 60*time.Second)
	probs, checked := apptest.PlatformState(t, env.App, sb)
	if len(probs) > 0 {
		t.Errorf("%d of %d values differ, e.g.:\n%s", len(probs), checked, strings.Join(probs[:min(10, len(probs))], "\n"))
	}
}

// TestConcurrentWebhooksGroupCommittedOnce posts WooCommerce webhooks
// concurrently, each delivery twice, to the handler on both stores'
// group-commit path: every request is acknowledged and every delivery is
// stored exactly once.
func TestConcurrentWebhooksGroupCommittedOnce(t *testing.T) {
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 4, Customers: 20})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	l := sb.ConnectorConfig(t.TempDir())
	env, err := openApp(ctx, l, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close(ctx)
	srv := httptest.NewServer(env.newDaemon(daemon.Options{}).Handler())
	defer srv.Close()
	secret := sb.Endpoints()[2].Credentials["webhook_secret"]
	h, body := sb.WooFake.SignedDelivery("order.created", sb.WooFake.OrderIDs()[0], secret)
	const deliveries = 100
	// WooCommerce events are told apart by their signed body (the delivery
	// id is neither unique nor signed): give each delivery its own body.
	bodies := make([][]byte, deliveries)
	for j := range bodies {
		bodies[j] = append([]byte(fmt.Sprintf(`{"delivery_test":%d,`, j)), body[1:]...)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*deliveries)
	for i := range 2 * deliveries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/woocommerce", bytes.NewReader(bodies[i%deliveries]))
			req.Header = h.Clone()
			req.Header.Set("X-WC-Webhook-Signature", woocommercefake.Sign(secret, bodies[i%deliveries]))
			req.Header.Set("X-WC-Webhook-Delivery-ID", "dup-"+strconv.Itoa(i))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("delivery %d: HTTP %d", i, resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	pending, err := env.Store.InboxPending(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, it := range pending {
		if seen[it.EventID] {
			t.Errorf("event %s stored twice", it.EventID)
		}
		seen[it.EventID] = true
	}
	if len(seen) != deliveries {
		t.Errorf("%d distinct events stored, want %d", len(seen), deliveries)
	}
}

// TestWebhookRetriedAfterItsRecordsWereStored: a daemon stores the orders
// a webhook announced and dies before resegmenting; the event comes back
// (from the inbox after the lease lapses, or re-sent by the platform).
// Storing the same orders again changes nothing in the store, yet the
// customer must still be resegmented and written back.
func TestWebhookRetriedAfterItsRecordsWereStored(t *testing.T) {
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
	wooID, hsID, _ := apptest.NotYetChampion(t, env.App)
	secret := sb.Endpoints()[2].Credentials["webhook_secret"]
	sb.WooFake.AddWebhook("retry test", "order.created", base+"/webhooks/woocommerce", secret)
	for i := 0; i < 8; i++ {
		oid := sb.NewWooOrder(wooID, "", []domain.LineItem{{SKU: "BIG", Name: "big order", Category: "garden", Quantity: 4,
			UnitPrice: domain.Money{Amount: 900_00, Currency: "USD"}}}, "mobile")
		// The attempt that died: the order is stored, nothing else.
		h, body := sb.WooFake.SignedDelivery("order.created", oid, secret)
		res, err := env.Adapters[sandbox.WooCommerce].VerifyWebhook(ctx, adapter.WebhookRequest{Method: http.MethodPost, Headers: h, Body: body, ReceivedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.Pipeline.ApplyWebhookEvents(ctx, sandbox.WooCommerce, res.Events); err != nil {
			t.Fatal(err)
		}
		// The event again.
		for _, d := range sb.WooFake.Trigger(ctx, "order.created", oid) {
			if d.Status != http.StatusOK {
				t.Fatalf("webhook for order %d: HTTP %d", oid, d.Status)
			}
		}
	}
	key := func() string { return env.Pipeline.TargetIDs(sandbox.HubSpot)["prop:rfm_segment"] }
	testenv.Await(t, 20*time.Second, "Champions on HubSpot after the retried webhooks", func() error {
		obj, _ := sb.HubSpotFake.Get("contacts", hsID)
		if key() != "" && obj.Properties[key()] == "Champions" {
			return nil
		}
		return fmt.Errorf("HubSpot contact %s rfm_segment = %q", hsID, obj.Properties[key()])
	})
}
