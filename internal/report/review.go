package report

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/store"
)

// ReviewSource is what the quarterly review reads.
type ReviewSource interface {
	LiftSource
	Quarantined(ctx context.Context, platform string, limit int) ([]store.Quarantined, error)
}

// ReviewOptions configure Review. The thresholds have documented
// defaults; see [Review].
type ReviewOptions struct {
	From, To time.Time // the period, [From, To)
	// LiftWindow is the window after entry for the lift section; default
	// 30 days.
	LiftWindow time.Duration
	// TooSmall flags segments under this share of profiles (default 1%)
	// or under MinPeople people (default 20); TooBig flags segments over
	// this share (default 50%); Overlap flags two segments of different
	// definitions sharing more than this share of the smaller (default
	// 80%).
	TooSmall, TooBig, Overlap float64
	MinPeople                 int
	// Seed makes the lift estimates repeatable.
	Seed uint64
	// Spend is the configured campaign spend; segments with spend in the
	// period get an ROI section (see [SpendROI]).
	Spend []config.Spend
}

func (o *ReviewOptions) defaults() {
	if o.LiftWindow <= 0 {
		o.LiftWindow = 30 * 24 * time.Hour
	}
	if o.TooSmall <= 0 {
		o.TooSmall = 0.01
	}
	if o.TooBig <= 0 {
		o.TooBig = 0.5
	}
	if o.Overlap <= 0 {
		o.Overlap = 0.8
	}
	if o.MinPeople <= 0 {
		o.MinPeople = 20
	}
}

// SegmentChange is one segment over the period.
type SegmentChange struct {
	Segment  string `json:"segment"`
	SizeFrom int    `json:"size_from"`
	SizeTo   int    `json:"size_to"`
	Entered  int    `json:"entered"`
	Left     int    `json:"left"`
	// RevenuePerMember is the purchases (net, minor units of Currency)
	// of the members at To, per member, in the period and in the period
	// of the same length before it.
	RevenuePerMember     float64 `json:"revenue_per_member"`
	RevenuePerMemberPrev float64 `json:"revenue_per_member_previous"`
}

// Flow is people who moved from one segment of a definition to another.
type Flow struct {
	Definition string `json:"definition"`
	From       string `json:"from"` // "(none)": in no segment of the definition
	To         string `json:"to"`
	People     int    `json:"people"`
}

// Finding is something the review noticed, with the action its rule
// suggests.
type Finding struct {
	Kind   string `json:"kind"` // shrinking_value, too_small, too_big, overlap, lift, data_quality
	Text   string `json:"text"`
	Action string `json:"action"`
}

// ReviewResult is the quarterly review.
type ReviewResult struct {
	From     time.Time       `json:"from"`
	To       time.Time       `json:"to"`
	Profiles int             `json:"profiles"`
	Currency string          `json:"currency"`
	Segments []SegmentChange `json:"segments"`
	Matrices []Matrix        `json:"migration_matrices"`
	Flows    []Flow          `json:"largest_flows"`
	Lift     []SegmentLift   `json:"lift"`
	ROI      []ROI           `json:"roi"`
	Findings []Finding       `json:"findings"`
	Sizes    SizeSeries      `json:"sizes"`
}

// Matrix counts, per exclusive definition (segments named
// "definition:segment"), who was where at From (rows) and at To (columns).
type Matrix struct {
	Definition string   `json:"definition"`
	Labels     []string `json:"labels"`
	Counts     [][]int  `json:"counts"`
}

// valueWords name segments worth keeping; leaving them for one of the
// lapsing words is what the shrinking-value rule looks for.
var valueWords, lapsingWords = []string{"champion", "loyal", "vip", "top", "potential-loyal"},
	[]string{"at-risk", "about-to-sleep", "hibernating", "lost", "lapsing", "churn", "cannot-lose"}

