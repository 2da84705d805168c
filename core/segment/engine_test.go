package segment

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// buyer builds a customer with n purchases, the last recency days before
// asOf, totalling monetary minor units.
func buyer(id string, recency, n int, monetary int64, asOf time.Time) Customer {
	c := Customer{ID: id, Email: id + "@example.com"}
	for k := 0; k < n; k++ {
		d := asOf.AddDate(0, 0, -recency-7*(n-1-k))
		amt := monetary / int64(n)
		if k == n-1 {
			amt = monetary - amt*int64(n-1)
		}
		c.Orders = append(c.Orders, fact(d.Format(time.DateOnly), amt, 1, 1))
	}
	return c
}

func run(t *testing.T, ds *Dataset, asOf time.Time, raw []any, opts Options) *Result {
	t.Helper()
	r, err := mustEngine(t, raw, opts).Run(context.Background(), ds, asOf)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRFMRankScoresShareTies(t *testing.T) {
	asOf := goldenAsOf
	// frequency 1,1,1,1,2,2,3,3,3,10: 4 of 10 bought once (over a fifth),
	// so the one-time buyers get F 1 and the six repeat buyers are ranked
	// among themselves: w' 0,0,2,2,2,5 → F = 2 + floor(4·w'/6) = 2,2,3,3,3,5
	// (plain rank would give 3,3,4,4,4,5: two orders scored "frequent")
	freqs := []int{1, 1, 1, 1, 2, 2, 3, 3, 3, 10}
	wantF := []uint8{1, 1, 1, 1, 2, 2, 3, 3, 3, 5}
	// recency 5 (×3), 10, 20, 20, 40, 80, 160, 320: strictly larger counts 7,7,7,6,4,4,3,2,1,0
	recs := []int{5, 5, 5, 10, 20, 20, 40, 80, 160, 320}
	wantR := []uint8{4, 4, 4, 4, 3, 3, 2, 2, 1, 1}
	mons := []int64{100, 200, 300, 400, 500, 600, 700, 800, 900, 1000}
	wantM := []uint8{1, 1, 2, 2, 3, 3, 4, 4, 5, 5}
	ds := &Dataset{Currency: "USD"}
	for i := range freqs {
		ds.Customers = append(ds.Customers, buyer(fmt.Sprintf("k%d", i), recs[i], freqs[i], mons[i]*int64(freqs[i]), asOf))
		// monetary must be exactly mons[i]; rebuild amounts
		c := &ds.Customers[i]
		for k := range c.Orders {
			c.Orders[k].Amount = 0
		}
		c.Orders[len(c.Orders)-1].Amount = mons[i]
	}
	ds.Customers = append(ds.Customers, Customer{ID: "lead"})
	r := run(t, ds, asOf, []any{map[string]any{"name": "rfm", "kind": "rfm"}}, Options{})
	for i := range freqs {
		s, ok := r.RFM(i)
		if !ok {
			t.Fatalf("customer %d has no score", i)
		}
		if s.R != wantR[i] || s.F != wantF[i] || s.M != wantM[i] {
			t.Errorf("customer %d (recency %d, freq %d, monetary %d): got %d%d%d, want %d%d%d", i, recs[i], freqs[i], mons[i], s.R, s.F, s.M, wantR[i], wantF[i], wantM[i])
		}
		// the search path used by Rescore gives the same scores
		rs, err := r.Rescore(&ds.Customers[i], asOf)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rs.Segments, r.SegmentsOf(i)) {
			t.Errorf("customer %d: rescore %v, full run %v", i, rs.Segments, r.SegmentsOf(i))
		}
	}
	if _, ok := r.RFM(len(freqs)); ok {
		t.Error("a lead got RFM scores")
	}
	// customer 9: R1 F5 M5 → code 155 → Cannot Lose Them
	if got := r.SegmentsOf(9); !slices.Equal(got, []string{"rfm:cannot-lose-them"}) {
		t.Errorf("customer 9: %v", got)
	}
}

