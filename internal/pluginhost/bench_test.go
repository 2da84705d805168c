package pluginhost_test

import (
	"context"
	"testing"
	"time"

	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/plugins/examples/csvfolder"
	"github.com/segconn/connector/plugins/examples/csvfolder/csvfake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

const benchRecords = 20000

func pullCount(b *testing.B, a adapter.Adapter) int {
	n := 0
	err := a.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact, PageSize: 1000}, func(_ context.Context, p adapter.Page) error {
		n += len(p.Changes)
		return nil
	})
	if err != nil || n != benchRecords {
		b.Fatalf("pull: %v after %d records", err, n)
	}
	return n
}

// BenchmarkPull measures records per second pulled from the csvfolder
// adapter in-process, through the protocol in memory, and through a real
// plugin process managed by the host. The "ratio" sub-benchmark
// alternates in-process and plugin pulls in the same loop and reports
// plugin throughput as a fraction of in-process throughput.
func BenchmarkPull(b *testing.B) {
	f := csvfake.New(b)
	if _, err := f.SeedCustomers(benchRecords); err != nil {
		b.Fatal(err)
	}
	cfg := f.Config()
	ctx := context.Background()
	inproc := csvfolder.New()
	grpcMem := sdktest.OverGRPC(b, csvfolder.New())
	sum, err := pluginhost.FileSHA256(misbehaveBin)
	if err != nil {
		b.Fatal(err)
	}
	plug, err := pluginhost.Open(ctx, pluginhost.Spec{Name: "csv", Path: misbehaveBin, SHA256: sum}, pluginhost.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = plug.Close(ctx) })
	for _, a := range []adapter.Adapter{inproc, grpcMem, plug} {
		if err := a.Configure(ctx, cfg); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		a    adapter.Adapter
	}{{"in-process", inproc}, {"grpc-in-memory", grpcMem}, {"plugin-process", plug}} {
		b.Run(c.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				n += pullCount(b, c.a)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
		})
	}
	b.Run("ratio", func(b *testing.B) {
		var tIn, tPlug time.Duration
		for b.Loop() {
			t0 := time.Now()
			pullCount(b, inproc)
			t1 := time.Now()
			pullCount(b, plug)
			tIn += t1.Sub(t0)
			tPlug += time.Since(t1)
		}
		b.ReportMetric(tIn.Seconds()/tPlug.Seconds(), "plugin/in-process")
	})
}
