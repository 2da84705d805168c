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
	"sync/atomic"
	"testing"
	"time"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/domain"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/store"
)

// TestLapsedLeaseIsSupersededByNewerItem: a daemon died while pushing a
// record's write-back (its outbox item stays leased); a newer write-back
// for the same record is queued; once the lease lapses, the next drain
// writes the newer state and closes both items, and never pushes the
// older state over the newer.
func TestLapsedLeaseIsSupersededByNewerItem(t *testing.T) {
	if testing.Short() {
		t.Skip("drains against a fake platform")
	}
	ctx := context.Background()
	f := newLeaseFixture(t)
	f.queue("Older State")
	f.dieHoldingLease()
	f.queue("Newer State")
	f.offset.Store(int64(leaseSkip)) // the lease lapses
	sizes := len(f.sb.WooFake.BatchSizes())
	st, err := f.env.Pipeline.Drain(ctx, sandbox.WooCommerce)
	if err != nil {
		t.Fatal(err)
	}
	f.checkClosed()
	f.checkValue("Newer State")
	if bs := f.sb.WooFake.BatchSizes()[sizes:]; len(bs) != 1 || bs[0] != 1 || st.OK != 1 {
		t.Errorf("drain pushed batches %v (%d ok); want one batch holding the record once", bs, st.OK)
	}
}

// TestLapsedLeaseAfterNewerItemWasQueued: as above, but a drain runs
// while the dead daemon's lease still holds (as a surviving replica or a
// quickly restarted daemon does). The newer item waits while the record
// has a write in flight; once the lease lapses, the older item is closed
// and the newer state written, never the older over the newer.
func TestLapsedLeaseAfterNewerItemWasQueued(t *testing.T) {
	if testing.Short() {
		t.Skip("drains against a fake platform")
	}
	ctx := context.Background()
	f := newLeaseFixture(t)
	before := f.value()
	f.queue("Older State")
	f.dieHoldingLease()
	f.queue("Newer State")
	if _, err := f.env.Pipeline.Drain(ctx, sandbox.WooCommerce); err != nil {
		t.Fatal(err)
	}
	f.checkValue(before)             // nothing written while the older write may be in flight
	f.offset.Store(int64(leaseSkip)) // the lease lapses
	if _, err := f.env.Pipeline.Drain(ctx, sandbox.WooCommerce); err != nil {
		t.Fatal(err)
	}
	f.checkClosed()
	f.checkValue("Newer State")
}

// leaseFixture is a synced sandbox and an Env whose store clock the test
// moves, with one WooCommerce record to queue write-backs for.
type leaseFixture struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	env    *daemon.Env
	offset *atomic.Int64
	pp     pipeline.PlatformPlan
	item   adapter.PushItem
}

