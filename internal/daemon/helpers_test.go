package daemon_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/sandbox"
)

// testEnv is an opened App with the metrics its daemon serves, which
// count the adapters' HTTP requests from the start.
type testEnv struct {
	*app.App
	metrics *daemon.Metrics
}

// openApp opens an App as `connector run` does.
func openApp(ctx context.Context, l *config.Loaded, log *slog.Logger) (*testEnv, error) {
	return openEnvWithClock(ctx, l, log, nil)
}

// newDaemon prepares a daemon over the App, serving its metrics.
func (e *testEnv) newDaemon(o daemon.Options) *daemon.Daemon {
	o.Metrics = e.metrics
	return daemon.New(e.App, o)
}

// startSandboxEnvAt starts a sandbox of customers generated as of at and
// an App pointed at it, with the metrics its daemon serves.
func startSandboxEnvAt(t *testing.T, customers int, at time.Time) (*sandbox.Sandbox, *testEnv, *config.Loaded) {
	t.Helper()
	m := daemon.NewMetrics()
	sb, a, l := apptest.StartSandbox(t, customers, at, app.Options{ObserveHTTP: m.HTTPObserver})
	return sb, &testEnv{App: a, metrics: m}, l
}
