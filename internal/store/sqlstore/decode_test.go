package sqlstore_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	fastjson "github.com/goccy/go-json"

	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestFastDecodingMatchesEncodingJSON: the decoder the full scan uses
// reads every stored profile and order document exactly as encoding/json
// (which writes them) does, down to time zones and empty collections.
func TestFastDecodingMatchesEncodingJSON(t *testing.T) {
	ds, err := sandbox.Generate(sandbox.GenOptions{Seed: 3, Customers: 300, AsOf: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	same := func(what string, v any, fresh func() (any, any)) {
		t.Helper()
		doc, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		want, got := fresh()
		if err := json.Unmarshal(doc, want); err != nil {
			t.Fatal(err)
		}
		if err := fastjson.Unmarshal(doc, got); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%s decodes differently:\nencoding/json %+v\ngo-json       %+v", what, want, got)
		}
	}
	orders := 0
	for _, recs := range []*sandbox.Records{&ds.WooCommerce, &ds.HubSpot, &ds.Salesforce} {
		for _, o := range recs.Orders {
			o.Items = nil // kept in their own table
			same("order "+o.Ref.Key(), o, func() (any, any) { return &domain.Order{}, &domain.Order{} })
			orders++
		}
	}
	for _, c := range ds.HubSpot.Contacts {
		p := domain.Profile{ID: "p-" + c.Ref.ID, Emails: c.Emails, Phones: c.Phones, FirstName: c.FirstName, Gender: c.Gender, BirthDate: c.BirthDate,
			LastName: c.LastName, Address: c.Address, Attributes: c.Attributes, Consent: c.Consent, LifecycleStage: c.LifecycleStage, Refs: []domain.ExternalRef{c.Ref},
			Sources: map[string]string{"email": c.Ref.Key()}, CreatedAt: c.Ref.LastModified.In(time.FixedZone("x", 3600)), UpdatedAt: c.Ref.LastModified}
		if len(ds.Companies) > 0 {
			p.Company = &ds.Companies[0]
		}
		same("profile "+p.ID, p, func() (any, any) { return &domain.Profile{}, &domain.Profile{} })
	}
	if orders == 0 || len(ds.HubSpot.Contacts) == 0 {
		t.Fatalf("%d orders and %d contacts compared", orders, len(ds.HubSpot.Contacts))
	}
}
