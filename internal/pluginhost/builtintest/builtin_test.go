// Package builtintest runs the conformance kit against the three built-in
// connectors through the plugin boundary: each is served by a real plugin
// process (the same ServeBuiltin path as `connector plugin-serve`) and
// reached through pluginhost, as the daemon would reach a third-party
// plugin. Their in-process and in-memory gRPC runs live in each
// connector's own conformance_test.go.
package builtintest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/connectors/hubspot"
	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/connectors/salesforce"
	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/connectors/woocommerce"
	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/domain"
	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/plugins/sdktest"
)

var serveBin string

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "builtintest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	serveBin = filepath.Join(dir, "serve")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", serveBin, "./testdata/serve").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the built-in plugin server: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// throughPlugin replaces h.New with the built-in name served by a plugin
// process under pluginhost.
func throughPlugin(h sdktest.Harness, name string) sdktest.Harness {
	h.Name += "/plugin-process"
	h.New = func(t testing.TB) adapter.Adapter {
		sum, err := pluginhost.FileSHA256(serveBin)
		if err != nil {
			t.Fatal(err)
		}
		p, err := pluginhost.Open(context.Background(), pluginhost.Spec{
			Name: name, Path: serveBin, SHA256: sum, Args: []string{name}, AllowEnv: []string{"TZ"},
		}, pluginhost.Options{})
		if err != nil {
			t.Fatalf("starting built-in %s as a plugin: %v", name, err)
		}
		return p
	}
	return h
}

func TestSalesforceThroughPlugin(t *testing.T) {
	t.Parallel()
	sdktest.RunConformance(t, throughPlugin(salesforceHarness(), salesforce.Name))
}

func TestWooCommerceThroughPlugin(t *testing.T) {
	t.Parallel()
	sdktest.RunConformance(t, throughPlugin(woocommerceHarness(), woocommerce.Name))
}

func TestHubSpotThroughPlugin(t *testing.T) {
	t.Parallel()
	sdktest.RunConformance(t, throughPlugin(hubspotHarness(), hubspot.Name))
}

// HubSpot's package has no conformance test of its own yet, so its
// in-process and in-memory gRPC runs are here.
func TestHubSpotInProcess(t *testing.T) {
	t.Parallel()
	sdktest.RunConformance(t, hubspotHarness())
}

func TestHubSpotOverGRPC(t *testing.T) {
	t.Parallel()
	sdktest.RunConformance(t, sdktest.GRPC(hubspotHarness()))
}

// The harnesses below mirror those in each connector's conformance_test.go
// (which are unexported): the fake, its config and its fault hooks.

