package segment

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// ---- rfm ----

type rfmKind struct {
	p      RFMParams
	groups []RFMGroup
	table  [125]rfmCell
}

func newRFMKind(p *RFMParams) (*rfmKind, error) {
	if p.Scoring == "" {
		p.Scoring = "rank"
	}
	if p.Fallback == "" {
		p.Fallback = "nearest"
	}
	k := &rfmKind{p: *p, groups: p.Groups}
	if len(k.groups) == 0 {
		k.groups = DefaultRFMGroups()
	}
	if len(k.groups) > 32 {
		return nil, fmt.Errorf("rfm allows at most 32 groups, got %d", len(k.groups))
	}
	if p.Scoring == "fixed" && (len(p.RecencyCuts) != 4 || len(p.FrequencyCuts) != 4 || len(p.MonetaryCuts) != 4) {
		return nil, errors.New("fixed rfm scoring needs 4 cut points for recency, frequency and monetary")
	}
	t, err := rfmTable(k.groups, p.Fallback)
	if err != nil {
		return nil, err
	}
	k.table = t
	return k, nil
}

type rfmFitted struct {
	k     *rfmKind
	rank  *rankCuts // nil for fixed scoring
	scale float64
}

func (k *rfmKind) fit(_ context.Context, fc *fitContext) (fitted, error) {
	f := &rfmFitted{k: k, scale: math.Pow10(domain.CurrencyExponent(fc.ds.Currency))}
	if k.p.Scoring == "rank" {
		f.rank = newRankCuts(fc.feats, fc.opts.Workers)
	}
	return f, nil
}

func (f *rfmFitted) groups() []groupInfo {
	out := make([]groupInfo, len(f.k.groups))
	for i, g := range f.k.groups {
		out[i] = groupInfo{slug: slug(g.Name), display: g.Name, description: "RFM group " + g.Name}
	}
	return out
}

func (f *rfmFitted) exclusive() bool { return true }

// score scores a customer with the cut points of the full run (for a
// customer of that run, exactly the rank score) or the fixed cut points.
func (f *rfmFitted) score(feat *Features) RFMScore {
	var s RFMScore
	if f.rank != nil {
		s.R, s.F, s.M = f.rank.score(feat)
	} else {
		s.R = fixedScoreRecency(float64(feat.RecencyDays), f.k.p.RecencyCuts)
		s.F = fixedScoreUp(float64(feat.Orders), f.k.p.FrequencyCuts)
		s.M = fixedScoreUp(float64(feat.Monetary)/f.scale, f.k.p.MonetaryCuts)
	}
	cell := f.k.table[codeIndex(s.R, s.F, s.M)]
	s.Group, s.Listed = f.k.groups[cell.group].Name, cell.listed
	return s
}

func (f *rfmFitted) assign(_ int, _ *Customer, feat *Features, _ *scratch) uint32 {
	if feat.Orders == 0 {
		return 0
	}
	s := f.score(feat)
	return 1 << f.k.table[codeIndex(s.R, s.F, s.M)].group
}

func (f *rfmFitted) explain(_ int, _ *Customer, feat *Features, _ *scratch, _ uint32) []string {
	if feat.Orders == 0 {
		return []string{"no purchases at as-of, so no RFM scores"}
	}
	s := f.score(feat)
	var out []string
	if f.rank != nil {
		rc := f.rank
		out = append(out,
			fmt.Sprintf("R=%d: last purchase %d days ago; R 2..5 need at most %s days", s.R, feat.RecencyDays, cutText(rc.rec[:])),
			fmt.Sprintf("F=%d: %d orders; F 2..5 need at least %s orders", s.F, feat.Orders, cutText(rc.freq[:])),
			fmt.Sprintf("M=%d: %s spent; M 2..5 need at least %s (minor units)", s.M, domain.FormatMinor(feat.Monetary, int(math.Log10(f.scale))), cutText(rc.mon[:])),
			fmt.Sprintf("score = 1 + floor(5 × buyers strictly worse / %d buyers); the cut points are the least good values of the run that earn each score", rc.n))
		if rc.oneTimeSplit {
			out = append(out, fmt.Sprintf("frequency: %d of %d buyers bought once (over %s%%), so F=1 is exactly the one-time buyers and repeat buyers score F = 2 + floor(4 × repeat buyers with fewer orders / %d)",
				rc.once, rc.n, fmtNum(100*OneTimeTieShare), rc.n-rc.once))
		}
	} else {
		out = append(out, fmt.Sprintf("fixed cut points: recency %v days, frequency %v, monetary %v; R=%d F=%d M=%d for recency %d days, %d orders, %.2f spent",
			f.k.p.RecencyCuts, f.k.p.FrequencyCuts, f.k.p.MonetaryCuts, s.R, s.F, s.M, feat.RecencyDays, feat.Orders, float64(feat.Monetary)/f.scale))
	}
	cell := f.k.table[codeIndex(s.R, s.F, s.M)]
	if cell.listed {
		out = append(out, fmt.Sprintf("code %s is listed under %s", s.Code(), s.Group))
	} else if f.k.p.Fallback == "nearest" {
		out = append(out, fmt.Sprintf("code %s is not listed; the nearest listed code %s is %s", s.Code(), codeString(int(cell.nearest)), s.Group))
	} else {
		out = append(out, fmt.Sprintf("code %s is not listed; fallback group %s", s.Code(), s.Group))
	}
	return out
}

