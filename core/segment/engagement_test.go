package segment

import (
	"testing"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

func TestEngagementOf(t *testing.T) {
	asOf := DayOf(time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC))
	a := &Attrs{Custom: map[string]string{
		domain.AttrPageViews: "40", domain.AttrEmailOpens: "x", domain.AttrEmailClicks: "-3",
		domain.AttrLastVisit: "2026-06-01T08:00:00Z", domain.AttrLastEmailOpen: "2026-06-20T23:59:59Z",
		domain.AttrLastEmailClick: "not a date",
	}}
	e := EngagementOf(a, asOf)
	if !e.Known || e.PageViews != 40 || e.EmailOpens != -1 || e.EmailClicks != -1 || e.Visits != -1 || e.DaysSince != 10 {
		t.Errorf("engagement %+v", e)
	}
	if e := EngagementOf(&Attrs{Custom: map[string]string{domain.AttrLastVisit: "2026-07-05T00:00:00Z"}}, asOf); e.DaysSince != 0 {
		t.Errorf("a visit after the as-of day: %d days since, want 0", e.DaysSince)
	}
	if e := EngagementOf(nil, asOf); e.Known || e.DaysSince != -1 || e.PageViews != -1 {
		t.Errorf("no attributes: %+v", e)
	}
	never := EngagementOf(&Attrs{Custom: map[string]string{domain.AttrEmailOpens: "0", domain.AttrPageViews: "0"}}, asOf)
	if !never.NeverEngaged() || never.Engaged(1000) {
		t.Errorf("zero counts: %+v", never)
	}
}

// Clusters can use the engagement totals: buyers who differ only in email
// engagement fall into different clusters, described by it.
func TestClusterOnEngagement(t *testing.T) {
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	var cs []Customer
	for i := range 40 {
		opens := "0"
		if i%2 == 0 {
			opens = "50"
		}
		c := buyer(string(rune('a'+i%26))+string(rune('a'+i/26)), 30, 2, 5000, asOf)
		c.Attrs = &Attrs{Custom: map[string]string{domain.AttrEmailOpens: opens}}
		cs = append(cs, c)
	}
	ds := &Dataset{Currency: "EUR", Devices: []string{""}, Channels: []string{""}, Customers: cs}
	r := run(t, ds, asOf, []any{map[string]any{"name": "eng", "kind": "cluster", "params": map[string]any{
		"features": []any{"email_opens", "frequency"}, "k_min": 2, "k_max": 2}}}, Options{})
	for i := range cs {
		segs := r.SegmentsOf(i)
		want := "eng:c2"
		if i%2 == 0 {
			want = "eng:c1"
		}
		if len(segs) != 1 || segs[0] != want {
			t.Fatalf("customer %d (opens %s): %v, want %s", i, cs[i].Attrs.Custom[domain.AttrEmailOpens], segs, want)
		}
	}
	for _, s := range r.Segments {
		if s.Name == "eng:c1" && s.Description != "many email opens, occasional" {
			t.Errorf("c1 described %q", s.Description)
		}
	}
}

// Every engagement rule variable is recognised as one, so a rule reading
// it gets it filled.
func TestEngagementVariablesAreFilled(t *testing.T) {
	n := 0
	for _, v := range RuleVariables() {
		if isEngagementVar(v.Name) {
			n++
		}
	}
	if n != 8 {
		t.Errorf("%d engagement variables recognised, want 8", n)
	}
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	c := buyer("a", 10, 1, 1000, asOf)
	c.Attrs = &Attrs{Custom: map[string]string{domain.AttrEmailBounces: "3", domain.AttrFormSubmissions: "1"}}
	ds := &Dataset{Currency: "EUR", Devices: []string{""}, Channels: []string{""}, Customers: []Customer{c}}
	r := run(t, ds, asOf, []any{map[string]any{"name": "x", "kind": "rule", "params": map[string]any{
		"expr": "has_engagement && email_bounces_total == 3 && form_submissions_total == 1 && page_views_total == -1 && days_since_engagement == -1"}}}, Options{})
	if len(r.Members("x")) != 1 {
		t.Error("the engagement rule did not match")
	}
}