func TestDefaultRFMGroupsCoverEveryCodeOnce(t *testing.T) {
	seen := map[string]string{}
	for _, g := range DefaultRFMGroups() {
		for _, c := range g.Codes {
			if prev, dup := seen[c]; dup {
				t.Errorf("code %s in %s and %s", c, prev, g.Name)
			}
			seen[c] = g.Name
		}
	}
	if len(seen) != 125 {
		t.Errorf("%d codes listed, want 125", len(seen))
	}
	tb, err := rfmTable(DefaultRFMGroups(), "nearest")
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range tb {
		if !c.listed || DefaultRFMGroups()[c.group].Name != seen[codeString(i)] {
			t.Errorf("code %s: table says group %d listed=%v, list says %s", codeString(i), c.group, c.listed, seen[codeString(i)])
		}
	}
}

func TestRFMFallbackNearest(t *testing.T) {
	groups := []RFMGroup{{Name: "best", Codes: []string{"555"}}, {Name: "worst", Codes: []string{"111"}}, {Name: "mid", Codes: []string{"333"}}}
	tb, err := rfmTable(groups, "nearest")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"554": "best",  // distance 1 to 555
		"211": "worst", // distance 1 to 111
		"222": "mid",   // distance 3 to both 111 and 333: ties go to the higher code
		"443": "mid",   // 333 at 2, 555 at 3
		"444": "mid",   // 333 and 555 both at 3: the higher, 555?
	}
	cases["444"] = "best"
	for code, want := range cases {
		i := codeIndex(code[0]-'0', code[1]-'0', code[2]-'0')
		if got := groups[tb[i].group].Name; got != want || tb[i].listed {
			t.Errorf("code %s → %s (listed %v), want %s via nearest", code, got, tb[i].listed, want)
		}
	}
	tb, err = rfmTable(groups, "worst")
	if err != nil {
		t.Fatal(err)
	}
	if g := groups[tb[codeIndex(4, 4, 4)].group].Name; g != "worst" {
		t.Errorf("fallback group: 444 → %s", g)
	}
}

