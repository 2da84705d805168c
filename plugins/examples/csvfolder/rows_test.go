package csvfolder_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segconn/connector/plugins/examples/csvfolder"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func pullAll(t *testing.T, a *csvfolder.Adapter, object string) ([]adapter.Change, []adapter.Rejected) {
	t.Helper()
	var cs []adapter.Change
	var rs []adapter.Rejected
	err := a.Pull(context.Background(), adapter.PullRequest{Object: object}, func(_ context.Context, p adapter.Page) error {
		cs = append(cs, p.Changes...)
		rs = append(rs, p.Quarantined...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return cs, rs
}

// A malformed row is quarantined with its file, line and column; the
// rows around it arrive intact and exactly.
func TestBadRowsAreQuarantinedAndTheRestArrive(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, csvfolder.OrdersFile, "\ufeffID,Customer_ID,Email,Created_At,Status,Currency,Total,Refunded,SKU,Quantity\n"+
		"o1,c1,A@X.test,2025-01-02,paid,EUR,\"1,234.56\",,sku-1,2\n"+
		"o2,c1,,2025-01-03,completed,,12.5,abc,,\n"+
		"o3,c2,,2025-01-04,lost-in-post,,3,,,\n"+
		"o4,c2,,not-a-date,completed,,3,,,\n"+
		"o5,c3,,2025-01-05 10:30,refunded,JPY,1000,1000,,\n")
	a := csvfolder.New()
	if err := a.Configure(context.Background(), adapter.Config{"folder": dir, "currency": "usd"}); err != nil {
		t.Fatal(err)
	}
	cs, rs := pullAll(t, a, domain.ObjectOrder)
	if len(cs) != 2 || len(rs) != 3 {
		t.Fatalf("got %d orders and %d quarantined, want 2 and 3", len(cs), len(rs))
	}
	o1 := cs[0].Order
	if o1.Ref.ID != "o1" || o1.Total != (domain.Money{Amount: 123456, Currency: "EUR"}) || o1.Status != domain.StatusProcessing ||
		o1.BillingEmail != "a@x.test" || o1.CustomerRef.ID != "c1" || len(o1.Items) != 1 || o1.Items[0].Quantity != 2 {
		t.Errorf("o1 = %+v", o1)
	}
	o5 := cs[1].Order
	if o5.Total != (domain.Money{Amount: 1000, Currency: "JPY"}) || o5.Net().Amount != 0 || o5.CreatedAt.Hour() != 10 {
		t.Errorf("o5 = %+v", o5)
	}
	want := map[string]string{
		"o2": "orders.csv line 3 column refunded",
		"o3": `orders.csv line 4 column status: "lost-in-post" is not an order status`,
		"o4": "orders.csv line 5 column created_at",
	}
	for _, r := range rs {
		if !strings.Contains(r.Reason, want[r.Ref.ID]) || want[r.Ref.ID] == "" {
			t.Errorf("quarantined %s: %q, want it to contain %q", r.Ref.ID, r.Reason, want[r.Ref.ID])
		}
	}
}

func TestContactsMapColumnsAndExtraAttributes(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, csvfolder.CustomersFile, "id,email,first_name,country,email_consent,company,loyalty_tier,updated_at\n"+
		"c1, Ann@Example.COM ; ann.work@example.com ,Ann,nl,yes,Acme,gold,2025-02-01T10:00:00Z\n")
	a := csvfolder.New()
	if err := a.Configure(context.Background(), adapter.Config{"folder": dir}); err != nil {
		t.Fatal(err)
	}
	cs, rs := pullAll(t, a, domain.ObjectContact)
	if len(cs) != 1 || len(rs) != 0 {
		t.Fatalf("got %d contacts, %d quarantined", len(cs), len(rs))
	}
	c := cs[0].Contact
	if strings.Join(c.Emails, ",") != "ann@example.com,ann.work@example.com" || c.Address.Country != "NL" ||
		c.Consent.Email != domain.ConsentGranted || c.Company == nil || c.Company.Name != "Acme" || c.Attributes["loyalty_tier"] != "gold" {
		t.Errorf("contact = %+v", c)
	}
}

func TestValidateConfigNamesEveryProblem(t *testing.T) {
	ds, err := csvfolder.New().ValidateConfig(context.Background(), adapter.Config{"currency": "euro", "colour": "red", "account": 7})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, d := range ds {
		got[d.Path] = true
	}
	for _, p := range []string{"folder", "currency", "colour", "account"} {
		if !got[p] {
			t.Errorf("no diagnostic for %s in %v", p, ds)
		}
	}
	err = csvfolder.New().Configure(context.Background(), adapter.Config{"folder": filepath.Join(t.TempDir(), "missing")})
	if adapter.KindOf(err) != adapter.KindPermanent {
		t.Errorf("Configure with a missing folder: %v", err)
	}
}
