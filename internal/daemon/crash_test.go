package daemon_test

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// wooOrdersInStore returns the WooCommerce order ids the store holds.
func wooOrdersInStore(t *testing.T, st store.Store) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := st.EachProfile(context.Background(), func(po store.ProfileOrders) error {
		for _, o := range po.Orders {
			if o.Ref.Platform == sandbox.WooCommerce {
				out[o.Ref.ID] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// orderFirer sends WooCommerce order webhooks, each for a customer no
// earlier webhook was about: one resegmentation per profile, so the test
// sees crash recovery alone (see TestConcurrentWebhooksForOneCustomer for
// what happens when webhooks for one customer overlap a write-back).
type orderFirer struct {
	sb        *sandbox.Sandbox
	mu        sync.Mutex
	customers []int // not used yet
	random    bool  // sandbox.Fire's random customers instead
	target    string
}

func newOrderFirer(sb *sandbox.Sandbox, target string, random bool) *orderFirer {
	secret := sb.Endpoints()[2].Credentials["webhook_secret"]
	sb.WooFake.AddWebhook("crash test order.created", "order.created", target, secret)
	return &orderFirer{sb: sb, customers: sb.WooFake.CustomerIDs(), random: random, target: target}
}

// fire adds an order and has WooCommerce deliver its webhook; it reports
// the order id and whether the delivery was acknowledged (2xx).
func (f *orderFirer) fire(ctx context.Context) (string, bool, bool) {
	if f.random {
		ch, err := f.sb.Fire(ctx, sandbox.WooCommerce, f.target)
		return ch.ID, err == nil && ch.Delivered, true
	}
	f.mu.Lock()
	if len(f.customers) == 0 {
		f.mu.Unlock()
		return "", false, false
	}
	id := f.customers[0]
	f.customers = f.customers[1:]
	f.mu.Unlock()
	oid := f.sb.NewWooOrder(id, "", []domain.LineItem{{SKU: "CRASH-1", Name: "crash test", Category: "garden", Quantity: 2,
		UnitPrice: domain.Money{Amount: 120_00, Currency: "USD"}}}, "mobile")
	ok := false
	for _, d := range f.sb.WooFake.Trigger(ctx, "order.created", oid) {
		ok = ok || (d.Err == nil && d.Status >= 200 && d.Status < 300)
	}
	return strconv.Itoa(oid), ok, true
}

// burst fires n order webhooks from workers goroutines and returns the
// ids of the orders whose delivery was acknowledged. onAck sees the
// running count of acknowledged deliveries.
func (f *orderFirer) burst(ctx context.Context, n, workers int, onAck func(acked int)) (acked []string, sent int) {
	var mu sync.Mutex
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for int(next.Add(1)) <= n && ctx.Err() == nil {
				id, ok, fired := f.fire(ctx)
				if !fired {
					return
				}
				mu.Lock()
				sent++
				if ok {
					acked = append(acked, id)
					if onAck != nil {
						onAck(len(acked))
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return acked, sent
}

// reactivateWooHooks undoes WooCommerce disabling a webhook after
// repeated failed deliveries (as a shop owner would after an outage).
func reactivateWooHooks(sb *sandbox.Sandbox) {
	for _, w := range sb.WooFake.Webhooks() {
		sb.WooFake.SetWebhookStatus(w.ID, "active")
	}
}

// TestKilledDaemonLosesNoAcknowledgedWebhook kills a daemon child process
// with SIGKILL twice, once in the middle of a webhook burst and once in
// the middle of a write-back, restarts it each time, and checks that
// every acknowledged webhook's order is in the store, that the inbox is
// empty, and that every platform holds exactly the stored memberships.
func TestKilledDaemonLosesNoAcknowledgedWebhook(t *testing.T) {
	if testing.Short() {
		t.Skip("child processes against three fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 23, Customers: 250, AsOf: now})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	l := sb.ConnectorConfig(t.TempDir())
	l.Server.Listen = freeAddr(t)
	l.Server.ShutdownTimeout = 10 * time.Second
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	// The starting point: one full cycle, in this process.
	openEnv := func() *testEnv {
		env, err := openApp(ctx, l, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	env := openEnv()
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	env.Close(ctx)

	spec := func(generation int) childSpec {
		return childSpec{Config: l.Config, Secrets: l.SecretValues, NoSchedule: true, DrainInterval: 100 * time.Millisecond,
			ClockOffset: time.Duration(generation) * leaseSkip}
	}
	fr := newOrderFirer(sb, sb.Targets("http://" + l.Server.Listen + "/webhooks")[sandbox.WooCommerce], false)
	if len(fr.customers) < 100 {
		t.Fatalf("only %d WooCommerce customers", len(fr.customers))
	}
	var acked []string

	// 1. SIGKILL in the middle of a burst of webhooks.
	a := startChild(t, "a", spec(0))
	var once sync.Once
	got, sent := fr.burst(ctx, 60, 8, func(n int) {
		if n == 25 {
			once.Do(func() { go a.kill() })
		}
	})
	a.kill()
	acked = append(acked, got...)
	t.Logf("burst 1: %d sent, %d acknowledged before and around the kill", sent, len(got))
	if len(got) < 25 || len(got) >= sent {
		t.Fatalf("the kill did not land in the middle of the burst: %d of %d acknowledged; deliveries %v\n%s", len(got), sent, deliveryStatuses(sb), a.logTail())
	}
	reactivateWooHooks(sb)

	// 2. Restart; more webhooks; then SIGKILL while a HubSpot write-back is
	// in flight (the fake holds each request for 3s).
	b := startChild(t, "b", spec(1))
	got, sent = fr.burst(ctx, 15, 4, nil)
	acked = append(acked, got...)
	if len(got) != sent {
		t.Fatalf("burst 2: %d of %d acknowledged by a healthy daemon", len(got), sent)
	}
	b.waitQuiet(60 * time.Second)
	writing := make(chan string, 1)
	sb.Observe(sandbox.HubSpot, func(r *http.Request) {
		if r.Method == http.MethodPost && (strings.Contains(r.URL.Path, "/batch/update") || strings.Contains(r.URL.Path, "/memberships")) {
			select {
			case writing <- r.URL.Path:
			default:
			}
		}
	})
	sb.HubSpotFake.SetLatency(3 * time.Second)
	got, sent = fr.burst(ctx, 15, 4, nil)
	acked = append(acked, got...)
	if len(got) != sent {
		t.Fatalf("burst 3: %d of %d acknowledged by a healthy daemon", len(got), sent)
	}
	select {
	case path := <-writing:
		time.Sleep(200 * time.Millisecond)
		b.kill()
		t.Logf("killed while HubSpot %s was in flight", path)
	case <-time.After(60 * time.Second):
		t.Fatalf("no HubSpot write-back started within 60s:\n%s", b.logTail())
	}
	sb.Observe(sandbox.HubSpot, nil)
	sb.HubSpotFake.Clear()

	// 3. Restart and let it finish.
	c := startChild(t, "c", spec(2))
	s := c.waitQuiet(120 * time.Second)
	if n := s.Outbox[string(store.OutboxFailed)]; n > 0 {
		t.Errorf("%d write-backs parked as failed", n)
	}
	c.stop()

	env = openEnv()
	defer env.Close(ctx)
	inStore := wooOrdersInStore(t, env.Store)
	lost := 0
	for _, id := range acked {
		if !inStore[id] {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged webhook for WooCommerce order %s: the order is not in the store", id)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged webhooks lost", lost, len(acked))
	}
	pending, err := env.Store.InboxPending(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) > 0 {
		t.Errorf("%d webhook events still unprocessed in the inbox", len(pending))
	}
	probs, checked := apptest.PlatformState(t, env.App, sb)
	for i, p := range probs {
		if i == 10 {
			t.Errorf("… and %d more", len(probs)-10)
			break
		}
		t.Error(p)
	}
	t.Logf("%d acknowledged webhooks all stored; %d platform values and list memberships checked", len(acked), checked)
	if checked < 100 {
		t.Fatalf("only %d values checked", checked)
	}
}

// deliveryStatuses counts the WooCommerce fake's deliveries by outcome.
func deliveryStatuses(sb *sandbox.Sandbox) map[string]int {
	out := map[string]int{}
	for _, d := range sb.WooFake.Deliveries() {
		k := strconv.Itoa(d.Status)
		if d.Err != nil {
			k = d.Err.Error()
			if len(k) > 80 {
				k = k[:80]
			}
		}
		out[k]++
	}
	return out
}
