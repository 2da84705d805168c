package woocommerce

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/internal/pipeline"
	storepkg "github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlite"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// inboxReceiver is the daemon's webhook path in miniature, on a real
// SQLite store: verify, add each event to the durable inbox under its
// event id (a known id is a duplicate and answered 200 without storing),
// and apply the new ones through the pipeline as the inbox worker does.
type inboxReceiver struct {
	t    *testing.T
	c    *Connector
	st   storepkg.Store
	pl   *pipeline.Pipeline
	srv  *httptest.Server
	mu   sync.Mutex
	dups int
}

func newInboxReceiver(t *testing.T, c *Connector) *inboxReceiver {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), sqlite.FileName), storepkg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	desc, err := c.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := &inboxReceiver{t: t, c: c, st: st}
	r.pl = pipeline.New(pipeline.Options{Store: st, Platforms: []*pipeline.Platform{{Name: Name, Account: "shop", Adapter: c, Desc: desc}}})
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := r.receive(req.Context(), req.Header, body); err != nil {
			t.Error(err)
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *inboxReceiver) receive(ctx context.Context, h http.Header, body []byte) error {
	res, err := r.c.VerifyWebhook(ctx, adapter.WebhookRequest{Method: http.MethodPost, Headers: h, Body: body, ReceivedAt: time.Now()})
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var fresh []adapter.WebhookEvent
	for _, ev := range res.Events {
		payload, _ := json.Marshal(ev)
		id, isNew, err := r.st.InboxAdd(ctx, storepkg.InboxItem{Platform: Name, Account: "shop", EventID: ev.ID, ReceivedAt: time.Now(), Payload: payload})
		if err != nil {
			return err
		}
		if !isNew {
			r.dups++
			continue
		}
		fresh = append(fresh, ev)
		if err := r.st.InboxDone(ctx, id); err != nil {
			return err
		}
	}
	_, err = r.pl.ApplyWebhookEvents(ctx, Name, fresh)
	return err
}

