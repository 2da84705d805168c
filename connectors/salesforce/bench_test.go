package salesforce

import (
	"context"
	"testing"

	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// BenchmarkPull100kContacts pulls 100,000 Contacts from scratch, over REST
// query pages of 2,000 and through a Bulk API 2.0 job, and reports the
// data calls made against the minimum each path needs:
// REST ceil(100000/2000) = 50 pages; Bulk 1 job + 1 poll + 2 result pages
// of 50,000 (+1 COUNT() probe that decides on Bulk) = 5.
func BenchmarkPull100kContacts(b *testing.B) {
	const n = 100000
	for _, tc := range []struct {
		name    string
		bulk    map[string]any
		minimum float64
	}{
		{"rest", map[string]any{"threshold": 0}, 50},
		{"bulk", map[string]any{"threshold": 10000, "page_size": 50000, "poll_interval": "1ms"}, 5},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := startFake(b, salesforcefake.Options{BulkPolls: 1})
			f.SeedContacts(n, nil)
			b.ReportAllocs()
			b.ResetTimer()
			calls := 0
			for b.Loop() {
				c, _ := newConn(b, f, map[string]any{"objects": map[string]any{"leads": false}, "bulk": tc.bulk})
				f.ResetCalls()
				got := 0
				err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact}, func(_ context.Context, p adapter.Page) error {
					got += len(p.Changes)
					return nil
				})
				if err != nil || got != n {
					b.Fatalf("pull: %v, %d records", err, got)
				}
				calls = f.TotalDataCalls()
			}
			b.ReportMetric(float64(calls), "calls/op")
			b.ReportMetric(tc.minimum, "min-calls")
			b.ReportMetric(float64(calls)/tc.minimum, "calls/min")
		})
	}
}

// BenchmarkWriteBack10k pushes 10,000 membership changes (a field value
// and a Campaign join each) and reports collection calls against the
// minimum 2 × ceil(10000/200) = 100.
func BenchmarkWriteBack10k(b *testing.B) {
	const n = 10000
	f := startFake(b, salesforcefake.Options{})
	f.AddField("Contact", "Segment__c", salesforcefake.TypeString)
	f.AddField("Lead", "Segment__c", salesforcefake.TypeString)
	ids := f.SeedContacts(n, nil)
	c, _ := newConn(b, f, nil)
	ens, err := c.EnsureTargets(context.Background(), []adapter.Target{
		{Key: "segments", Kind: adapter.TargetProperty, Name: "Segment__c"},
		{Key: "list:vip", Kind: adapter.TargetList, Name: "VIP"}})
	if err != nil {
		b.Fatal(err)
	}
	targets := map[string]string{}
	for _, e := range ens {
		targets[e.Key] = e.PlatformID
	}
	b.ReportAllocs()
	b.ResetTimer()
	calls, round := 0, 0
	for b.Loop() {
		round++
		f.ResetCalls()
		value := "vip"
		if round%2 == 0 {
			value = "gold"
		}
		for start := 0; start < n; start += MaxCollection {
			items := make([]adapter.PushItem, 0, MaxCollection)
			for _, id := range ids[start:min(start+MaxCollection, n)] {
				items = append(items, adapter.PushItem{ID: id, Ref: contactRef(id),
					Properties: map[string]string{"segments": value}, Add: []string{"list:vip"}})
			}
			res, err := c.Push(context.Background(), adapter.PushRequest{Items: items, Targets: targets})
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range res {
				if r.Status != adapter.PushOK {
					b.Fatalf("item %+v", r)
				}
			}
		}
		calls = f.TotalDataCalls()
	}
	b.ReportMetric(float64(calls), "calls/op")
	b.ReportMetric(100, "min-calls")
	b.ReportMetric(float64(calls)/100, "calls/min")
}
