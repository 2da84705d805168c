package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/health"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
)

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestWrongHubSpotTokenIsVisible: under the daemon, a wrong HubSpot token
// makes /api/v1/status report HubSpot failing with the error, logs it at
// ERROR once however often the pull is retried, and counts the pull
// failures by kind in connector_platform_errors_total. Before the health
// tracker was wired, the status did not exist, the failure was logged at
// INFO by the job queue and the errors metric had no series.
func TestWrongHubSpotTokenIsVisible(t *testing.T) {
	if testing.Short() {
		t.Skip("daemon against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 20, AsOf: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	l := sb.ConnectorConfig(t.TempDir())
	l.Platforms["hubspot"]["token"] = "pat-na1-00000000-0000-0000-0000-000000000000"
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	m := daemon.NewMetrics()
	a, err := app.Open(ctx, l, slog.New(slog.NewJSONHandler(logs, nil)), apptest.Factories(), app.Options{ObserveHTTP: m.HTTPObserver})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	env := &testEnv{App: a, metrics: m}
	d, base := startDaemon(t, env)
	for range 3 {
		if err := d.EnqueueSync(ctx, "hubspot", false); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.EnqueueSync(ctx, "woocommerce", false); err != nil {
		t.Fatal(err)
	}
	var rep app.HealthReport
	testenv.Eventually(t, 20*time.Second, "hubspot failing and woocommerce ok in /api/v1/status", func() bool {
		rep = readStatus(t, base)
		return state(rep, "hubspot").State == health.Failing && state(rep, "woocommerce").State == health.OK
	})
	hs := state(rep, "hubspot")
	if hs.ErrorKind != "auth" || !strings.Contains(hs.LastError, "401") || hs.Since.IsZero() {
		t.Errorf("hubspot status lacks the error: %+v", hs)
	}
	if !rep.Live || rep.Queues.Outbox == nil {
		t.Errorf("report: live=%v queues=%+v", rep.Live, rep.Queues)
	}
	testenv.Eventually(t, 10*time.Second, "a connector_platform_errors_total series for hubspot's failed pulls", func() bool {
		n, _ := sum(scrape(t, base), "connector_platform_errors_total", map[string]string{"platform": "hubspot", "op": "pull", "kind": "auth"})
		return n >= 1
	})
	if got := strings.Count(logs.String(), `"msg":"platform is failing"`); got != 1 {
		t.Errorf("platform is failing logged %d times, want once:\n%s", got, logs.String())
	}
	if !strings.Contains(logs.String(), `"level":"ERROR","msg":"platform is failing"`) {
		t.Errorf("the failure is not logged at ERROR:\n%s", logs.String())
	}
	// /readyz stays a liveness answer: the process and its store work.
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz = %d, want 200 while a platform fails", resp.StatusCode)
	}
}

func readStatus(t *testing.T, base string) app.HealthReport {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("/api/v1/status: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var rep app.HealthReport
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

func state(rep app.HealthReport, platform string) health.Status {
	for _, s := range rep.Platforms {
		if s.Platform == platform {
			return s
		}
	}
	return health.Status{}
}