func TestStatusRuleAndBuilder(t *testing.T) {
	usd := func(minor int64) domain.Money { return domain.Money{Amount: minor, Currency: "USD"} }
	at := time.Date(2025, 3, 10, 15, 0, 0, 0, time.UTC)
	p := &domain.Profile{ID: "p1", Emails: []string{"Ann@Example.com"}, Address: domain.Address{Country: "de"},
		Refs:    []domain.ExternalRef{{Platform: "woocommerce", ID: "7"}, {Platform: "hubspot", ID: "9"}, {Platform: "hubspot", ID: "10"}},
		Company: &domain.Company{Industry: "retail", Employees: 80}, BirthDate: "1990-05-01"}
	orders := []domain.Order{
		{Ref: domain.ExternalRef{ID: "o1"}, CreatedAt: at, Status: domain.StatusCompleted, Total: usd(10000), Refunded: usd(2500), Device: "Mobile",
			Items: []domain.LineItem{{Category: "books", Quantity: 2}, {Category: "music", Quantity: 1}}},
		{Ref: domain.ExternalRef{ID: "o2"}, CreatedAt: at.AddDate(0, 0, -3), Status: domain.StatusCompleted, Total: usd(5000), Refunded: usd(5000)},
		{Ref: domain.ExternalRef{ID: "o3"}, CreatedAt: at.AddDate(0, 0, -5), Status: domain.StatusRefunded, Total: usd(7000)},
		{Ref: domain.ExternalRef{ID: "o4"}, CreatedAt: at.AddDate(0, 0, -6), Status: domain.StatusCancelled, Total: usd(7000)},
		{Ref: domain.ExternalRef{ID: "o5"}, CreatedAt: at.AddDate(0, 0, -7), Status: domain.StatusOpen, Total: usd(90000)},
		{Ref: domain.ExternalRef{ID: "o6"}, CreatedAt: at.AddDate(0, 0, -8), Status: domain.StatusProcessing, Total: domain.Money{Amount: 100, Currency: "EUR"}},
	}
	b := NewBuilder("usd")
	b.Add(p, orders)
	b.AddOrphans(3)
	ds := b.Dataset()
	c := ds.Customers[0]
	if c.Email != "ann@example.com" || c.Attrs == nil || c.Attrs.Country != "DE" || c.Attrs.Industry != "retail" || !c.Attrs.HasBirth {
		t.Errorf("customer: %+v attrs %+v", c, c.Attrs)
	}
	if len(c.Orders) != 5 {
		t.Fatalf("%d orders kept, want 5 (the EUR one left out)", len(c.Orders))
	}
	if len(ds.Problems) != 1 || ds.Problems[0] != "profile p1 order ///o6: currency EUR is not the dataset currency USD; left out" {
		t.Errorf("problems: %q", ds.Problems)
	}
	f := ComputeFeatures(&c, DayOf(at), 90)
	if f.Orders != 1 || f.Monetary != 7500 || f.Refunded != 3 || f.OpenDeals != 1 || f.Items != 3 || f.DistinctCategories() != 2 {
		t.Errorf("features: orders %d monetary %d refunded %d open %d items %d categories %d", f.Orders, f.Monetary, f.Refunded, f.OpenDeals, f.Items, f.DistinctCategories())
	}
	if mix := MixOf(&c, DayOf(at)); f.RecencyDays != 0 || mix.Devices[1] != 1 || mix.Orders != 1 || ds.Devices[1] != "mobile" {
		t.Errorf("recency %d mix %+v devices %q", f.RecencyDays, mix, ds.Devices)
	}
	// orders after as-of are ignored
	if g := ComputeFeatures(&c, DayOf(at)-1, 90); g.Orders != 0 || g.Refunded != 3 {
		t.Errorf("a day earlier: %+v", g)
	}
	r := run(t, ds, at, []any{map[string]any{"name": "stage", "kind": "lifecycle"}}, Options{})
	if !slices.ContainsFunc(r.Warnings, func(w Warning) bool { return w.Message == "3 orders belong to no customer" }) {
		t.Errorf("warnings: %+v", r.Warnings)
	}
	env := RuleEnv{}
	fillEnv(&env, ds, &c, &f, DayOf(at), true, true)
	if !slices.Equal(env.Platforms, []string{"hubspot", "woocommerce"}) {
		t.Errorf("platforms %q", env.Platforms)
	}
	if env.Age != 34 || env.Device != "mobile" || !slices.Equal(env.Categories, []string{"books", "music"}) || env.Monetary != 75 || env.EmailDomain != "example.com" {
		t.Errorf("env: %+v", env)
	}
}

func TestFeaturesGapsAndSeasonality(t *testing.T) {
	c := Customer{ID: "s", Orders: []OrderFact{
		fact("2023-12-01", 1000, 1, 1), fact("2023-12-01", 500, 1, 1), // same day: one purchase-day
		fact("2024-12-11", 1000, 3, 2), fact("2025-12-21", 2000, 2, 2),
	}}
	asOf := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	f := ComputeFeatures(&c, DayOf(asOf), 30)
	if f.Orders != 4 || f.PurchaseDays != 3 || f.Years != 3 || f.SeasonalYears != 3 || f.PeakMonthsShare != 1 || MixOf(&c, DayOf(asOf)).Months[11] != 4 {
		t.Errorf("features %+v", f)
	}
	if f.GapMeanDays != (376+375)/2.0 || f.LastGapDays != 375 || f.RecencyDays != 10 || f.OrdersInWindow != 1 || f.RevenueInWindow != 2000 {
		t.Errorf("gaps: mean %v last %d recency %d window %d/%d", f.GapMeanDays, f.LastGapDays, f.RecencyDays, f.OrdersInWindow, f.RevenueInWindow)
	}
	x, tx, T := f.ModelInputs()
	if x != 2 || tx != float64(751)/7 || T != float64(761)/7 || f.RepeatSpend != 1500 {
		t.Errorf("model inputs x=%v tx=%v T=%v repeat spend %v", x, tx, T, f.RepeatSpend)
	}
}

