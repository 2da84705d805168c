package apptest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// The instance names of the two-shop business.
const (
	ShopEU = "shop-eu"
	ShopUS = "shop-us"
)

// TwoShops is a business with two WooCommerce shops and HubSpot, served
// by a sandbox, and the App that runs them as the instances shop-eu,
// shop-us (both of the woocommerce adapter) and hubspot.
type TwoShops struct {
	Sandbox *sandbox.Sandbox
	App     *app.App
	Config  *config.Loaded
	// Fakes are the shops' fakes by instance name.
	Fakes map[string]*woocommercefake.Fake
	// Secrets are the shops' webhook secrets by instance name.
	Secrets map[string]string
}

// StartTwoShops starts a sandbox of customers generated as of at with
// two WooCommerce shops, and an App on an SQLite file running the shops
// as shop-eu and shop-us beside hubspot, with the default segments. Both
// are closed when the test ends.
func StartTwoShops(t testing.TB, customers int, at time.Time, opts app.Options) *TwoShops {
	t.Helper()
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: customers, AsOf: at, Shops: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	l := sb.ConnectorConfig(t.TempDir())
	secs := l.Platforms
	ts := &TwoShops{Sandbox: sb, Config: l,
		Fakes:   map[string]*woocommercefake.Fake{ShopEU: sb.Shops[sandbox.ShopName(0)], ShopUS: sb.Shops[sandbox.ShopName(1)]},
		Secrets: map[string]string{}}
	l.Platforms = map[string]adapter.Config{sandbox.HubSpot: secs[sandbox.HubSpot]}
	for name, from := range map[string]string{ShopEU: sandbox.ShopName(0), ShopUS: sandbox.ShopName(1)} {
		sec := adapter.Config{}
		for k, v := range secs[from] {
			sec[k] = v
		}
		sec["adapter"] = sandbox.WooCommerce
		l.Platforms[name] = sec
		e, _ := sb.Endpoint(from)
		ts.Secrets[name] = e.Credentials["webhook_secret"]
	}
	if ts.Secrets[ShopEU] == ts.Secrets[ShopUS] || ts.Secrets[ShopEU] == "" {
		t.Fatalf("the shops' webhook secrets should differ: %q and %q", ts.Secrets[ShopEU], ts.Secrets[ShopUS])
	}
	a, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), Factories(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	ts.App = a
	return ts
}
