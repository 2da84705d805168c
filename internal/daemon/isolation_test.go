package daemon_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/fakekit"
)

// TestPlatformDownDoesNotHoldUpOthers runs the daemon on its schedule with
// HubSpot answering 503 to everything: WooCommerce and Salesforce still
// reach their exact state; when HubSpot comes back it converges too.
func TestPlatformDownDoesNotHoldUpOthers(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end schedule against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 5, Customers: 120, AsOf: now})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	sb.HubSpotFake.SetRate(1, 0, fakekit.Fault{Status: 502}, fakekit.Fault{Status: 503}, fakekit.Fault{Status: 504})

	l := sb.ConnectorConfig(t.TempDir())
	l.Schedule.PullInterval = time.Second
	// Fail fast inside each call; the schedule retries.
	hs := l.Platforms[sandbox.HubSpot]
	hs["retry"] = map[string]any{"max": 1, "wait_min": "10ms", "wait_max": "50ms"}
	l.Platforms[sandbox.HubSpot] = adapter.Config(hs)
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	env, err := openApp(ctx, l, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close(ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := env.newDaemon(daemon.Options{Listener: ln, DrainInterval: 200 * time.Millisecond})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	defer func() { cancel(); <-done }()

	converged := func(platform string) (bool, string) {
		if env.Pipeline.LastResult() == nil || len(env.Pipeline.TargetIDs(platform)) == 0 {
			return false, "no write-back yet"
		}
		probs, n := apptest.Mismatches(t, env.App, sb, platform, apptest.HandMade{})
		if len(probs) > 0 || n == 0 {
			return false, strings.Join(append(probs[:min(3, len(probs))], ""), "; ")
		}
		return true, ""
	}
	waitFor := func(what string, within time.Duration, platforms ...string) {
		t.Helper()
		testenv.AwaitEvery(t, within, 200*time.Millisecond, "convergence "+what, func() error {
			for _, p := range platforms {
				if ok, why := converged(p); !ok {
					return fmt.Errorf("%s: %s", p, why)
				}
			}
			return nil
		})
	}
	start := time.Now()
	waitFor("while hubspot is down", 30*time.Second, sandbox.WooCommerce, sandbox.Salesforce)
	t.Logf("woocommerce and salesforce exact %v after start, hubspot down throughout", time.Since(start).Round(time.Millisecond))
	if ok, _ := converged(sandbox.HubSpot); ok {
		t.Fatal("hubspot converged while it was answering 503 to everything")
	}

	sb.HubSpotFake.Clear()
	back := time.Now()
	waitFor("after hubspot returned", 30*time.Second, sandbox.HubSpot, sandbox.WooCommerce, sandbox.Salesforce)
	t.Logf("hubspot exact %v after it came back", time.Since(back).Round(time.Millisecond))
}
