package app_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/config"
)

// loadYAML loads a configuration file written from body.
func loadYAML(t *testing.T, body string) (*config.Loaded, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return config.Load(config.Source{File: p})
}

// validate loads body and makes every check app.Validate makes.
func validate(t *testing.T, body string) config.Problems {
	t.Helper()
	l, err := loadYAML(t, body)
	var ps config.Problems
	if err != nil {
		var ok bool
		if ps, ok = err.(config.Problems); !ok {
			t.Fatal(err)
		}
	}
	more, err := app.Validate(context.Background(), l, apptest.Factories(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return append(ps, more...)
}

const twoShops = `
store: {driver: sqlite, path: /tmp/never-opened.db}
platforms:
  shop-eu:
    adapter: woocommerce
    base_url: https://eu.shop.example
    consumer_key: ck_0000000000000000000000000000000000000001
    consumer_secret: cs_0000000000000000000000000000000000000001
    webhooks: {secret: eu-webhook-secret-0123456789}
  shop-us:
    adapter: woocommerce
    base_url: https://us.shop.example
    consumer_key: ck_0000000000000000000000000000000000000002
    consumer_secret: cs_0000000000000000000000000000000000000002
    webhooks: {secret: us-webhook-secret-0123456789}
  hubspot:
    token: pat-na1-00000000-0000-0000-0000-000000000000
identity:
  survivorship:
    company: [hubspot, woocommerce]
segments:
  - name: rfm
    kind: rfm
    writeback:
      woocommerce: {property: _rfm_segment}
      shop-us: {property: _rfm_us}
      hubspot: {property: rfm_segment}
`

// TestTwoShopsValidate: two sections running the woocommerce adapter
// under their own names validate beside the hubspot section; a write-back
// or survivorship entry naming the adapter stands for both shops, and an
// instance's own entry wins over its adapter's.
func TestTwoShopsValidate(t *testing.T) {
	if ps := validate(t, twoShops); len(ps) > 0 {
		t.Fatalf("two WooCommerce instances should validate:\n%v", ps)
	}
	l, err := loadYAML(t, twoShops)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range l.Instances() {
		got = append(got, in.Name+"="+in.Adapter)
		if _, leaked := in.Section["adapter"]; leaked {
			t.Errorf("%s: the adapter key reaches the adapter's section", in.Name)
		}
	}
	if want := []string{"hubspot=hubspot", "shop-eu=woocommerce", "shop-us=woocommerce"}; !reflect.DeepEqual(got, want) {
		t.Errorf("instances %v, want %v", got, want)
	}
	defs, err := app.SegmentDefinitions(l)
	if err != nil {
		t.Fatal(err)
	}
	wb := defs[0].Writeback
	if wb["shop-eu"].Property != "_rfm_segment" || wb["shop-us"].Property != "_rfm_us" || wb["hubspot"].Property != "rfm_segment" {
		t.Errorf("write-back %+v: want woocommerce's target on shop-eu, shop-us's own on shop-us", wb)
	}
	if _, left := wb["woocommerce"]; left {
		t.Errorf("write-back still names the adapter woocommerce, which is no instance: %+v", wb)
	}
	if pol := l.SurvivorshipPolicy(); !reflect.DeepEqual(pol["company"], []string{"hubspot", "shop-eu", "shop-us"}) {
		t.Errorf("survivorship company = %v, want the adapter expanded to its instances", pol["company"])
	}
}

// TestInstanceAdapterProblems: an instance naming an adapter that does
// not exist, or a key that is no adapter without adapter:, is a problem
// on that key saying what to write.
func TestInstanceAdapterProblems(t *testing.T) {
	for _, tc := range []struct {
		name, section, path string
		want                []string
	}{
		{"unknown adapter", "shop-eu: {adapter: wocommerce, base_url: https://eu.shop.example}",
			"platforms.shop-eu.adapter", []string{`unknown adapter "wocommerce" for instance "shop-eu"`, "did you mean woocommerce?"}},
		{"no adapter for an own name", "hubspot-client2: {token: pat-na1-x}",
			"platforms.hubspot-client2", []string{`no adapter is named "hubspot-client2"`, "adapter:", "hubspot, salesforce, woocommerce"}},
		{"adapter not a name", "shop-eu: {adapter: 3}",
			"platforms.shop-eu.adapter", []string{"must name an adapter"}},
		{"instance name unfit for a path", "Shop EU: {adapter: woocommerce}",
			"platforms.Shop EU", []string{"cannot name an instance"}},
		{"a plugin named as a built-in", "shop: {adapter: woocommerce}\nplugins: [{name: hubspot, path: /nonexistent, sha256: " + strings.Repeat("0", 64) + "}]",
			"plugins[0].name", []string{`"hubspot" is a built-in adapter's name`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := validate(t, "store: {driver: sqlite, path: /tmp/x.db}\nplatforms:\n  "+tc.section+"\n")
			for _, p := range ps {
				if p.Path != tc.path {
					continue
				}
				for _, w := range tc.want {
					if !strings.Contains(p.Message, w) {
						t.Errorf("%s: %q lacks %q", p.Path, p.Message, w)
					}
				}
				return
			}
			t.Errorf("no problem at %s; got:\n%v", tc.path, ps)
		})
	}
}
