package daemon_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// scrape reads the daemon's /metrics page.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	return fams
}

// sum adds the values of a family's series whose labels include want.
func sum(fams map[string]*dto.MetricFamily, name string, want map[string]string) (total float64, series int) {
	f := fams[name]
	if f == nil {
		return 0, 0
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		series++
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		}
	}
	return total, series
}

// TestMetricsCountWhatHappened: /metrics counts every HTTP request each
// platform's fake received, the webhooks by result, the webhook →
// write-back histogram, queue depths and segment sizes.
func TestMetricsCountWhatHappened(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end metrics against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, env, _ := startSandboxEnvAt(t, 150, now)
	hsBefore, wooBefore := sb.HubSpotFake.Stats().Requests, sb.WooFake.TotalCalls()
	d, base := startDaemon(t, env)
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.FullCycleSegments(ctx); err != nil {
		t.Fatal(err)
	}

	wooID, _, _ := apptest.NotYetChampion(t, env.App)
	secret := sb.Endpoints()[2].Credentials["webhook_secret"]
	sb.WooFake.AddWebhook("test order.created", "order.created", base+"/webhooks/woocommerce", secret)
	const orders = 3
	for range orders {
		oid := sb.NewWooOrder(wooID, "", []domain.LineItem{{SKU: "M", Name: "metrics", Category: "garden", Quantity: 1,
			UnitPrice: domain.Money{Amount: 50_00, Currency: "USD"}}}, "mobile")
		for _, dl := range sb.WooFake.Trigger(ctx, "order.created", oid) {
			if dl.Status != 200 {
				t.Fatalf("webhook for order %d got HTTP %d", oid, dl.Status)
			}
		}
	}
	forged, err := http.Post(base+"/webhooks/woocommerce", "application/json", bytes.NewReader([]byte(`{"id":1}`)))
	if err != nil {
		t.Fatal(err)
	}
	forged.Body.Close()
	if forged.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an unsigned webhook got HTTP %d, want 401", forged.StatusCode)
	}
	apptest.WaitStoreQuiet(t, env.Store, 30*time.Second)

	var fams map[string]*dto.MetricFamily
	testenv.Await(t, 15*time.Second, "every webhook in the webhook → write-back histogram", func() error {
		fams = scrape(t, base)
		if n, _ := sum(fams, "connector_webhook_to_writeback_seconds", nil); n != float64(orders) {
			return fmt.Errorf("%v observations, want %d", n, orders)
		}
		return nil
	})
	if n, _ := sum(fams, "connector_webhooks_received_total", map[string]string{"platform": "woocommerce", "result": "accepted"}); n != orders {
		t.Errorf("accepted WooCommerce webhooks = %v, want %d", n, orders)
	}
	if n, _ := sum(fams, "connector_webhooks_received_total", map[string]string{"platform": "woocommerce", "result": "unauthorized"}); n != 1 {
		t.Errorf("unauthorized WooCommerce webhooks = %v, want 1", n)
	}
	// Every request the fakes received from this connector, counted by
	// the connector.
	for platform, want := range map[string]int{
		sandbox.HubSpot:     int(sb.HubSpotFake.Stats().Requests - hsBefore),
		sandbox.WooCommerce: sb.WooFake.TotalCalls() - wooBefore,
	} {
		got, _ := sum(fams, "connector_platform_requests_total", map[string]string{"platform": platform})
		if int(got) != want || want == 0 {
			t.Errorf("%s: connector_platform_requests_total = %v, the fake received %d", platform, got, want)
		}
		if n, _ := sum(fams, "connector_platform_request_seconds", map[string]string{"platform": platform}); int(n) != want {
			t.Errorf("%s: request duration histogram holds %v observations, want %d", platform, n, want)
		}
	}
	if got, _ := sum(fams, "connector_platform_requests_total", map[string]string{"platform": sandbox.Salesforce, "code": "2xx"}); got == 0 {
		t.Error("no Salesforce request counted")
	}
	if _, series := sum(fams, "connector_rate_limit_wait_seconds_total", map[string]string{"platform": sandbox.WooCommerce}); series != 1 {
		t.Error("no rate-limit wait series for WooCommerce")
	}
	for _, q := range []string{"inbox", "outbox"} {
		if _, series := sum(fams, "connector_queue_depth", map[string]string{"queue": q}); series != 1 {
			t.Errorf("no queue depth for %s", q)
		}
	}
	members, err := env.Store.SegmentMembers(ctx, "rfm:champions")
	if err != nil {
		t.Fatal(err)
	}
	if got, series := sum(fams, "connector_segment_size", map[string]string{"segment": "rfm:champions"}); series != 1 || int(got) != len(members) {
		t.Errorf("segment size of rfm:champions = %v (%d series), the store holds %d members", got, series, len(members))
	}
}
