package salesforce

import (
	"testing"

	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestLineItemsCarryProductFamily checks that opportunities and orders get
// their OpportunityLineItem/OrderItem rows as line items, categorised by
// Product2.Family, on a pull and on a Fetch.
func TestLineItemsCarryProductFamily(t *testing.T) {
	f := startFake(t, salesforcefake.Options{})
	ct := f.Insert("Contact", map[string]any{"LastName": "Buyer", "Email": "b@example.com"})
	drill := f.Insert("Product2", map[string]any{"Name": "Drill", "ProductCode": "DR-1", "Family": "Hardware"})
	plan := f.Insert("Product2", map[string]any{"Name": "Support plan", "ProductCode": "SP-1"})
	opp := f.Insert("Opportunity", map[string]any{"Name": "Tools", "Amount": "259.98", "StageName": "Closed Won",
		"IsWon": true, "IsClosed": true, "CloseDate": "2026-03-01", "ContactId": ct})
	f.Insert("OpportunityLineItem", map[string]any{"OpportunityId": opp, "Product2Id": drill, "Quantity": 2.0, "UnitPrice": "99.99"})
	f.Insert("OpportunityLineItem", map[string]any{"OpportunityId": opp, "Product2Id": plan, "Quantity": 1.0, "UnitPrice": "60"})
	ord := f.Insert("Order", map[string]any{"Status": "Activated", "EffectiveDate": "2026-03-02", "TotalAmount": "99.99", "BillToContactId": ct})
	f.Insert("OrderItem", map[string]any{"OrderId": ord, "Product2Id": drill, "Quantity": 1.0, "UnitPrice": "99.99"})
	c, _ := newConn(t, f, map[string]any{"objects": map[string]any{"orders": true}})

	check := func(how string, changes []adapter.Change) {
		t.Helper()
		byID := map[string]*domain.Order{}
		for _, ch := range changes {
			if ch.Order != nil {
				byID[ch.Ref.ID] = ch.Order
			}
		}
		o := byID[opp]
		if o == nil || len(o.Items) != 2 {
			t.Fatalf("%s: opportunity %s mapped as %+v", how, opp, o)
		}
		got := map[string]domain.LineItem{}
		for _, it := range o.Items {
			got[it.SKU] = it
		}
		if d := got["DR-1"]; d.Category != "Hardware" || d.Name != "Drill" || d.Quantity != 2 || d.UnitPrice.Amount != 9999 {
			t.Errorf("%s: drill line %+v", how, d)
		}
		if p := got["SP-1"]; p.Category != "" || p.Quantity != 1 || p.UnitPrice.Amount != 6000 {
			t.Errorf("%s: plan line %+v", how, p)
		}
		if o := byID[ord]; o == nil || len(o.Items) != 1 || o.Items[0].Category != "Hardware" {
			t.Fatalf("%s: order %s mapped as %+v", how, ord, o)
		}
	}
	check("pull", pullAll(t, c, domain.ObjectOrder, "", 0).changes)
	fetched, err := c.Fetch(ctxT(t), adapter.FetchRequest{Object: domain.ObjectOrder, IDs: []string{opp, ord}})
	if err != nil {
		t.Fatal(err)
	}
	check("fetch", fetched)
}