func newLeaseFixture(t *testing.T) *leaseFixture {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 3, Customers: 60, AsOf: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	l := daemon.SandboxConfig(sb, t.TempDir())
	if err := daemon.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	f := &leaseFixture{t: t, sb: sb, offset: new(atomic.Int64)}
	f.env, err = openEnvWithClock(ctx, l, slog.New(slog.DiscardHandler), func() time.Time { return time.Now().Add(time.Duration(f.offset.Load())) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.env.Close(ctx) })
	rep, err := daemon.RunCycle(ctx, f.env, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Plan().Platforms {
		if p.Platform == sandbox.WooCommerce {
			f.pp = p
		}
	}
	for _, it := range f.pp.Items {
		if _, ok := it.Properties["prop:rfm_segment"]; ok {
			f.item = it
			break
		}
	}
	if f.item.ID == "" {
		t.Fatal("no WooCommerce write-back with an rfm_segment value in the first cycle")
	}
	return f
}

// queue queues a write-back of the record with this rfm_segment value.
func (f *leaseFixture) queue(value string) {
	f.t.Helper()
	it := f.item
	it.Add, it.Remove = nil, nil
	it.Properties = map[string]string{"prop:rfm_segment": value}
	if err := f.env.Pipeline.Apply(context.Background(), &pipeline.Plan{Platforms: []pipeline.PlatformPlan{{Platform: sandbox.WooCommerce, Targets: f.pp.Targets, Items: []adapter.PushItem{it}}}}); err != nil {
		f.t.Fatal(err)
	}
}

// dieHoldingLease claims the queued item as a daemon would that then dies
// before marking it done.
func (f *leaseFixture) dieHoldingLease() {
	f.t.Helper()
	pl, err := f.env.Pipeline.Platform(sandbox.WooCommerce)
	if err != nil {
		f.t.Fatal(err)
	}
	if claimed, err := f.env.Store.OutboxClaim(context.Background(), sandbox.WooCommerce, pl.Account, 1000, time.Minute); err != nil || len(claimed) != 1 {
		f.t.Fatalf("claiming the older item: %d claimed, %v", len(claimed), err)
	}
}

func (f *leaseFixture) checkClosed() {
	f.t.Helper()
	stats, err := f.env.Store.OutboxStats(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	if stats[store.OutboxLeased]+stats[store.OutboxPending] != 0 {
		f.t.Errorf("after the drain: %d leased and %d pending items; both should be closed", stats[store.OutboxLeased], stats[store.OutboxPending])
	}
}

// value is the record's rfm_segment value on the platform.
func (f *leaseFixture) value() string {
	id, _ := strconv.Atoi(f.item.Ref.ID)
	key := f.env.Pipeline.TargetIDs(sandbox.WooCommerce)["prop:rfm_segment"]
	return fmt.Sprint(f.sb.WooFake.CustomerMeta(id)[key])
}

func (f *leaseFixture) checkValue(want string) {
	f.t.Helper()
	if got := f.value(); got != want {
		f.t.Errorf("customer %s rfm_segment = %q, want %q", f.item.Ref.ID, got, want)
	}
}

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
	ctx := context.Background()
	now := time.Now().UTC()
	sb, env, _ := startSandboxEnvAt(t, 250, now)
	_, base := startDaemon(t, env)
	if _, err := daemon.RunCycle(ctx, env, now); err != nil {
		t.Fatal(err)
	}
	rep, err := sb.FireWebhooks(ctx, map[string]string{sandbox.WooCommerce: sb.Targets(base + "/webhooks")[sandbox.WooCommerce]}, 200, 400)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fired %v, acknowledged %v", rep.Changes, rep.Delivered)
	waitStoreQuiet(t, env.Store, 60*time.Second)
	probs, checked := platformState(t, env, sb)
	if len(probs) > 0 {
		t.Errorf("%d of %d values differ, e.g.:\n%s", len(probs), checked, strings.Join(probs[:min(10, len(probs))], "\n"))
	}
}

// waitStoreQuiet waits until a store's inbox and outbox are empty on
// several consecutive looks.
func waitStoreQuiet(t testing.TB, st store.Store, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for quiet := 0; quiet < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("not quiet after %v", timeout)
		}
		time.Sleep(200 * time.Millisecond)
		pending, err1 := st.InboxPending(ctx, 10)
		stats, err2 := st.OutboxStats(ctx)
		if err1 == nil && err2 == nil && len(pending) == 0 && stats[store.OutboxPending]+stats[store.OutboxLeased] == 0 {
			quiet++
		} else {
			quiet = 0
		}
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
	l := daemon.SandboxConfig(sb, t.TempDir())
	env, err := daemon.Open(ctx, l, slog.New(slog.DiscardHandler), factories())
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close(ctx)
	srv := httptest.NewServer(daemon.New(env, daemon.Options{}).Handler())
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
	if _, err := daemon.RunCycle(ctx, env, now); err != nil {
		t.Fatal(err)
	}
	wooID, hsID, _ := notYetChampion(t, env)
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
	deadline := time.Now().Add(20 * time.Second)
	for {
		obj, _ := sb.HubSpotFake.Get("contacts", hsID)
		if key() != "" && obj.Properties[key()] == "Champions" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("HubSpot contact %s rfm_segment = %q after the retried webhooks, want Champions", hsID, obj.Properties[key()])
		}
		time.Sleep(100 * time.Millisecond)
	}
}