// ---- value ----

type valueKind struct{ p ValueParams }

type valueFitted struct {
	p      ValueParams
	sorted []float64
	pred   *predictions
	cuts   []float64 // per tier: least value of the run in the tier (+Inf: none)
}

func (k *valueKind) fit(ctx context.Context, fc *fitContext) (fitted, error) {
	f := &valueFitted{p: k.p}
	if k.p.Basis == "predicted" {
		f.pred = fc.shared
	}
	f.sorted = make([]float64, 0, len(fc.feats))
	for i := range fc.feats {
		if fc.feats[i].Orders > 0 {
			f.sorted = append(f.sorted, f.value(i, &fc.feats[i]))
		}
	}
	slices.Sort(f.sorted)
	n := len(f.sorted)
	for _, t := range k.p.Tiers {
		// members have w = n − upperBound(v) < P; upperBound grows with the index
		p := t.TopPercent / 100 * float64(n)
		i := sort.Search(n, func(i int) bool { return float64(n-upperBoundOrdered(f.sorted, f.sorted[i])) < p })
		cut := math.Inf(1)
		if i < n {
			cut = f.sorted[i]
		}
		f.cuts = append(f.cuts, cut)
	}
	return f, nil
}

func (f *valueFitted) value(i int, feat *Features) float64 {
	if f.pred != nil {
		_, _, _, clv := f.pred.at(i, feat)
		return clv
	}
	return float64(feat.Monetary)
}

func (f *valueFitted) groups() []groupInfo {
	out := make([]groupInfo, len(f.p.Tiers))
	for i, t := range f.p.Tiers {
		out[i] = groupInfo{slug: t.Name, display: t.Name, description: fmt.Sprintf("top %s%% of buyers by %s value", fmtNum(t.TopPercent), f.p.Basis)}
	}
	return out
}

func (f *valueFitted) exclusive() bool { return true }

// upperBoundOrdered is the number of elements of sorted s that are ≤ v.
func upperBoundOrdered[T cmp.Ordered](s []T, v T) int {
	return sort.Search(len(s), func(i int) bool { return s[i] > v })
}

func (f *valueFitted) better(i int, feat *Features) (v float64, w, n int) {
	v = f.value(i, feat)
	n = len(f.sorted)
	return v, n - upperBoundOrdered(f.sorted, v), n
}

func (f *valueFitted) assign(i int, _ *Customer, feat *Features, _ *scratch) uint32 {
	if feat.Orders == 0 || len(f.sorted) == 0 {
		return 0
	}
	if i >= 0 {
		v := f.value(i, feat)
		for t, c := range f.cuts {
			if v >= c {
				return 1 << t
			}
		}
		return 0
	}
	_, w, n := f.better(i, feat)
	for t, tier := range f.p.Tiers {
		if float64(w) < tier.TopPercent/100*float64(n) {
			return 1 << t
		}
	}
	return 0
}

