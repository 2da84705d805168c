package segment

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// KPI are one segment's numbers. Money is in major units of the dataset
// currency. Window figures cover the Options.KPIWindowDays ending at as-of:
//
//   - retention: of the members who had bought before the window, the share
//     who bought again inside it; churn = 1 − retention;
//   - conversion: of the members who had not bought before the window, the
//     share whose first purchase fell inside it (leads to customers);
//   - CAC = spend / new customers in the window; ROI = (window revenue −
//     spend) / spend, when spend is configured for the segment.
type KPI struct {
	Segment           string  `json:"segment"`
	Size              int     `json:"size"`
	Share             float64 `json:"share"`
	Control           int     `json:"control"`
	Buyers            int     `json:"buyers"`
	Orders            int     `json:"orders"`
	Revenue           float64 `json:"revenue"`
	AOV               float64 `json:"aov"`
	PurchaseFrequency float64 `json:"purchase_frequency"`
	// RevenuePerCustomer is realised (net) revenue to date per member: what
	// customers have spent, not a prediction. AvgRealisedCLV is the same
	// number under its older name, kept for existing readers.
	RevenuePerCustomer float64 `json:"revenue_per_customer"`
	AvgRealisedCLV     float64 `json:"avg_realised_clv"`
	// AvgPredictedCLV is the predicted, discounted lifetime value over the
	// predictive definition's horizon (see Glossary), per member.
	AvgPredictedCLV *float64 `json:"avg_predicted_clv,omitempty"`
	// WindowDays is the window of RetentionRate, ChurnRate, ConversionRate,
	// NewCustomers and WindowRevenue: the last WindowDays days to as-of.
	WindowDays     int      `json:"window_days"`
	RetentionRate  float64  `json:"retention_rate"`
	ChurnRate      float64  `json:"churn_rate"`
	ConversionRate float64  `json:"conversion_rate"`
	NewCustomers   int      `json:"new_customers"`
	WindowRevenue  float64  `json:"window_revenue"`
	Spend          *float64 `json:"spend,omitempty"`
	CAC            *float64 `json:"cac,omitempty"`
	ROI            *float64 `json:"roi,omitempty"`
}

type kpiAcc struct {
	size, control, buyers, orders, existing, retained, leads, converted int
	revenue, window, predicted                                          float64
}

func (r *Result) computeKPIs() []KPI {
	acc := make([]kpiAcc, len(r.Segments))
	ws := r.asOfDay - int32(r.opts.KPIWindowDays)
	for c := range r.Features {
		f := &r.Features[c]
		id := r.Dataset.Customers[c].ID
		for d := range r.masks {
			m := r.masks[d][c]
			for m != 0 {
				b := bits.TrailingZeros32(m)
				m &^= 1 << b
				si := r.segIdx[d][b]
				a := &acc[si]
				a.size++
				if h := r.Segments[si].Holdout; h > 0 && InHoldout(id, r.Segments[si].Name, h) {
					a.control++
				}
				if f.Orders > 0 {
					a.buyers++
					a.orders += int(f.Orders)
					a.revenue += float64(f.Monetary)
					a.window += float64(f.RevenueInWindow)
					if r.shared != nil {
						a.predicted += float64(r.shared.clv[c])
					}
				}
				switch {
				case f.Orders > 0 && f.FirstDay <= ws:
					a.existing++
					if f.OrdersInWindow > 0 {
						a.retained++
					}
				case f.Orders > 0:
					a.converted++
				default:
					a.leads++
				}
			}
		}
	}
	scale := math.Pow10(domain.CurrencyExponent(r.Dataset.Currency))
	n := float64(max(len(r.Features), 1))
	out := make([]KPI, len(r.Segments))
	for i, a := range acc {
		k := KPI{Segment: r.Segments[i].Name, Size: a.size, Share: float64(a.size) / n, Control: a.control,
			Buyers: a.buyers, Orders: a.orders, Revenue: a.revenue / scale, NewCustomers: a.converted, WindowDays: r.opts.KPIWindowDays,
			WindowRevenue: a.window / scale}
		if a.orders > 0 {
			k.AOV = k.Revenue / float64(a.orders)
		}
		if a.size > 0 {
			k.PurchaseFrequency = float64(a.orders) / float64(a.size)
			k.AvgRealisedCLV = k.Revenue / float64(a.size)
			k.RevenuePerCustomer = k.AvgRealisedCLV
			if r.shared != nil {
				v := a.predicted / scale / float64(a.size)
				k.AvgPredictedCLV = &v
			}
		}
		if a.existing > 0 {
			k.RetentionRate = float64(a.retained) / float64(a.existing)
			k.ChurnRate = 1 - k.RetentionRate
		}
		if a.leads+a.converted > 0 {
			k.ConversionRate = float64(a.converted) / float64(a.leads+a.converted)
		}
		s, ok := r.opts.Spend[k.Segment]
		if !ok {
			seg := &r.Segments[i]
			for _, d := range r.defs {
				if d.Name == seg.Definition {
					s, ok = d.Spend[strings.TrimPrefix(strings.TrimPrefix(seg.Name, d.Name), ":")]
				}
			}
		}
		if ok && s > 0 {
			spend := s
			roi := (k.WindowRevenue - s) / s
			k.Spend, k.ROI = &spend, &roi
			if a.converted > 0 {
				cac := s / float64(a.converted)
				k.CAC = &cac
			}
		}
		out[i] = k
	}
	return out
}

