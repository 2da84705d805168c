package sandbox

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestTwoShops: with Shops: 2 the sandbox serves a second WooCommerce
// shop on its own port with its own credentials, the woocommerce
// connector pulls each shop's own customers and orders from it over
// HTTP, some customers (by email) are in both shops, customer ids repeat
// across shops for different people, every generated web order is in
// exactly one shop, and the connector config names the second shop as an
// instance of the woocommerce adapter.
func TestTwoShops(t *testing.T) {
	ctx := context.Background()
	one, err := Generate(GenOptions{Seed: 3, Customers: 250, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := Start(ctx, Options{Seed: 3, Customers: 250, AsOf: asOf, Shops: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })

	if got := sb.Names(); len(got) != 4 || got[3] != "woocommerce-2" {
		t.Fatalf("names %v, want the three platforms and woocommerce-2", got)
	}
	eu, _ := sb.Endpoint(ShopName(0))
	us, ok := sb.Endpoint(ShopName(1))
	if !ok || us.BaseURL == eu.BaseURL || us.Credentials["consumer_key"] == eu.Credentials["consumer_key"] ||
		us.Credentials["webhook_secret"] == eu.Credentials["webhook_secret"] || us.Adapter != WooCommerce {
		t.Fatalf("second shop endpoint %+v; want its own URL and credentials, adapter woocommerce (first: %+v)", us, eu)
	}
	cfg := sb.Configs()
	if cfg[ShopName(1)]["adapter"] != WooCommerce || cfg[WooCommerce]["adapter"] != nil {
		t.Errorf("config sections: woocommerce-2 adapter %v, woocommerce adapter %v; want woocommerce and none", cfg[ShopName(1)]["adapter"], cfg[WooCommerce]["adapter"])
	}

	pulled := map[string]map[string][]adapter.Change{}
	for _, name := range []string{ShopName(0), ShopName(1)} {
		e, _ := sb.Endpoint(name)
		c := newConnector(WooCommerce)
		if err := c.Configure(ctx, e.Config); err != nil {
			t.Fatalf("configuring the connector for %s: %v", name, err)
		}
		pulled[name] = pullAll(t, c)
		_ = c.Close(ctx)
		recs := sb.Data.Platform(name)
		if got, want := len(pulled[name][domain.ObjectContact]), len(recs.Contacts); got != want || want == 0 {
			t.Errorf("%s: pulled %d customers, seeded %d", name, got, want)
		}
		if got, want := len(pulled[name][domain.ObjectOrder]), len(recs.Orders); got != want || want == 0 {
			t.Errorf("%s: pulled %d orders, seeded %d", name, got, want)
		}
	}
	emails := func(name string) map[string]string {
		out := map[string]string{}
		for _, ch := range pulled[name][domain.ObjectContact] {
			out[ch.Ref.ID] = domain.NormalizeEmail(ch.Contact.Emails[0])
		}
		return out
	}
	euByID, usByID := emails(ShopName(0)), emails(ShopName(1))
	inEU := map[string]bool{}
	for _, e := range euByID {
		inEU[e] = true
	}
	both, sameIDOtherPerson := 0, 0
	for id, e := range usByID {
		if inEU[e] {
			both++
		}
		if other, ok := euByID[id]; ok && other != e {
			sameIDOtherPerson++
		}
	}
	if both == 0 || both == len(usByID) {
		t.Errorf("%d of %d second-shop customers are also in the first shop; want some, not all", both, len(usByID))
	}
	if sameIDOtherPerson == 0 {
		t.Error("no customer id is used by both shops for different people")
	}
	if got, want := len(sb.Data.WooCommerce.Orders)+len(sb.Data.MoreShops[0].Orders), len(one.WooCommerce.Orders); got != want {
		t.Errorf("the shops hold %d web orders together, the one-shop business %d", got, want)
	}
}

// TestFireWebhooksFromEveryShop: with two shops, --webhook-target's
// targets include base/woocommerce-2, and the second shop's deliveries
// verify with a connector configured for that shop alone.
func TestFireWebhooksFromEveryShop(t *testing.T) {
	ctx := context.Background()
	sb, err := Start(ctx, Options{Seed: 4, Customers: 80, AsOf: asOf, Shops: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	targets := sb.Targets("http://127.0.0.1:1/hooks")
	if targets[ShopName(1)] != "http://127.0.0.1:1/hooks/woocommerce-2" {
		t.Fatalf("targets %v lack the second shop", targets)
	}
	shop := ShopName(1)
	e, _ := sb.Endpoint(shop)
	c := newConnector(WooCommerce)
	if err := c.Configure(ctx, e.Config); err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var verified, refused int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, err := c.VerifyWebhook(r.Context(), adapter.WebhookRequest{Method: r.Method, URL: "http://" + r.Host + r.URL.RequestURI(),
			Headers: r.Header, Body: body, ReceivedAt: time.Now()})
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			refused++
			http.Error(w, "rejected", http.StatusUnauthorized)
			return
		}
		verified++
	}))
	defer srv.Close()
	rep, err := sb.FireWebhooks(ctx, map[string]string{shop: srv.URL + "/hooks/" + shop, WooCommerce: srv.URL + "/hooks/" + WooCommerce}, 200, 8)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	// The first shop signs with its own secret: this shop's connector
	// refuses it.
	if rep.Delivered[shop] != 4 || rep.Failed[WooCommerce] != 4 || verified != 4 || refused != 4 {
		t.Errorf("report %+v, verified %d, refused %d; want the second shop's 4 verified and the first shop's 4 refused", rep, verified, refused)
	}
}