// Review reads the membership history and the orders and writes the
// period's review. Its findings come from these rules, in this order:
//
//  1. shrinking_value: at least 5% of a valuable segment's members at From
//     (a name with champion, loyal, vip or top) moved to a lapsing one (at
//     risk, about to sleep, hibernating, lost, churn): suggest a win-back
//     campaign for exactly those people.
//  2. too_small: a segment under TooSmall of profiles or MinPeople people
//     at To: merge it into a neighbour or widen its rule.
//  3. too_big: over TooBig of profiles: split it, it says little.
//  4. overlap: two segments of different definitions sharing more than
//     Overlap of the smaller: write back one of them.
//  5. lift: a holdout's verdict: keep a campaign that earns, rethink one
//     that does worse than nothing, keep the holdout running when there
//     are too few people.
//  6. data_quality: quarantined records waiting; profiles in no segment;
//     spend in another currency than the revenue (no ROI then).
func Review(ctx context.Context, src ReviewSource, opts ReviewOptions) (*ReviewResult, error) {
	opts.defaults()
	if !opts.From.Before(opts.To) {
		return nil, fmt.Errorf("review: the period must start before it ends (%s to %s)", opts.From.Format(time.DateOnly), opts.To.Format(time.DateOnly))
	}
	var events []store.MembershipEvent
	for after := int64(0); ; {
		page, err := src.MembershipHistorySince(ctx, after, 5000)
		if err != nil {
			return nil, fmt.Errorf("review: reading the membership history: %w", err)
		}
		events = append(events, page...)
		if len(page) < 5000 {
			break
		}
		after = page[len(page)-1].Seq
	}
	at := func(t time.Time) map[string]map[string]bool { // segment → members at t
		m := map[string]map[string]bool{}
		for _, e := range events {
			if !e.At.Before(t) {
				continue
			}
			if m[e.Segment] == nil {
				m[e.Segment] = map[string]bool{}
			}
			if e.Entered {
				m[e.Segment][e.ProfileID] = true
			} else {
				delete(m[e.Segment], e.ProfileID)
			}
		}
		return m
	}
	before, after := at(opts.From), at(opts.To)

	// Revenue of each profile in the period and the one before it.
	prevFrom := opts.From.Add(-opts.To.Sub(opts.From))
	rev, revPrev := map[string]int64{}, map[string]int64{}
	currencies := map[string]int{}
	profiles := 0
	err := src.EachProfile(ctx, func(po store.ProfileOrders) error {
		profiles++
		for _, o := range po.Orders {
			if !o.Status.IsPurchase() {
				continue
			}
			currencies[o.Net().Currency]++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("review: reading profiles: %w", err)
	}
	currency := ""
	for c, n := range currencies {
		if n > currencies[currency] || (n == currencies[currency] && c < currency) {
			currency = c
		}
	}
	err = src.EachProfile(ctx, func(po store.ProfileOrders) error {
		for _, o := range po.Orders {
			n := o.Net()
			if !o.Status.IsPurchase() || n.Currency != currency {
				continue
			}
			switch {
			case !o.CreatedAt.Before(opts.From) && o.CreatedAt.Before(opts.To):
				rev[po.Profile.ID] += n.Amount
			case !o.CreatedAt.Before(prevFrom) && o.CreatedAt.Before(opts.From):
				revPrev[po.Profile.ID] += n.Amount
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("review: reading orders: %w", err)
	}

	res := &ReviewResult{From: opts.From, To: opts.To, Profiles: profiles, Currency: currency}
	names := map[string]bool{}
	for s := range before {
		names[s] = true
	}
	for s := range after {
		names[s] = true
	}
	for _, s := range sortedKeys(names) {
		c := SegmentChange{Segment: s, SizeFrom: len(before[s]), SizeTo: len(after[s])}
		var r, rp int64
		for p := range after[s] {
			if !before[s][p] {
				c.Entered++
			}
			r += rev[p]
			rp += revPrev[p]
		}
		for p := range before[s] {
			if !after[s][p] {
				c.Left++
			}
		}
		if c.SizeTo > 0 {
			c.RevenuePerMember, c.RevenuePerMemberPrev = float64(r)/float64(c.SizeTo), float64(rp)/float64(c.SizeTo)
		}
		res.Segments = append(res.Segments, c)
	}
	res.Matrices, res.Flows = migrations(before, after)

	lifts, err := Lift(ctx, src, LiftOptions{AsOf: opts.To, Window: opts.LiftWindow, Currency: currency})
	if err != nil {
		return nil, err
	}
	res.Lift = lifts
	// Spend in another currency than the revenue is not converted: the
	// review says so instead of failing.
	roi, roiErr := SpendROI(opts.Spend, lifts, opts.To)
	res.ROI = orEmpty(roi)
	res.Sizes = sizeSeries(events, opts.From, opts.To)
	quarantined, err := src.Quarantined(ctx, "", 1000)
	if err != nil {
		return nil, fmt.Errorf("review: reading the quarantine: %w", err)
	}
	res.Findings = findings(res, before, after, len(quarantined), opts)
	if roiErr != nil {
		res.Findings = append(res.Findings, Finding{Kind: "data_quality", Text: "No return on spend: " + roiErr.Error(),
			Action: "Enter the spend in the currency the revenue is in."})
	}
	// Empty lists, not nulls, for the JSON.
	res.Segments, res.Matrices, res.Flows, res.Findings = orEmpty(res.Segments), orEmpty(res.Matrices), orEmpty(res.Flows), orEmpty(res.Findings)
	return res, nil
}

// migrations builds a matrix per definition and the largest moves
// between different segments, biggest first.
func migrations(before, after map[string]map[string]bool) ([]Matrix, []Flow) {
	where := func(m map[string]map[string]bool, def string) map[string]string {
		out := map[string]string{}
		for _, s := range sortedKeys(m) {
			d, _, ok := strings.Cut(s, ":")
			if !ok || d != def {
				continue
			}
			for p := range m[s] {
				if _, taken := out[p]; !taken {
					out[p] = s
				}
			}
		}
		return out
	}
	defs := map[string]bool{}
	for _, m := range []map[string]map[string]bool{before, after} {
		for s := range m {
			if d, _, ok := strings.Cut(s, ":"); ok {
				defs[d] = true
			}
		}
	}
	var mxs []Matrix
	var flows []Flow
	for _, def := range sortedKeys(defs) {
		wb, wa := where(before, def), where(after, def)
		labels := map[string]bool{}
		people := map[string]bool{}
		for p, s := range wb {
			labels[s], people[p] = true, true
		}
		for p, s := range wa {
			labels[s], people[p] = true, true
		}
		ls := append(sortedKeys(labels), "(none)")
		pos := map[string]int{}
		for i, l := range ls {
			pos[l] = i
		}
		mx := Matrix{Definition: def, Labels: ls, Counts: make([][]int, len(ls))}
		for i := range mx.Counts {
			mx.Counts[i] = make([]int, len(ls))
		}
		for p := range people {
			f, t := "(none)", "(none)"
			if s, ok := wb[p]; ok {
				f = s
			}
			if s, ok := wa[p]; ok {
				t = s
			}
			mx.Counts[pos[f]][pos[t]]++
		}
		for i, f := range ls {
			for j, t := range ls {
				if i != j && mx.Counts[i][j] > 0 {
					flows = append(flows, Flow{Definition: def, From: f, To: t, People: mx.Counts[i][j]})
				}
			}
		}
		mxs = append(mxs, mx)
	}
	slices.SortStableFunc(flows, func(a, b Flow) int {
		return cmp.Or(cmp.Compare(b.People, a.People), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	if len(flows) > 10 {
		flows = flows[:10]
	}
	return mxs, flows
}

// FlowText says a flow in words: "42 Champions became At Risk".
func FlowText(f Flow) string {
	switch {
	case f.From == "(none)":
		return fmt.Sprintf("%d entered %s", f.People, Label(f.To))
	case f.To == "(none)":
		return fmt.Sprintf("%d left %s", f.People, Label(f.From))
	}
	return fmt.Sprintf("%d %s became %s", f.People, Label(f.From), Label(f.To))
}

// Label turns "rfm:at-risk" into "At Risk".
func Label(segment string) string {
	_, name, ok := strings.Cut(segment, ":")
	if !ok {
		name = segment
	}
	words := strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' })
	for i, w := range words {
		if w != "" {
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

func has(s string, words []string) bool {
	s = strings.ToLower(s)
	return slices.ContainsFunc(words, func(w string) bool { return strings.Contains(s, w) })
}

func findings(r *ReviewResult, before, after map[string]map[string]bool, quarantined int, o ReviewOptions) []Finding {
	var out []Finding
	for _, mx := range r.Matrices {
		for i, f := range mx.Labels {
			rowTotal := 0
			for _, n := range mx.Counts[i] {
				rowTotal += n
			}
			if !has(f, valueWords) || rowTotal == 0 {
				continue
			}
			for j, t := range mx.Labels {
				n := mx.Counts[i][j]
				if i == j || !has(t, lapsingWords) || float64(n) < 0.05*float64(rowTotal) {
					continue
				}
				out = append(out, Finding{Kind: "shrinking_value",
					Text:   fmt.Sprintf("%s (%.0f%% of %s)", FlowText(Flow{From: f, To: t, People: n}), 100*float64(n)/float64(rowTotal), Label(f)),
					Action: fmt.Sprintf("Start a win-back campaign for the %d people who moved from %s to %s.", n, Label(f), Label(t))})
			}
		}
	}
	for _, s := range r.Segments {
		share := float64(s.SizeTo) / math.Max(1, float64(r.Profiles))
		switch {
		case s.SizeTo > 0 && (share < o.TooSmall || s.SizeTo < o.MinPeople):
			out = append(out, Finding{Kind: "too_small", Text: fmt.Sprintf("%s has %d people (%.1f%% of profiles)", Label(s.Segment), s.SizeTo, 100*share),
				Action: fmt.Sprintf("Merge %s into a neighbouring segment or widen its rule: it is too small to act on.", Label(s.Segment))})
		case share > o.TooBig:
			out = append(out, Finding{Kind: "too_big", Text: fmt.Sprintf("%s holds %.0f%% of profiles", Label(s.Segment), 100*share),
				Action: fmt.Sprintf("Split %s: a segment holding most customers says little about them.", Label(s.Segment))})
		}
	}
	segs := sortedKeys(after)
	for i, a := range segs {
		for _, b := range segs[i+1:] {
			da, _, _ := strings.Cut(a, ":")
			db, _, _ := strings.Cut(b, ":")
			small := min(len(after[a]), len(after[b]))
			if da == db || small < o.MinPeople {
				continue
			}
			both := 0
			for p := range after[a] {
				if after[b][p] {
					both++
				}
			}
			if float64(both) > o.Overlap*float64(small) {
				la, lb := Label(a), Label(b)
				if la == lb { // "Loyal" in two definitions: name them in full
					la, lb = a, b
				}
				out = append(out, Finding{Kind: "overlap", Text: fmt.Sprintf("%s and %s share %d people (%.0f%% of the smaller)", la, lb, both, 100*float64(both)/float64(small)),
					Action: fmt.Sprintf("Write back only one of %s and %s: they hold mostly the same people.", la, lb)})
			}
		}
	}
	for _, l := range r.Lift {
		switch l.Result.Verdict.Kind {
		case "better":
			out = append(out, Finding{Kind: "lift", Text: Label(l.Segment) + ": " + l.Result.Verdict.Text, Action: fmt.Sprintf("Keep the campaign for %s: it earns more than doing nothing.", Label(l.Segment))})
		case "worse":
			out = append(out, Finding{Kind: "lift", Text: Label(l.Segment) + ": " + l.Result.Verdict.Text, Action: fmt.Sprintf("Rethink the campaign for %s: its members do worse than the holdout.", Label(l.Segment))})
		case "too_few":
			out = append(out, Finding{Kind: "lift", Text: Label(l.Segment) + ": " + l.Result.Verdict.Text, Action: fmt.Sprintf("Keep %s's holdout running until there are enough people to tell.", Label(l.Segment))})
		}
	}
	if quarantined > 0 {
		out = append(out, Finding{Kind: "data_quality", Text: fmt.Sprintf("%d records are quarantined and missing from every segment", quarantined),
			Action: "Look at them with `connector quarantine list` and fix them at the source."})
	}
	inAny := map[string]bool{}
	for _, m := range after {
		for p := range m {
			inAny[p] = true
		}
	}
	if r.Profiles > 0 && len(inAny) < r.Profiles/2 {
		out = append(out, Finding{Kind: "data_quality", Text: fmt.Sprintf("%d of %d profiles are in no segment", r.Profiles-len(inAny), r.Profiles),
			Action: "Add a segment for the people no rule covers (often leads with no orders)."})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