// GlossaryEntry names and defines one KPI for a reader of reports.
type GlossaryEntry struct {
	Key        string `json:"key"`   // the KPI's JSON name
	Label      string `json:"label"` // a short column heading, window and currency included
	Definition string `json:"definition"`
}

// Glossary defines the KPIs with their window (windowDays, as
// Options.KPIWindowDays), the predictive horizon and annual discount rate,
// and the currency (ISO 4217; "" when unknown), for API clients, tooltips
// and report headings.
func Glossary(windowDays, horizonDays int, discountRate float64, currency string) []GlossaryEntry {
	cur := ""
	if currency != "" {
		cur = ", " + currency
	}
	w := fmt.Sprintf("%d days", windowDays)
	return []GlossaryEntry{
		{"size", "Customers", "members of the segment (control-group members included)"},
		{"share", "Share", "members as a share of all customers"},
		{"revenue", "Revenue" + cur, "realised net revenue to date of the members (paid orders less refunds)"},
		{"aov", "Avg order value" + cur, "revenue / orders"},
		{"purchase_frequency", "Orders per customer", "orders / members"},
		{"revenue_per_customer", "Revenue per customer" + cur, "realised revenue to date / members; what customers have spent, not a prediction (also reported as avg_realised_clv)"},
		{"avg_predicted_clv", fmt.Sprintf("Predicted CLV (%d days, %s/yr discount%s)", horizonDays, fmtNum(100*discountRate)+"%", cur),
			fmt.Sprintf("expected discounted value of each member's purchases over the next %d days from the fitted purchase and spend models, per member", horizonDays)},
		{"retention_rate", "Retention (ordered in last " + w + ")", "of the members who had bought before the last " + w + ", the share who ordered again within them"},
		{"churn_rate", "Churn (no order in last " + w + ")", "of the members who had bought before the last " + w + ", the share with no order within them; 1 − retention"},
		{"conversion_rate", "Conversion (last " + w + ")", "of the members without a purchase before the last " + w + ", the share whose first purchase fell within them"},
		{"new_customers", "New customers (last " + w + ")", "members whose first purchase fell within the last " + w},
		{"window_revenue", "Revenue, last " + w + cur, "revenue of the members' orders within the last " + w},
		{"cac", "CAC (last " + w + cur + ")", "configured spend / new customers in the window"},
		{"roi", "ROI (last " + w + ")", "(window revenue − spend) / spend"},
	}
}

