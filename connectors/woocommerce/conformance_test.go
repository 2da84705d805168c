package woocommerce

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/domain"
	"github.com/segconn/connector/plugins/sdktest"
)

func conformanceHarness() sdktest.Harness {
	return sdktest.Harness{
		Name: Name,
		New:  func(testing.TB) adapter.Adapter { return New(slog.New(slog.DiscardHandler)) },
		Start: func(t testing.TB) *sdktest.Fake {
			f := woocommercefake.New(woocommercefake.Options{})
			url := f.Start()
			t.Cleanup(f.Close)
			account := strings.TrimPrefix(url, "http://")
			cfg := baseConfig(url)
			cfg["webhooks"] = map[string]any{"secret": hookSecret}
			n := 0
			return &sdktest.Fake{
				Config:      cfg,
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
						refs = append(refs, domain.ExternalRef{Platform: Name, Account: account, ObjectType: domain.ObjectContact, ID: strconv.Itoa(id)})
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
						if strings.HasPrefix(k, DefaultMetaPrefix+"_list_") && v == listValue {
							lists = append(lists, k)
						}
					}
					return props, lists, nil
				},
				Webhook: func(ref domain.ExternalRef) adapter.WebhookRequest {
					h, body := f.SignedDelivery("customer.updated", atoi(ref.ID), hookSecret)
					return adapter.WebhookRequest{Method: "POST", URL: "http://127.0.0.1/hooks/woocommerce", Headers: h, Body: body, ReceivedAt: time.Now()}
				},
			}
		},
	}
}

func TestConformance(t *testing.T) {
	sdktest.RunConformance(t, conformanceHarness())
}

func TestConformanceOverGRPC(t *testing.T) {
	sdktest.RunConformance(t, sdktest.GRPC(conformanceHarness()))
}
