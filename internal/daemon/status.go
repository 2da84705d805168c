package daemon

import (
	"context"
	"net/http"

	"github.com/segconn/connector/plugins/sdk/adapter"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/statusapi"
)

// statusHandler serves the platforms' health and the queue depths (see
// package statusapi).
func (d *Daemon) statusHandler() http.Handler {
	return statusapi.Handler(func(ctx context.Context) (app.HealthReport, error) {
		return d.app.PlatformHealth(ctx, d.opts.Now(), true)
	}, d.log)
}

// pulledMetrics records one scheduled pull's outcome in the metrics: the
// records and pages it read, and its failure by kind.
func (d *Daemon) pulledMetrics(platform string, records map[string]int, pages int, err error) {
	for obj, n := range records {
		d.metrics.pulled.WithLabelValues(platform, obj).Add(float64(n))
	}
	d.metrics.calls.WithLabelValues(platform, "pull").Add(float64(pages))
	if err != nil {
		d.metrics.errors.WithLabelValues(platform, "pull", adapter.KindOf(err).String()).Inc()
	}
}
