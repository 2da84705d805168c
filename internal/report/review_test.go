package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlite"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestReviewOfAHandBuiltQuarter builds a store whose quarter is known:
// 8 of 40 Champions become At Risk, 5 people enter Loyal, the value tier
// holds exactly the remaining Champions, a bulk-buyer segment has 3
// people, and the Champions at the end spent 50.00 EUR each in the
// quarter and 30.00 EUR in the one before.
func TestReviewOfAHandBuiltQuarter(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	from := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var changes []adapter.Change
	order := func(i, k int, at time.Time, amount int64, ref domain.ExternalRef) {
		oref := domain.ExternalRef{Platform: "woocommerce", ObjectType: domain.ObjectOrder, ID: fmt.Sprintf("%d-%d", i, k), LastModified: at}
		changes = append(changes, adapter.Change{Kind: adapter.ChangeUpsert, Ref: oref, Order: &domain.Order{Ref: oref, CustomerRef: ref,
			CreatedAt: at, Status: domain.StatusCompleted, Currency: "EUR", Total: domain.Money{Amount: amount, Currency: "EUR"}}})
	}
	for i := range 100 {
		ref := domain.ExternalRef{Platform: "woocommerce", ObjectType: domain.ObjectContact, ID: fmt.Sprint(i + 1), LastModified: from}
		changes = append(changes, adapter.Change{Kind: adapter.ChangeUpsert, Ref: ref, Contact: &domain.Contact{Ref: ref, Emails: []string{fmt.Sprintf("p%d@shop.example", i)}}})
		if i >= 8 && i < 40 {
			order(i, 1, from.AddDate(0, 1, 0), 5000, ref)
			order(i, 2, from.AddDate(0, -1, 0), 3000, ref)
		}
	}
	if _, err := st.ApplyPage(ctx, "woocommerce", "", "all", changes, nil, "c"); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 100)
	for i := range ids {
		p, err := st.ProfileByEmail(ctx, fmt.Sprintf("p%d@shop.example", i))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = p.ID
	}
	start := from.AddDate(0, -6, 0)
	var mc []store.MembershipChange
	enter := func(i int, seg string, at time.Time) {
		mc = append(mc, store.MembershipChange{ProfileID: ids[i], Segment: seg, Entered: true, At: at})
	}
	for i := range 80 {
		switch {
		case i < 40:
			enter(i, "rfm:champions", start)
		case i < 70:
			enter(i, "rfm:loyal", start)
		default:
			enter(i, "rfm:at-risk", start)
		}
		if i >= 8 && i < 40 {
			enter(i, "value:top-10", start)
		}
	}
	for i := 90; i < 93; i++ {
		enter(i, "behavioral:bulk", start)
	}
	for i := range 8 { // Champions lapse in August
		mc = append(mc, store.MembershipChange{ProfileID: ids[i], Segment: "rfm:champions", Entered: false, At: from.AddDate(0, 1, 10)},
			store.MembershipChange{ProfileID: ids[i], Segment: "rfm:at-risk", Entered: true, At: from.AddDate(0, 1, 10)})
	}
	for i := 80; i < 85; i++ {
		enter(i, "rfm:loyal", from.AddDate(0, 2, 0))
	}
	enter(99, "rfm:loyal", to.AddDate(0, 0, 1)) // after the period: not counted
	if err := st.ApplyMemberships(ctx, mc); err != nil {
		t.Fatal(err)
	}

	r, err := Review(ctx, st, ReviewOptions{From: from, To: to, MinPeople: 5})
	if err != nil {
		t.Fatal(err)
	}
	seg := map[string]SegmentChange{}
	for _, s := range r.Segments {
		seg[s.Segment] = s
	}
	want := map[string][4]int{ // from, to, entered, left
		"rfm:champions": {40, 32, 0, 8}, "rfm:at-risk": {10, 18, 8, 0}, "rfm:loyal": {30, 35, 5, 0},
		"value:top-10": {32, 32, 0, 0}, "behavioral:bulk": {3, 3, 0, 0},
	}
	for name, w := range want {
		s := seg[name]
		if got := [4]int{s.SizeFrom, s.SizeTo, s.Entered, s.Left}; got != w {
			t.Errorf("%s: from/to/entered/left %v, want %v", name, got, w)
		}
	}
	if c := seg["rfm:champions"]; c.RevenuePerMember != 5000 || c.RevenuePerMemberPrev != 3000 || r.Currency != "EUR" || r.Profiles != 100 {
		t.Errorf("champions revenue per member %v (previous %v) %s, profiles %d", c.RevenuePerMember, c.RevenuePerMemberPrev, r.Currency, r.Profiles)
	}
	if len(r.Flows) < 2 || FlowText(r.Flows[0]) != "8 Champions became At Risk" || FlowText(r.Flows[1]) != "5 entered Loyal" {
		t.Errorf("flows %+v", r.Flows)
	}
	var rfm *Matrix
	for i := range r.Matrices {
		if r.Matrices[i].Definition == "rfm" {
			rfm = &r.Matrices[i]
		}
	}
	if rfm == nil || strings.Join(rfm.Labels, ",") != "rfm:at-risk,rfm:champions,rfm:loyal,(none)" ||
		rfm.Counts[1][0] != 8 || rfm.Counts[1][1] != 32 || rfm.Counts[3][2] != 5 || rfm.Counts[2][2] != 30 {
		t.Fatalf("rfm matrix %+v", rfm)
	}
	kinds := map[string][]string{}
	for _, f := range r.Findings {
		kinds[f.Kind] = append(kinds[f.Kind], f.Action)
	}
	if a := kinds["shrinking_value"]; len(a) != 1 || !strings.Contains(a[0], "win-back campaign for the 8 people who moved from Champions to At Risk") {
		t.Errorf("shrinking value: %v", a)
	}
	if a := kinds["too_small"]; len(a) != 1 || !strings.Contains(a[0], "Bulk") {
		t.Errorf("too small: %v", a)
	}
	if a := kinds["overlap"]; len(a) != 1 || !strings.Contains(a[0], "Champions and Top 10") {
		t.Errorf("overlap: %v", a)
	}
	if len(kinds["too_big"]) != 0 {
		t.Errorf("too big: %v", kinds["too_big"])
	}

	// The chart's series: a point at the end of each of the 92 days;
	// Champions lapse at the start of 11 August (day 41), Loyal grows on
	// 1 September (day 62), and the entry after the period never shows.
	sz := r.Sizes.Segments
	if len(r.Sizes.Days) != 92 || !r.Sizes.Days[0].Equal(from.AddDate(0, 0, 1)) || !r.Sizes.Days[91].Equal(to) {
		t.Fatalf("%d days from %v", len(r.Sizes.Days), r.Sizes.Days)
	}
	if c, l := sz["rfm:champions"], sz["rfm:loyal"]; c[0] != 40 || c[40] != 40 || c[41] != 32 || c[91] != 32 ||
		l[61] != 30 || l[62] != 35 || l[91] != 35 || sz["behavioral:bulk"][91] != 3 {
		t.Errorf("champions %v, loyal %v", c, l)
	}

	var md, html, charted bytes.Buffer
	if err := r.WriteHTML(&charted, &Charts{UPlotJS: []byte("var uPlot=function(){};"), UPlotCSS: []byte(".u{}"), Script: []byte("drawReview();")}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"<script>var uPlot=function(){};</script>", "<script>drawReview();</script>", "<style>.u{}</style>",
		`<script type="application/json" id="review-data">{"days":["2026-07-02T00:00:00Z",`, `id="review-sizes"`} {
		if !strings.Contains(charted.String(), w) {
			t.Errorf("the charted review lacks %s", w)
		}
	}
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteHTML(&html, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(html.String(), "review-sizes") || strings.Contains(html.String(), "<script") {
		t.Error("the review without charts has a chart or a script")
	}
	for _, out := range []string{md.String(), html.String()} {
		for _, w := range []string{"8 Champions became At Risk", "50.00 EUR", "30.00 EUR", "2026-07-01"} {
			if !strings.Contains(out, w) {
				t.Errorf("output lacks %q", w)
			}
		}
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatalf("json: %v", err)
	}
	if _, err := Review(ctx, st, ReviewOptions{From: to, To: from}); err == nil {
		t.Error("a period that ends before it starts was accepted")
	}
}

// Two definitions with a segment of the same name ("Loyal") are named in
// full when they overlap, not as "Loyal and Loyal".
func TestOverlapOfSameNamedSegments(t *testing.T) {
	after := map[string]map[string]bool{"lifecycle:loyal": {}, "rfm:loyal": {}}
	for i := range 30 {
		p := fmt.Sprint("p", i)
		after["lifecycle:loyal"][p], after["rfm:loyal"][p] = true, true
	}
	o := ReviewOptions{}
	o.defaults()
	r := &ReviewResult{Profiles: 100}
	var got []string
	for _, f := range findings(r, nil, after, 0, o) {
		if f.Kind == "overlap" {
			got = append(got, f.Action)
		}
	}
	if len(got) != 1 || !strings.Contains(got[0], "lifecycle:loyal and rfm:loyal") {
		t.Errorf("overlap findings %q", got)
	}
}
