package builtintest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/hubspot"
	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/connectors/salesforce"
	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// statusCounter counts the HTTP reports a plugin sends the host.
type statusCounter struct {
	mu sync.Mutex
	ok int
}

func (s *statusCounter) HTTPRequest(_ string, status int, _ time.Duration) {
	if status >= 200 && status < 300 {
		s.mu.Lock()
		s.ok++
		s.mu.Unlock()
	}
}

func (s *statusCounter) RateWait(time.Duration) {}

func (s *statusCounter) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ok
}

// A built-in connector served as a plugin is paced and reported by the
// host exactly as it is in-process: the same write pacing and daily quota
// for the same config, and its platform requests in the host's metrics.
func TestBuiltinHintsCrossThePluginBoundary(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		h    sdktest.Harness
	}{
		{hubspot.Name, hubspotfake.Harness(func(testing.TB) adapter.Adapter { return hubspot.New(nil) })},
		{salesforce.Name, salesforcefake.Harness(func(testing.TB) adapter.Adapter { return salesforce.New(nil) })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			f := tc.h.Start(t)
			local := tc.h.New(t)
			if err := local.Configure(ctx, f.Config); err != nil {
				t.Fatal(err)
			}
			defer local.Close(ctx)
			p := throughPlugin(tc.h, tc.name).New(t).(*pluginhost.Plugin)
			defer p.Close(ctx)
			obs := &statusCounter{}
			p.ObserveHTTP(obs)
			if err := p.Configure(ctx, f.Config); err != nil {
				t.Fatal(err)
			}
			want := local.(adapter.WritePacer).WritePacing()
			if want == (adapter.WritePacing{}) {
				t.Fatalf("%s gives no pacing for the fake's config; the test needs one", tc.name)
			}
			if got := p.WritePacing(); got != want {
				t.Errorf("pacing through the plugin boundary = %+v, in-process %+v", got, want)
			}
			if got, want := p.DailyQuota(), local.(adapter.QuotaReporter).DailyQuota(); got != want {
				t.Errorf("quota through the plugin boundary = %+v, in-process %+v", got, want)
			}
			if _, err := f.Seed(3); err != nil {
				t.Fatal(err)
			}
			err := p.Pull(ctx, adapter.PullRequest{Object: domain.ObjectContact}, func(context.Context, adapter.Page) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			testenv.Eventually(t, 10*time.Second, "the host hearing the plugin's requests to the "+tc.name+" fake", func() bool { return obs.count() > 0 })
		})
	}
}
