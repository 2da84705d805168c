package sqlstore

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	fastjson "github.com/goccy/go-json"

	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// rowOf is the orders row writeOrders stores for o, with data as given.
func rowOf(o *domain.Order, data string) orderRow {
	ck := ""
	if !o.CustomerRef.IsZero() {
		ck = o.CustomerRef.Key()
	}
	return orderRow{key: o.Ref.Key(), pid: "p1", platform: o.Ref.Platform, account: o.Ref.Account, object: o.Ref.ObjectType, extID: o.Ref.ID,
		customerKey: ck, billing: o.BillingEmail, created: ts(o.CreatedAt), updated: ts(o.UpdatedAt), status: string(o.Status),
		currency: o.Currency, total: o.Total.Amount, refunded: o.Refunded.Amount, data: []byte(data)}
}

// TestOrderDocRoundTrip: an order stored as columns and an orderDoc reads
// back as it was written (less its items, which order_items holds, and
// below a microsecond), with both decoders; a row of the earlier format,
// whose data holds the whole order, reads back exactly.
func TestOrderDocRoundTrip(t *testing.T) {
	ds, err := sandbox.Generate(sandbox.GenOptions{Seed: 5, Customers: 200, AsOf: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	orders := append([]domain.Order(nil), ds.WooCommerce.Orders...)
	orders = append(orders, ds.HubSpot.Orders...)
	at := time.Date(2026, 2, 3, 4, 5, 6, 789123456, time.UTC)
	orders = append(orders,
		// A total in another currency, a zero refund naming one, a
		// customer whose account has a '/', no updated time.
		domain.Order{Ref: domain.ExternalRef{Platform: "woocommerce", Account: "https://shop.example/x", ObjectType: "order", ID: "7/8"},
			CustomerRef:  domain.ExternalRef{Platform: "woocommerce", Account: "https://shop.example/x", ObjectType: "contact", ID: "9"},
			BillingEmail: "a@example.com", CreatedAt: at, Status: domain.StatusCompleted, Currency: "EUR",
			Total: domain.Money{Amount: 1234, Currency: "USD"}, Refunded: domain.Money{Currency: "EUR"}},
		// Nothing but a reference: the document is empty.
		domain.Order{Ref: domain.ExternalRef{Platform: "shop", ObjectType: "order", ID: "1"}, CreatedAt: at, Currency: "EUR",
			Total: domain.Money{Amount: 5, Currency: "EUR"}, Refunded: domain.Money{Amount: 2, Currency: "EUR"}},
		domain.Order{Ref: domain.ExternalRef{Platform: "shop", ObjectType: "order", ID: "2"}, CreatedAt: at, Currency: "EUR",
			Total: domain.Money{Amount: 5}, Refunded: domain.Money{Amount: 2, Currency: "GBP"}, RawStatus: "wc-done"},
	)
	empty := 0
	for i := range orders {
		o := orders[i]
		o.Items = nil
		want := o
		want.CreatedAt, want.UpdatedAt = fromTS(ts(o.CreatedAt)), fromTS(ts(o.UpdatedAt))
		if o.Ref.LastModified.Equal(o.UpdatedAt) {
			want.Ref.LastModified = want.UpdatedAt
		}
		doc := encodeOrderDoc(&o)
		if doc == "" {
			empty++
		}
		old := o
		old.BillingEmail = ""
		whole, err := json.Marshal(old)
		if err != nil {
			t.Fatal(err)
		}
		for name, dec := range map[string]func([]byte, any) error{"encoding/json": json.Unmarshal, "go-json": fastjson.Unmarshal} {
			r := rowOf(&o, doc)
			got, err := r.decode(dec)
			if err != nil {
				t.Fatalf("%s: decoding %s: %v", name, doc, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: order %s from %s:\n got %+v\nwant %+v", name, o.Ref.Key(), doc, got, want)
			}
			r = rowOf(&o, string(whole))
			got, err = r.decode(dec)
			if err != nil {
				t.Fatalf("%s: decoding %s: %v", name, whole, err)
			}
			if wantOld := o; !reflect.DeepEqual(got, wantOld) {
				t.Errorf("%s: earlier row of order %s:\n got %+v\nwant %+v", name, o.Ref.Key(), got, wantOld)
			}
		}
	}
	if empty != 1 {
		t.Errorf("%d orders stored an empty document; want 1", empty)
	}
}
