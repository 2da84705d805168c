package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/statusapi"
	"github.com/segconn/connector/internal/health"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// TestStatusWithoutDaemonReadsTheStore: with nothing listening, `status`
// reads the queues from the store and says the platforms' state is
// unknown.
func TestStatusWithoutDaemonReadsTheStore(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CLI against fake platforms")
	}
	_, cfg := sandboxConfigFile(t, 20)
	code, out, errOut := runCLI(t, nil, "status", "-c", cfg, "--url", "http://127.0.0.1:1/api/v1/status", "-o", "json")
	if code != exitOK {
		t.Fatalf("status: exit %d: %s", code, errOut)
	}
	var rep app.HealthReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if rep.Live || len(rep.Platforms) != 3 || rep.Platforms[0].State != health.Unknown || rep.Queues.Outbox == nil {
		t.Errorf("report from the store: %+v", rep)
	}
}

// TestStatusReportsAFailingPlatform: `status` shows what a running
// connector's /api/v1/status says, and exits 1 when a platform fails.
func TestStatusReportsAFailingPlatform(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CLI against fake platforms")
	}
	_, cfg := sandboxConfigFile(t, 20)
	tr := health.New(health.Options{}, "hubspot", "woocommerce")
	tr.Success("woocommerce")
	tr.Failure("hubspot", "pull", adapter.Auth(errors.New("HubSpot answered 401: authentication credentials not found")))
	srv := httptest.NewServer(statusapi.Handler(func(context.Context) (app.HealthReport, error) {
		return app.HealthReport{GeneratedAt: time.Now(), Live: true, Platforms: tr.Snapshot(),
			Queues: app.QueueDepths{Outbox: map[string]int{"pending": 7}, Quarantined: map[string]int{"hubspot": 2}}}, nil
	}, nil))
	defer srv.Close()
	code, out, errOut := runCLI(t, nil, "status", "-c", cfg, "--url", srv.URL+statusapi.Path)
	if code != exitError {
		t.Fatalf("status with a failing platform: exit %d, want %d\n%s%s", code, exitError, out, errOut)
	}
	for _, want := range []string{"hubspot", "failing", "auth: pull: HubSpot answered 401", "woocommerce", "ok", "7 pending", "from the running connector"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "failing: hubspot") {
		t.Errorf("stderr: %s", errOut)
	}
}
