package daemon_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestHubSpotEchoWebhookCostsNoRequest: the signed propertyChange webhook
// HubSpot sends for a value the connector wrote is stored, processed and
// costs HubSpot no request.
func TestHubSpotEchoWebhookCostsNoRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end webhook path against fake platforms")
	}
	ctx := context.Background()
	now := time.Now().UTC()
	sb, env, _ := startSandboxEnvAt(t, 60, now)
	_, base := startDaemon(t, env)
	if _, err := env.Cycle(ctx, now, nil); err != nil {
		t.Fatal(err)
	}
	// The daemon's drainers may still be writing what the cycle queued.
	apptest.WaitStoreQuiet(t, env.Store, 30*time.Second)
	prop := env.Pipeline.TargetIDs(sandbox.HubSpot)["prop:rfm_segment"]
	var id, value string
	ps, _ := env.Store.ListProfiles(ctx, "", 60)
	for _, p := range ps {
		for _, r := range p.Refs {
			if r.Platform == sandbox.HubSpot && r.ObjectType == domain.ObjectContact && value == "" {
				owned, _ := env.Store.Ownership(ctx, r)
				for _, o := range owned {
					if o.Target == "prop:rfm_segment" && o.Value != "" {
						id, value = r.ID, o.Value
					}
				}
			}
		}
	}
	if value == "" {
		t.Fatal("the connector owns no rfm_segment value on HubSpot")
	}
	hs, _ := sb.Endpoint(sandbox.HubSpot)
	url := base + "/webhooks/hubspot"
	body := []byte(fmt.Sprintf(`[{"eventId":7,"subscriptionId":8,"portalId":%s,"occurredAt":%d,"subscriptionType":"contact.propertyChange","objectId":%s,"propertyName":%q,"propertyValue":%q}]`,
		hs.Credentials["portal_id"], time.Now().UnixMilli(), id, prop, value))
	// Let the daemon's own loops settle after the cycle: no HubSpot
	// request for a second.
	last := -1
	testenv.Settle(t, 30*time.Second, time.Second, "HubSpot traffic stopping", func() bool {
		n := sb.HubSpotFake.Stats().Requests
		same := n == last
		last = n
		return same
	})
	before := sb.HubSpotFake.Stats().Requests
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	for k, v := range hubspotfake.Sign(hubspotfake.Signing{ClientSecret: hs.Credentials["client_secret"]}, http.MethodPost, url, body, time.Now()) {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook answered %d", resp.StatusCode)
	}
	testenv.Eventually(t, 10*time.Second, "the echo event's processing", func() bool {
		pending, err := env.Store.InboxPending(ctx, 10)
		return err == nil && len(pending) == 0
	})
	testenv.Consistently(t, 300*time.Millisecond, fmt.Sprintf("the echo of %s=%q costing HubSpot no request", prop, value), func() bool {
		return sb.HubSpotFake.Stats().Requests == before
	})
}