func TestRescoreAgreesWithFullRunForEveryKind(t *testing.T) {
	ds := goldenDataset()
	r := run(t, ds, goldenAsOf, allKinds(0), Options{})
	for i := range ds.Customers {
		rs, err := r.Rescore(&ds.Customers[i], goldenAsOf)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rs.Segments, r.SegmentsOf(i)) {
			t.Fatalf("customer %s: rescore %v, full run %v", ds.Customers[i].ID, rs.Segments, r.SegmentsOf(i))
		}
	}
	// a lead who buys big twice: R5 F1 M5 = 515, Promising, and the top value tier
	lead := ds.Customers[slices.IndexFunc(ds.Customers, func(c Customer) bool { return c.ID == "lead-1" })]
	lead.Orders = []OrderFact{fact("2026-06-29", 900000, 3, 2), fact("2026-06-30", 900000, 3, 2)}
	rs, err := r.Rescore(&lead, goldenAsOf.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rfm:promising", "value:top-1", "stage:repeat"} {
		if !slices.Contains(rs.Segments, want) {
			t.Errorf("rescored lead: %v lacks %s", rs.Segments, want)
		}
	}
	ex := r.ExplainRescored(&lead, rs)
	if len(ex.Definitions) != 7 || ex.Definitions[0].Segments[0] != "rfm:promising" {
		t.Errorf("explain: %+v", ex.Definitions)
	}
	if _, err := r.Rescore(&lead, goldenAsOf.Add(25*time.Hour)); !errors.Is(err, ErrStale) {
		t.Errorf("rescore a day later: %v, want ErrStale", err)
	}
}

func TestDiffMigrationAndHoldout(t *testing.T) {
	ds := goldenDataset()
	raw := []any{map[string]any{"name": "stage", "kind": "lifecycle", "holdout_percent": 20}}
	before := run(t, ds, goldenAsOf.AddDate(0, -6, 0), raw, Options{})
	after := run(t, ds, goldenAsOf, raw, Options{})
	var prev []domain.Membership
	for i := range before.Dataset.Customers {
		prev = append(prev, before.Memberships(i)...)
	}
	// a segment that no longer exists, and a customer who is gone
	prev = append(prev, domain.Membership{ProfileID: "ghost", Segment: "stage:loyal"})
	diffs := after.Diff(prev)
	// apply the diff to prev and compare with the current memberships
	sets := map[string]map[string]bool{}
	for _, m := range prev {
		if sets[m.Segment] == nil {
			sets[m.Segment] = map[string]bool{}
		}
		sets[m.Segment][m.ProfileID] = true
	}
	for _, d := range diffs {
		if sets[d.Segment] == nil {
			sets[d.Segment] = map[string]bool{}
		}
		for _, id := range d.Entered {
			if sets[d.Segment][id] {
				t.Errorf("%s entered %s but was already in it", id, d.Segment)
			}
			sets[d.Segment][id] = true
		}
		for _, id := range d.Left {
			if !sets[d.Segment][id] {
				t.Errorf("%s left %s but was not in it", id, d.Segment)
			}
			delete(sets[d.Segment], id)
		}
	}
	for _, s := range after.Segments {
		members := after.Members(s.Name)
		if len(sets[s.Name]) != len(members) {
			t.Errorf("%s: diff applied gives %d members, run has %d", s.Name, len(sets[s.Name]), len(members))
		}
		for _, i := range members {
			if !sets[s.Name][ds.Customers[i].ID] {
				t.Errorf("%s: %s missing after applying the diff", s.Name, ds.Customers[i].ID)
			}
		}
	}
	mx, err := after.Migration("stage", prev)
	if err != nil {
		t.Fatal(err)
	}
	total, ghost := 0, 0
	for i, row := range mx.Counts {
		for j, v := range row {
			total += v
			if mx.Labels[i] == "stage:loyal" && mx.Labels[j] == "(none)" {
				ghost = v
			}
		}
	}
	if total != len(ds.Customers)+1 || ghost != 1 {
		t.Errorf("migration total %d (want %d), loyal→(none) %d; labels %v", total, len(ds.Customers)+1, ghost, mx.Labels)
	}
	// a lapsing customer 6 months ago who bought nothing since is now churned or still lapsing; nobody goes back to lead
	for j, l := range mx.Labels {
		if l == "stage:lead" {
			for i := range mx.Counts {
				if mx.Labels[i] != "stage:lead" && mx.Labels[i] != "(none)" && mx.Counts[i][j] > 0 {
					t.Errorf("%d customers moved from %s to lead", mx.Counts[i][j], mx.Labels[i])
				}
			}
		}
	}
	if _, err := after.Migration("nope", prev); err == nil {
		t.Error("unknown definition accepted")
	}
	// holdout: stable, about 20 %, and the same in both runs
	ctl, n := 0, 0
	for i := range ds.Customers {
		for _, m := range after.Memberships(i) {
			n++
			if m.Control {
				ctl++
			}
			if m.Control != InHoldout(m.ProfileID, m.Segment, 20) {
				t.Fatal("holdout not deterministic")
			}
		}
	}
	if share := float64(ctl) / float64(n); share < 0.15 || share > 0.25 {
		t.Errorf("holdout share %.3f, want about 0.20", share)
	}
	sum := 0
	for _, k := range after.KPIs {
		sum += k.Control
	}
	if sum != ctl {
		t.Errorf("KPI control counts %d, memberships %d", sum, ctl)
	}
}

