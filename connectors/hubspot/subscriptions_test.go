package hubspot

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// TestWatchWebhooksReportsPausedSubscriptions: with the app's id and the
// developer API key, the connector lists the app's webhook subscriptions
// (a request checked against HubSpot's webhooks spec) and reports the
// paused one, changing nothing and never logging the key; without them it
// says it cannot see subscriptions.
func TestWatchWebhooksReportsPausedSubscriptions(t *testing.T) {
	t.Parallel()
	const key = "dev-key-0123456789abcdef"
	e := newEnv(t, hubspotfake.Options{AppID: 1160452, DeveloperAPIKey: key},
		adapter.Config{"webhooks": map[string]any{"client_secret": "s", "app_id": "1160452", "developer_api_key": key}})
	e.fake.AddSubscription("contact.creation", true)
	paused := e.fake.AddSubscription("contact.propertyChange", true)
	e.fake.SetSubscriptionActive(paused, false)

	h, ok, err := e.conn.WatchWebhooks(context.Background())
	if err != nil || !ok {
		t.Fatalf("WatchWebhooks: ok=%v err=%v", ok, err)
	}
	want := adapter.WebhookSubscription{ID: strconv.FormatInt(paused, 10), Topic: "contact.propertyChange", Status: "paused"}
	if h.Active != 1 || len(h.Inactive) != 1 || h.Inactive[0] != want || h.Healthy() {
		t.Fatalf("got %+v, want one active and %+v", h, want)
	}
	if strings.Contains(e.logs.String(), key) {
		t.Fatal("the developer API key is in the log")
	}

	bare := newEnv(t, hubspotfake.Options{}, nil)
	if _, ok, err := bare.conn.WatchWebhooks(context.Background()); ok || err != nil {
		t.Fatalf("without app id and key: ok=%v err=%v, want not watched", ok, err)
	}
}
