package statusapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/statusapi"
	"github.com/segconn/connector/internal/health"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// TestHandlerServesTheReport: the report comes back as JSON with each
// platform's state, error and time; a report that cannot be made is a
// 503 with the reason, never a 200 with an empty body.
func TestHandlerServesTheReport(t *testing.T) {
	tr := health.New(health.Options{}, "hubspot")
	tr.Failure("hubspot", "pull", adapter.Auth(errors.New("401 Unauthorized")))
	ok := statusapi.Handler(func(context.Context) (app.HealthReport, error) {
		return app.HealthReport{GeneratedAt: time.Now(), Live: true, Platforms: tr.Snapshot()}, nil
	}, nil)
	srv := httptest.NewServer(ok)
	defer srv.Close()
	resp, err := http.Get(srv.URL + statusapi.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep app.HealthReport
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || len(rep.Platforms) != 1 || rep.Platforms[0].State != health.Failing ||
		!strings.Contains(rep.Platforms[0].LastError, "401") || rep.Platforms[0].Since.IsZero() {
		t.Errorf("status %d, report %+v", resp.StatusCode, rep)
	}

	broken := httptest.NewServer(statusapi.Handler(func(context.Context) (app.HealthReport, error) {
		return app.HealthReport{}, errors.New("database is locked")
	}, nil))
	defer broken.Close()
	resp, err = http.Get(broken.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body["error"], "database is locked") {
		t.Errorf("unreadable store: %d %v", resp.StatusCode, body)
	}
}
