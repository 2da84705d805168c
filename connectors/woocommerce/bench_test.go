package woocommerce

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// The benchmarks report API calls against the minimum the API allows
// (ceil(n/100) pages, ceil(n/100) batch calls) and, for speed, compare
// with a baseline measured in the same run: a bare page walk that only
// fetches and splits the JSON.

const benchOrders = 50000

// cpuTime is the process's user+system CPU time: on a shared, loaded
// machine it compares runs better than wall time. It includes the fake
// server, which both the baseline and the connector pay for alike.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((cpuTime()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
}

func benchFake(b *testing.B) (*woocommercefake.Fake, *Connector) {
	clk := newClock(time.Now().Add(-2 * time.Hour))
	f, c := start(b, woocommercefake.Options{Now: clk.Now}, nil)
	f.AddOrders(genOrders(benchOrders, 2000, clk.Now().Add(-5000*time.Hour))...)
	clk.Add(time.Hour)
	return f, c
}

func BenchmarkPullOrders50kBaselineBareWalk(b *testing.B) {
	f, _ := benchFake(b)
	auth := oauth1Auth{key: "ck_test", secret: "cs_test", method: "HMAC-SHA256", now: f.Now}
	b.ResetTimer()
	cpu := cpuTime()
	defer reportCPU(b, cpu)
	for i := 0; i < b.N; i++ {
		n := 0
		for page := 1; ; page++ {
			req, _ := http.NewRequest(http.MethodGet, f.URL()+"/wp-json/wc/v3/orders?orderby=id&order=asc&per_page=100&page="+strconv.Itoa(page), nil)
			_ = auth.Apply(context.Background(), req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var raws []json.RawMessage
			if err := json.Unmarshal(body, &raws); err != nil {
				b.Fatal(err)
			}
			n += len(raws)
			if len(raws) < 100 {
				break
			}
		}
		if n != benchOrders {
			b.Fatalf("walked %d", n)
		}
	}
}

func BenchmarkPullOrders50k(b *testing.B) {
	f, c := benchFake(b)
	b.ResetTimer()
	cpu := cpuTime()
	defer reportCPU(b, cpu)
	for i := 0; i < b.N; i++ {
		f.ResetCalls()
		n := 0
		err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectOrder}, func(_ context.Context, p adapter.Page) error {
			n += len(p.Changes)
			return nil
		})
		if err != nil || n != benchOrders {
			b.Fatalf("%v, %d orders", err, n)
		}
		calls := f.TotalCalls()
		b.ReportMetric(float64(calls), "calls/op")
		b.ReportMetric(float64(calls)/float64((benchOrders+99)/100), "calls/minimum")
	}
}

func BenchmarkPush10kChanges(b *testing.B) {
	f, c := start(b, woocommercefake.Options{}, nil)
	cs := make([]woocommercefake.Customer, 10000)
	for i := range cs {
		cs[i] = woocommercefake.Customer{Email: "b" + strconv.Itoa(i) + "@example.com"}
	}
	ids := f.AddCustomers(cs...)
	items := make([]adapter.PushItem, len(ids))
	for i, id := range ids {
		items[i] = adapter.PushItem{ID: strconv.Itoa(i), Ref: domain.ExternalRef{ObjectType: domain.ObjectContact, ID: strconv.Itoa(id)},
			Properties: map[string]string{"segments": "champions"}, Add: []string{"vip"}}
	}
	targets := map[string]string{"segments": "_segments", "vip": "_seg_list_vip"}
	b.ResetTimer()
	cpu := cpuTime()
	defer reportCPU(b, cpu)
	for i := 0; i < b.N; i++ {
		f.ResetCalls()
		calls := 0
		for start := 0; start < len(items); start += 1000 { // MaxPushBatch
			res, err := c.Push(context.Background(), adapter.PushRequest{Items: items[start:min(start+1000, len(items))], Targets: targets})
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range res {
				if r.Status != adapter.PushOK {
					b.Fatalf("%+v", r)
				}
			}
		}
		calls = f.TotalCalls()
		b.ReportMetric(float64(calls), "calls/op")
		b.ReportMetric(float64(calls)/100, "calls/minimum")
	}
}