func TestKPIsByHand(t *testing.T) {
	asOf := goldenAsOf
	ds := &Dataset{Currency: "USD", Customers: []Customer{
		// existing customer, retained in the 90-day window
		{ID: "a", Email: "x@example.com", Orders: []OrderFact{fact("2025-01-01", 10000, 1, 1), fact("2026-06-01", 5000, 1, 1)}},
		// existing customer, not retained
		{ID: "b", Email: "x@example.com", Orders: []OrderFact{fact("2025-02-01", 20000, 1, 1)}},
		// converted in the window
		{ID: "c", Orders: []OrderFact{fact("2026-05-15", 3000, 1, 1)}},
		// a lead
		{ID: "d", Email: "d@example.com"},
	}}
	r := run(t, ds, asOf, []any{map[string]any{"name": "all", "kind": "rule", "params": map[string]any{"expr": "true"}, "spend": 40}},
		Options{MinSegmentSize: 1, MinSegmentShare: 0.0001})
	k := r.KPIs[0]
	check := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if k.Size != 4 || k.Buyers != 3 || k.Orders != 4 || k.NewCustomers != 1 {
		t.Errorf("kpi %+v", k)
	}
	check("share", k.Share, 1)
	check("revenue", k.Revenue, 380)
	check("aov", k.AOV, 95)
	check("frequency", k.PurchaseFrequency, 1)
	check("realised clv", k.AvgRealisedCLV, 95)
	check("retention", k.RetentionRate, 0.5)
	check("churn", k.ChurnRate, 0.5)
	check("conversion", k.ConversionRate, 0.5)
	check("window revenue", k.WindowRevenue, 80)
	check("cac", *k.CAC, 40)
	check("roi", *k.ROI, 1)
	wantWarn := []string{
		"1 of 4 profiles have no email address",
		"1 email addresses belong to more than one profile (possible duplicates)",
	}
	var got []string
	for _, w := range r.Warnings {
		got = append(got, w.Message)
	}
	if !slices.Equal(got, wantWarn) {
		t.Errorf("warnings %q, want %q", got, wantWarn)
	}
}

func TestUnderSegmentationWarning(t *testing.T) {
	asOf := goldenAsOf
	ds := &Dataset{Currency: "USD"}
	for i := 0; i < 100; i++ {
		ds.Customers = append(ds.Customers, Customer{ID: fmt.Sprint(i), Email: fmt.Sprintf("%d@example.com", i)})
	}
	ds.Customers = append(ds.Customers, buyer("b", 3, 2, 1000, asOf))
	r := run(t, ds, asOf, []any{map[string]any{"name": "stage", "kind": "lifecycle"}}, Options{})
	want := Warning{Kind: "under-segmentation", Segment: "stage:lead", Message: "segment stage:lead holds 99.0% of the customers that definition stage places in a segment (more than 80%): it hardly separates them"}
	if !slices.Contains(r.Warnings, want) {
		t.Errorf("warnings %+v lack %+v", r.Warnings, want)
	}
}

func TestRunHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e := mustEngine(t, allKinds(0), Options{})
	if _, err := e.Run(ctx, goldenDataset(), goldenAsOf); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestClusterDeterministic(t *testing.T) {
	ds := Generate(GenConfig{Customers: 3000, OrdersPerCustomer: 5, Seed: 5, AsOf: goldenAsOf})
	raw := []any{map[string]any{"name": "k", "kind": "cluster", "params": map[string]any{"k_max": 5, "sample": 1000, "silhouette_sample": 500}}}
	a := run(t, ds, goldenAsOf, raw, Options{Workers: 1})
	b := run(t, ds, goldenAsOf, raw, Options{Workers: 2})
	if len(a.Segments) < 2 || len(a.Segments) != len(b.Segments) {
		t.Fatalf("segments %d vs %d", len(a.Segments), len(b.Segments))
	}
	for i := range a.Segments {
		if a.Segments[i].Name != b.Segments[i].Name || a.Segments[i].Description != b.Segments[i].Description || a.KPIs[i].Size != b.KPIs[i].Size {
			t.Errorf("cluster %d differs: %+v/%d vs %+v/%d", i, a.Segments[i].Description, a.KPIs[i].Size, b.Segments[i].Description, b.KPIs[i].Size)
		}
	}
	// silhouette of a clean two-blob data set picks k=2
	var pts [][]float64
	for i := 0; i < 50; i++ {
		pts = append(pts, []float64{float64(i%5) * 0.01, 0}, []float64{10 + float64(i%5)*0.01, 10})
	}
	best, bestK := -2.0, 0
	for k := 2; k <= 5; k++ {
		_, as := kmeans(pts, k, 1, 100)
		if s := silhouette(pts, as, k); s > best {
			best, bestK = s, k
		}
	}
	if bestK != 2 || best < 0.99 {
		t.Errorf("two blobs: k=%d silhouette %.3f", bestK, best)
	}
}

func TestExplainUnknownCustomer(t *testing.T) {
	r := run(t, goldenDataset(), goldenAsOf, []any{map[string]any{"name": "rfm", "kind": "rfm"}}, Options{})
	if _, err := r.Explain("nobody"); !errors.Is(err, ErrUnknownCustomer) {
		t.Errorf("got %v", err)
	}
}

func TestSelectNth(t *testing.T) {
	v := []float64{5, 3, 9, 1, 1, 7, 3, 3, 8, 2, 6, 4, 0, 11, 10, 12, 13, 3, 2, 2}
	sorted := slices.Sorted(slices.Values(v))
	for k := range v {
		c := slices.Clone(v)
		if got := selectNth(c, k); got != sorted[k] {
			t.Errorf("k=%d: %v, want %v", k, got, sorted[k])
		}
	}
}

func TestRunReusingKeepsModelsUntilTheyAge(t *testing.T) {
	ds := goldenDataset()
	raw := []any{map[string]any{"name": "clv", "kind": "predictive"}}
	e := mustEngine(t, raw, Options{})
	first, err := e.Run(context.Background(), ds, goldenAsOf)
	if err != nil {
		t.Fatal(err)
	}
	// new data: a third of the customers lose their history
	changed := *ds
	changed.Customers = slices.Clone(ds.Customers)
	for i := 0; i < len(changed.Customers); i += 3 {
		changed.Customers[i].Orders = nil
	}
	day := 24 * time.Hour
	reused, err := e.RunReusing(context.Background(), &changed, goldenAsOf.Add(3*day), first)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(reused.Models()) != fmt.Sprint(first.Models()) || !reused.ModelsFittedAt().Equal(goldenAsOf) {
		t.Errorf("models were refitted within the age limit: %v at %v", reused.Models(), reused.ModelsFittedAt())
	}
	if p, _ := reused.Predict(0); p.PAlive != 0 {
		t.Errorf("customer 0 has no orders now but P(alive) %v", p.PAlive)
	}
	refit, err := e.RunReusing(context.Background(), &changed, goldenAsOf.Add(8*day), first)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(refit.Models()) == fmt.Sprint(first.Models()) || !refit.ModelsFittedAt().Equal(goldenAsOf.Add(8*day)) {
		t.Errorf("models older than 7 days were reused")
	}
}