func salesforceHarness() sdktest.Harness {
	return sdktest.Harness{
		Name: salesforce.Name,
		Start: func(t testing.TB) *sdktest.Fake {
			f := salesforcefake.New(salesforcefake.Options{}).Start()
			t.Cleanup(f.Close)
			const field = "conformance_segments__c"
			f.AddField("Contact", field, salesforcefake.TypeTextArea)
			f.AddField("Lead", field, salesforcefake.TypeTextArea)
			o := f.Options()
			n := 0
			return &sdktest.Fake{
				Config: adapter.Config{
					"base_url":        f.URL(),
					"auth":            map[string]any{"client_id": o.ClientID, "client_secret": o.ClientSecret, "refresh_token": o.RefreshToken},
					"organization_id": o.OrgID,
					"bulk":            map[string]any{"threshold": 0, "poll_interval": "1ms"},
					"rate":            map[string]any{"requests_per_second": 10000, "burst": 1000},
					"http":            map[string]any{"retry_wait_min": "1ms", "retry_wait_max": "5ms"},
				},
				Object:      domain.ObjectContact,
				PageSize:    200,
				MaxPageSize: 2000,
				MissingID:   "003000000099999AAA",
				Seed: func(k int) ([]domain.ExternalRef, error) {
					ids := f.SeedContacts(k, func(int) map[string]any {
						n++
						return map[string]any{"Email": fmt.Sprintf("kit%d@example.com", n)}
					})
					refs := make([]domain.ExternalRef, len(ids))
					for i, id := range ids {
						refs[i] = domain.ExternalRef{Platform: salesforce.Name, Account: o.OrgID, ObjectType: domain.ObjectContact, ID: id}
					}
					return refs, nil
				},
				RateLimit: func(k int) { f.InjectFault(salesforcefake.Fault{Status: 429}, k) },
				RejectPush: func(ref domain.ExternalRef) {
					f.FailRecord(ref.ID, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Segments cannot be set on this contact", field)
				},
				Membership: func(ref domain.ExternalRef) (map[string]string, []string, error) {
					rec := f.Get("Contact", ref.ID)
					if rec == nil {
						return nil, nil, fmt.Errorf("no contact %s", ref.ID)
					}
					props := map[string]string{}
					if v, ok := rec[field].(string); ok {
						props[field] = v
					}
					var lists []string
					for _, c := range f.Records("Campaign") {
						id := c["Id"].(string)
						if _, member := f.CampaignMembers(id)[ref.ID]; member {
							lists = append(lists, id)
						}
					}
					return props, lists, nil
				},
			}
		},
	}
}

const wooHookSecret = "whsec_conformance"

func woocommerceHarness() sdktest.Harness {
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	return sdktest.Harness{
		Name: woocommerce.Name,
		Start: func(t testing.TB) *sdktest.Fake {
			f := woocommercefake.New(woocommercefake.Options{})
			url := f.Start()
			t.Cleanup(f.Close)
			account := strings.TrimPrefix(url, "http://")
			n := 0
			return &sdktest.Fake{
				Config: adapter.Config{
					"base_url": url, "consumer_key": "ck_test", "consumer_secret": "cs_test",
					"rate_limit": map[string]any{"requests_per_second": 100000, "burst": 1000},
					"retry":      map[string]any{"max": 6, "wait_min": "1ms", "wait_max": "5ms", "max_retry_after": "10ms"},
					"webhooks":   map[string]any{"secret": wooHookSecret},
				},
				Object:      domain.ObjectContact,
				MaxPageSize: 100,
				LargeCount:  450,
				MissingID:   "99999999",
				Seed: func(k int) ([]domain.ExternalRef, error) {
					cs := make([]woocommercefake.Customer, k)
					for i := range cs {
						n++
						cs[i] = woocommercefake.Customer{Email: fmt.Sprintf("kit%d@example.com", n)}
					}
					var refs []domain.ExternalRef
					for _, id := range f.AddCustomers(cs...) {
						refs = append(refs, domain.ExternalRef{Platform: woocommerce.Name, Account: account, ObjectType: domain.ObjectContact, ID: strconv.Itoa(id)})
					}
					return refs, nil
				},
				RateLimit: func(k int) { f.Fail429(k) },
				RejectPush: func(ref domain.ExternalRef) {
					f.FailCustomerUpdates("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.", 403, atoi(ref.ID))
				},
				Membership: func(ref domain.ExternalRef) (map[string]string, []string, error) {
					props := map[string]string{}
					var lists []string
					for k, v := range f.CustomerMeta(atoi(ref.ID)) {
						props[k] = fmt.Sprint(v)
						if strings.HasPrefix(k, woocommerce.DefaultMetaPrefix+"_list_") && v == "yes" {
							lists = append(lists, k)
						}
					}
					return props, lists, nil
				},
				Webhook: func(ref domain.ExternalRef) adapter.WebhookRequest {
					h, body := f.SignedDelivery("customer.updated", atoi(ref.ID), wooHookSecret)
					return adapter.WebhookRequest{Method: "POST", URL: "http://127.0.0.1/hooks/woocommerce", Headers: h, Body: body, ReceivedAt: time.Now()}
				},
			}
		},
	}
}

const (
	hubToken  = "pat-na1-11111111-2222-3333-4444-555555555555"
	hubSecret = "hubspot-app-secret-for-conformance"
	hubHook   = "https://connector.example/webhooks/hubspot"
)

func hubspotHarness() sdktest.Harness {
	return sdktest.Harness{
		Name: hubspot.Name,
		New:  func(testing.TB) adapter.Adapter { return hubspot.New(slog.New(slog.DiscardHandler)) },
		Start: func(t testing.TB) *sdktest.Fake {
			f := hubspotfake.New(hubspotfake.Options{Tokens: []string{hubToken}, BurstMax: 2000, BurstInterval: time.Second, SearchPerSecond: 400})
			base, stop := f.Start()
			t.Cleanup(stop)
			event := int64(0)
			seq := 0
			return &sdktest.Fake{
				Config: adapter.Config{
					"base_url":   base,
					"token":      hubToken,
					"search_lag": "0s",
					"rate_limit": map[string]any{"requests": 2000, "interval": "1s", "search_per_second": 400},
					"retry":      map[string]any{"max": 8, "wait_min": "1ms", "wait_max": "20ms"},
					"webhooks":   map[string]any{"client_secret": hubSecret},
				},
				Object:      domain.ObjectContact,
				MaxPageSize: 200,
				LargeCount:  450,
				Seed: func(k int) ([]domain.ExternalRef, error) {
					ids := f.CreateMany("contacts", k, func(int) hubspotfake.Object {
						seq++
						return hubspotfake.Object{Properties: map[string]string{"email": fmt.Sprintf("kit%d@example.com", seq)}}
					})
					refs := make([]domain.ExternalRef, len(ids))
					for i, id := range ids {
						refs[i] = domain.ExternalRef{Platform: hubspot.Name, ObjectType: domain.ObjectContact, ID: id}
					}
					return refs, nil
				},
				RateLimit:  func(k int) { f.FailNext(slices.Repeat([]int{429}, k)...) },
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
					body, _ := json.Marshal([]hubspotfake.Event{{EventID: event, SubscriptionID: 1, PortalID: f.PortalID(), AppID: 1,
						OccurredAt: now.UnixMilli(), SubscriptionType: "contact.propertyChange", AttemptNumber: 0, ObjectID: id,
						PropertyName: "email", PropertyValue: "x@example.com", ChangeSource: "CRM"}})
					h := hubspotfake.Sign(hubspotfake.Signing{ClientSecret: hubSecret}, "POST", hubHook, body, now)
					h.Set("Content-Type", "application/json")
					return adapter.WebhookRequest{Method: "POST", URL: hubHook, Headers: h, Body: body, ReceivedAt: now}
				},
			}
		},
	}
}
