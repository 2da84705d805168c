package hubspot

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// BenchmarkFullPull100k pulls 100,000 contacts through the list endpoint.
// "unlimited" is the baseline: a budget far above what the machine can
// serve, which measures the machine's own rate R. "configured" then runs at
// a rolling limit of R/2 requests per 1-second window (HubSpot's window is
// 10 s; it is shortened so one run takes seconds, and set below R so that
// the budget, not the CPU running both fake and connector, is the
// bottleneck) and
// reports the calls made against the minimum (one per 100 contacts) and the
// share of the rate ceiling used.
func BenchmarkFullPull100k(b *testing.B) {
	const n = 100_000
	var measured float64
	fake := hubspotfake.New(hubspotfake.Options{Tokens: []string{testToken}, BurstMax: 1_000_000, BurstInterval: time.Second, DailyMax: 100_000_000})
	fake.CreateMany("contacts", n, func(i int) hubspotfake.Object {
		return hubspotfake.Object{Properties: map[string]string{"email": "p" + strconv.Itoa(i) + "@example.com", "firstname": "P"}}
	})
	base := fake.Start()
	defer fake.Close()
	run := func(b *testing.B, limit int) {
		c := New(nil)
		err := c.Configure(context.Background(), adapter.Config{"base_url": base, "token": testToken, "firmographics": false,
			"rate_limit": map[string]any{"requests": limit, "interval": "1s"}})
		if err != nil {
			b.Fatal(err)
		}
		var calls int
		var elapsed time.Duration
		fake.ResetStats()
		for b.Loop() {
			fake.ResetCalls()
			start := time.Now()
			got := 0
			err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact}, func(_ context.Context, p adapter.Page) error {
				got += len(p.Changes)
				return nil
			})
			elapsed += time.Since(start)
			if err != nil || got != n {
				b.Fatalf("pulled %d: %v", got, err)
			}
			calls += fake.CallCount("GET /crm/v3/objects/contacts")
		}
		b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
		b.ReportMetric(float64(n/100), "min_calls")
		rate := float64(calls) / elapsed.Seconds()
		if measured == 0 {
			measured = rate
		}
		b.ReportMetric(rate, "req/s")
		if limit < 1_000_000 {
			b.ReportMetric(100*rate/float64(limit), "%ceiling")
			s := fake.Stats()
			b.ReportMetric(float64(s.MaxInWindow), "max_in_1s_window")
			b.ReportMetric(float64(limit), "limit/s")
			if s.MaxInWindow > limit || s.RateLimited > 0 {
				b.Fatalf("budget exceeded: %d requests in one window (limit %d)", s.MaxInWindow, limit)
			}
		}
	}
	b.Run("unlimited", func(b *testing.B) { run(b, 1_000_000) })
	b.Run("configured", func(b *testing.B) { run(b, max(10, int(measured/2))) })
}
