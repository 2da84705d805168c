package wire_test

import (
	"context"
	"sync"
	"testing"
	"time"

	plugin "github.com/hashicorp/go-plugin"

	"github.com/segconn/connector/plugins/sdk"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/wire"
)

// hinted is a read-only plugin with all three 1.1 hints; each Pull
// "sends" one request and waits once for its rate budget.
type hinted struct {
	sdk.Unimplemented
	obs adapter.HTTPObserver
}

func (*hinted) Describe(context.Context) (adapter.Descriptor, error) {
	return adapter.Descriptor{Name: "hinted", Version: "1"}, nil
}
func (*hinted) Configure(context.Context, adapter.Config) error { return nil }
func (h *hinted) Pull(ctx context.Context, _ adapter.PullRequest, sink adapter.PageSink) error {
	h.obs.RateWait(1500 * time.Millisecond)
	h.obs.HTTPRequest("GET", 429, 7*time.Millisecond)
	return sink(ctx, adapter.Page{Cursor: "c"})
}
func (*hinted) Close(context.Context) error { return nil }
func (*hinted) WritePacing() adapter.WritePacing {
	return adapter.WritePacing{PropertyEvery: time.Second, MembershipEvery: 10 * time.Second, MembershipCallEvery: 250 * time.Millisecond}
}
func (*hinted) DailyQuota() adapter.Quota            { return adapter.Quota{Limit: 250000, Remaining: 1234} }
func (h *hinted) ObserveHTTP(o adapter.HTTPObserver) { h.obs = o }

// over serves gp in memory and returns the host's client.
func over(t *testing.T, gp *wire.GRPCPlugin) wire.Extended {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{wire.PluginName: gp})
	t.Cleanup(func() { _ = client.Close() })
	raw, err := client.Dispense(wire.PluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(wire.Extended)
}

// recorder is an adapter.HTTPObserver that keeps what it heard.
type recorder struct {
	mu       sync.Mutex
	requests []string
	waited   time.Duration
	got      chan struct{}
}

func (r *recorder) HTTPRequest(method string, status int, took time.Duration) {
	r.mu.Lock()
	r.requests = append(r.requests, method+" "+time.Duration(status).String()+" "+took.String())
	r.mu.Unlock()
	r.got <- struct{}{}
}

func (r *recorder) RateWait(d time.Duration) {
	r.mu.Lock()
	r.waited += d
	r.mu.Unlock()
}

// A 1.1 plugin's pacing, quota and request reports reach the host.
func TestHintsCrossTheProtocol(t *testing.T) {
	ctx := context.Background()
	c := over(t, &wire.GRPCPlugin{Impl: sdk.Adapt(&hinted{})})
	if m, err := c.ProtocolMinor(ctx); err != nil || m != wire.ProtocolMinor {
		t.Fatalf("ProtocolMinor = %d, %v; want %d", m, err, wire.ProtocolMinor)
	}
	h, err := c.Hints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h.Pacing == nil || *h.Pacing != (&hinted{}).WritePacing() {
		t.Errorf("pacing = %+v, want the plugin's", h.Pacing)
	}
	if h.Quota == nil || *h.Quota != (adapter.Quota{Limit: 250000, Remaining: 1234}) {
		t.Errorf("quota = %+v, want the plugin's", h.Quota)
	}

	// A report made before the host watches reaches it once it does: a
	// host starts watching a new process while its first calls run.
	if err := c.Pull(ctx, adapter.PullRequest{Object: "contact"}, func(context.Context, adapter.Page) error { return nil }); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{got: make(chan struct{}, 1)}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.WatchHTTP(wctx, rec) }()
	select {
	case <-rec.got:
	case <-time.After(30 * time.Second):
		t.Fatal("the report of a pull made before the host watched never reached it")
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("WatchHTTP after cancel: %v", err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.requests[0] != "GET "+time.Duration(429).String()+" 7ms" || rec.waited < 1500*time.Millisecond {
		t.Errorf("reports: %v, waited %s", rec.requests, rec.waited)
	}
}

// A plugin built against protocol 1.0 has no hints and no reports, and
// asking for them is no error.
func TestProtocol10PluginHasNoHints(t *testing.T) {
	ctx := context.Background()
	c := over(t, &wire.GRPCPlugin{Impl: sdk.Adapt(&hinted{}), Service: wire.NewServer10})
	if m, err := c.ProtocolMinor(ctx); err != nil || m != 0 {
		t.Fatalf("ProtocolMinor = %d, %v; want 0", m, err)
	}
	if h, err := c.Hints(ctx); err != nil || h.Pacing != nil || h.Quota != nil {
		t.Errorf("Hints of a 1.0 plugin = %+v, %v; want none", h, err)
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.WatchHTTP(wctx, &recorder{got: make(chan struct{}, 1)}); err != nil || wctx.Err() != nil {
		t.Errorf("WatchHTTP of a 1.0 plugin = %v (ctx %v); want an immediate nil", err, wctx.Err())
	}
	if _, err := c.Describe(ctx); err != nil {
		t.Errorf("Describe of a 1.0 plugin: %v", err)
	}
}
