package daemon_test

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/alert/alerttest"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/adapter/fakekit"
)

// TestHubSpot401AlertsAndRecovers runs the daemon with Slack and email
// alerts configured (a local Slack-compatible receiver, a real SMTP
// server with STARTTLS). HubSpot answering 401 makes the platform
// failing: one alert reaches each; HubSpot answering again sends one
// recovery each.
func TestHubSpot401AlertsAndRecovers(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC()
	sb, env, _ := startSandboxEnvAt(t, 40, now)
	slack := &alerttest.SlackReceiver{}
	slackSrv := httptest.NewServer(slack)
	defer slackSrv.Close()
	box := &alerttest.Mailbox{}
	addr, _, caPEM := alerttest.StartSMTPWithCA(t, box)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	a := &env.Config.Alerts
	a.PlatformFailingFor = time.Millisecond
	a.Slack.WebhookURL = slackSrv.URL + "/services/T0/B0/secret"
	a.Email.Addr, a.Email.From, a.Email.To = addr, "connector@shop.example", []string{"owner@shop.example"}
	a.Email.Username, a.Email.Password, a.Email.CAFile = alerttest.User, alerttest.Password, ca

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := env.newDaemon(daemon.Options{Listener: ln, NoSchedule: true, AlertInterval: 50 * time.Millisecond})
	dctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(dctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("daemon: %v", err)
		}
	})

	if _, err := env.Sync(ctx, sandbox.HubSpot, false); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	sb.HubSpotFake.Inject(fakekit.Fault{Status: 401}) // auth failures are not retried: one is enough
	if st, err := env.Sync(ctx, sandbox.HubSpot, true); err == nil {
		t.Fatalf("a sync against 401s succeeded: %+v; health %+v", st, env.Health.Snapshot())
	}
	testenv.Eventually(t, 10*time.Second, "an alert on Slack and by email", func() bool { return len(slack.Messages()) >= 1 && len(box.All()) >= 1 })
	msg := slack.Messages()[0]["text"].(string)
	if !strings.Contains(msg, "Alert: hubspot has been failing") {
		t.Errorf("slack: %q", msg)
	}
	if m := box.All()[0]; !m.TLS || !strings.Contains(m.Data, "401") {
		t.Errorf("mail over TLS %v: %s", m.TLS, m.Data)
	}

	// HubSpot answers again: one recovery each, and nothing more.
	if _, err := env.Sync(ctx, sandbox.HubSpot, true); err != nil {
		t.Fatalf("sync after the faults: %v", err)
	}
	testenv.Eventually(t, 10*time.Second, "a recovery on Slack and by email", func() bool { return len(slack.Messages()) >= 2 && len(box.All()) >= 2 })
	// Several more checks: still two of each.
	testenv.Consistently(t, 300*time.Millisecond, "two Slack messages and two mails", func() bool {
		if n, m := len(slack.Messages()), len(box.All()); n != 2 || m != 2 {
			t.Logf("%d Slack messages and %d mails, want 2 each", n, m)
			return false
		}
		return true
	})
	if !strings.HasPrefix(slack.Messages()[1]["text"].(string), "Resolved: hubspot") {
		t.Errorf("recovery: %v", slack.Messages()[1]["text"])
	}
}