// storedOrder reads an order back from the store through its customer.
func (r *inboxReceiver) storedOrder(customer, order int) domain.Order {
	r.t.Helper()
	ctx := context.Background()
	prof, err := r.st.ProfileByRef(ctx, domain.ExternalRef{Platform: Name, Account: r.c.cfg.Account, ObjectType: domain.ObjectContact, ID: strconv.Itoa(customer)})
	if err != nil {
		r.t.Fatalf("profile of customer %d: %v", customer, err)
	}
	orders, err := r.st.Orders(ctx, prof.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, o := range orders {
		if o.Ref.ID == strconv.Itoa(order) {
			return o
		}
	}
	r.t.Fatalf("order %d is not stored (orders %+v)", order, orders)
	return domain.Order{}
}

// Two order.updated deliveries within one second share WooCommerce's
// delivery id, yet both are kept and the newer state is stored; a captured
// older delivery resent under a fresh delivery id is a duplicate, and even
// applied again it does not roll the order back.
func TestWebhookDeliveriesKeptByContentAndOlderBodiesIgnored(t *testing.T) {
	clk := newClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	f, c := start(t, woocommercefake.Options{Now: clk.Now}, func(cfg adapter.Config) {
		webhookConfig("http://placeholder")(cfg)
		cfg["account"] = "shop"
	})
	rcv := newInboxReceiver(t, c)
	cid := f.AddCustomers(woocommercefake.Customer{Email: "ada@example.com"})[0]
	o := genOrders(1, 1, clk.Now().Add(-time.Hour))[0]
	o.CustomerID, o.Billing.Email, o.Status, o.Total = cid, "ada@example.com", "pending", "10.00"
	oid := f.AddOrders(o)[0]
	f.AddWebhook("ours", "order.updated", rcv.srv.URL, hookSecret)

	clk.Add(time.Minute)
	ctx := context.Background()
	f.UpdateOrder(oid, func(o *woocommercefake.Order) { o.Status = "processing" })
	first := f.Trigger(ctx, "order.updated", oid)
	f.UpdateOrder(oid, func(o *woocommercefake.Order) { o.Status = "completed"; o.Total = "25.00" })
	second := f.Trigger(ctx, "order.updated", oid)
	if len(first) != 1 || len(second) != 1 || first[0].Status != 200 || second[0].Status != 200 {
		t.Fatalf("deliveries %+v %+v", first, second)
	}
	if first[0].DeliveryID != second[0].DeliveryID {
		t.Fatal("the fake gave two deliveries in one second different delivery ids; WooCommerce gives them one")
	}
	if rcv.dups != 0 {
		t.Fatalf("%d of two distinct deliveries in one second were dropped as duplicates", rcv.dups)
	}
	if got := rcv.storedOrder(cid, oid); got.RawStatus != "completed" || got.Total.Amount != 25_00 {
		t.Fatalf("stored order %s / %d after both deliveries, want completed / 2500", got.RawStatus, got.Total.Amount)
	}

	// Later the order changes again; then someone resends the captured
	// first delivery (body and signature intact) under a new delivery id.
	clk.Add(time.Minute)
	f.UpdateOrder(oid, func(o *woocommercefake.Order) { o.Total = "30.00" })
	f.Trigger(ctx, "order.updated", oid)
	h := http.Header{}
	h.Set("X-WC-Webhook-Topic", "order.updated")
	h.Set("X-WC-Webhook-Signature", woocommercefake.Sign(hookSecret, first[0].Body))
	h.Set("X-WC-Webhook-Delivery-ID", "a-fresh-delivery-id")
	req, _ := http.NewRequest(http.MethodPost, rcv.srv.URL, bytes.NewReader(first[0].Body))
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("replay: %v %v", resp, err)
	}
	resp.Body.Close()
	if rcv.dups != 1 {
		t.Fatalf("the replayed delivery was stored as a new event (%d duplicates seen, want 1)", rcv.dups)
	}
	// An inbox that no longer remembers the event: the store still keeps
	// the newer order.
	res, err := c.VerifyWebhook(ctx, adapter.WebhookRequest{Headers: h, Body: first[0].Body})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rcv.pl.ApplyWebhookEvents(ctx, Name, res.Events); err != nil {
		t.Fatal(err)
	}
	if got := rcv.storedOrder(cid, oid); got.RawStatus != "completed" || got.Total.Amount != 30_00 {
		t.Fatalf("an older body rolled the stored order back to %s / %d, want completed / 3000", got.RawStatus, got.Total.Amount)
	}
}

// A deletion is checked against the store's current state: a captured
// order.deleted resent after the order was restored does not delete it.
func TestReplayedDeleteAfterRestoreKeepsTheOrder(t *testing.T) {
	clk := newClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	f, c := start(t, woocommercefake.Options{Now: clk.Now}, func(cfg adapter.Config) {
		webhookConfig("http://placeholder")(cfg)
		cfg["account"] = "shop"
	})
	rcv := newInboxReceiver(t, c)
	cid := f.AddCustomers(woocommercefake.Customer{Email: "bo@example.com"})[0]
	o := genOrders(1, 1, clk.Now().Add(-time.Hour))[0]
	o.CustomerID, o.Billing.Email, o.Status = cid, "bo@example.com", "completed"
	oid := f.AddOrders(o)[0]
	f.AddWebhook("u", "order.updated", rcv.srv.URL, hookSecret)
	f.AddWebhook("d", "order.deleted", rcv.srv.URL, hookSecret)
	ctx := context.Background()
	f.Trigger(ctx, "order.updated", oid)
	rcv.storedOrder(cid, oid)

	clk.Add(time.Minute)
	f.UpdateOrder(oid, func(o *woocommercefake.Order) { o.Status = "trash" })
	del := f.Trigger(ctx, "order.deleted", oid)
	if len(del) != 1 || del[0].Status != 200 {
		t.Fatalf("order.deleted delivery %+v", del)
	}
	if n := rcv.orderCount(cid); n != 0 {
		t.Fatalf("%d orders stored after the order was trashed, want 0", n)
	}

	clk.Add(time.Minute)
	f.UpdateOrder(oid, func(o *woocommercefake.Order) { o.Status = "completed" })
	f.Trigger(ctx, "order.updated", oid)
	if n := rcv.orderCount(cid); n != 1 {
		t.Fatalf("%d orders stored after the restore, want 1", n)
	}
	clk.Add(time.Minute)
	h := http.Header{}
	h.Set("X-WC-Webhook-Topic", "order.deleted")
	h.Set("X-WC-Webhook-Signature", woocommercefake.Sign(hookSecret, del[0].Body))
	h.Set("X-WC-Webhook-Delivery-ID", "another-delivery-id")
	if err := rcv.receive(ctx, h, del[0].Body); err != nil {
		t.Fatal(err)
	}
	if n := rcv.orderCount(cid); n != 1 {
		t.Fatal("a replayed order.deleted removed a restored order")
	}
}

