package daemon_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/segconn/connector/internal/daemon"
)

// TestPublicListenerServesNoPage checks the split: the public listener
// answers webhooks, health and (with its token) metrics, and nothing of
// the web app, which answers on the admin listener behind a login.
func TestPublicListenerServesNoPage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the sandbox")
	}
	_, env, _ := startSandboxEnvAt(t, 20, time.Now().UTC())
	env.Config.Server.MetricsToken = "metrics-token-for-the-test"
	pub, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adm, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := env.newDaemon(daemon.Options{Listener: pub, AdminListener: adm, NoSchedule: true})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("daemon: %v", err)
		}
	})
	public, admin := "http://"+d.Addr(), "http://"+d.AdminAddr()
	get := func(url, auth string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// /api/v1/status stays: it is the health report (platform states, queue
	// depths, redacted errors) that `connector status` and load balancers
	// read, with no customer data; the web app serves its own behind login.
	for _, p := range []string{"/", "/login", "/api/v1/openapi.json", "/api/v1/segments", "/api/summary", "/customers", "/static/app.js"} {
		if code, _ := get(public+p, ""); code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
			t.Errorf("public listener GET %s: HTTP %d, want 404", p, code)
		}
	}
	if code, _ := get(public+"/healthz", ""); code != http.StatusOK {
		t.Errorf("/healthz: HTTP %d", code)
	}
	if code, _ := get(public+"/metrics", ""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without its token: HTTP %d, want 401", code)
	}
	if code, _ := get(public+"/metrics", "Bearer metrics-token-for-the-test"); code != http.StatusOK {
		t.Errorf("/metrics with its token: HTTP %d, want 200", code)
	}
	if code, _ := get(admin+"/api/v1/status", ""); code != http.StatusUnauthorized {
		t.Errorf("admin listener /api/v1/status without a session: HTTP %d, want 401", code)
	}
	if code, body := get(admin+"/login", ""); code != http.StatusOK || len(body) == 0 {
		t.Errorf("admin listener /login: HTTP %d", code)
	}
}
