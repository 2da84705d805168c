package pluginhost_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/examples/csvfolder/csvfake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// heard is an adapter.HTTPObserver counting what reached the host.
type heard struct {
	mu       sync.Mutex
	requests map[string]int
	waited   time.Duration
}

func (h *heard) HTTPRequest(method string, status int, _ time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.requests == nil {
		h.requests = map[string]int{}
	}
	h.requests[fmt.Sprintf("%s %d", method, status)]++
}

func (h *heard) RateWait(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.waited += d
}

func (h *heard) count(key string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests[key]
}

// pushSome writes n customers into a list through p.
func pushSome(t *testing.T, p adapter.Adapter, f *csvfake.Folder, n int) {
	t.Helper()
	ctx := context.Background()
	refs, err := f.SeedCustomers(n)
	if err != nil {
		t.Fatal(err)
	}
	es, err := p.EnsureTargets(ctx, []adapter.Target{{Key: "list:vip", Kind: adapter.TargetList, Name: "vip"}})
	if err != nil {
		t.Fatal(err)
	}
	req := adapter.PushRequest{Targets: map[string]string{"list:vip": es[0].PlatformID}}
	for i, r := range refs {
		req.Items = append(req.Items, adapter.PushItem{ID: fmt.Sprint(i), Ref: r, Add: []string{"list:vip"}})
	}
	res, err := p.Push(ctx, req)
	if err != nil || len(res) != n {
		t.Fatalf("push: %d results, %v", len(res), err)
	}
}

// A plugin of protocol 1.1 is paced, reported and measured by the host
// as a built-in adapter is: what the daemon and the planner look up
// through adapter.WritePacer, QuotaReporter and Observable on the
// supervised plugin is what the plugin process said.
func TestPluginHintsReachTheHost(t *testing.T) {
	t.Parallel()
	s := spec(t, "paced")
	s.Args = []string{"--hints"}
	p := open(t, s, pluginhost.Options{})
	var a adapter.Adapter = p
	obs := &heard{}
	a.(adapter.Observable).ObserveHTTP(obs) // as the app does, before Configure
	f := csvfake.New(t)
	if err := p.Configure(context.Background(), f.Config()); err != nil {
		t.Fatal(err)
	}
	want := adapter.WritePacing{PropertyEvery: 750 * time.Millisecond, MembershipEvery: 5 * time.Second, MembershipCallEvery: 200 * time.Millisecond}
	if got := a.(adapter.WritePacer).WritePacing(); got != want {
		t.Errorf("WritePacing through the host = %+v, want the plugin's %+v", got, want)
	}
	if q := a.(adapter.QuotaReporter).DailyQuota(); q != (adapter.Quota{Limit: 1000, Remaining: 1000}) {
		t.Errorf("DailyQuota before pushing = %+v, want {1000 1000}", q)
	}
	pushSome(t, p, f, 7)
	if q := a.(adapter.QuotaReporter).DailyQuota(); q != (adapter.Quota{Limit: 1000, Remaining: 993}) {
		t.Errorf("DailyQuota after pushing 7 = %+v, want {1000 993}: the remaining budget must be asked live", q)
	}
	testenv.Eventually(t, 30*time.Second, "the host hearing the plugin's 7 requests", func() bool { return obs.count("PUT 200") >= 7 })
	if n := obs.count("PUT 200"); n != 7 {
		t.Errorf("the host heard %d of the plugin's 7 requests", n)
	}
	obs.mu.Lock()
	waited := obs.waited
	obs.mu.Unlock()
	if waited != 70*time.Millisecond {
		t.Errorf("the host heard %s of rate waits, want 70ms", waited)
	}
}

// The hints survive a crash: a restarted plugin is configured again, its
// hints asked again and its requests still reported.
func TestPluginHintsSurviveARestart(t *testing.T) {
	t.Parallel()
	s := spec(t, "paced")
	s.Args = []string{"--hints"}
	p := open(t, s, pluginhost.Options{})
	obs := &heard{}
	p.ObserveHTTP(obs)
	f := csvfake.New(t)
	if err := p.Configure(context.Background(), f.Config()); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Fetch(context.Background(), adapter.FetchRequest{Object: domain.ObjectContact, IDs: []string{"crash"}}); err == nil {
		t.Log("the crashing fetch was retried into success on a fresh process")
	}
	if p.Restarts() == 0 {
		t.Fatal("the plugin was not restarted")
	}
	pushSome(t, p, f, 2)
	testenv.Eventually(t, 30*time.Second, "the host hearing 2 requests after a restart", func() bool { return obs.count("PUT 200") >= 2 })
	if n := obs.count("PUT 200"); n != 2 {
		t.Errorf("after a restart the host heard %d of 2 requests", n)
	}
	if q := p.DailyQuota(); q.Limit != 1000 || q.Remaining != 998 {
		t.Errorf("DailyQuota after a restart and 2 pushes = %+v, want {1000 998}", q)
	}
}

// A plugin built against protocol 1.0 (the CSV example served as a 1.0
// binary serves: no minor version, no Hints, no WatchHTTP) passes the
// conformance kit through the new host, which treats it as an adapter
// without hints.
func TestProtocol10PluginWorksWithNewHost(t *testing.T) {
	t.Parallel()
	h := csvfake.Harness(domain.ObjectContact)
	h.Name = "csvfolder/protocol-1.0"
	h.New = func(tb testing.TB) adapter.Adapter {
		s := spec(tb, "csv10")
		s.Args = []string{"--protocol10"}
		p, err := pluginhost.Open(context.Background(), s, pluginhost.Options{})
		if err != nil {
			tb.Fatalf("opening plugin: %v", err)
		}
		p.ObserveHTTP(&heard{})
		return p
	}
	sdktest.RunConformance(t, h)

	s := spec(t, "csv10")
	s.Args = []string{"--protocol10"}
	p, f := configured(t, s, pluginhost.Options{})
	p.ObserveHTTP(&heard{})
	pushSome(t, p, f, 3)
	if got := p.WritePacing(); got != (adapter.WritePacing{}) {
		t.Errorf("WritePacing of a 1.0 plugin = %+v, want none", got)
	}
	if q := p.DailyQuota(); q != (adapter.Quota{Remaining: -1}) {
		t.Errorf("DailyQuota of a 1.0 plugin = %+v, want unknown", q)
	}
}
