package hubspot

import (
	"testing"

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestLineItemsCarryCategory checks that a deal's and an order's line items
// bring the category property (mirrored from the product) to the rules.
func TestLineItemsCarryCategory(t *testing.T) {
	e := newEnv(t, hubspotfake.Options{}, nil)
	person := e.fake.Create("contacts", hubspotfake.Object{Properties: map[string]string{"email": "a@b.co"}})
	garden := e.fake.Create("line_items", hubspotfake.Object{Properties: map[string]string{"name": "Trowel", "price": "5", "quantity": "1", "category": "garden"}})
	plain := e.fake.Create("line_items", hubspotfake.Object{Properties: map[string]string{"name": "Thing", "price": "2", "quantity": "1"}})
	deal := e.fake.Create("deals", hubspotfake.Object{Properties: map[string]string{
		"dealname": "Spring", "amount": "7", "dealstage": "closedwon", "closedate": "2024-03-05T10:00:00.000Z", "deal_currency_code": "EUR"},
		Associations: map[string][]string{"contacts": {person}, "line_items": {garden, plain}}})
	pages, _ := e.pullAll(domain.ObjectDeal, "", false)
	var got *domain.Order
	for _, p := range pages {
		for _, ch := range p.Changes {
			if ch.Ref.ID == deal {
				got = ch.Order
			}
		}
	}
	if got == nil || len(got.Items) != 2 {
		t.Fatalf("deal %s pulled as %+v", deal, got)
	}
	cats := map[string]string{}
	for _, it := range got.Items {
		cats[it.Name] = it.Category
	}
	if cats["Trowel"] != "garden" || cats["Thing"] != "" {
		t.Fatalf("categories %v, want Trowel=garden and none for Thing", cats)
	}
}
