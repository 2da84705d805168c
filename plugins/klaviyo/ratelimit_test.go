package klaviyo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/klaviyo/klaviyofake"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// A big write-back (10,000 profiles, the most one push takes: a segment
// property for each, two lists joined and one left) keeps within every
// operation's burst and steady limits (the fake counts a 429 for any
// request over them) and makes the fewest calls the batch limits allow:
// one bulk import job, and one membership call per list and 1000
// profiles. Adding to lists alone takes 15 calls of an operation whose
// burst limit is 10 a second, so sending them as fast as possible would
// be throttled.
func TestBigWriteBackKeepsToTheRateLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("paces 20 calls to Klaviyo's limits (several seconds): skipped in -short mode")
	}
	t.Parallel()
	ctx := context.Background()
	f := klaviyofake.Start(t.Cleanup)
	const n = 10000
	ps := refsOf(f.Seed(n))
	p := configured(t, f)
	es, err := p.EnsureTargets(ctx, []adapter.Target{
		{Key: "list:a", Kind: adapter.TargetList, Name: "segment: a"},
		{Key: "list:b", Kind: adapter.TargetList, Name: "segment: b"},
		{Key: "list:c", Kind: adapter.TargetList, Name: "segment: c"},
		{Key: "rfm", Kind: adapter.TargetProperty, Name: "rfm_segment"},
	})
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{}
	for _, e := range es {
		targets[e.Key] = e.PlatformID
	}
	var leaving []string
	for _, r := range ps[:2000] {
		leaving = append(leaving, r.ID)
	}
	f.AddToList("segment: c", leaving...)
	req := adapter.PushRequest{Targets: targets}
	for i, r := range ps {
		it := adapter.PushItem{ID: fmt.Sprint(i), Ref: r, Properties: map[string]string{"rfm": []string{"Champions", "Loyal", "At Risk"}[i%3]},
			Add: []string{"list:a"}}
		if i%2 == 0 {
			it.Add = append(it.Add, "list:b")
		}
		if i < 2000 {
			it.Remove = []string{"list:c"}
		}
		req.Items = append(req.Items, it)
	}
	before := f.Stats()
	start := time.Now()
	res, err := p.Push(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	for _, r := range res {
		if r.Status != adapter.PushOK {
			t.Fatalf("result %+v", r)
		}
	}
	after := f.Stats()
	if th := after.Throttled - before.Throttled; th > 0 {
		t.Errorf("the write-back went over a rate limit %d times", th)
	}
	calls := func(op string) int { return after.ByOp[op] - before.ByOp[op] }
	adds, removes := calls("POST /api/lists/{id}/relationships/profiles"), calls("DELETE /api/lists/{id}/relationships/profiles")
	jobs, polls := calls("POST /api/profile-bulk-import-jobs"), calls("GET /api/profile-bulk-import-jobs/{id}")
	// The minimum: ceil(10000/1000) + ceil(5000/1000) adds, ceil(2000/1000)
	// removes, ceil(10000/10000) jobs.
	if adds != 15 || removes != 2 || jobs != 1 {
		t.Errorf("calls: %d adds, %d removes, %d jobs; the minimum is 15, 2 and 1", adds, removes, jobs)
	}
	if polls > 3 {
		t.Errorf("%d polls of a job the fake completes on the second", polls)
	}
	t.Logf("10,000 profiles: %d requests (%d membership, %d job, %d job polls; minimum writes 18), %d throttled, in %s",
		after.Requests-before.Requests, adds+removes, jobs, polls, after.Throttled-before.Throttled, took.Round(time.Millisecond))
	if got := len(f.Members(targets["list:a"])); got != n {
		t.Errorf("list a has %d members, want %d", got, n)
	}
	if got := len(f.Members(targets["list:b"])); got != n/2 {
		t.Errorf("list b has %d members, want %d", got, n/2)
	}
	if got := len(f.Members(targets["list:c"])); got != 0 {
		t.Errorf("list c still has %d members", got)
	}
	if props, _ := f.Properties(ps[n-1].ID); props["rfm_segment"] != "Champions" {
		t.Errorf("last profile's properties: %v", props)
	}
}
