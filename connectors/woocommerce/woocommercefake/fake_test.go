package woocommercefake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/internal/testenv"
)

func call(t *testing.T, f *Fake, method, path string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, f.URL()+APIPrefix+path, rd)
	req.SetBasicAuth("ck_test", "cs_test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

func newFake(t *testing.T, o Options) *Fake {
	o.AssumeHTTPS = true
	f := New(o)
	f.Start()
	t.Cleanup(f.Close)
	return f
}

func TestCollectionHeadersAndFilters(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := newFake(t, Options{Now: clock})
	for i := 0; i < 25; i++ {
		f.AddOrders(Order{Total: "1.00", Billing: Billing{Email: "a@b.c"}})
	}
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	f.UpdateOrder(3, func(o *Order) { o.Status = "completed" })
	f.UpdateOrder(4, func(o *Order) { o.Status = "trash" })

	resp, body := call(t, f, "GET", "/orders?per_page=10&page=2&orderby=id&order=asc", nil)
	if resp.Header.Get("X-WP-Total") != "24" || resp.Header.Get("X-WP-TotalPages") != "3" {
		t.Fatalf("headers %v (trash must be excluded from 'any')", resp.Header)
	}
	link := resp.Header.Get("Link")
	if !strings.Contains(link, `page=1&per_page=10>; rel="prev"`) || !strings.Contains(link, `page=3&per_page=10>; rel="next"`) {
		t.Fatalf("Link %q", link)
	}
	var got []Order
	_ = json.Unmarshal(body, &got)
	if len(got) != 10 || got[0].ID != 12 {
		t.Fatalf("page 2 starts at %d with %d orders", got[0].ID, len(got))
	}
	if _, body := call(t, f, "GET", "/orders?per_page=10&page=9", nil); strings.TrimSpace(string(body)) != "[]" {
		t.Fatalf("past the end: %s", body)
	}
	// modified_after is strict and GMT with dates_are_gmt.
	_, body = call(t, f, "GET", "/orders?modified_after=2026-03-01T12:00:00&dates_are_gmt=true&status=any,trash", nil)
	_ = json.Unmarshal(body, &got)
	if len(got) != 2 {
		t.Fatalf("modified_after matched %d orders, want 2", len(got))
	}
	// Site-local interpretation without dates_are_gmt (site is UTC+2).
	_, body = call(t, f, "GET", "/orders?modified_after=2026-03-01T14:00:00", nil)
	_ = json.Unmarshal(body, &got)
	if len(got) != 1 || got[0].DateModified != "2026-03-01T15:00:00" || got[0].DateModifiedGMT != "2026-03-01T13:00:00" {
		t.Fatalf("local filter gave %+v", got)
	}
	resp, body = call(t, f, "GET", "/orders?per_page=101", nil)
	if resp.StatusCode != 400 || !strings.Contains(string(body), `"per_page":"per_page must be between 1 (inclusive) and 100 (inclusive)"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	resp, body = call(t, f, "GET", "/nope", nil)
	if resp.StatusCode != 404 || !strings.Contains(string(body), `"code":"rest_no_route"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestBatchLimitAndMetaUpsert(t *testing.T) {
	f := newFake(t, Options{})
	id := f.AddCustomers(Customer{Email: "m@x.y", MetaData: []Meta{{Key: "_a", Value: "1"}, {Key: "_b", Value: "2"}}})[0]
	var upd []map[string]any
	for i := 0; i < 101; i++ {
		upd = append(upd, map[string]any{"id": id})
	}
	resp, body := call(t, f, "POST", "/customers/batch", map[string]any{"update": upd})
	want := `{"code":"woocommerce_rest_request_entity_too_large","message":"Unable to accept more than 100 items for this request.","data":{"status":413}}`
	if resp.StatusCode != 413 || strings.TrimSpace(string(body)) != want {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	resp, body = call(t, f, "POST", "/customers/batch", map[string]any{"update": []any{
		map[string]any{"id": id, "meta_data": []any{map[string]any{"key": "_a", "value": "9"}, map[string]any{"key": "_b", "value": nil}, map[string]any{"key": "_c", "value": "3"}}},
		map[string]any{"id": 777},
	}})
	if resp.StatusCode != 200 || !strings.Contains(string(body), `{"id":777,"error":{"code":"woocommerce_rest_invalid_id","message":"Invalid resource ID.","data":{"status":400}}}`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	m := f.CustomerMeta(id)
	if fmt.Sprint(m) != "map[_a:9 _c:3]" {
		t.Fatalf("meta %v", m)
	}
}

func TestWebhookSenderPingHeadersAndDisable(t *testing.T) {
	var mu sync.Mutex
	var reqs []*http.Request
	var bodies [][]byte
	status := 200
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs, bodies = append(reqs, r), append(bodies, b)
		st := status
		mu.Unlock()
		if st == 302 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(st)
	}))
	defer rcv.Close()
	f := newFake(t, Options{})
	oid := f.AddOrders(Order{Total: "1.00", Billing: Billing{Email: "a@b.c"}})[0]
	hook := f.AddWebhook("h", "order.updated", rcv.URL, "s3cret")
	if st, err := f.Ping(context.Background(), hook); st != 200 || err != nil {
		t.Fatal(st, err)
	}
	d := f.Trigger(context.Background(), "order.updated", oid)[0]
	mu.Lock()
	ping, del := reqs[0], reqs[1]
	if string(bodies[0]) != fmt.Sprintf("webhook_id=%d", hook) || ping.Header.Get("X-WC-Webhook-Signature") != "" {
		t.Fatalf("ping %q %v", bodies[0], ping.Header)
	}
	for _, h := range []string{"Source", "Topic", "Resource", "Event", "Signature", "ID", "Delivery-ID"} {
		if del.Header.Get("X-WC-Webhook-"+h) == "" {
			t.Fatalf("delivery lacks X-WC-Webhook-%s", h)
		}
	}
	if del.Header.Get("X-WC-Webhook-Signature") != Sign("s3cret", bodies[1]) || del.Header.Get("X-WC-Webhook-Delivery-ID") != d.DeliveryID {
		t.Fatal("signature or delivery id wrong")
	}
	status = 302 // counts as success
	mu.Unlock()
	for i := 0; i < 3; i++ {
		f.Trigger(context.Background(), "order.updated", oid)
	}
	mu.Lock()
	status = 500
	mu.Unlock()
	// WC_Webhook::failed_delivery() disables only when the count it finds
	// is already above 5, and counts otherwise: failures 1..6 are counted,
	// the seventh disables.
	for i := 0; i < 6; i++ {
		f.Trigger(context.Background(), "order.updated", oid)
	}
	if f.Webhooks()[0].Status != "active" {
		t.Fatal("disabled after 6 failures; WooCommerce disables on the seventh")
	}
	f.Trigger(context.Background(), "order.updated", oid)
	if f.Webhooks()[0].Status != "disabled" {
		t.Fatal("not disabled after 7 consecutive failures")
	}
	n := len(f.Deliveries())
	f.Trigger(context.Background(), "order.updated", oid)
	if len(f.Deliveries()) != n {
		t.Fatal("a disabled webhook delivered")
	}
}

// Delivery ids are WooCommerce's wp_hash(webhook id . unix second): one
// webhook's deliveries within a second share one, a new second or another
// webhook gets another.
func TestDeliveryIDsAreWebhookAndSecond(t *testing.T) {
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer rcv.Close()
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := newFake(t, Options{Now: clock, SiteSalt: "salt"})
	oid := f.AddOrders(Order{Total: "1.00", Billing: Billing{Email: "a@b.c"}})[0]
	h1 := f.AddWebhook("a", "order.updated", rcv.URL, "s")
	h2 := f.AddWebhook("b", "order.updated", rcv.URL, "s")
	first := f.Trigger(context.Background(), "order.updated", oid)
	mu.Lock()
	now = now.Add(900 * time.Millisecond) // same second
	mu.Unlock()
	f.UpdateOrder(oid, func(o *Order) { o.Status = "completed" })
	second := f.Trigger(context.Background(), "order.updated", oid)
	if len(first) != 2 || len(second) != 2 {
		t.Fatalf("deliveries %d, %d; want 2 each", len(first), len(second))
	}
	if first[0].DeliveryID != second[0].DeliveryID || bytes.Equal(first[0].Body, second[0].Body) {
		t.Fatalf("two deliveries of webhook %d in one second: ids %s, %s; WooCommerce gives them one id", h1, first[0].DeliveryID, second[0].DeliveryID)
	}
	if first[0].DeliveryID == first[1].DeliveryID {
		t.Fatalf("webhooks %d and %d share a delivery id", h1, h2)
	}
	mac := hmac.New(md5.New, []byte("salt"))
	fmt.Fprintf(mac, "%d%d", h1, now.Unix())
	if want := hex.EncodeToString(mac.Sum(nil)); first[0].DeliveryID != want {
		t.Fatalf("delivery id %s, want wp_hash = HMAC-MD5(salt, id . time) = %s", first[0].DeliveryID, want)
	}
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	if third := f.Trigger(context.Background(), "order.updated", oid); third[0].DeliveryID == first[0].DeliveryID {
		t.Fatal("the next second reused the delivery id")
	}
}

// Re-enabling a disabled webhook through the REST API keeps its failure
// count (WC_Webhook_Data_Store::update resets nothing) and sends no ping
// unless its delivery URL changed: one more failure disables it again; a
// success resets the count.
func TestReenabledWebhookKeepsItsFailureCount(t *testing.T) {
	var mu sync.Mutex
	status, pings := 500, 0
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("X-WC-Webhook-Topic") == "" {
			pings++
			return
		}
		w.WriteHeader(status)
	}))
	defer rcv.Close()
	f := newFake(t, Options{})
	oid := f.AddOrders(Order{Total: "1.00", Billing: Billing{Email: "a@b.c"}})[0]
	hook := f.AddWebhook("h", "order.updated", rcv.URL, "s")
	for i := 0; i < 7; i++ {
		f.Trigger(context.Background(), "order.updated", oid)
	}
	reenable := func() {
		t.Helper()
		if resp, body := call(t, f, http.MethodPut, fmt.Sprintf("/webhooks/%d", hook), map[string]string{"status": "active"}); resp.StatusCode != 200 {
			t.Fatalf("re-enable: %d %s", resp.StatusCode, body)
		}
	}
	reenable()
	f.Trigger(context.Background(), "order.updated", oid)
	if st := f.Webhooks()[0].Status; st != "disabled" {
		t.Fatalf("re-enabled webhook after one more failure: %q, want disabled", st)
	}
	reenable()
	mu.Lock()
	status = 200
	mu.Unlock()
	f.Trigger(context.Background(), "order.updated", oid)
	mu.Lock()
	status = 500
	mu.Unlock()
	for i := 0; i < 6; i++ {
		f.Trigger(context.Background(), "order.updated", oid)
	}
	if st := f.Webhooks()[0].Status; st != "active" {
		t.Fatalf("after a success and 6 failures: %q, want active (the success reset the count)", st)
	}
	// A ping would be sent in the background within this window.
	testenv.Consistently(t, 50*time.Millisecond, "no ping after re-enabling (WooCommerce pings on update only for a new delivery URL or a pending delivery)", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return pings == 0
	})
}
