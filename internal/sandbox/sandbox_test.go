package sandbox

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/segconn/connector/connectors/hubspot"
	"github.com/segconn/connector/connectors/salesforce"
	"github.com/segconn/connector/connectors/woocommerce"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func startSandbox(t *testing.T, customers int) *Sandbox {
	t.Helper()
	sb, err := Start(context.Background(), Options{Seed: 3, Customers: customers, AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb
}

func newConnector(platform string) adapter.Adapter {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	switch platform {
	case HubSpot:
		return hubspot.New(log)
	case Salesforce:
		return salesforce.New(log)
	default:
		return woocommerce.New(log)
	}
}

// pullAll pulls every object type the connector offers and returns the
// upserts by object type.
func pullAll(t *testing.T, a adapter.Adapter) map[string][]adapter.Change {
	t.Helper()
	ctx := context.Background()
	desc, err := a.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]adapter.Change{}
	for _, obj := range desc.Capabilities.Objects {
		err := a.Pull(ctx, adapter.PullRequest{Object: obj}, func(_ context.Context, p adapter.Page) error {
			for _, q := range p.Quarantined {
				t.Errorf("%s %s quarantined: %s", desc.Name, q.Ref.Key(), q.Reason)
			}
			for _, c := range p.Changes {
				if c.Kind == adapter.ChangeUpsert {
					out[obj] = append(out[obj], c)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("pulling %s %s: %v", desc.Name, obj, err)
		}
	}
	return out
}

// TestConnectorsPullSeededData points each real connector at its fake
// with the sandbox's config and checks every seeded record comes back.
func TestConnectorsPullSeededData(t *testing.T) {
	sb := startSandbox(t, 300)
	for _, p := range Platforms {
		t.Run(p, func(t *testing.T) {
			ctx := context.Background()
			ep, _ := sb.Endpoint(p)
			a := newConnector(p)
			if ds, err := a.ValidateConfig(ctx, ep.Config); err != nil || hasError(ds) {
				t.Fatalf("sandbox config for %s is invalid: %v %v", p, ds, err)
			}
			if err := a.Configure(ctx, ep.Config); err != nil {
				t.Fatal(err)
			}
			defer a.Close(ctx)
			got := pullAll(t, a)
			want := sb.Data.Platform(p)
			counts := map[string]int{}
			emails := map[string]bool{}
			for obj, cs := range got {
				counts[obj] = len(cs)
				for _, c := range cs {
					if c.Contact != nil && len(c.Contact.Emails) > 0 {
						emails[domain.NormalizeEmail(c.Contact.Emails[0])] = true
					}
				}
			}
			t.Logf("%s pulled %v", p, counts)
			if n := counts[domain.ObjectContact]; n != len(want.Contacts) {
				t.Errorf("%d contacts pulled, %d seeded", n, len(want.Contacts))
			}
			orders := counts[domain.ObjectOrder] + counts[domain.ObjectDeal]
			if orders != len(want.Orders) {
				t.Errorf("%d orders and deals pulled, %d seeded", orders, len(want.Orders))
			}
			if n, ok := counts[domain.ObjectCompany]; ok && n != len(want.Companies) {
				t.Errorf("%d companies pulled, %d seeded", n, len(want.Companies))
			}
			for _, c := range want.Contacts {
				if !emails[domain.NormalizeEmail(c.Emails[0])] {
					t.Fatalf("seeded %s contact %s (%s) not pulled", p, c.Ref.ID, c.Emails[0])
				}
			}
			checkFields(t, sb, p, got)
		})
	}
}

// checkFields compares what the connector mapped with what was seeded.
func checkFields(t *testing.T, sb *Sandbox, platform string, got map[string][]adapter.Change) {
	t.Helper()
	want := sb.Data.Platform(platform)
	fakeID := func(id string) string {
		if platform == Salesforce {
			id, _ = sb.SalesforceID(id)
		}
		return id
	}
	contacts := map[string]domain.Contact{}
	for _, c := range want.Contacts {
		contacts[fakeID(c.Ref.ID)] = c
	}
	orders := map[string]domain.Order{}
	for _, o := range want.Orders {
		orders[fakeID(o.Ref.ID)] = o
	}
	companies := map[string]domain.Company{}
	for _, c := range want.Companies {
		companies[fakeID(c.Ref.ID)] = c
	}
	for _, ch := range got[domain.ObjectContact] {
		g := ch.Contact
		w, ok := contacts[g.Ref.ID]
		if !ok {
			t.Fatalf("%s contact %s was not seeded", platform, g.Ref.ID)
		}
		if g.Emails[0] != strings.TrimSpace(w.Emails[0]) || g.FirstName != w.FirstName || g.LastName != w.LastName ||
			g.Address.Country != w.Address.Country || g.Address.City != w.Address.City {
			t.Fatalf("%s contact %s mapped as %+v, seeded %+v", platform, g.Ref.ID, g, w)
		}
		if platform != WooCommerce && fakeID(w.CompanyRef.ID) != g.CompanyRef.ID {
			t.Fatalf("%s contact %s company %q, seeded %q", platform, g.Ref.ID, g.CompanyRef.ID, fakeID(w.CompanyRef.ID))
		}
		if platform == HubSpot && (g.Gender != w.Gender || g.BirthDate != w.BirthDate || g.LifecycleStage != w.LifecycleStage) {
			t.Fatalf("hubspot contact %s demographics %q %q %q, seeded %q %q %q", g.Ref.ID,
				g.Gender, g.BirthDate, g.LifecycleStage, w.Gender, w.BirthDate, w.LifecycleStage)
		}
		if platform == Salesforce && g.Ref.ObjectType != w.Ref.ObjectType {
			t.Fatalf("salesforce %s pulled as %s, seeded as %s", g.Ref.ID, g.Ref.ObjectType, w.Ref.ObjectType)
		}
	}
	for _, ch := range append(got[domain.ObjectOrder], got[domain.ObjectDeal]...) {
		g := ch.Order
		w, ok := orders[g.Ref.ID]
		if !ok {
			t.Fatalf("%s order %s was not seeded", platform, g.Ref.ID)
		}
		if g.Total != w.Total || g.Status != w.Status || fakeID(w.CustomerRef.ID) != g.CustomerRef.ID && platform != HubSpot {
			t.Fatalf("%s order %s mapped as %s %s customer %q, seeded %s %s customer %q", platform, g.Ref.ID,
				g.Total, g.Status, g.CustomerRef.ID, w.Total, w.Status, fakeID(w.CustomerRef.ID))
		}
		if platform == WooCommerce {
			if g.Device != w.Device || g.Channel != w.Channel || g.Refunded != w.Refunded || len(g.Items) != len(w.Items) ||
				domain.NormalizeEmail(g.BillingEmail) != domain.NormalizeEmail(w.BillingEmail) || !g.CreatedAt.Equal(w.CreatedAt) {
				t.Fatalf("woocommerce order %s mapped as %+v, seeded %+v", g.Ref.ID, g, w)
			}
			for i := range g.Items {
				if g.Items[i].Category != w.Items[i].Category {
					t.Fatalf("woocommerce order %s item %d category %q, seeded %q", g.Ref.ID, i, g.Items[i].Category, w.Items[i].Category)
				}
			}
		}
	}
	for _, ch := range got[domain.ObjectCompany] {
		g := ch.Company
		w, ok := companies[g.Ref.ID]
		if !ok {
			t.Fatalf("%s company %s was not seeded", platform, g.Ref.ID)
		}
		if g.Name != w.Name || g.Employees != w.Employees || g.AnnualRevenue.Amount != w.AnnualRevenue.Amount || g.Country != w.Country {
			t.Fatalf("%s company %s mapped as %+v, seeded %+v", platform, g.Ref.ID, g, w)
		}
	}
}

func hasError(ds []adapter.Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == adapter.SeverityError {
			return true
		}
	}
	return false
}

func TestListenLoopbackOnly(t *testing.T) {
	_, err := Start(context.Background(), Options{Seed: 1, Customers: 10, AsOf: asOf, Listen: map[string]string{HubSpot: "0.0.0.0:0"}})
	if err == nil || !strings.Contains(err.Error(), "loopback only") {
		t.Fatalf("Start on 0.0.0.0 = %v", err)
	}
	_, err = Start(context.Background(), Options{Seed: 1, Customers: 10, AsOf: asOf, Listen: map[string]string{"shopify": "127.0.0.1:0"}})
	if err == nil || !strings.Contains(err.Error(), `unknown platform "shopify"`) {
		t.Fatalf("Start with unknown platform = %v", err)
	}
}

var _ = fmt.Sprint
