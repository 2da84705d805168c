package daemon_test

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/store"
)

var faultLogs = flag.Bool("fault-log", false, "log TestFaultsLeaveEveryPlatformExact's connector at INFO")

var faultSeed = flag.Uint64("fault-seed", 1, "seed of TestFaultsLeaveEveryPlatformExact's fault proxies")

// TestFaultsLeaveEveryPlatformExact puts a proxy between the connector and
// each fake platform that breaks about 15% of the requests (5xx before
// and after the platform processed them, 429 with Retry-After, resets
// mid-body, truncated and garbage 2xx answers), then runs a full sync, a
// plan and its apply, and the daemon taking webhooks from all three
// platforms. Every sync must succeed, nothing may be parked as refused,
// and once the queues are empty every platform must hold exactly what
// the stored memberships say.
func TestFaultsLeaveEveryPlatformExact(t *testing.T) {
	if testing.Short() {
		t.Skip("sync, apply and a webhook stream through fault-injecting proxies")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 150, AsOf: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	l := sb.ConnectorConfig(t.TempDir())
	proxies := map[string]*apptest.FaultProxy{}
	for i, p := range sandbox.Platforms {
		e, _ := sb.Endpoint(p)
		fp := apptest.StartFaultProxy(t, e.BaseURL, 0.15, *faultSeed*10+uint64(i))
		proxies[p] = fp
		l.Config.Platforms[p]["base_url"] = fp.URL
	}
	report := func() {
		for _, p := range sandbox.Platforms {
			t.Logf("%s: %s", p, proxies[p])
		}
	}
	t.Cleanup(report)
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	// The store's clock runs ahead while the test waits, so retries a
	// fault scheduled come due without waiting out their backoff.
	var ahead atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	env, err := openEnvWithClock(ctx, l, faultLog(t), clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close(context.Background()) })

	start := time.Now()
	phase := func(name string) { t.Logf("%s done after %v", name, time.Since(start).Round(time.Millisecond)) }
	defer phase("test")
	if _, err := env.SyncAll(ctx, nil, true); err != nil {
		t.Fatalf("full sync under faults: %v", err)
	}
	phase("full sync")
	plan, err := env.Plan(ctx, now)
	if err != nil {
		t.Fatalf("plan under faults: %v", err)
	}
	rep, err := env.ApplyAt(ctx, app.ApplyRequest{AsOf: now, Fingerprint: plan.Fingerprint})
	if err != nil && (rep == nil || rep.TargetsErr == nil && rep.WriteErr == nil) {
		// Write-back that failed under the faults stays queued (the error
		// says so); a plan that was not recorded is a failure.
		t.Fatalf("apply under faults: %v", err)
	}
	t.Logf("applied %d membership changes; targets err %v; write err %v", len(rep.Plan.Memberships), rep.TargetsErr, rep.WriteErr)

	phase("apply")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := env.newDaemon(daemon.Options{Listener: ln, NoSchedule: true, DrainInterval: 200 * time.Millisecond})
	dctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(dctx) }()
	stopped := false
	stopDaemon := func() {
		if !stopped {
			stopped = true
			stop()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("daemon: %v", err)
			}
		}
	}
	t.Cleanup(stopDaemon)
	base := "http://" + d.Addr()
	fired, err := sb.FireWebhooks(ctx, sb.Targets(base+"/webhooks"), 30, 120)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fired %v, acknowledged %v", fired.Changes, fired.Delivered)

	phase("webhooks")
	waitSettled(t, env.Store, &ahead, 90*time.Second)
	phase("settled")
	if _, err := env.SyncAll(ctx, nil, false); err != nil {
		t.Errorf("sync after the webhook stream, under faults: %v", err)
	}
	waitSettled(t, env.Store, &ahead, 30*time.Second)
	stopDaemon()
	report()

	parked, err := env.FailedWriteback(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(parked) > 0 {
		t.Errorf("%d write-back items parked under faults, e.g. %+v", len(parked), parked[0])
	}
	for _, fp := range proxies {
		fp.SetRate(0) // the check reads the platforms; it is not under test
	}
	probs, checked := apptest.PlatformState(t, env.App, sb)
	if len(probs) > 0 {
		t.Errorf("%d of %d values differ from the stored memberships, e.g.:\n%s", len(probs), checked, strings.Join(probs[:min(10, len(probs))], "\n"))
	}
	if checked == 0 {
		t.Error("the check compared nothing")
	}
}

// faultLog is the test's log: discarded, unless -fault-log is given.
func faultLog(t *testing.T) *slog.Logger {
	if !*faultLogs {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// waitSettled waits until the inbox and the outbox hold nothing due or
// waiting, moving the store's clock ahead 30 s every half second while
// something waits on a backoff.
func waitSettled(t *testing.T, st store.Store, ahead *atomic.Int64, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for quiet := 0; quiet < 4; {
		if time.Now().After(deadline) {
			pending, _ := st.InboxPending(ctx, 10)
			stats, _ := st.OutboxStats(ctx)
			t.Fatalf("not settled after %v: inbox %d pending, outbox %v", timeout, len(pending), stats)
		}
		time.Sleep(500 * time.Millisecond)
		pending, err1 := st.InboxPending(ctx, 10)
		stats, err2 := st.OutboxStats(ctx)
		if err1 == nil && err2 == nil && len(pending) == 0 && stats[store.OutboxPending]+stats[store.OutboxLeased] == 0 {
			quiet++
			continue
		}
		quiet = 0
		ahead.Add(int64(30 * time.Second))
	}
}
