package builtintest

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/woocommerce"
	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// BenchmarkWooCommercePull measures records per second pulled from the
// WooCommerce fake (real HTTP on loopback) by the built-in connector
// in-process and by the same connector served as a plugin process; the
// "ratio" sub-benchmark alternates both in one loop and reports plugin
// throughput as a fraction of in-process throughput.
func BenchmarkWooCommercePull(b *testing.B) {
	const n = 5000
	f := woocommercefake.New(woocommercefake.Options{})
	url := f.Start()
	b.Cleanup(f.Close)
	cs := make([]woocommercefake.Customer, n)
	for i := range cs {
		cs[i] = woocommercefake.Customer{Email: fmt.Sprintf("bench%d@example.com", i), FirstName: "Bench", LastName: fmt.Sprint(i)}
	}
	f.AddCustomers(cs...)
	cfg := adapter.Config{
		"base_url": url, "consumer_key": "ck_test", "consumer_secret": "cs_test",
		"rate_limit": map[string]any{"requests_per_second": 100000, "burst": 1000},
	}
	ctx := context.Background()
	inproc := woocommerce.New(slog.New(slog.DiscardHandler))
	sum, err := pluginhost.FileSHA256(serveBin)
	if err != nil {
		b.Fatal(err)
	}
	plug, err := pluginhost.Open(ctx, pluginhost.Spec{Name: "woocommerce", Path: serveBin, SHA256: sum, Args: []string{woocommerce.Name}}, pluginhost.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = plug.Close(ctx) })
	for _, a := range []adapter.Adapter{inproc, plug} {
		if err := a.Configure(ctx, cfg); err != nil {
			b.Fatal(err)
		}
	}
	pull := func(b *testing.B, a adapter.Adapter) int {
		got := 0
		err := a.Pull(ctx, adapter.PullRequest{Object: domain.ObjectContact, Full: true, PageSize: 100}, func(_ context.Context, p adapter.Page) error {
			got += len(p.Changes)
			return nil
		})
		if err != nil || got < n {
			b.Fatalf("pull: %v after %d records", err, got)
		}
		return got
	}
	for _, c := range []struct {
		name string
		a    adapter.Adapter
	}{{"in-process", inproc}, {"plugin-process", plug}} {
		b.Run(c.name, func(b *testing.B) {
			total := 0
			for b.Loop() {
				total += pull(b, c.a)
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "records/s")
		})
	}
	b.Run("ratio", func(b *testing.B) {
		var tIn, tPlug time.Duration
		for b.Loop() {
			t0 := time.Now()
			pull(b, inproc)
			t1 := time.Now()
			pull(b, plug)
			tIn += t1.Sub(t0)
			tPlug += time.Since(t1)
		}
		b.ReportMetric(tIn.Seconds()/tPlug.Seconds(), "plugin/in-process")
	})
}