func (f *valueFitted) explain(i int, _ *Customer, feat *Features, _ *scratch, mask uint32) []string {
	if feat.Orders == 0 {
		return []string{"no purchases, so no value tier"}
	}
	v, w, n := f.better(i, feat)
	unit := "realised value (minor units)"
	if f.pred != nil {
		unit = "predicted CLV (minor units)"
	}
	s := fmt.Sprintf("%s %.2f; %d of %d buyers (%.2f%%) are worth more", unit, v, w, n, 100*float64(w)/float64(max(n, 1)))
	if mask == 0 {
		return []string{s + "; outside every tier"}
	}
	t := f.p.Tiers[trailing(mask)]
	return []string{fmt.Sprintf("%s; below the %s%% needed for %s", s, fmtNum(t.TopPercent), t.Name)}
}

// trailing is the index of the lowest set bit of m (m ≠ 0).
func trailing(m uint32) int { return bits.TrailingZeros32(m) }

// ---- behavioral ----

type behavioralKind struct{ p BehavioralParams }

type behavioralFitted struct {
	p                      BehavioralParams
	bulkItems, bulkAOV     float64
	bit                    map[string]int
	scale                  float64
	itemsKnown, aovEnabled bool
	day                    int32 // as-of, for engagement ages
}

// percentile returns the nearest-rank p-th percentile of v, reordering v.
func percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	idx := int(math.Ceil(p/100*float64(len(v)))) - 1
	return selectNth(v, max(0, min(idx, len(v)-1)))
}

