package hubspotfake

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/fakekit"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// The credentials and webhook URL of the conformance harness.
const (
	harnessToken  = "pat-na1-11111111-2222-3333-4444-555555555555"
	harnessSecret = "hubspot-app-secret-for-conformance"
	harnessHook   = "https://connector.example/webhooks/hubspot"
)

// Harness is the conformance kit's harness for the HubSpot connector
// against this fake: a fresh fake per test, the connector's config for it
// and the fake's fault and inspection hooks. newAdapter makes the
// connector under test; it may be nil when a wrapper (a plugin process)
// sets Harness.New. The fake's budgets are generous so the kit's tests
// are not paced; pacing has its own tests.
func Harness(newAdapter func(testing.TB) adapter.Adapter) sdktest.Harness {
	return sdktest.Harness{
		Name: "hubspot",
		New:  newAdapter,
		Start: func(t testing.TB) *sdktest.Fake {
			f := New(Options{Tokens: []string{harnessToken}, BurstMax: 2000, BurstInterval: time.Second, SearchPerSecond: 400})
			base := f.Start()
			t.Cleanup(f.Close)
			event := int64(0)
			seq := 0
			return &sdktest.Fake{
				Config: adapter.Config{
					"base_url":   base,
					"token":      harnessToken,
					"search_lag": "0s",
					"rate_limit": map[string]any{"requests": 2000, "interval": "1s", "search_per_second": 400},
					"retry":      map[string]any{"max": 8, "wait_min": "1ms", "wait_max": "20ms"},
					"webhooks":   map[string]any{"client_secret": harnessSecret},
				},
				Object:      domain.ObjectContact,
				MaxPageSize: 200,
				LargeCount:  450,
				Seed: func(k int) ([]domain.ExternalRef, error) {
					ids := f.CreateMany("contacts", k, func(int) Object {
						seq++
						return Object{Properties: map[string]string{"email": fmt.Sprintf("kit%d@example.com", seq)}}
					})
					refs := make([]domain.ExternalRef, len(ids))
					for i, id := range ids {
						refs[i] = domain.ExternalRef{Platform: "hubspot", ObjectType: domain.ObjectContact, ID: id}
					}
					return refs, nil
				},
				RateLimit:  func(k int) { f.Inject(slices.Repeat([]fakekit.Fault{{Status: 429}}, k)...) },
				RejectPush: func(ref domain.ExternalRef) { f.FailUpdatesFor("OBJECT_NOT_FOUND", ref.ID) },
				Membership: func(ref domain.ExternalRef) (map[string]string, []string, error) {
					o, ok := f.Get("contacts", ref.ID)
					if !ok {
						return nil, nil, fmt.Errorf("no contact %s", ref.ID)
					}
					var lists []string
					if id, ok := f.ListID("conformance alpha"); ok && slices.Contains(f.ListMembers(id), ref.ID) {
						lists = append(lists, id)
					}
					// Only the written properties: HubSpot bumps its own
					// modification properties on every write.
					props := map[string]string{}
					for k, v := range o.Properties {
						if strings.Contains(k, "conformance") {
							props[k] = v
						}
					}
					return props, lists, nil
				},
				Webhook: func(ref domain.ExternalRef) adapter.WebhookRequest {
					event++
					now := time.Now()
					id, _ := strconv.ParseInt(ref.ID, 10, 64)
					body, _ := json.Marshal([]Event{{EventID: event, SubscriptionID: 1, PortalID: f.PortalID(), AppID: 1,
						OccurredAt: now.UnixMilli(), SubscriptionType: "contact.propertyChange", AttemptNumber: 0, ObjectID: id,
						PropertyName: "email", PropertyValue: "x@example.com", ChangeSource: "CRM"}})
					h := Sign(Signing{ClientSecret: harnessSecret}, "POST", harnessHook, body, now)
					h.Set("Content-Type", "application/json")
					return adapter.WebhookRequest{Method: "POST", URL: harnessHook, Headers: h, Body: body, ReceivedAt: now}
				},
			}
		},
	}
}