func TestRadixSort(t *testing.T) {
	v := make([]uint64, 10000)
	for i := range v {
		v[i] = uint64(i*7919) * 0x9E3779B97F4A7C15
	}
	want := slices.Sorted(slices.Values(v))
	if got := radixSort(slices.Clone(v)); !slices.Equal(got, want) {
		t.Error("radix sort disagrees with slices.Sort")
	}
}

func TestUnsortedOrdersAreSortedAndReported(t *testing.T) {
	c := buyer("u", 3, 4, 4000, goldenAsOf)
	sorted := ComputeFeatures(&c, DayOf(goldenAsOf), 90)
	c.Orders[0], c.Orders[3] = c.Orders[3], c.Orders[0]
	if got := ComputeFeatures(&c, DayOf(goldenAsOf), 90); got != sorted {
		t.Errorf("unsorted orders: %+v, want %+v", got, sorted)
	}
	ds := &Dataset{Currency: "USD", Customers: []Customer{buyer("a", 1, 2, 100, goldenAsOf), c}}
	r := run(t, ds, goldenAsOf, []any{map[string]any{"name": "stage", "kind": "lifecycle"}}, Options{})
	want := "1 customers' orders were not sorted by day (first: u); they were sorted for this run"
	if !slices.ContainsFunc(r.Warnings, func(w Warning) bool { return w.Message == want }) {
		t.Errorf("warnings %+v", r.Warnings)
	}
	if c.Orders[0].Day < c.Orders[3].Day {
		t.Error("the dataset was modified")
	}
}

// The daemon's pattern: one Builder keeps converting changed profiles
// (under its own lock) while other goroutines rescore against the run.
func TestConcurrentRescoreWhileBuilderConverts(t *testing.T) {
	at := goldenAsOf
	order := func(id string, days int, device string) domain.Order {
		return domain.Order{Ref: domain.ExternalRef{ID: id}, CreatedAt: at.AddDate(0, 0, -days), Status: domain.StatusCompleted,
			Total: domain.Money{Amount: 5000, Currency: "USD"}, Device: device, Items: []domain.LineItem{{Category: "books", Quantity: 1}}}
	}
	b := NewBuilder("USD")
	for i := 0; i < 200; i++ {
		b.Add(&domain.Profile{ID: fmt.Sprint("p", i), Address: domain.Address{Country: "DE"}}, []domain.Order{order("o", i%50, "desktop"), order("o2", i%70+5, "mobile")})
	}
	raw := append(allKinds(0), map[string]any{"name": "shares", "kind": "rule", "params": map[string]any{"expr": `device_share["mobile"] > 0.4 and "books" in categories`}})
	r := run(t, b.Dataset(), at, raw, Options{})
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 50; k++ {
				p := &domain.Profile{ID: fmt.Sprint("new", g, k)}
				mu.Lock()
				c := b.Customer(p, []domain.Order{order("n", k, fmt.Sprint("device-", g, k%9))})
				mu.Unlock()
				if _, err := r.Rescore(&c, at); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(r.Dataset.Devices) != 3 {
		t.Errorf("the run's dictionary changed: %q", r.Dataset.Devices)
	}
}

// cutsUp agrees with the definition on random data with many ties.
func TestCutsUpMatchesDefinition(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		n := int(5 + seed*37)
		vals := make([]int64, n)
		for i := range vals {
			vals[i] = int64((uint64(i)*2654435761 + seed*97) % (seed%5*7 + 3))
		}
		sorted := slices.Sorted(slices.Values(vals))
		got := cutsUp(slices.Clone(vals))
		for k := 1; k <= 4; k++ {
			want := int64(math.MaxInt64)
			for i, v := range sorted {
				// least value u with #(< u) ≥ ceil(k·n/5); #(< sorted[i]) is its first index
				if (i == 0 || sorted[i-1] != v) && i >= need(k, n) {
					want = v
					break
				}
			}
			if got[k-1] != want {
				t.Errorf("seed %d n %d k %d: got %d want %d", seed, n, k, got[k-1], want)
			}
		}
	}
}
