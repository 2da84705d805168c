// Package statusapi serves the connector's operational status as JSON
// (GET /api/v1/status): each platform's connection state (ok, degraded,
// failing, or unknown before the first request), when it entered that
// state, its last success and last error, failures by kind, and the
// depths of the webhook inbox, the write-back outbox and the quarantine.
//
// It is a plain http.Handler so any listener can mount it: the daemon
// serves it today, and a listener behind a login can serve the same
// handler without change.
package statusapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/segconn/connector/internal/app"
)

// Path is where the status is served.
const Path = "/api/v1/status"

// Source produces a status report.
type Source func(ctx context.Context) (app.HealthReport, error)

// Handler answers GET requests with the Source's report as JSON. The
// answer is 200 whatever the platforms' state: the report describes the
// connector, it is not a probe (see /readyz for that). When the report
// cannot be made (the store is unreadable) it answers 503 with the error.
func Handler(src Source, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep, err := src(r.Context())
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if err != nil {
			log.Warn("making the status report", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "status unavailable: " + err.Error()})
			return
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	})
}
