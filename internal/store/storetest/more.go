package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// testEmailChange: a record that changes its address releases the old one.
func testEmailChange(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	apply(t, s, "hubspot", "contact", contact("hubspot", "1", "old@example.com", "Kim", t0))
	p := mustProfileByEmail(t, s, "old@example.com")
	apply(t, s, "hubspot", "contact", contact("hubspot", "1", "new@example.com", "Kim", t0.Add(time.Hour)))
	if _, err := s.ProfileByEmail(ctx, "old@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("old address still finds a profile: %v", err)
	}
	if got := mustProfileByEmail(t, s, "new@example.com"); got.ID != p.ID || !slices.Equal(got.Emails, []string{"new@example.com"}) {
		t.Errorf("after the change: %+v; want profile %s with the new address only", got, p.ID)
	}
	// Someone else may now use the old address without joining Kim.
	apply(t, s, "salesforce", "contact", contact("salesforce", "S1", "old@example.com", "Lou", t0.Add(2*time.Hour)))
	if n, _ := s.CountProfiles(ctx); n != 2 {
		t.Errorf("CountProfiles = %d, want 2", n)
	}
}

// testDeletedPersonReturns: when every record of a profile is deleted the
// profile keeps its last state, and the person is recognised on return.
func testDeletedPersonReturns(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	apply(t, s, "woocommerce", "contact", contact("woocommerce", "5", "max@example.com", "Max", t0))
	apply(t, s, "woocommerce", "order", order("woocommerce", "w5", ref("woocommerce", domain.ObjectContact, "5"), "", t0, 800))
	p := mustProfileByEmail(t, s, "max@example.com")
	apply(t, s, "woocommerce", "contact", adapter.Change{Kind: adapter.ChangeDelete, Ref: ref("woocommerce", domain.ObjectContact, "5")})
	after, err := s.Profile(ctx, p.ID)
	if err != nil || after.FirstName != "Max" || len(after.Refs) != 0 {
		t.Fatalf("profile after its only record was deleted: %+v, %v; want the last state kept, no active refs", after, err)
	}
	res := apply(t, s, "hubspot", "contact", contact("hubspot", "77", "MAX@example.com", "Maximilian", t0.Add(time.Hour)))
	if len(res.Created) != 0 {
		t.Errorf("a returning person got a new profile %v", res.Created)
	}
	back := mustProfileByEmail(t, s, "max@example.com")
	if back.ID != p.ID || back.FirstName != "Maximilian" {
		t.Errorf("returning person = %+v; want profile %s updated", back, p.ID)
	}
	if o, _ := s.Orders(ctx, p.ID); len(o) != 1 {
		t.Errorf("orders = %d, want the old order kept", len(o))
	}
}

// testMergeClosesMemberships: the absorbed profile's memberships end with a
// history row naming the survivor.
func testMergeClosesMemberships(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	apply(t, s, "hubspot", "contact", contact("hubspot", "1", "ned@example.com", "Ned", t0))
	apply(t, s, "woocommerce", "contact", contact("woocommerce", "2", "ned.alt@example.com", "Ned", t0.Add(time.Minute)))
	a := mustProfileByEmail(t, s, "ned@example.com")
	b := mustProfileByEmail(t, s, "ned.alt@example.com")
	if err := s.ApplyMemberships(ctx, []store.MembershipChange{{ProfileID: b.ID, Segment: "vip", Entered: true, At: t0}}); err != nil {
		t.Fatal(err)
	}
	both := contact("hubspot", "1", "ned@example.com", "Ned", t0.Add(time.Hour))
	both.Contact.Emails = append(both.Contact.Emails, "ned.alt@example.com")
	res := apply(t, s, "hubspot", "contact", both)
	if res.Merged[b.ID] != a.ID {
		t.Fatalf("merged = %v; want %s (newer) into %s (older)", res.Merged, b.ID, a.ID)
	}
	if m, _ := s.Memberships(ctx, b.ID); len(m) != 0 {
		t.Errorf("absorbed profile still has memberships %+v", m)
	}
	h, _ := s.MembershipHistory(ctx, b.ID)
	if len(h) != 2 || h[1].Entered || h[1].Reason != "merged into "+a.ID {
		t.Errorf("history of the absorbed profile = %+v", h)
	}
}

// testCompanyDelete: deleting a company removes it from its people.
func testCompanyDelete(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{})
	co := ref("salesforce", domain.ObjectCompany, "001")
	c := contact("salesforce", "003", "ola@corp.test", "Ola", t0)
	c.Contact.CompanyRef = co
	apply(t, s, "salesforce", "company",
		adapter.Change{Kind: adapter.ChangeUpsert, Ref: co, Company: &domain.Company{Ref: co, Name: "Corp", UpdatedAt: t0}}, c)
	if p := mustProfileByEmail(t, s, "ola@corp.test"); p.Company == nil || p.Company.Name != "Corp" {
		t.Fatalf("company = %+v", p.Company)
	}
	apply(t, s, "salesforce", "company", adapter.Change{Kind: adapter.ChangeDelete, Ref: co})
	if p := mustProfileByEmail(t, s, "ola@corp.test"); p.Company != nil {
		t.Errorf("company after delete = %+v", p.Company)
	}
	if _, err := s.Company(ctx, co); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Company after delete: %v", err)
	}
}
