package woocommerce

import (
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestNewsletterMetaBecomesConsent: the newsletter opt-in a plugin keeps
// in customer meta (Mailchimp for WooCommerce's by default) becomes the
// contact's email consent: "1" and true grant, "0" denies, other values
// and customers without the entry stay unknown; a shop that names its own
// key and values is read the same way.
func TestNewsletterMetaBecomesConsent(t *testing.T) {
	customers := func(key string) []woocommercefake.Customer {
		meta := func(v any) []woocommercefake.Meta { return []woocommercefake.Meta{{Key: key, Value: v}} }
		return []woocommercefake.Customer{
			{Email: "yes@example.com", MetaData: meta("1")},
			{Email: "bool@example.com", MetaData: meta(true)},
			{Email: "no@example.com", MetaData: meta("0")},
			{Email: "odd@example.com", MetaData: meta("pending")},
			{Email: "none@example.com"},
		}
	}
	consentOf := func(t *testing.T, f *woocommercefake.Fake, c *Connector, ids []int) []domain.ConsentState {
		t.Helper()
		s := newStore()
		if err := c.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact}, s.sink); err != nil {
			t.Fatal(err)
		}
		var out []domain.ConsentState
		for _, id := range ids {
			ch, ok := s.upserts[strconv.Itoa(id)]
			if !ok {
				t.Fatalf("customer %d was not pulled", id)
			}
			out = append(out, ch.Contact.Consent.Email)
			if ch.Contact.Consent.Email != domain.ConsentUnknown && ch.Contact.Consent.UpdatedAt.IsZero() {
				t.Errorf("customer %d: consent without a time", id)
			}
		}
		return out
	}
	want := []domain.ConsentState{domain.ConsentGranted, domain.ConsentGranted, domain.ConsentDenied, domain.ConsentUnknown, domain.ConsentUnknown}

	f, c := start(t, woocommercefake.Options{}, nil)
	ids := f.AddCustomers(customers("mailchimp_woocommerce_is_subscribed")...)
	if got := consentOf(t, f, c, ids); !slices.Equal(got, want) {
		t.Errorf("default key: consent %v, want %v", got, want)
	}

	f, c = start(t, woocommercefake.Options{}, func(cfg adapter.Config) {
		cfg["consent"] = map[string]any{"meta_key": "_shop_newsletter", "granted": []any{"1", "true", "ja"}, "denied": []any{"0", "nein"}}
	})
	cs := customers("_shop_newsletter")
	cs[0].MetaData[0].Value = "JA"
	ids = f.AddCustomers(cs...)
	if got := consentOf(t, f, c, ids); !slices.Equal(got, want) {
		t.Errorf("own key: consent %v, want %v", got, want)
	}
}
