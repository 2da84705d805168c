package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/report"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestDemoQuarterReview runs the demo's setup (the sandbox's three fake
// platforms, a full cycle, the daemon taking their webhooks, with a 10%
// holdout on the RFM segments) through the last whole quarter on a fake
// clock: every simulated day the fakes fire a few signed webhooks (new
// WooCommerce orders dated that day, HubSpot and Salesforce contact
// changes), every simulated week the daemon resegments everyone. Then
// `connector report review --format html` writes the quarter's review,
// its JSON is checked against the store, and headless Chromium opens the
// HTML page from disk (no network: its chart must draw from what the page
// carries) and saves a screenshot, review-demo-quarter.png, in
// $TEST_ARTIFACTS.
func TestDemoQuarterReview(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates a quarter of webhooks through the daemon and drives a browser")
	}
	chrome, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Unavailable(t, "chromium is not installed (apt-get install -y chromium)")
	}
	ctx := context.Background()
	q0, q1, _ := report.LastPeriod(report.Quarterly, time.Now())
	var clock atomic.Int64
	clock.Store(q0.Add(-time.Hour).UnixNano()) // the demo's first cycle, just before the quarter
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }

	// The fakes answer the first pull on the wall clock (their records
	// carry modification times up to it), then take the simulated days.
	var simulating atomic.Bool
	fakeNow := func() time.Time {
		if simulating.Load() {
			return now()
		}
		return time.Now()
	}
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 1, Customers: 400, AsOf: q0, Now: fakeNow})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	l := sb.ConnectorConfig(t.TempDir())
	var platforms []string
	for p := range l.Platforms {
		platforms = append(platforms, p)
	}
	for _, d := range app.DefaultSegments(platforms) {
		def := d.(map[string]any)
		if def["name"] == "rfm" {
			def["holdout_percent"] = 10
		}
		l.Segments = append(l.Segments, def)
	}
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	ap, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{StoreNow: now, PipelineNow: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ap.Cycle(ctx, now(), nil); err != nil {
		t.Fatal(err)
	}
	simulating.Store(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := daemon.New(ap, daemon.Options{Listener: ln, NoSchedule: true, Now: now})
	dctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(dctx) }()
	// WooCommerce orders and Salesforce contact changes. HubSpot's
	// webhooks are left out: with the fakes' clock stepped back from the
	// wall clock after the first pull, its events stay in the inbox.
	targets := sb.Targets("http://" + d.Addr() + "/webhooks")
	delete(targets, sandbox.HubSpot)

	days := int(q1.Sub(q0) / (24 * time.Hour))
	fired := map[string]int{}
	for day := range days {
		clock.Store(q0.AddDate(0, 0, day).Add(12 * time.Hour).UnixNano())
		rep, err := sb.FireWebhooks(ctx, targets, 1000, 6)
		if err != nil {
			t.Fatalf("day %d: %v", day, err)
		}
		for p, n := range rep.Delivered {
			fired[p] += n
		}
		waitInbox(t, ap)
		if day%7 == 6 {
			if err := d.FullCycleSegments(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	clock.Store(q1.Add(-time.Hour).UnixNano())
	if err := d.FullCycleSegments(ctx); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("daemon: %v", err)
	}
	t.Logf("webhooks acknowledged over %d simulated days: %v", days, fired)
	if fired[sandbox.WooCommerce] < days {
		t.Fatalf("only %d WooCommerce webhooks acknowledged", fired[sandbox.WooCommerce])
	}
	profiles, err := ap.Store.CountProfiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	members := map[string]int{}
	if err := ap.Store.AllMemberships(ctx, func(m domain.Membership) error { members[m.Segment]++; return nil }); err != nil {
		t.Fatal(err)
	}
	hist, _ := ap.Store.MembershipHistorySince(ctx, 0, 100000)
	if len(hist) > 0 {
		t.Logf("%d history entries from %s to %s", len(hist), hist[0].At, hist[len(hist)-1].At)
	}
	ap.Close(ctx)

	cfg := writeConfig(t, "store: {driver: sqlite, path: "+l.Store.Path+"}\n")
	from, to := q0.Format(time.DateOnly), q1.Format(time.DateOnly)
	code, out, errOut := runCLI(t, nil, "report", "review", "--from", from, "--to", to, "-o", "json", "-c", cfg)
	if code != exitOK {
		t.Fatalf("report review -o json: exit %d: %s", code, errOut)
	}
	var rev report.ReviewResult
	if err := json.Unmarshal([]byte(out), &rev); err != nil {
		t.Fatal(err)
	}
	if rev.Profiles != profiles {
		t.Errorf("the review counts %d profiles, the store %d", rev.Profiles, profiles)
	}
	moved, earned := 0, false
	for _, s := range rev.Segments {
		if s.SizeTo != members[s.Segment] {
			t.Errorf("%s: %d at the end of the quarter, %d in the store", s.Segment, s.SizeTo, members[s.Segment])
		}
		moved += s.Entered + s.Left
		earned = earned || s.RevenuePerMember > 0
	}
	t.Logf("store: %d profiles, memberships %v; review: %d profiles, %d segments", profiles, members, rev.Profiles, len(rev.Segments))
	if moved == 0 || len(rev.Flows) == 0 || !earned || len(rev.Lift) == 0 {
		t.Errorf("a quarter of webhooks moved %d people, %d flows, revenue %v, %d lifts", moved, len(rev.Flows), earned, len(rev.Lift))
	}
	if len(rev.Flows) > 0 {
		t.Logf("review: %d moves, %d flows (largest: %s), %d findings", moved, len(rev.Flows), report.FlowText(rev.Flows[0]), len(rev.Findings))
	}

	html := filepath.Join(t.TempDir(), "review.html")
	if code, _, errOut := runCLI(t, nil, "report", "review", "--from", from, "--to", to, "--format", "html", "--out", html, "-c", cfg); code != exitOK {
		t.Fatalf("report review --format html: exit %d: %s", code, errOut)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(chrome), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancelT := context.WithTimeout(bctx, 60*time.Second)
	defer cancelT()
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1100, 900), chromedp.Navigate("file://"+html),
		chromedp.WaitVisible(`#review-sizes[data-drawn="true"] canvas`)); err != nil {
		t.Fatalf("opening the review: %v", err)
	}
	series, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll('#review-sizes .u-legend .u-series').length`))
	if err != nil || series != len(rev.Sizes.Segments) {
		t.Errorf("the chart's legend has %d entries (%v), want one per segment, %d", series, err, len(rev.Sizes.Segments))
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if d := os.Getenv("TEST_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		dir = d
	}
	shot := filepath.Join(dir, "review-demo-quarter.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(html); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "review-demo-quarter.html"), b, 0o644)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(png))
	if !strings.HasPrefix(string(png), "\x89PNG") {
		t.Error("the screenshot is not a PNG")
	}
}

// waitInbox waits until the daemon has handled every webhook it took.
func waitInbox(t *testing.T, ap *app.App) {
	t.Helper()
	testenv.Eventually(t, 60*time.Second, "the inbox drained", func() bool {
		p, err := ap.Store.InboxPending(context.Background(), 1)
		return err == nil && len(p) == 0
	})
}
