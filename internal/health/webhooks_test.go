package health

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// A webhook the platform disabled is reported in the status and logged
// once however often it is seen, and its recovery once more.
func TestWebhookStateIsLoggedOncePerChange(t *testing.T) {
	var logs bytes.Buffer
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	tr := New(Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Now: c.now}, "woocommerce")
	if w := state(t, tr, "woocommerce").Webhooks; w != nil {
		t.Fatalf("webhooks reported before any look: %+v", w)
	}
	off := adapter.WebhookHealth{Active: 5, Inactive: []adapter.WebhookSubscription{{ID: "4", Topic: "order.created", Status: "disabled"}}}
	for range 20 {
		tr.WebhooksSeen("woocommerce", off)
		c.t = c.t.Add(time.Minute)
	}
	w := state(t, tr, "woocommerce").Webhooks
	if w == nil || w.State != WebhooksInactive || len(w.Inactive) != 1 || w.Inactive[0].Status != "disabled" || !w.CheckedAt.Equal(c.t.Add(-time.Minute)) {
		t.Fatalf("after 20 looks at a disabled webhook: %+v", w)
	}
	if n := strings.Count(logs.String(), "webhooks do not deliver"); n != 1 {
		t.Fatalf("logged %d times, want once:\n%s", n, logs.String())
	}
	tr.WebhooksUnseen("woocommerce", errors.New("listing woocommerce webhooks: 503"))
	tr.WebhooksUnseen("woocommerce", errors.New("listing woocommerce webhooks: 503"))
	if w := state(t, tr, "woocommerce").Webhooks; w.State != WebhooksUnknown || len(w.Inactive) != 1 {
		t.Fatalf("a failed look forgets what was seen: %+v", w)
	}
	tr.WebhooksSeen("woocommerce", adapter.WebhookHealth{Active: 6, Reenabled: off.Inactive})
	tr.WebhooksSeen("woocommerce", adapter.WebhookHealth{Active: 6})
	out := logs.String()
	if strings.Count(out, "cannot see the platform's webhooks") != 1 || strings.Count(out, "re-enabled a webhook") != 1 || strings.Count(out, "webhooks deliver again") != 1 {
		t.Fatalf("want one line each for the failed look, the re-enable and the recovery:\n%s", out)
	}
	if w := state(t, tr, "woocommerce").Webhooks; w.State != WebhooksOK || w.Active != 6 {
		t.Fatalf("after the re-enable: %+v", w)
	}
}
