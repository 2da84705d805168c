package woocommerce

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

func TestValidateConfigNamesEveryProblem(t *testing.T) {
	c := New(nil)
	cases := []struct {
		name string
		cfg  adapter.Config
		want []string
	}{
		{"empty", adapter.Config{}, []string{"platforms.woocommerce.base_url: is required", "platforms.woocommerce.consumer_key: is required", "platforms.woocommerce.consumer_secret: is required"}},
		{"unknown key", adapter.Config{"base_url": "https://s.example", "consumer_key": "k", "consumer_secret": "s", "per_pgae": 10}, []string{"platforms.woocommerce.per_pgae: unknown key"}},
		{"wrong type", adapter.Config{"base_url": "https://s.example", "consumer_key": "k", "consumer_secret": "s", "write_back": map[string]any{"batch_size": "many"}}, []string{"platforms.woocommerce.write_back.batch_size: must be a whole number"}},
		{"limits", adapter.Config{"base_url": "https://s.example", "consumer_key": "k", "consumer_secret": "s", "per_page": 101, "write_back": map[string]any{"batch_size": 101}},
			[]string{"platforms.woocommerce.per_page: must be between 1 and 100", "platforms.woocommerce.write_back.batch_size: must be between 1 and 100"}},
		{"basic over http", adapter.Config{"base_url": "http://s.example", "consumer_key": "k", "consumer_secret": "s", "auth": "basic"}, []string{"platforms.woocommerce.auth: basic and query authentication need an https base_url"}},
		{"managed webhooks", adapter.Config{"base_url": "https://s.example", "consumer_key": "k", "consumer_secret": "s", "webhooks": map[string]any{"manage": true, "topics": []any{"product.updated"}}},
			[]string{"platforms.woocommerce.webhooks.delivery_url: is required", "platforms.woocommerce.webhooks.secret: is required", "platforms.woocommerce.webhooks.topics[0]: must be customer.* or order.*"}},
		{"status map", adapter.Config{"base_url": "https://s.example", "consumer_key": "k", "consumer_secret": "s", "status_map": map[string]any{"shipped": "done"}}, []string{"platforms.woocommerce.status_map.shipped: must be one of"}},
	}
	for _, tc := range cases {
		ds, err := c.ValidateConfig(context.Background(), tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range ds {
			got = append(got, d.String())
		}
		all := strings.Join(got, "\n")
		for _, w := range tc.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: missing %q in\n%s", tc.name, w, all)
			}
		}
	}
	ds, _ := c.ValidateConfig(context.Background(), adapter.Config{"base_url": "https://s.example", "consumer_key": "k", "consumer_secret": "s", "order_overlap": "5m"})
	if len(ds) != 0 {
		t.Fatalf("valid config gave %v", ds)
	}
	if err := c.Configure(context.Background(), adapter.Config{"consumer_key": "ck_secretvalue"}); err == nil || strings.Contains(err.Error(), "ck_secretvalue") {
		t.Fatalf("configure with a bad config: %v", err)
	}
}

func TestDefaultMetaPrefixIsTheSpecDefault(t *testing.T) {
	cfg, _ := parseConfig(adapter.Config{})
	if cfg.WriteBack.MetaPrefix != DefaultMetaPrefix {
		t.Fatalf("write_back.meta_prefix defaults to %q, DefaultMetaPrefix is %q", cfg.WriteBack.MetaPrefix, DefaultMetaPrefix)
	}
}

// defaultTopics are the webhook topics kept alive out of the box.
func defaultTopics() []string {
	cfg, _ := parseConfig(adapter.Config{})
	return cfg.Webhooks.Topics
}

func TestManagedWebhooksCheckedOnStart(t *testing.T) {
	f, _ := start(t, woocommercefake.Options{}, func(cfg adapter.Config) {
		cfg["webhooks"] = map[string]any{"manage": true, "secret": hookSecret, "delivery_url": "http://127.0.0.1:1/hooks/woocommerce", "check_interval": "1m"}
	})
	testenv.Await(t, 5*time.Second, "a webhook per default topic after start", func() error {
		if hooks := f.Webhooks(); len(hooks) < len(defaultTopics()) {
			return fmt.Errorf("webhooks %+v", hooks)
		}
		return nil
	})
}
