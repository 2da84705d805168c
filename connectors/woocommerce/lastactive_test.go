package woocommerce

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestLastActiveIsEngagement: WooCommerce's wc_last_active customer meta
// (the UTC day a signed-in customer was last seen) becomes the last-visit
// engagement attribute, so days_since_engagement counts from it. Marking
// a customer active leaves date_modified alone, as in WooCommerce; the
// next sweep still sees it, as customer sweeps compare each record's
// content rather than trust date_modified.
func TestLastActiveIsEngagement(t *testing.T) {
	clk := newClock(time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC))
	f, c := start(t, woocommercefake.Options{Now: clk.Now}, nil)
	ids := f.AddCustomers(woocommercefake.Customer{Email: "active@example.com"}, woocommercefake.Customer{Email: "never@example.com"})
	f.MarkActive(ids[0], time.Date(2026, 9, 20, 17, 45, 0, 0, time.UTC))
	ctx := context.Background()
	pull := func(full bool, cursor string) *store {
		s := newStore()
		if err := c.Pull(ctx, adapter.PullRequest{Object: domain.ObjectContact, Full: full, Cursor: cursor}, s.sink); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := pull(false, "")
	active := s.upserts[strconv.Itoa(ids[0])].Contact
	if active == nil || active.Attributes[domain.AttrLastVisit] != "2026-09-20T00:00:00Z" {
		t.Fatalf("the active customer's attributes %v, want engagement_last_visit 2026-09-20T00:00:00Z", active)
	}
	if never := s.upserts[strconv.Itoa(ids[1])].Contact; never == nil || never.Attributes[domain.AttrLastVisit] != "" {
		t.Errorf("a customer never marked active has %v: want no last visit (unknown, not zero)", never)
	}
	e := segment.EngagementOf(&segment.Attrs{Custom: active.Attributes}, segment.DayOf(clk.Now()))
	if e.DaysSince != 11 {
		t.Errorf("days since engagement %d, want 11 (2026-09-20 to 2026-10-01)", e.DaysSince)
	}

	clk.Add(48 * time.Hour)
	f.MarkActive(ids[1], clk.Now())
	next := pull(false, s.cursor)
	if got := next.upserts[strconv.Itoa(ids[1])].Contact; got == nil || got.Attributes[domain.AttrLastVisit] != "2026-10-03T00:00:00Z" {
		t.Errorf("the next sweep's customer %v, want last visit 2026-10-03", got)
	}
	if _, again := next.upserts[strconv.Itoa(ids[0])]; again {
		t.Error("the next sweep emitted an unchanged customer again")
	}
}