func (r *Result) segmentWarnings() []Warning {
	var out []Warning
	n := len(r.Features)
	if n == 0 {
		return []Warning{{Kind: "data-quality", Message: "the dataset has no customers"}}
	}
	// Empty and small segments are grouped into one warning each, so a
	// small file does not print one line per segment. A value tier's size
	// is set by its top_percent, so a top-1% tier holding 1% of the
	// customers is not small, and the tiers of a value definition are not
	// checked for dominance.
	var empty, small []string
	for i, k := range r.KPIs {
		s := &r.Segments[i]
		switch {
		case k.Size == 0:
			empty = append(empty, s.Name)
		case k.Size < r.opts.MinSegmentSize || (k.Share < r.opts.MinSegmentShare && s.Kind != KindValue):
			small = append(small, fmt.Sprintf("%s (%d, %.2f%%)", s.Name, k.Size, 100*k.Share))
		}
	}
	if len(empty) > 0 {
		w := Warning{Kind: "over-segmentation", Message: fmt.Sprintf("%d segments are empty: %s", len(empty), strings.Join(empty, ", "))}
		if len(empty) == 1 {
			w = Warning{Kind: "over-segmentation", Segment: empty[0], Message: fmt.Sprintf("segment %s is empty", empty[0])}
		}
		out = append(out, w)
	}
	switch {
	case len(small) == 1:
		out = append(out, Warning{Kind: "over-segmentation", Segment: small[0][:strings.Index(small[0], " (")],
			Message: fmt.Sprintf("segment %s is below the minimum of %d customers or %.2f%% of customers", small[0], r.opts.MinSegmentSize, 100*r.opts.MinSegmentShare)})
	case len(small) > 1:
		out = append(out, Warning{Kind: "over-segmentation", Message: fmt.Sprintf("%d segments are below the minimum of %d customers or %.2f%% of customers: %s",
			len(small), r.opts.MinSegmentSize, 100*r.opts.MinSegmentShare, strings.Join(small, ", "))})
	}
	// under-segmentation: one segment of an exclusive definition dominates
	for d, idx := range r.segIdx {
		if len(idx) < 2 || !r.Segments[idx[0]].Exclusive || r.Segments[idx[0]].Kind == KindValue {
			continue
		}
		total := 0
		for _, si := range idx {
			total += r.KPIs[si].Size
		}
		for _, si := range idx {
			if total > 0 && float64(r.KPIs[si].Size)/float64(total) > r.opts.DominantShare {
				out = append(out, Warning{Kind: "under-segmentation", Segment: r.Segments[si].Name,
					Message: fmt.Sprintf("segment %s holds %.1f%% of the customers that definition %s places in a segment (more than %.0f%%): it hardly separates them", r.Segments[si].Name, 100*float64(r.KPIs[si].Size)/float64(total), r.defs[d].Name, 100*r.opts.DominantShare)})
			}
		}
	}
	// near-identical segments of different definitions
	S := len(r.Segments)
	if S > 1 && S <= 512 {
		inter := make([]int32, S*S)
		var mine []int
		for c := 0; c < n; c++ {
			mine = mine[:0]
			for d := range r.masks {
				for m := r.masks[d][c]; m != 0; m &= m - 1 {
					mine = append(mine, r.segIdx[d][bits.TrailingZeros32(m)])
				}
			}
			for a := 0; a < len(mine); a++ {
				for b := a + 1; b < len(mine); b++ {
					inter[mine[a]*S+mine[b]]++
				}
			}
		}
		for a := 0; a < S; a++ {
			for b := a + 1; b < S; b++ {
				if r.Segments[a].Definition == r.Segments[b].Definition || r.sameByDefinition(a, b) {
					continue
				}
				x := int(inter[a*S+b])
				union := r.KPIs[a].Size + r.KPIs[b].Size - x
				if union > 0 && x > 0 && float64(x)/float64(union) >= r.opts.SimilarJaccard {
					out = append(out, Warning{Kind: "over-segmentation", Segment: r.Segments[a].Name,
						Message: fmt.Sprintf("segments %s and %s share %.0f%% of their members (Jaccard); consider merging them", r.Segments[a].Name, r.Segments[b].Name, 100*float64(x)/float64(union))})
				}
			}
		}
	}
	return out
}

