package web_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/web"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestSpendAPI reads the spend page's figures as JSON: the entries made
// in the app and in the configuration, and the return on spend of a
// segment with a holdout, checked against the revenue its members and
// its holdout made in the store, added up here independently.
func TestSpendAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a full cycle against the sandbox")
	}
	s := startSite(t, 150)
	ctx := context.Background()
	viewer := s.client().login("vic", viewerPassword)

	// A campaign segment whose people entered 40 days ago: members who
	// bought in the 30 days after, and a holdout who did not.
	const seg = "promo:spring"
	entered := time.Now().UTC().AddDate(0, 0, -40).Truncate(time.Second)
	end := entered.AddDate(0, 0, 30)
	revenue := map[string]int64{} // USD purchases, net of refunds, in the window
	var buyers, idle []string
	err := s.app.Store.EachProfile(ctx, func(po store.ProfileOrders) error {
		bought := false
		for _, o := range po.Orders {
			if o.Status.IsPurchase() && !o.CreatedAt.Before(entered) && o.CreatedAt.Before(end) {
				bought = true
				if n := o.Net(); n.Currency == "USD" {
					revenue[po.Profile.ID] += n.Amount
				}
			}
		}
		switch {
		case bought && revenue[po.Profile.ID] > 0:
			buyers = append(buyers, po.Profile.ID)
		case !bought:
			idle = append(idle, po.Profile.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(buyers) < 3 || len(idle) < 3 {
		t.Fatalf("the sandbox has %d buyers and %d people without purchases in the 30 days from %s; need 3 of each", len(buyers), len(idle), entered)
	}
	slices.Sort(buyers)
	slices.Sort(idle)
	members, holdout := buyers[:min(8, len(buyers))], idle[:min(8, len(idle))]
	var changes []store.MembershipChange
	var incremental int64 // the holdout bought nothing: all the members' revenue is beyond it
	for _, id := range members {
		changes = append(changes, store.MembershipChange{ProfileID: id, Segment: seg, Entered: true, At: entered, Reason: "test"})
		incremental += revenue[id]
	}
	for _, id := range holdout {
		changes = append(changes, store.MembershipChange{ProfileID: id, Segment: seg, Entered: true, At: entered, Control: true, Reason: "test"})
	}
	if err := s.app.Store.ApplyMemberships(ctx, changes); err != nil {
		t.Fatal(err)
	}

	// A quarter of the extra revenue spent in the app, 100.00 USD in the
	// configuration, and spend on a segment without a holdout (no ROI).
	day := func(t time.Time) time.Time { return t.Truncate(24 * time.Hour) }
	entry := store.Spend{Segment: seg, AmountMinor: incremental / 4, Currency: "USD", From: day(entered), To: day(end), Note: "spring mail", By: "ada"}
	id, err := s.app.Store.AddSpend(ctx, entry)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Store.AddSpend(ctx, store.Spend{Segment: "rfm:champions", AmountMinor: 5000, Currency: "USD", From: day(entered), To: day(end), By: "ada"}); err != nil {
		t.Fatal(err)
	}
	s.cfg.Spend = []config.Spend{{Segment: seg, Amount: "100", Currency: "USD", From: day(entered).Format(time.DateOnly), To: day(end).Format(time.DateOnly)}}
	spend := entry.AmountMinor + 10000

	var rep web.SpendReport
	r := viewer.get("/api/v1/spend")
	if r.status != http.StatusOK {
		t.Fatalf("GET /api/v1/spend: HTTP %d %s", r.status, r.body)
	}
	if err := json.Unmarshal([]byte(r.body), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.WindowDays != 30 || rep.ROIError != "" {
		t.Errorf("window %d days, roi error %q", rep.WindowDays, rep.ROIError)
	}
	if len(rep.Entries) != 3 {
		t.Fatalf("%d entries, want 3: %+v", len(rep.Entries), rep.Entries)
	}
	var app, conf web.SpendEntry
	for _, e := range rep.Entries {
		switch {
		case e.Segment == seg && e.Source == "app":
			app = e
		case e.Segment == seg:
			conf = e
		}
	}
	if app.ID != id || app.Source != "app" || app.Segment != seg || app.AmountMinor != entry.AmountMinor || app.Currency != "USD" ||
		app.Amount != domain.FormatMinor(entry.AmountMinor, 2) || app.By != "ada" || app.Note != "spring mail" ||
		!app.From.Equal(day(entered)) || !app.To.Equal(day(end)) {
		t.Errorf("the entry made in the app reads %+v", app)
	}
	if conf.ID != 0 || conf.Source != "configuration" || conf.By != "configuration" || conf.AmountMinor != 10000 || conf.Amount != "100.00" || !conf.From.Equal(day(entered)) {
		t.Errorf("the configured entry reads %+v", conf)
	}
	if len(rep.ROI) != 1 {
		t.Fatalf("ROI for %d segments, want %s only: %+v", len(rep.ROI), seg, rep.ROI)
	}
	roi := rep.ROI[0]
	t.Logf("%d members bought %d minor units beyond %d in the holdout; spend %d; ROI %.4f (%v to %v)", len(members), incremental, len(holdout), spend, float64(roi.ROI), roi.ROICI.Low, roi.ROICI.High)
	wantROI := float64(incremental-spend) / float64(spend)
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	if roi.Segment != seg || roi.Currency != "USD" || roi.Spend != spend {
		t.Errorf("ROI of %s in %s on spend %d, want %s in USD on %d", roi.Segment, roi.Currency, roi.Spend, seg, spend)
	}
	if !near(float64(roi.IncrementalRevenue), float64(incremental)) {
		t.Errorf("incremental revenue %v, the members bought %d beyond a holdout that bought nothing", roi.IncrementalRevenue, incremental)
	}
	if !near(float64(roi.ROI), wantROI) || !near(float64(roi.IncrementalBuyers), float64(len(members))) {
		t.Errorf("ROI %v from %v extra buyers, want %v from %d", roi.ROI, roi.IncrementalBuyers, wantROI, len(members))
	}
	if lo, hi := float64(roi.ROICI.Low), float64(roi.ROICI.High); !(lo <= wantROI && wantROI <= hi) {
		t.Errorf("ROI interval %v to %v leaves out %v", lo, hi, wantROI)
	}
	if !strings.Contains(viewer.get("/lift").body, roi.Text) {
		t.Errorf("the lift page does not say %q", roi.Text)
	}

	// Spend in another currency than the revenue: no ROI, and why.
	s.cfg.Spend = append(s.cfg.Spend, config.Spend{Segment: seg, Amount: "20", Currency: "EUR", From: day(entered).Format(time.DateOnly), To: day(end).Format(time.DateOnly)})
	rep = web.SpendReport{}
	if err := json.Unmarshal([]byte(viewer.get("/api/v1/spend?days=30").body), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.ROI) != 0 || !strings.Contains(rep.ROIError, "EUR") || len(rep.Entries) != 4 {
		t.Errorf("with spend in EUR: %d ROI, error %q, %d entries", len(rep.ROI), rep.ROIError, len(rep.Entries))
	}

	for _, bad := range []string{"0", "366", "a"} {
		if r := viewer.get("/api/v1/spend?days=" + bad); r.status != http.StatusBadRequest {
			t.Errorf("days=%s: HTTP %d, want 400", bad, r.status)
		}
	}
	if r := s.client().get("/api/v1/spend"); r.status != http.StatusUnauthorized {
		t.Errorf("without a session: HTTP %d, want 401", r.status)
	}
}