// selectNth returns the value that would be at index k if v were sorted
// (Hoare's quickselect with median-of-three pivots; reorders v).
func selectNth[T cmp.Ordered](v []T, k int) T {
	lo, hi := 0, len(v)-1
	for hi > lo {
		if hi-lo < 16 {
			slices.Sort(v[lo : hi+1])
			return v[k]
		}
		mid := int(uint(lo+hi) >> 1)
		a, b, c := v[lo], v[mid], v[hi]
		pivot := max(min(a, b), min(max(a, b), c))
		i, j := lo, hi
		for i <= j {
			for v[i] < pivot {
				i++
			}
			for v[j] > pivot {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}

func (k *behavioralKind) fit(_ context.Context, fc *fitContext) (fitted, error) {
	f := &behavioralFitted{p: k.p, bit: map[string]int{}, scale: math.Pow10(domain.CurrencyExponent(fc.ds.Currency)), day: fc.asOfDay}
	for i, g := range k.p.Groups {
		f.bit[g] = i
	}
	if _, ok := f.bit[GroupBulk]; ok {
		items := make([]float64, 0, len(fc.feats))
		aov := make([]float64, 0, len(fc.feats))
		for i := range fc.feats {
			ft := &fc.feats[i]
			if ft.Orders > 0 {
				items = append(items, ft.ItemsPerOrder())
				aov = append(aov, ft.AOV())
			}
		}
		f.bulkItems = percentile(items, k.p.BulkPercentile)
		f.bulkAOV = percentile(aov, k.p.BulkPercentile)
		f.itemsKnown = f.bulkItems > 0
		f.aovEnabled = f.bulkAOV > 0
	}
	return f, nil
}

func behavioralText(g string) string {
	switch g {
	case GroupFirstTime:
		return "one purchase-day, recently"
	case GroupRegular:
		return "steady gaps between purchases"
	case GroupBulk:
		return "items or value per order in the top tail"
	case GroupSeasonal:
		return "purchases concentrated in the same months across years"
	case GroupNonBuyer:
		return "a profile with no purchases (a lead)"
	case GroupChurned:
		return "no purchase for longer than the churn threshold"
	case GroupWinBack:
		return "came back after a long gap"
	case GroupEngagedNonBuyer:
		return "no purchases, but a recent web visit or email open or click"
	case GroupDisengagedBuyer:
		return "a buyer whose engagement data shows no recent visit, open or click"
	}
	return ""
}

func (f *behavioralFitted) groups() []groupInfo {
	out := make([]groupInfo, len(f.p.Groups))
	for i, g := range f.p.Groups {
		out[i] = groupInfo{slug: g, display: g, description: behavioralText(g)}
	}
	return out
}

func (f *behavioralFitted) exclusive() bool { return false }

func (f *behavioralFitted) in(g string, c *Customer, ft *Features) bool {
	p := &f.p
	switch g {
	case GroupEngagedNonBuyer:
		return ft.Orders == 0 && EngagementOf(c.Attrs, f.day).Engaged(p.EngagedDays)
	case GroupDisengagedBuyer:
		e := EngagementOf(c.Attrs, f.day)
		return ft.Orders > 0 && (e.DaysSince > p.DisengagedDays || e.NeverEngaged())
	case GroupNonBuyer:
		return ft.Orders == 0
	case GroupFirstTime:
		return ft.PurchaseDays == 1 && ft.RecencyDays <= int32(p.FirstTimeDays)
	case GroupRegular:
		return ft.PurchaseDays >= int32(p.RegularMinOrders) && ft.GapMeanDays > 0 &&
			float64(ft.GapStdDays/ft.GapMeanDays) <= p.RegularMaxCV && ft.RecencyDays <= int32(p.ChurnDays)
	case GroupBulk:
		return ft.Orders > 0 && ((f.itemsKnown && ft.ItemsPerOrder() >= f.bulkItems) || (f.aovEnabled && ft.AOV() >= f.bulkAOV))
	case GroupSeasonal:
		return ft.Orders >= 2 && int(ft.Years) >= p.SeasonalMinYears && int(ft.SeasonalYears) >= p.SeasonalMinYears &&
			float64(ft.PeakMonthsShare) >= p.SeasonalMinShare
	case GroupChurned:
		return ft.Orders > 0 && ft.RecencyDays > int32(p.ChurnDays)
	case GroupWinBack:
		return ft.PurchaseDays >= 2 && ft.LastGapDays >= int32(p.WinBackGapDays) && ft.RecencyDays <= int32(p.WinBackRecentDays)
	}
	return false
}

func (f *behavioralFitted) assign(_ int, c *Customer, ft *Features, _ *scratch) uint32 {
	var m uint32
	for i, g := range f.p.Groups {
		if f.in(g, c, ft) {
			m |= 1 << i
		}
	}
	return m
}

func (f *behavioralFitted) explain(_ int, c *Customer, ft *Features, _ *scratch, _ uint32) []string {
	p := &f.p
	var out []string
	for _, g := range p.Groups {
		verdict := "no"
		if f.in(g, c, ft) {
			verdict = "yes"
		}
		var why string
		switch g {
		case GroupNonBuyer:
			why = fmt.Sprintf("%d purchases", ft.Orders)
		case GroupFirstTime:
			why = fmt.Sprintf("%d purchase-days, last %d days ago (needs 1 within %d)", ft.PurchaseDays, ft.RecencyDays, p.FirstTimeDays)
		case GroupRegular:
			cv := 0.0
			if ft.GapMeanDays > 0 {
				cv = float64(ft.GapStdDays / ft.GapMeanDays)
			}
			why = fmt.Sprintf("%d purchase-days, gap mean %.1f days, spread/mean %.2f (needs ≥ %d and ≤ %.2f, not churned)", ft.PurchaseDays, ft.GapMeanDays, cv, p.RegularMinOrders, p.RegularMaxCV)
		case GroupBulk:
			why = fmt.Sprintf("%.2f items per order (cut %.2f), AOV %.2f (cut %.2f) at percentile %s", ft.ItemsPerOrder(), f.bulkItems, ft.AOV()/f.scale, f.bulkAOV/f.scale, fmtNum(p.BulkPercentile))
		case GroupSeasonal:
			why = fmt.Sprintf("%d years with purchases, one month bought in %d years, busiest two months hold %.0f%% (needs %d years and %.0f%%)", ft.Years, ft.SeasonalYears, 100*ft.PeakMonthsShare, p.SeasonalMinYears, 100*p.SeasonalMinShare)
		case GroupChurned:
			why = fmt.Sprintf("last purchase %d days ago (churned above %d)", ft.RecencyDays, p.ChurnDays)
		case GroupWinBack:
			why = fmt.Sprintf("gap before the last purchase %d days, last purchase %d days ago (needs gap ≥ %d and within %d)", ft.LastGapDays, ft.RecencyDays, p.WinBackGapDays, p.WinBackRecentDays)
		case GroupEngagedNonBuyer, GroupDisengagedBuyer:
			why = engagementWhy(EngagementOf(c.Attrs, f.day), ft, p)
		}
		out = append(out, fmt.Sprintf("%s: %s: %s", g, verdict, why))
	}
	return out
}

// ---- lifecycle ----

type lifecycleKind struct{ p LifecycleParams }

type lifecycleFitted struct{ p LifecycleParams }

func (k *lifecycleKind) fit(context.Context, *fitContext) (fitted, error) {
	return &lifecycleFitted{p: k.p}, nil
}

func lifecycleText(stage string) string {
	switch stage {
	case StageLead:
		return "a profile without purchases or open deals"
	case StageProspect:
		return "an open deal or opportunity, no purchase yet"
	case StageFirstPurchase:
		return "one purchase, recent"
	case StageRepeat:
		return "more than one purchase"
	case StageLoyal:
		return "many purchases, recent"
	case StageLapsing:
		return "no purchase for a while"
	case StageChurned:
		return "no purchase for a long time"
	}
	return ""
}

func (f *lifecycleFitted) groups() []groupInfo {
	stages := lifecycleStages()
	out := make([]groupInfo, len(stages))
	for i, s := range stages {
		out[i] = groupInfo{slug: s, display: s, description: lifecycleText(s)}
	}
	return out
}

func (f *lifecycleFitted) exclusive() bool { return true }

func isProspectStage(s string) bool {
	switch s {
	case "opportunity", "salesqualifiedlead", "sales_qualified_lead", "prospect", "marketingqualifiedlead":
		return true
	}
	return false
}

func (f *lifecycleFitted) stage(c *Customer, ft *Features) (int, string) {
	p := &f.p
	switch {
	case ft.Orders == 0 && ft.OpenDeals > 0:
		return 1, fmt.Sprintf("no purchases, %d open deals", ft.OpenDeals)
	case ft.Orders == 0 && c.Attrs != nil && isProspectStage(c.Attrs.LifecycleStage):
		return 1, fmt.Sprintf("no purchases, platform stage %q", c.Attrs.LifecycleStage)
	case ft.Orders == 0:
		return 0, "no purchases and no open deals"
	case ft.RecencyDays > int32(p.ChurnDays):
		return 6, fmt.Sprintf("last purchase %d days ago, above %d", ft.RecencyDays, p.ChurnDays)
	case ft.RecencyDays > int32(p.LapsingDays):
		return 5, fmt.Sprintf("last purchase %d days ago, above %d", ft.RecencyDays, p.LapsingDays)
	case ft.Orders >= int32(p.LoyalMinOrders):
		return 4, fmt.Sprintf("%d purchases (loyal from %d), last %d days ago", ft.Orders, p.LoyalMinOrders, ft.RecencyDays)
	case ft.Orders >= 2:
		return 3, fmt.Sprintf("%d purchases (loyal from %d)", ft.Orders, p.LoyalMinOrders)
	default:
		return 2, fmt.Sprintf("one purchase, %d days ago", ft.RecencyDays)
	}
}

func (f *lifecycleFitted) assign(_ int, c *Customer, ft *Features, _ *scratch) uint32 {
	p := &f.p
	switch {
	case ft.Orders == 0 && (ft.OpenDeals > 0 || (c.Attrs != nil && isProspectStage(c.Attrs.LifecycleStage))):
		return 1 << 1
	case ft.Orders == 0:
		return 1 << 0
	case ft.RecencyDays > int32(p.ChurnDays):
		return 1 << 6
	case ft.RecencyDays > int32(p.LapsingDays):
		return 1 << 5
	case ft.Orders >= int32(p.LoyalMinOrders):
		return 1 << 4
	case ft.Orders >= 2:
		return 1 << 3
	}
	return 1 << 2
}

func (f *lifecycleFitted) explain(_ int, c *Customer, ft *Features, _ *scratch, _ uint32) []string {
	s, why := f.stage(c, ft)
	return []string{lifecycleStages()[s] + ": " + why}
}

func cutText[T int32 | int64](cuts []T) string {
	parts := make([]string, len(cuts))
	for i, c := range cuts {
		if c < 0 || c == T(math.MaxInt32) || int64(c) == math.MaxInt64 {
			parts[i] = "none"
		} else {
			parts[i] = fmt.Sprint(c)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}