// sameByDefinition reports whether segments a and b are the same rule by
// construction, so their overlap is no finding: a behavioural "churned"
// group and a lifecycle "churned" stage with the same churn_days both mean
// "no purchase for more than that many days".
func (r *Result) sameByDefinition(a, b int) bool {
	churn := func(i int) int {
		s := &r.Segments[i]
		if s.Name != s.Definition+":churned" {
			return -1
		}
		for _, d := range r.defs {
			if d.Name != s.Definition {
				continue
			}
			switch {
			case d.Kind == KindBehavioral && d.Behavioral != nil:
				return d.Behavioral.ChurnDays
			case d.Kind == KindLifecycle && d.Lifecycle != nil:
				return d.Lifecycle.ChurnDays
			}
		}
		return -1
	}
	ca, cb := churn(a), churn(b)
	return ca > 0 && ca == cb && r.Segments[a].Kind != r.Segments[b].Kind
}

func (r *Result) dataWarnings() []Warning {
	var out []Warning
	ds := r.Dataset
	var negative, absurd int
	emails := ds.Emails
	if emails == nil {
		st := CountEmails(ds.Customers)
		emails = &st
	}
	noEmail, dups := emails.Missing, emails.Duplicates
	limit := int64(r.opts.AbsurdAmount * math.Pow10(domain.CurrencyExponent(ds.Currency)))
	var firstAbsurd string
	for i := range ds.Customers {
		f := &r.Features[i]
		negative += int(f.NegativeAmounts)
		if f.MaxOrder > limit {
			absurd++
			if firstAbsurd == "" {
				firstAbsurd = ds.Customers[i].ID
			}
		}
	}
	if noEmail > 0 {
		out = append(out, Warning{Kind: "data-quality", Message: fmt.Sprintf("%d of %d profiles have no email address", noEmail, len(ds.Customers))})
	}
	if dups > 0 {
		out = append(out, Warning{Kind: "data-quality", Message: fmt.Sprintf("%d email addresses belong to more than one profile (possible duplicates)", dups)})
	}
	if ds.OrphanOrders > 0 {
		out = append(out, Warning{Kind: "data-quality", Message: fmt.Sprintf("%d orders belong to no customer", ds.OrphanOrders)})
	}
	if negative > 0 {
		out = append(out, Warning{Kind: "data-quality", Message: fmt.Sprintf("%d purchases have a negative net amount and were left out", negative)})
	}
	if absurd > 0 {
		out = append(out, Warning{Kind: "data-quality", Message: fmt.Sprintf("%d customers have an order above %s (first: %s)", absurd, fmtNum(r.opts.AbsurdAmount), firstAbsurd)})
	}
	if len(ds.Problems) > 0 {
		out = append(out, Warning{Kind: "data-quality", Message: fmt.Sprintf("%d orders were left out during conversion, e.g. %s", len(ds.Problems), ds.Problems[0])})
	}
	return out
}

// SegmentDiff is who entered and who left one segment since the previous run.
type SegmentDiff struct {
	Segment string   `json:"segment"`
	Entered []string `json:"entered"`
	Left    []string `json:"left"`
}

