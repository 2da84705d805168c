package woocommercefake

import (
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

// The webhook secret and owned meta prefix of the conformance harness.
const (
	harnessHookSecret = "whsec_conformance"
	harnessMetaPrefix = "_kit"
)

// Harness is the conformance kit's harness for the WooCommerce connector
// against this fake: a fresh fake per test, the connector's config for it
// and the fake's fault and inspection hooks. newAdapter makes the
// connector under test; it may be nil when a wrapper (a plugin process)
// sets Harness.New. Lists are read back as the connector writes them:
// customer meta "<meta_prefix>_list_<name>" set to "yes".
func Harness(newAdapter func(testing.TB) adapter.Adapter) sdktest.Harness {
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	return sdktest.Harness{
		Name: "woocommerce",
		New:  newAdapter,
		Start: func(t testing.TB) *sdktest.Fake {
			f := New(Options{})
			url := f.Start()
			t.Cleanup(f.Close)
			account := strings.TrimPrefix(url, "http://")
			n := 0
			return &sdktest.Fake{
				Config: adapter.Config{
					"base_url": url, "consumer_key": "ck_test", "consumer_secret": "cs_test",
					"rate_limit": map[string]any{"requests_per_second": 100000, "burst": 1000},
					"retry":      map[string]any{"max": 6, "wait_min": "1ms", "wait_max": "5ms", "max_retry_after": "10ms"},
					"write_back": map[string]any{"meta_prefix": harnessMetaPrefix},
					"webhooks":   map[string]any{"secret": harnessHookSecret},
				},
				Object:      domain.ObjectContact,
				MaxPageSize: 100,
				LargeCount:  450,
				MissingID:   "99999999",
				Seed: func(k int) ([]domain.ExternalRef, error) {
					cs := make([]Customer, k)
					for i := range cs {
						n++
						cs[i] = Customer{Email: fmt.Sprintf("kit%d@example.com", n)}
					}
					var refs []domain.ExternalRef
					for _, id := range f.AddCustomers(cs...) {
						refs = append(refs, domain.ExternalRef{Platform: "woocommerce", Account: account, ObjectType: domain.ObjectContact, ID: strconv.Itoa(id)})
					}
					return refs, nil
				},
				RateLimit: func(k int) { f.Inject(slices.Repeat([]fakekit.Fault{{Status: 429, RetryAfter: "1"}}, k)...) },
				RejectPush: func(ref domain.ExternalRef) {
					f.FailCustomerUpdates("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.", 403, atoi(ref.ID))
				},
				Membership: func(ref domain.ExternalRef) (map[string]string, []string, error) {
					props := map[string]string{}
					var lists []string
					for k, v := range f.CustomerMeta(atoi(ref.ID)) {
						props[k] = fmt.Sprint(v)
						if strings.HasPrefix(k, harnessMetaPrefix+"_list_") && v == "yes" {
							lists = append(lists, k)
						}
					}
					return props, lists, nil
				},
				Webhook: func(ref domain.ExternalRef) adapter.WebhookRequest {
					h, body := f.SignedDelivery("customer.updated", atoi(ref.ID), harnessHookSecret)
					return adapter.WebhookRequest{Method: "POST", URL: "http://127.0.0.1/hooks/woocommerce", Headers: h, Body: body, ReceivedAt: time.Now()}
				},
			}
		},
	}
}
