package daemon_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/internal/alert/alerttest"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/outbound"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
)

// reportHook is a receiver of signed report webhooks.
type reportHook struct {
	secret string
	mu     sync.Mutex
	got    []map[string]any
	bad    int
}

func (h *reportHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	var m map[string]any
	if err := outbound.Verify(h.secret, r.Header, body, time.Now(), outbound.DefaultTolerance); err != nil || json.Unmarshal(body, &m) != nil {
		h.bad++
		http.Error(w, "bad signature or body", http.StatusUnauthorized)
		return
	}
	h.got = append(h.got, m)
}

func (h *reportHook) all() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.got...)
}

// TestReviewJobSendsEverywhere runs the review as the daemon's job with
// Slack (down at first), email (a real SMTP server with STARTTLS) and a
// signed webhook configured: each gets the review once, in its own form,
// and Slack gets it when the queue retries, without a second email.
func TestReviewJobSendsEverywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon and waits for a queue retry")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	_, env, _ := startSandboxEnvAt(t, 40, now)
	slack := &alerttest.SlackReceiver{}
	slack.SetDown(true)
	slackSrv := httptest.NewServer(slack)
	defer slackSrv.Close()
	box := &alerttest.Mailbox{}
	addr, _, caPEM := alerttest.StartSMTPWithCA(t, box)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	hook := &reportHook{secret: "review-signing-secret-0123456789"}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	a := &env.Config.Alerts
	a.Slack.WebhookURL = slackSrv.URL + "/services/T0/B0/secret"
	a.Email.Addr, a.Email.From, a.Email.To = addr, "connector@shop.example", []string{"owner@shop.example"}
	a.Email.Username, a.Email.Password, a.Email.CAFile = alerttest.User, alerttest.Password, ca
	a.Webhook.URL, a.Webhook.Secret = hookSrv.URL, hook.secret
	env.Config.Review.Link = "https://connector.shop.example/"

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := env.newDaemon(daemon.Options{Listener: ln, NoSchedule: true})
	dctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(dctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("daemon: %v", err)
		}
	})
	_ = d.Addr() // running
	if _, err := env.Sync(ctx, sandbox.WooCommerce, false); err != nil {
		t.Fatalf("sync: %v", err)
	}
	if err := d.FullCycleSegments(ctx); err != nil {
		t.Fatal(err)
	}
	profiles, err := env.Store.CountProfiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -30)
	to := from.AddDate(0, 0, 31)
	if err := d.EnqueueReview(ctx, from, to); err != nil {
		t.Fatal(err)
	}
	if err := d.EnqueueReview(ctx, from, to); err != nil { // a second replica's insert: the same job
		t.Fatal(err)
	}
	testenv.Eventually(t, 20*time.Second, "the review by email and webhook", func() bool { return len(box.All()) >= 1 && len(hook.all()) >= 1 })
	slack.SetDown(false)
	testenv.Eventually(t, 60*time.Second, "the review on Slack after a retry", func() bool { return len(slack.Messages()) >= 1 })

	title := "Segment review, " + from.Format(time.DateOnly) + " to " + to.Format(time.DateOnly)
	link := "https://connector.shop.example/review?from=" + from.Format(time.DateOnly) + "&to=" + to.Format(time.DateOnly)
	msgs := slack.Messages()
	blocks, _ := msgs[0]["blocks"].([]any)
	if len(msgs) != 1 || msgs[0]["text"] != title || len(blocks) != 4 {
		t.Fatalf("slack got %v", msgs)
	}
	if b := blocks[0].(map[string]any); b["type"] != "header" {
		t.Errorf("first block %v", b)
	}
	if txt := blocks[1].(map[string]any)["text"].(map[string]any)["text"].(string); !strings.Contains(txt, "profiles in") {
		t.Errorf("summary block %q", txt)
	}
	if txt := blocks[2].(map[string]any)["text"].(map[string]any)["text"].(string); !strings.Contains(txt, "<"+link+"|") {
		t.Errorf("link block %q, want %s", txt, link)
	}

	mails := box.All()
	if len(mails) != 1 || !mails[0].TLS || !strings.Contains(mails[0].Data, "multipart/alternative") ||
		!strings.Contains(mails[0].Data, "Content-Type: text/html") || !strings.Contains(mails[0].Data, "<h1>Segment review") ||
		strings.Contains(mails[0].Data, "<script") {
		t.Fatalf("%d mails: %+v", len(mails), mails)
	}
	hooks := hook.all()
	if len(hooks) != 1 || hook.bad != 0 || hooks[0]["kind"] != "review" || hooks[0]["link"] != link {
		t.Fatalf("webhook got %v (bad %d)", hooks, hook.bad)
	}
	data, _ := hooks[0]["data"].(map[string]any)
	if n, _ := data["profiles"].(float64); int(n) != profiles || profiles == 0 {
		t.Errorf("the webhook's review counts %v profiles, the store %d", data["profiles"], profiles)
	}
	segs, _ := data["segments"].([]any)
	if len(segs) == 0 {
		t.Error("the webhook's review has no segments")
	}
}