// Diff compares this run with the previous memberships (as stored) and
// returns, per segment with changes, the customer ids that entered and
// left, sorted. Segments present only in prev appear with everyone left.
func (r *Result) Diff(prev []domain.Membership) []SegmentDiff {
	before := map[string]map[string]bool{}
	for _, m := range prev {
		s := before[m.Segment]
		if s == nil {
			s = map[string]bool{}
			before[m.Segment] = s
		}
		s[m.ProfileID] = false
	}
	diffs := map[string]*SegmentDiff{}
	get := func(seg string) *SegmentDiff {
		d := diffs[seg]
		if d == nil {
			d = &SegmentDiff{Segment: seg}
			diffs[seg] = d
		}
		return d
	}
	for c := range r.Features {
		id := r.Dataset.Customers[c].ID
		for d := range r.masks {
			for m := r.masks[d][c]; m != 0; m &= m - 1 {
				seg := r.Segments[r.segIdx[d][bits.TrailingZeros32(m)]].Name
				if s, ok := before[seg]; ok {
					if _, was := s[id]; was {
						s[id] = true
						continue
					}
				}
				get(seg).Entered = append(get(seg).Entered, id)
			}
		}
	}
	for seg, s := range before {
		for id, still := range s {
			if !still {
				get(seg).Left = append(get(seg).Left, id)
			}
		}
	}
	out := make([]SegmentDiff, 0, len(diffs))
	for _, d := range diffs {
		slices.Sort(d.Entered)
		slices.Sort(d.Left)
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b SegmentDiff) int { return strings.Compare(a.Segment, b.Segment) })
	return out
}

// Matrix is a migration matrix: Counts[i][j] customers moved from
// Labels[i] (previous run) to Labels[j] (this run). The last label is
// "(none)": not in any segment of the definition (or not a customer).
type Matrix struct {
	Definition string   `json:"definition"`
	Labels     []string `json:"labels"`
	Counts     [][]int  `json:"counts"`
}

// Migration builds the migration matrix of one exclusive definition
// between the previous memberships and this run.
func (r *Result) Migration(definition string, prev []domain.Membership) (Matrix, error) {
	d := slices.IndexFunc(r.defs, func(x Definition) bool { return x.Name == definition })
	if d < 0 {
		return Matrix{}, fmt.Errorf("no segment definition named %q", definition)
	}
	mx := Matrix{Definition: definition}
	pos := map[string]int{}
	for _, si := range r.segIdx[d] {
		pos[r.Segments[si].Name] = len(mx.Labels)
		mx.Labels = append(mx.Labels, r.Segments[si].Name)
	}
	// segments that existed before but not now (e.g. clusters) get rows too
	for _, m := range prev {
		if _, ok := pos[m.Segment]; !ok && (m.Segment == definition || strings.HasPrefix(m.Segment, definition+":")) {
			pos[m.Segment] = len(mx.Labels)
			mx.Labels = append(mx.Labels, m.Segment)
		}
	}
	none := len(mx.Labels)
	mx.Labels = append(mx.Labels, "(none)")
	mx.Counts = make([][]int, len(mx.Labels))
	for i := range mx.Counts {
		mx.Counts[i] = make([]int, len(mx.Labels))
	}
	from := map[string]int{}
	for _, m := range prev {
		if p, ok := pos[m.Segment]; ok {
			from[m.ProfileID] = p
		}
	}
	seen := make(map[string]bool, len(from))
	for c := range r.Features {
		id := r.Dataset.Customers[c].ID
		to := none
		if m := r.masks[d][c]; m != 0 {
			to = pos[r.Segments[r.segIdx[d][bits.TrailingZeros32(m)]].Name]
		}
		f, ok := from[id]
		if !ok {
			f = none
		}
		seen[id] = true
		mx.Counts[f][to]++
	}
	for id, f := range from {
		if !seen[id] {
			mx.Counts[f][none]++
		}
	}
	return mx, nil
}

// radixSort sorts v by 16-bit digits (four stable counting passes); it
// returns the sorted slice, which may be v or a new one.
func radixSort(v []uint64) []uint64 {
	if len(v) < 1<<12 {
		slices.Sort(v)
		return v
	}
	buf := make([]uint64, len(v))
	var count [1 << 16]int
	for shift := uint(0); shift < 64; shift += 16 {
		clear(count[:])
		for _, x := range v {
			count[(x>>shift)&0xffff]++
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, x := range v {
			d := (x >> shift) & 0xffff
			buf[count[d]] = x
			count[d]++
		}
		v, buf = buf, v
	}
	return v
}
