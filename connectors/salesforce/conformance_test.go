package salesforce

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/domain"
	"github.com/segconn/connector/plugins/sdktest"
)

// conformanceHarness runs the shared adapter kit against the fake.
// Webhook is left nil: Outbound Messages carry no signature (authenticity
// is the OrganizationId and the secret URL segment), so the kit's
// "flip a bit of the body" negative does not apply; webhook_test.go
// covers the Salesforce-specific negatives instead.
func conformanceHarness() sdktest.Harness {
	return sdktest.Harness{
		Name: Name,
		New:  func(testing.TB) adapter.Adapter { return New(slog.New(slog.DiscardHandler)) },
		Start: func(t testing.TB) *sdktest.Fake {
			f := startFake(t, salesforcefake.Options{})
			const field = "conformance_segments__c"
			f.AddField("Contact", field, salesforcefake.TypeTextArea)
			f.AddField("Lead", field, salesforcefake.TypeTextArea)
			org := f.Options().OrgID
			n := 0
			return &sdktest.Fake{
				Config:      baseConfig(f),
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
						refs[i] = domain.ExternalRef{Platform: Name, Account: org, ObjectType: domain.ObjectContact, ID: id}
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

func TestConformance(t *testing.T) {
	t.Parallel()
	sdktest.RunConformance(t, conformanceHarness())
}

func TestConformanceOverGRPC(t *testing.T) {
	t.Parallel()
	sdktest.RunConformance(t, sdktest.GRPC(conformanceHarness()))
}
