package hubspot

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Engagement properties served by the fake (numbers as decimal strings,
// datetimes as ISO 8601, as HubSpot's v3 answers carry them) arrive on the
// contacts as the domain engagement attributes, and the segment engine's
// rule variables, behavioural groups and cluster features read them.
func TestEngagementFromHubSpotDrivesRulesAndGroups(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hubspotfake.Options{}, adapter.Config{"archived_sweep": "0s"})
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	iso := func(daysAgo int) string { return asOf.AddDate(0, 0, -daysAgo).Format("2006-01-02T15:04:05.000Z") }
	seed := map[string]map[string]string{
		// engaged, never bought
		"fan": {"email": "fan@example.com", "hs_analytics_num_page_views": "42", "hs_analytics_num_visits": "7",
			"hs_analytics_last_visit_timestamp": iso(3), "hs_email_open": "12", "hs_email_click": "4", "hs_email_bounce": "0",
			"num_conversion_events": "2", "hs_email_last_open_date": iso(10), "hs_email_last_click_date": iso(12)},
		// bought, last engaged a year ago
		"lapsed": {"email": "lapsed@example.com", "hs_analytics_num_page_views": "5", "hs_analytics_num_visits": "2",
			"hs_analytics_last_visit_timestamp": iso(400), "hs_email_open": "1", "hs_email_click": "0", "hs_email_last_open_date": iso(365)},
		// bought, engaged last week
		"active": {"email": "active@example.com", "hs_analytics_num_page_views": "30", "hs_email_open": "9", "hs_email_click": "3",
			"hs_email_last_click_date": iso(6)},
		// no engagement data at all
		"quiet": {"email": "quiet@example.com"},
	}
	ids := map[string]string{}
	for name, props := range seed {
		ids[name] = e.fake.Create("contacts", hubspotfake.Object{Properties: props})
	}
	pages, _ := e.pullAll(domain.ObjectContact, "", true)
	contacts := map[string]*domain.Contact{}
	for _, ch := range changesOf(pages) {
		contacts[ch.Ref.ID] = ch.Contact
	}
	fan := contacts[ids["fan"]]
	if fan == nil {
		t.Fatalf("fan not pulled: %d contacts", len(contacts))
	}
	want := map[string]string{
		domain.AttrPageViews: "42", domain.AttrVisits: "7", domain.AttrEmailOpens: "12", domain.AttrEmailClicks: "4",
		domain.AttrEmailBounces: "0", domain.AttrFormSubmissions: "2",
		domain.AttrLastVisit:     asOf.AddDate(0, 0, -3).Format(time.RFC3339),
		domain.AttrLastEmailOpen: asOf.AddDate(0, 0, -10).Format(time.RFC3339),
	}
	for k, v := range want {
		if got := fan.Attributes[k]; got != v {
			t.Errorf("fan %s = %q, want %q", k, got, v)
		}
	}
	if _, ok := contacts[ids["quiet"]].Attributes[domain.AttrPageViews]; ok {
		t.Error("a contact without engagement data got a page view count")
	}

	// Into the segment engine: lapsed and active bought once.
	b := segment.NewBuilder("EUR")
	var order = func(ref string) []domain.Order {
		return []domain.Order{{Ref: domain.ExternalRef{Platform: "hubspot", ObjectType: domain.ObjectDeal, ID: ref}, CreatedAt: asOf.AddDate(0, 0, -200),
			Status: domain.StatusCompleted, Currency: "EUR", Total: domain.Money{Amount: 5000, Currency: "EUR"}}}
	}
	names := []string{"fan", "lapsed", "active", "quiet"}
	for _, n := range names {
		c := contacts[ids[n]]
		p := &domain.Profile{ID: n, Emails: c.Emails, Attributes: c.Attributes}
		var os []domain.Order
		if n == "lapsed" || n == "active" {
			os = order("d-" + n)
		}
		b.Add(p, os)
	}
	defs, err := segment.ParseDefinitions([]any{
		map[string]any{"name": "hot-leads", "kind": "rule", "params": map[string]any{
			"expr": "!is_buyer && days_since_engagement >= 0 && days_since_engagement <= 30 && email_clicks_total > 0 && page_views_total >= 10"}},
		map[string]any{"name": "engagement", "kind": "behavioral", "params": map[string]any{
			"groups": []any{"engaged-non-buyer", "disengaged-buyer"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := segment.NewEngine(defs, segment.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := eng.Run(context.Background(), b.Dataset(), asOf)
	if err != nil {
		t.Fatal(err)
	}
	wantSegs := map[string][]string{
		"fan":    {"hot-leads", "engagement:engaged-non-buyer"},
		"lapsed": {"engagement:disengaged-buyer"},
		"active": nil,
		"quiet":  nil,
	}
	for i, n := range names {
		got := r.SegmentsOf(i)
		if !slices.Equal(got, wantSegs[n]) {
			t.Errorf("%s: segments %v, want %v", n, got, wantSegs[n])
		}
	}
	ex, err := r.Explain("fan")
	if err != nil {
		t.Fatal(err)
	}
	if rs := ex.Definitions[0].Reasons; len(rs) != 1 || !slices.ContainsFunc(rs, func(s string) bool {
		return strings.Contains(s, "days_since_engagement=3") && strings.Contains(s, "email_clicks_total=4")
	}) {
		t.Errorf("rule explain %q", rs)
	}
}

// A malformed engagement value stays under HubSpot's name instead of
// passing for a count or a date.
func TestEngagementMalformedValuesKeptRaw(t *testing.T) {
	t.Parallel()
	v := func(s string) *string { return &s }
	o := hsObject{Properties: map[string]*string{"hs_email_open": v("2.5"), "hs_email_click": v("-1"),
		"hs_analytics_num_page_views": v("17.0"), "hs_email_last_open_date": v("yesterday")}}
	attrs := map[string]string{}
	mapEngagement(o, attrs)
	want := map[string]string{"hs_email_open": "2.5", "hs_email_click": "-1", domain.AttrPageViews: "17", "hs_email_last_open_date": "yesterday"}
	if len(attrs) != len(want) {
		t.Errorf("attributes %v, want %v", attrs, want)
	}
	for k, w := range want {
		if attrs[k] != w {
			t.Errorf("%s = %q, want %q", k, attrs[k], w)
		}
	}
}
