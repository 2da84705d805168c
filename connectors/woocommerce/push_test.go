package woocommerce

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func seedCustomers(f *woocommercefake.Fake, n int) []int {
	cs := make([]woocommercefake.Customer, n)
	for i := range cs {
		cs[i] = woocommercefake.Customer{Email: fmt.Sprintf("c%d@example.com", i),
			MetaData: []woocommercefake.Meta{{Key: "_billing_vat", Value: "DE123"}, {Key: "_seg_list_lapsing", Value: "yes"}}}
	}
	return f.AddCustomers(cs...)
}

func ensure(t *testing.T, c *Connector) map[string]string {
	t.Helper()
	got, err := c.EnsureTargets(context.Background(), []adapter.Target{
		{Key: "segments", Kind: adapter.TargetProperty, Name: "_segments"},
		{Key: "rfm", Kind: adapter.TargetProperty, Name: "_rfm_segment"},
		{Key: "clv", Kind: adapter.TargetProperty, Name: "clv 12m"},
		{Key: "list:vip", Kind: adapter.TargetList, Name: "VIP"},
		{Key: "list:lapsing", Kind: adapter.TargetList, Name: "lapsing"},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range got {
		m[e.Key] = e.PlatformID
	}
	want := map[string]string{"segments": "_segments", "rfm": "_rfm_segment", "clv": "_seg_clv_12m", "list:vip": "_seg_list_vip", "list:lapsing": "_seg_list_lapsing"}
	for k, v := range want {
		if m[k] != v {
			t.Fatalf("target %s → %q, want %q", k, m[k], v)
		}
	}
	return m
}

func TestPushBatchesOf100PartialFailuresAndGuests(t *testing.T) {
	f, c := start(t, woocommercefake.Options{}, nil)
	ids := seedCustomers(f, 250)
	targets := ensure(t, c)
	f.FailCustomerUpdates("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.", 403, ids[7], ids[180])
	f.FailCustomerUpdates("internal_server_error", "Database went away.", 500, ids[9])

	var items []adapter.PushItem
	for i, id := range ids {
		items = append(items, adapter.PushItem{ID: "i" + strconv.Itoa(i), Ref: domain.ExternalRef{Platform: Name, ObjectType: domain.ObjectContact, ID: strconv.Itoa(id)},
			Properties: map[string]string{"segments": "champions;vip", "clv": "123.45"},
			Add:        []string{"list:vip"}, Remove: []string{"list:lapsing"}})
	}
	items = append(items,
		adapter.PushItem{ID: "guest", Ref: domain.ExternalRef{ObjectType: domain.ObjectContact, ID: "0"}, Properties: map[string]string{"segments": "x"}},
		adapter.PushItem{ID: "gone", Ref: domain.ExternalRef{ObjectType: domain.ObjectContact, ID: "987654"}, Properties: map[string]string{"segments": "x"}},
		adapter.PushItem{ID: "foreign", Ref: domain.ExternalRef{ObjectType: domain.ObjectContact, ID: strconv.Itoa(ids[0])}, Properties: map[string]string{"phone": "1"}},
	)
	targets["phone"] = "billing_phone"
	f.ResetCalls()
	res, err := c.Push(context.Background(), adapter.PushRequest{Items: items, Targets: targets})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(items) {
		t.Fatalf("%d results for %d items", len(res), len(items))
	}
	by := map[string]adapter.PushResult{}
	for _, r := range res {
		by[r.ID] = r
	}
	for i := range ids {
		r := by["i"+strconv.Itoa(i)]
		want := adapter.PushOK
		switch i {
		case 7, 180:
			want = adapter.PushPermanent
		case 9:
			want = adapter.PushRetryable
		}
		if r.Status != want {
			t.Errorf("item %d: %s (%s), want %s", i, r.Status, r.Reason, want)
		}
	}
	if r := by["i7"]; !strings.Contains(r.Reason, "woocommerce_rest_cannot_edit") {
		t.Errorf("reason %q does not carry the platform's code", r.Reason)
	}
	if by["guest"].Status != adapter.PushPermanent || !strings.Contains(by["guest"].Reason, "guest") || c.Stats().GuestsSkipped != 1 {
		t.Errorf("guest: %+v, counted %d", by["guest"], c.Stats().GuestsSkipped)
	}
	if by["gone"].Status != adapter.PushPermanent || !strings.Contains(by["gone"].Reason, "woocommerce_rest_invalid_id") {
		t.Errorf("unknown customer: %+v", by["gone"])
	}
	if by["foreign"].Status != adapter.PushPermanent || !strings.Contains(by["foreign"].Reason, "not owned") {
		t.Errorf("foreign key: %+v", by["foreign"])
	}
	// 250 real customers + 1 unknown → 251 updates → batches 100, 100, 51.
	if got := f.BatchSizes(); fmt.Sprint(got) != "[100 100 51]" {
		t.Fatalf("batch sizes %v, want [100 100 51]", got)
	}
	if n := f.Calls()["POST /customers/batch"]; n != 3 {
		t.Fatalf("%d batch calls", n)
	}
	meta := f.CustomerMeta(ids[0])
	if meta["_segments"] != "champions;vip" || meta["_seg_clv_12m"] != "123.45" || meta["_seg_list_vip"] != "yes" || meta["_billing_vat"] != "DE123" {
		t.Fatalf("meta after push: %v", meta)
	}
	if _, still := meta["_seg_list_lapsing"]; still {
		t.Fatal("leaving a list did not delete its meta key")
	}
	if _, ok := meta["billing_phone"]; ok {
		t.Fatal("wrote a meta key the connector does not own")
	}

	// Clearing a property deletes the key; other keys are left alone.
	res, err = c.Push(context.Background(), adapter.PushRequest{Targets: targets, Items: []adapter.PushItem{
		{ID: "c", Ref: domain.ExternalRef{ObjectType: domain.ObjectContact, ID: strconv.Itoa(ids[1])}, Properties: map[string]string{"segments": ""}}}})
	if err != nil || res[0].Status != adapter.PushOK {
		t.Fatalf("%v %+v", err, res)
	}
	meta = f.CustomerMeta(ids[1])
	if _, ok := meta["_segments"]; ok || meta["_seg_clv_12m"] != "123.45" {
		t.Fatalf("meta after clearing: %v", meta)
	}
}

func TestPushHalvesBatchOn413(t *testing.T) {
	f, c := start(t, woocommercefake.Options{BatchLimit: 40}, nil)
	ids := seedCustomers(f, 230)
	targets := ensure(t, c)
	var items []adapter.PushItem
	for i, id := range ids {
		items = append(items, adapter.PushItem{ID: strconv.Itoa(i), Ref: domain.ExternalRef{ObjectType: domain.ObjectContact, ID: strconv.Itoa(id)},
			Properties: map[string]string{"rfm": "at_risk"}})
	}
	res, err := c.Push(context.Background(), adapter.PushRequest{Items: items, Targets: targets})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != adapter.PushOK {
			t.Fatalf("%+v", r)
		}
	}
	for _, n := range f.BatchSizes() {
		if n > 40 {
			t.Fatalf("accepted batch of %d above the store's limit", n)
		}
	}
	// 100 → 413, 50 → 413, then 25s: 2 refusals and ceil(230/25)=10 batches.
	if got := f.Calls()["POST /customers/batch"]; got != 12 {
		t.Fatalf("%d batch calls, want 12", got)
	}
	for _, id := range ids {
		if f.CustomerMeta(id)["_rfm_segment"] != "at_risk" {
			t.Fatalf("customer %d not written", id)
		}
	}
}

func TestPushReadOnlyKeyIsAuthError(t *testing.T) {
	f, c := start(t, woocommercefake.Options{Keys: []woocommercefake.Key{{ConsumerKey: "ck_test", ConsumerSecret: "cs_test", Permission: woocommercefake.Read}}}, nil)
	ids := seedCustomers(f, 1)
	_, err := c.Push(context.Background(), adapter.PushRequest{Items: []adapter.PushItem{{ID: "a",
		Ref: domain.ExternalRef{ObjectType: domain.ObjectContact, ID: strconv.Itoa(ids[0])}, Properties: map[string]string{"_segments": "x"}}}})
	if !errors.Is(err, adapter.ErrAuth) || !strings.Contains(err.Error(), "does not have write permissions") {
		t.Fatalf("err = %v", err)
	}
}

func TestPushExactUnder20PercentFaults(t *testing.T) {
	f, c := start(t, woocommercefake.Options{}, func(cfg adapter.Config) {
		cfg["retry"] = map[string]any{"max": 1, "wait_min": "1ms", "wait_max": "2ms", "max_retry_after": "5ms"}
	})
	ids := seedCustomers(f, 1000)
	targets := ensure(t, c)
	f.SetRate(0.2, 7)
	pending := map[string]adapter.PushItem{}
	for i, id := range ids {
		it := adapter.PushItem{ID: strconv.Itoa(i), Ref: domain.ExternalRef{ObjectType: domain.ObjectContact, ID: strconv.Itoa(id)},
			Properties: map[string]string{"segments": "seg" + strconv.Itoa(i%7)}, Add: []string{"list:vip"}}
		pending[it.ID] = it
	}
	for round := 0; len(pending) > 0; round++ {
		if round > 50 {
			t.Fatalf("%d items never written", len(pending))
		}
		var items []adapter.PushItem
		for _, it := range pending {
			items = append(items, it)
		}
		res, err := c.Push(context.Background(), adapter.PushRequest{Items: items, Targets: targets})
		if err != nil {
			continue // the host retries the whole call
		}
		for _, r := range res {
			switch r.Status {
			case adapter.PushOK:
				delete(pending, r.ID)
			case adapter.PushPermanent:
				t.Fatalf("permanent failure under transient faults: %+v", r)
			}
		}
	}
	served := f.ServedTotal()
	f.SetRate(0, 0)
	for i, id := range ids {
		m := f.CustomerMeta(id)
		if m["_segments"] != "seg"+strconv.Itoa(i%7) || m["_seg_list_vip"] != "yes" {
			t.Fatalf("customer %d meta %v", id, m)
		}
	}
	if served == 0 {
		t.Fatal("no faults injected")
	}
}
