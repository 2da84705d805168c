package salesforcefake

import (
	"fmt"
	"slices"
	"testing"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/fakekit"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// Harness is the conformance kit's harness for the Salesforce connector
// against this fake: a fresh fake per test, the connector's config for it
// and the fake's fault and inspection hooks. newAdapter makes the
// connector under test; it may be nil when a wrapper (a plugin process)
// sets Harness.New.
//
// Webhook is left nil: Outbound Messages carry no signature (authenticity
// is the OrganizationId and the secret URL segment), so the kit's "flip a
// bit of the body" negative does not apply; the connector's webhook tests
// cover the Salesforce-specific negatives instead.
func Harness(newAdapter func(testing.TB) adapter.Adapter) sdktest.Harness {
	return sdktest.Harness{
		Name: "salesforce",
		New:  newAdapter,
		Start: func(t testing.TB) *sdktest.Fake {
			f := New(Options{})
			f.Start()
			t.Cleanup(f.Close)
			const field = "conformance_segments__c"
			f.AddField("Contact", field, TypeTextArea)
			f.AddField("Lead", field, TypeTextArea)
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
				PageSize:    200, // the smallest batch the query API serves
				MaxPageSize: 2000,
				MissingID:   "003000000099999AAA",
				Seed: func(k int) ([]domain.ExternalRef, error) {
					ids := f.SeedContacts(k, func(int) map[string]any {
						n++
						return map[string]any{"Email": fmt.Sprintf("kit%d@example.com", n)}
					})
					refs := make([]domain.ExternalRef, len(ids))
					for i, id := range ids {
						refs[i] = domain.ExternalRef{Platform: "salesforce", Account: o.OrgID, ObjectType: domain.ObjectContact, ID: id}
					}
					return refs, nil
				},
				RateLimit: func(k int) { f.Inject(slices.Repeat([]fakekit.Fault{{Status: 429}}, k)...) },
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
