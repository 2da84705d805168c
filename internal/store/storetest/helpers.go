package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

var t0 = time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)

func ref(platform, object, id string) domain.ExternalRef {
	return domain.ExternalRef{Platform: platform, ObjectType: object, ID: id}
}

func contact(platform, id, email, first string, updated time.Time) adapter.Change {
	c := &domain.Contact{Ref: ref(platform, domain.ObjectContact, id), FirstName: first, UpdatedAt: updated, CreatedAt: t0}
	if email != "" {
		c.Emails = []string{email}
	}
	return adapter.Change{Kind: adapter.ChangeUpsert, Ref: c.Ref, Contact: c}
}

func order(platform, id string, customer domain.ExternalRef, billing string, created time.Time, cents int64) adapter.Change {
	o := &domain.Order{
		Ref: ref(platform, domain.ObjectOrder, id), CustomerRef: customer, BillingEmail: billing,
		CreatedAt: created, UpdatedAt: created, Status: domain.StatusCompleted, Currency: "EUR",
		Total: domain.Money{Amount: cents, Currency: "EUR"},
		Items: []domain.LineItem{{SKU: "SKU-" + id, Name: "Item " + id, Category: "books", Quantity: 2, UnitPrice: domain.Money{Amount: cents / 2, Currency: "EUR"}}},
	}
	return adapter.Change{Kind: adapter.ChangeUpsert, Ref: o.Ref, Order: o}
}

func apply(t testing.TB, s store.Store, platform, object string, chs ...adapter.Change) store.ApplyResult {
	t.Helper()
	res, err := s.ApplyPage(context.Background(), platform, "", object, chs, nil, "c-"+object)
	if err != nil {
		t.Fatalf("ApplyPage(%s %s): %v", platform, object, err)
	}
	return res
}

func mustProfileByEmail(t testing.TB, s store.Store, email string) domain.Profile {
	t.Helper()
	p, err := s.ProfileByEmail(context.Background(), email)
	if err != nil {
		t.Fatalf("ProfileByEmail(%q): %v", email, err)
	}
	return p
}

func refKeys(refs []domain.ExternalRef) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.Key())
	}
	slices.Sort(out)
	return out
}
