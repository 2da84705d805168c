package woocommerce

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

const hookSecret = "whsec_0123456789"

// receiver is the host's webhook endpoint in miniature.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	events []adapter.WebhookEvent
	errs   []error
	fail   atomic.Bool
}

func newReceiver(t *testing.T, c *Connector) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if r.fail.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		res, err := c.VerifyWebhook(req.Context(), adapter.WebhookRequest{Method: req.Method, URL: req.URL.String(), Headers: req.Header, Body: body, ReceivedAt: time.Now()})
		r.mu.Lock()
		defer r.mu.Unlock()
		if err != nil {
			r.errs = append(r.errs, err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		r.events = append(r.events, res.Events...)
		st := res.Status
		if st == 0 {
			st = 200
		}
		w.WriteHeader(st)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func webhookConfig(deliveryURL string) func(adapter.Config) {
	return func(cfg adapter.Config) {
		cfg["webhooks"] = map[string]any{"secret": hookSecret, "delivery_url": deliveryURL}
	}
}

func TestWebhookDeliveriesVerified(t *testing.T) {
	f, c := start(t, woocommercefake.Options{}, webhookConfig("http://placeholder"))
	rcv := newReceiver(t, c)
	oid := f.AddOrders(genOrders(1, 1, time.Now().Add(-time.Hour))...)[0]
	cid := f.AddCustomers(woocommercefake.Customer{Email: "w@example.com"})[0]
	for _, topic := range []string{"order.updated", "order.deleted", "customer.created", "customer.deleted"} {
		f.AddWebhook("t", topic, rcv.srv.URL, hookSecret)
	}
	hookID := f.AddWebhook("ping", "order.created", rcv.srv.URL, hookSecret)

	ctx := context.Background()
	for _, d := range append(append(append(f.Trigger(ctx, "order.updated", oid), f.Trigger(ctx, "order.deleted", oid)...),
		f.Trigger(ctx, "customer.created", cid)...), f.Trigger(ctx, "customer.deleted", cid)...) {
		if d.Err != nil || d.Status != 200 {
			t.Fatalf("delivery %s: %d %v", d.Topic, d.Status, d.Err)
		}
	}
	if st, err := f.Ping(ctx, hookID); err != nil || st != 200 {
		t.Fatalf("ping answered %d %v, WooCommerce wants exactly 200", st, err)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.errs) > 0 || len(rcv.events) != 4 {
		t.Fatalf("events %+v errs %v", rcv.events, rcv.errs)
	}
	e := rcv.events
	if e[0].Kind != adapter.ChangeUpsert || e[0].Record == nil || e[0].Record.Order == nil || e[0].Ref.ID != strconv.Itoa(oid) || e[0].ID == "" {
		t.Fatalf("order.updated → %+v", e[0])
	}
	// A deletion is not applied from the body ({"id": N} cannot tell a
	// replay from a deletion after a restore): the host fetches the record.
	if e[1].Kind != adapter.ChangeUpsert || e[1].Record != nil || e[1].Ref.ObjectType != domain.ObjectOrder || e[1].Ref.ID != strconv.Itoa(oid) {
		t.Fatalf("order.deleted → %+v", e[1])
	}
	if e[2].Record == nil || e[2].Record.Contact == nil || e[2].Record.Contact.Emails[0] != "w@example.com" {
		t.Fatalf("customer.created → %+v", e[2])
	}
	if e[3].Kind != adapter.ChangeUpsert || e[3].Record != nil || e[3].Ref.ObjectType != domain.ObjectContact {
		t.Fatalf("customer.deleted → %+v", e[3])
	}
	if e[0].ID == e[1].ID {
		t.Fatal("two deliveries share an event id")
	}
}

func TestWebhookSignatureNegatives(t *testing.T) {
	_, c := start(t, woocommercefake.Options{}, webhookConfig("http://placeholder"))
	body := []byte(`{"id":12,"status":"processing","currency":"USD","total":"1.00","date_created_gmt":"2026-01-01T00:00:00","billing":{"email":"a@b.c"}}`)
	hdr := func(sig string) map[string][]string {
		return map[string][]string{"X-Wc-Webhook-Signature": {sig}, "X-Wc-Webhook-Topic": {"order.updated"}, "X-Wc-Webhook-Delivery-Id": {"d1"}}
	}
	ok, err := c.VerifyWebhook(context.Background(), adapter.WebhookRequest{Headers: hdr(woocommercefake.Sign(hookSecret, body)), Body: body})
	if err != nil || len(ok.Events) != 1 || ok.Events[0].ID == "" || ok.Events[0].ID == "d1" {
		t.Fatalf("valid: %+v %v (the event id must come from signed content, not the delivery id)", ok, err)
	}
	tampered := append([]byte(nil), body...)
	tampered[len(tampered)-3] = 'd'
	for name, req := range map[string]adapter.WebhookRequest{
		"tampered body": {Headers: hdr(woocommercefake.Sign(hookSecret, body)), Body: tampered},
		"wrong secret":  {Headers: hdr(woocommercefake.Sign("other-secret", body)), Body: body},
		"no signature":  {Headers: map[string][]string{"X-Wc-Webhook-Topic": {"order.updated"}}, Body: body},
		"garbage":       {Headers: hdr("not base64!"), Body: body},
	} {
		_, err := c.VerifyWebhook(context.Background(), req)
		if !errors.Is(err, adapter.ErrBadSignature) || adapter.KindOf(err) != adapter.KindAuth {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	// WooCommerce sends no timestamp to check, and the delivery id is not
	// signed: a replay under a fresh delivery id is still the same event,
	// which the host's inbox deduplicates on.
	replay := hdr(woocommercefake.Sign(hookSecret, body))
	replay["X-Wc-Webhook-Delivery-Id"] = []string{"d2"}
	again, _ := c.VerifyWebhook(context.Background(), adapter.WebhookRequest{Headers: replay, Body: body})
	if again.Events[0].ID != ok.Events[0].ID {
		t.Fatal("a replayed delivery got a new event id")
	}
	ping, err := c.VerifyWebhook(context.Background(), adapter.WebhookRequest{Headers: map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte("webhook_id=42")})
	if err != nil || ping.Status != 200 || len(ping.Events) != 0 {
		t.Fatalf("ping: %+v %v", ping, err)
	}
}

func TestDisabledWebhookIsReenabledAndMissingRecreated(t *testing.T) {
	f, c := start(t, woocommercefake.Options{}, webhookConfig("http://placeholder"))
	rcv := newReceiver(t, c)
	cfg := baseConfig(f.URL())
	cfg["webhooks"] = map[string]any{"secret": hookSecret, "delivery_url": rcv.srv.URL, "topics": []any{"order.updated", "order.deleted"}}
	if err := c.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	hook := f.AddWebhook("ours", "order.updated", rcv.srv.URL, "an-old-secret")
	oid := f.AddOrders(genOrders(1, 1, time.Now().Add(-time.Hour))...)[0]

	// The receiver is down: WooCommerce never retries and disables the
	// webhook on the seventh consecutive failure.
	rcv.fail.Store(true)
	for i := 0; i < 7; i++ {
		f.Trigger(context.Background(), "order.updated", oid)
	}
	if st := f.Webhooks()[0].Status; st != "disabled" {
		t.Fatalf("after 7 failures the webhook is %q, want disabled", st)
	}
	if n := len(f.Trigger(context.Background(), "order.updated", oid)); n != 0 {
		t.Fatal("a disabled webhook still delivers")
	}
	rcv.fail.Store(false)

	rep, err := c.CheckWebhooks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Reenabled) != 1 || rep.Reenabled[0] != hook || len(rep.Created) != 1 {
		t.Fatalf("report %+v", rep)
	}
	for _, w := range f.Webhooks() {
		if w.Status != "active" || w.DeliveryURL != rcv.srv.URL {
			t.Fatalf("webhook %+v", w)
		}
	}
	// Creation pinged the receiver (in the background), which answered
	// 200; re-activation does not ping (the delivery URL did not change
	// and no delivery was pending).
	testenv.Eventually(t, 5*time.Second, "the created webhook's ping answered 200", func() bool { return okPings(f) >= 1 })
	// Re-enabling does not reset WooCommerce's failure count: one more
	// failure disables the webhook again, and the next check re-enables it.
	rcv.fail.Store(true)
	f.Trigger(context.Background(), "order.updated", oid)
	if st := f.Webhooks()[0].Status; st != "disabled" {
		t.Fatalf("a re-enabled webhook failing once is %q; WooCommerce disables it (its count stayed above 5)", st)
	}
	rcv.fail.Store(false)
	if rep, err = c.CheckWebhooks(context.Background()); err != nil || len(rep.Reenabled) != 1 {
		t.Fatalf("re-check %+v %v", rep, err)
	}
	// Deliveries flow again and verify (the secret was reset to ours).
	ds := f.Trigger(context.Background(), "order.updated", oid)
	if len(ds) != 1 || ds[0].Status != 200 {
		t.Fatalf("delivery after re-enable: %+v", ds)
	}
	rep, err = c.CheckWebhooks(context.Background())
	if err != nil || len(rep.Active) != 2 || len(rep.Reenabled)+len(rep.Created) != 0 {
		t.Fatalf("second check %+v %v", rep, err)
	}
	// A ping would be sent in the background within this window.
	testenv.Consistently(t, 50*time.Millisecond, "one ping answered 200 (re-activation does not ping)", func() bool { return okPings(f) == 1 })
}

func okPings(f *woocommercefake.Fake) int {
	n := 0
	for _, d := range f.Deliveries() {
		if d.Ping && d.Status == 200 {
			n++
		}
	}
	return n
}

// Our own write-back fires customer.updated (as WooCommerce does); the
// deliveries verify and the next customer sweep sees no change.
func TestWriteBackWebhooksAreHarmless(t *testing.T) {
	f, c := start(t, woocommercefake.Options{AutoWebhooks: true}, webhookConfig("http://placeholder"))
	rcv := newReceiver(t, c)
	f.AddWebhook("ours", "customer.updated", rcv.srv.URL, hookSecret)
	ids := f.AddCustomers(woocommercefake.Customer{Email: "a@example.com"}, woocommercefake.Customer{Email: "b@example.com"})
	s := newStore()
	if err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact}, s.sink); err != nil {
		t.Fatal(err)
	}
	var items []adapter.PushItem
	for _, id := range ids {
		items = append(items, adapter.PushItem{ID: strconv.Itoa(id), Ref: domain.ExternalRef{ObjectType: domain.ObjectContact, ID: strconv.Itoa(id)},
			Properties: map[string]string{"segments": "vip"}})
	}
	if _, err := c.Push(context.Background(), adapter.PushRequest{Items: items, Targets: map[string]string{"segments": "_segments"}}); err != nil {
		t.Fatal(err)
	}
	testenv.Await(t, 5*time.Second, "two customer.updated deliveries", func() error {
		rcv.mu.Lock()
		n, errs := len(rcv.events), len(rcv.errs)
		rcv.mu.Unlock()
		if errs > 0 {
			t.Fatalf("%d deliveries failed verification", errs)
		}
		if n != 2 {
			return fmt.Errorf("%d so far", n)
		}
		return nil
	})
	s.emitted = map[string]int{}
	if err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact, Cursor: s.cursor}, s.sink); err != nil {
		t.Fatal(err)
	}
	if len(s.emitted) != 0 {
		t.Fatalf("our own write-back made the sweep emit %v", s.emitted)
	}
}