func (r *inboxReceiver) orderCount(customer int) int {
	r.t.Helper()
	ctx := context.Background()
	prof, err := r.st.ProfileByRef(ctx, domain.ExternalRef{Platform: Name, Account: r.c.cfg.Account, ObjectType: domain.ObjectContact, ID: strconv.Itoa(customer)})
	if err != nil {
		r.t.Fatalf("profile of customer %d: %v", customer, err)
	}
	orders, err := r.st.Orders(ctx, prof.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return len(orders)
}

// The same for customers: a captured customer.updated resent after a
// newer one is a duplicate, and applied anyway it changes nothing.
func TestOlderCustomerBodyDoesNotOverwrite(t *testing.T) {
	clk := newClock(time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC))
	f, c := start(t, woocommercefake.Options{Now: clk.Now}, func(cfg adapter.Config) {
		webhookConfig("http://placeholder")(cfg)
		cfg["account"] = "shop"
	})
	rcv := newInboxReceiver(t, c)
	cid := f.AddCustomers(woocommercefake.Customer{Email: "cy@example.com", FirstName: "Cy"})[0]
	f.AddWebhook("u", "customer.updated", rcv.srv.URL, hookSecret)
	ctx := context.Background()
	clk.Add(time.Minute)
	f.UpdateCustomer(cid, func(c *woocommercefake.Customer) { c.FirstName = "Old" })
	old := f.Trigger(ctx, "customer.updated", cid)
	clk.Add(time.Minute)
	f.UpdateCustomer(cid, func(c *woocommercefake.Customer) { c.FirstName = "New" })
	f.Trigger(ctx, "customer.updated", cid)
	h := http.Header{}
	h.Set("X-WC-Webhook-Topic", "customer.updated")
	h.Set("X-WC-Webhook-Signature", woocommercefake.Sign(hookSecret, old[0].Body))
	h.Set("X-WC-Webhook-Delivery-ID", "fresh")
	if err := rcv.receive(ctx, h, old[0].Body); err != nil {
		t.Fatal(err)
	}
	if rcv.dups != 1 {
		t.Fatalf("the replayed customer.updated was stored as new (%d duplicates, want 1)", rcv.dups)
	}
	res, err := c.VerifyWebhook(ctx, adapter.WebhookRequest{Headers: h, Body: old[0].Body})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rcv.pl.ApplyWebhookEvents(ctx, Name, res.Events); err != nil {
		t.Fatal(err)
	}
	prof, err := rcv.st.ProfileByRef(ctx, domain.ExternalRef{Platform: Name, Account: c.cfg.Account, ObjectType: domain.ObjectContact, ID: strconv.Itoa(cid)})
	if err != nil {
		t.Fatal(err)
	}
	if prof.FirstName != "New" {
		t.Fatalf("first name %q after an older body was applied, want New", prof.FirstName)
	}
}
