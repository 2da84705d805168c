package hubspot

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// subscription is one element of the webhooks API's subscription list.
type subscription struct {
	ID        json64 `json:"id"`
	EventType string `json:"eventType"`
	Active    bool   `json:"active"`
}

// json64 reads an id HubSpot sends as a number or a string.
type json64 string

func (j *json64) UnmarshalJSON(b []byte) error {
	s := string(b)
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	*j = json64(s)
	return nil
}

// WatchWebhooks implements adapter.WebhookWatcher: with webhooks.app_id
// and webhooks.developer_api_key it lists the app's subscriptions
// (GET /webhooks/v3/{appId}/subscriptions, authenticated by the developer
// API key) and reports those that are paused (active false), which send
// nothing. It never changes them: un-pausing is the app developer's call.
// Without both settings ok is false: a private app or an OAuth token
// cannot see its app's subscriptions.
func (c *Connector) WatchWebhooks(ctx context.Context) (adapter.WebhookHealth, bool, error) {
	st, err := c.state()
	if err != nil {
		return adapter.WebhookHealth{}, false, err
	}
	wc := st.cfg.Webhooks
	if wc.AppID == "" || wc.DeveloperAPIKey == "" {
		return adapter.WebhookHealth{}, false, nil
	}
	c.mu.RLock()
	dev := c.dev
	c.mu.RUnlock()
	var resp struct {
		Results []subscription `json:"results"`
	}
	u := st.url("/webhooks/v3/"+url.PathEscape(wc.AppID)+"/subscriptions") + "?" + url.Values{"hapikey": {wc.DeveloperAPIKey}}.Encode()
	if err := dev.DoJSON(ctx, http.MethodGet, u, nil, &resp); err != nil {
		return adapter.WebhookHealth{}, true, fmt.Errorf("listing hubspot webhook subscriptions: %w", err)
	}
	var h adapter.WebhookHealth
	for _, s := range resp.Results {
		if s.Active {
			h.Active++
			continue
		}
		h.Inactive = append(h.Inactive, adapter.WebhookSubscription{ID: string(s.ID), Topic: s.EventType, Status: "paused"})
	}
	return h, true, nil
}

// newDevClient is the client of the developer API: no app token, the key
// goes in the query (redacted from logs and errors as a secret).
func newDevClient(o httpkit.Options) *httpkit.Client {
	o.Auth = nil
	return httpkit.New(o)
}
