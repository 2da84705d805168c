package segment

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Kind names a family of segment definitions.
type Kind string

// The segment kinds.
const (
	KindRFM        Kind = "rfm"
	KindValue      Kind = "value"
	KindBehavioral Kind = "behavioral"
	KindLifecycle  Kind = "lifecycle"
	KindPredictive Kind = "predictive"
	KindCluster    Kind = "cluster"
	KindRule       Kind = "rule"
)

// kindNames lists the kinds for messages.
func kindNames() []string {
	return []string{"rfm", "value", "behavioral", "lifecycle", "predictive", "cluster", "rule"}
}

// Target says how one platform receives a definition's memberships: a
// property holding the segment name, a static list per segment, and/or a
// tag. The daemon maps it onto adapter.Target.
type Target struct {
	Property string `json:"property,omitempty"`
	List     bool   `json:"list,omitempty"`
	ListName string `json:"list_name,omitempty"` // prefix for list names; default the segment name
	Tag      bool   `json:"tag,omitempty"`
	// IncludeOptedOut writes people who opted out of marketing email to
	// the segment's list (campaign on Salesforce) too. By default they are
	// left out of lists; property and tag values are written either way.
	IncludeOptedOut bool `json:"include_opted_out,omitempty"`
	// Create says for whom write-back creates a record on the platform
	// where they have none: "never", "members" (each non-holdout member
	// of the definition's segments) or "all" (holdout members too); ""
	// follows the platform's own create setting.
	Create string `json:"create,omitempty"`
	// NextOrderProperty and OrderGapProperty name properties that receive
	// each customer's expected next-order date (YYYY-MM-DD, empty when
	// none is expected; see NextOrderDays) and average days between
	// orders (empty below two purchase-days), whatever their segments.
	NextOrderProperty string `json:"next_order_date_property,omitempty"`
	OrderGapProperty  string `json:"avg_days_between_orders_property,omitempty"`
}

// Definition is one segment definition from the configuration. Exactly the
// params field matching Kind is set after parsing (nil means defaults when
// a Definition is built in code).
type Definition struct {
	Name           string
	Kind           Kind
	Description    string
	HoldoutPercent float64           // 0..50: share of each segment kept as control
	Writeback      map[string]Target // platform → target
	// OutboundIncludeOptedOut sends segment.entered/left events for people
	// who opted out of marketing email too; by default they get none.
	OutboundIncludeOptedOut bool
	// Spend is marketing spend over the KPI window per group (the part of
	// the segment name after "<definition>:"; "" for a rule), in major
	// units; it enables CAC and ROI. Options.Spend overrides it.
	Spend map[string]float64

	RFM        *RFMParams
	Value      *ValueParams
	Behavioral *BehavioralParams
	Lifecycle  *LifecycleParams
	Predictive *PredictiveParams
	Cluster    *ClusterParams
	Rule       *RuleParams
}

// RFMParams configure the rfm kind.
type RFMParams struct {
	// Scoring is "rank" (default: 1 + floor(5·w/N) with w the customers
	// strictly worse) or "fixed" (explicit cut points below).
	Scoring string
	// Cut points for fixed scoring, four ascending values each. Recency in
	// days: R = 5 − (cuts strictly below the recency). Frequency in orders,
	// monetary in major units: score = 1 + (cuts ≤ the value).
	RecencyCuts, FrequencyCuts, MonetaryCuts []float64
	// Groups map RFM codes to named groups, first match wins. A code
	// pattern has three positions, each a digit, '*' or a range "[1-3]".
	// Default: the 11 groups of DefaultRFMGroups (Squeezely's list).
	Groups []RFMGroup
	// Fallback decides codes no group lists: "nearest" (default: the group
	// of the listed code nearest by |ΔR|+|ΔF|+|ΔM|, ties to the higher R,
	// then F, then M) or the name of a group to put them in.
	Fallback string
}

// RFMGroup is one named group of RFM codes.
type RFMGroup struct {
	Name  string
	Codes []string
}

// ValueParams configure the value kind: exclusive tiers, best first.
type ValueParams struct {
	Basis string // "realised" (net revenue to date, default) or "predicted" (CLV over the horizon)
	Tiers []ValueTier
}

// ValueTier is "the top X % by value". A customer belongs to the first
// tier whose share of customers strictly better than them is below X %.
type ValueTier struct {
	Name       string
	TopPercent float64
}

// Behavioral group names.
const (
	GroupFirstTime = "first-time"
	GroupRegular   = "regular"
	GroupBulk      = "bulk"
	GroupSeasonal  = "seasonal"
	GroupNonBuyer  = "non-buyer"
	GroupChurned   = "churned"
	GroupWinBack   = "win-back"
	// The engagement groups read the engagement attributes (see
	// [Engagement]); they are not in the default list because without
	// engagement data they are empty.
	GroupEngagedNonBuyer = "engaged-non-buyer"
	GroupDisengagedBuyer = "disengaged-buyer"
)

// behavioralGroups lists the behavioral groups in their default order.
func behavioralGroups() []string {
	return []string{GroupFirstTime, GroupRegular, GroupBulk, GroupSeasonal, GroupNonBuyer, GroupChurned, GroupWinBack}
}

// behavioralGroupNames lists every behavioral group a definition may name.
func behavioralGroupNames() []string {
	return append(behavioralGroups(), GroupEngagedNonBuyer, GroupDisengagedBuyer)
}

// BehavioralParams configure the behavioral kind. Groups may overlap.
type BehavioralParams struct {
	Groups            []string // default: all but the engagement groups
	FirstTimeDays     int      // one purchase-day, made within this many days (90)
	RegularMinOrders  int      // at least this many purchase-days (3)…
	RegularMaxCV      float64  // …with gaps whose std/mean is at most this (0.5), and not churned
	BulkPercentile    float64  // items per order or AOV at or above this percentile of buyers (95)
	SeasonalMinYears  int      // one calendar month bought in at least this many years (2)…
	SeasonalMinShare  float64  // …and the two busiest months hold at least this share of orders (0.6)
	ChurnDays         int      // no purchase for more than this many days (365)
	WinBackGapDays    int      // a purchase after a gap of at least this many days (180)…
	WinBackRecentDays int      // …made within this many days (30)
	EngagedDays       int      // engaged-non-buyer: a visit, email open or click within this many days (90)
	DisengagedDays    int      // disengaged-buyer: none within this many days, or engagement data with none ever (180)
}

// Lifecycle stages, in the order they are decided.
const (
	StageLead          = "lead"
	StageProspect      = "prospect"
	StageFirstPurchase = "first-purchase"
	StageRepeat        = "repeat"
	StageLoyal         = "loyal"
	StageLapsing       = "lapsing"
	StageChurned       = "churned"
)

// lifecycleStages lists the stages; a stage's index is its bit.
func lifecycleStages() []string {
	return []string{StageLead, StageProspect, StageFirstPurchase, StageRepeat, StageLoyal, StageLapsing, StageChurned}
}

// LifecycleParams configure the lifecycle kind (exclusive stages).
type LifecycleParams struct {
	LoyalMinOrders int // purchases for "loyal" (4)
	LapsingDays    int // recency above this is "lapsing" (180)
	ChurnDays      int // recency above this is "churned" (365)
}

// PredictiveParams configure the predictive kind.
type PredictiveParams struct {
	Model         string  // "bgnbd" (default), "mbgnbd", "pareto_nbd" or "auto" (the better sound BG-family fit); a degenerate fit falls back (see fitSound)
	HorizonDays   int     // CLV and expected purchases horizon (365)
	DiscountRate  float64 // annual discount rate for CLV (0.10)
	MinCustomers  int     // below this many repeat buyers, a heuristic answers (50)
	AtRiskBelow   float64 // P(alive) below this puts a buyer in ":at-risk" (0.5)
	TopCLVPercent float64 // top share by CLV in ":high-value" (20)
	FitSample     int     // fit on about this many buyers, a deterministic sample by id hash (20000; 0 = all): four parameters are well determined by that many, and fitting stays under a second
}

// ClusterParams configure the cluster kind.
type ClusterParams struct {
	Features         []string // from recency, frequency, monetary, aov, tenure, items_per_order, categories, and the engagement totals page_views, visits, email_opens, email_clicks, form_submissions
	KMin, KMax       int      // silhouette picks k in [KMin, KMax] (2..6)
	Seed             uint64   // k-means++ seed (1)
	Sample           int      // centres are fitted on at most this many buyers (20000)
	SilhouetteSample int      // silhouette is computed on at most this many of them (2000)
	MaxIter          int      // Lloyd iterations (100)
}

// RuleParams configure the rule kind.
type RuleParams struct {
	Expr string // boolean expr-lang expression over [RuleEnv]
}

func clusterFeatureNames() []string {
	return append([]string{"recency", "frequency", "monetary", "aov", "tenure", "items_per_order", "categories"}, engagementClusterFeatures()...)
}

// engagementClusterFeatures are the cluster features read from the
// engagement attributes (lifetime totals; see [Engagement]).
func engagementClusterFeatures() []string {
	return []string{"page_views", "visits", "email_opens", "email_clicks", "form_submissions"}
}

// validName reports whether s is a lower-case slug: [a-z0-9][a-z0-9_-]*.
func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return s != ""
}

// ParseDefinitions decodes segment definitions from a decoded YAML value:
// either the list itself or a mapping with a "segments" key. It validates
// everything (rule expressions are compiled and type-checked) and returns
// all problems joined, each naming its key path, e.g.
// "segments[3].params.min_orders: must be an integer …".
func ParseDefinitions(v any) ([]Definition, error) {
	d := &decoder{}
	if m, ok := v.(map[string]any); ok {
		if s, has := m["segments"]; has {
			v = s
		}
	}
	root := &object{d: d, path: "", m: map[string]any{"segments": v}, used: map[string]bool{}}
	items, ok := root.list("segments")
	if !ok && v != nil {
		return nil, errors.Join(d.errs...)
	}
	defs := make([]Definition, 0, len(items))
	seen := map[string]int{}
	for i, item := range items {
		path := fmt.Sprintf("segments[%d]", i)
		o := d.object(path, item)
		if o == nil {
			continue
		}
		def := parseDefinition(o)
		if def.Name != "" {
			if j, dup := seen[def.Name]; dup {
				d.errorf(path+".name", "duplicate segment name %q (also segments[%d])", def.Name, j)
			}
			seen[def.Name] = i
		}
		defs = append(defs, def)
	}
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	return defs, nil
}

func parseDefinition(o *object) Definition {
	d := o.d
	def := Definition{}
	def.Name = o.str("name", "")
	switch {
	case !o.has("name"):
		d.errorf(o.sub("name"), "is required")
	case def.Name != "" && !validName(def.Name):
		d.errorf(o.sub("name"), "must be lower-case letters, digits, '-' or '_' starting with a letter or digit, got %q", def.Name)
	case def.Name == "" && o.has("name"):
		d.errorf(o.sub("name"), "must not be empty")
	}
	kind := o.str("kind", "")
	if !o.has("kind") {
		d.errorf(o.sub("kind"), "is required (one of %s)", strings.Join(kindNames(), ", "))
	} else if !slices.Contains(kindNames(), kind) {
		d.errorf(o.sub("kind"), "must be one of %s, got %q", strings.Join(kindNames(), ", "), kind)
	}
	def.Kind = Kind(kind)
	def.Description = o.str("description", "")
	def.HoldoutPercent = o.num("holdout_percent", 0, 0, 50)
	def.OutboundIncludeOptedOut = o.boolean("outbound_include_opted_out", false)
	if wbv, ok := o.get("writeback"); ok {
		if wb := d.object(o.sub("writeback"), wbv); wb != nil {
			def.Writeback = map[string]Target{}
			platforms := make([]string, 0, len(wb.m))
			for p := range wb.m {
				platforms = append(platforms, p)
			}
			slices.Sort(platforms)
			for _, p := range platforms {
				t := d.object(wb.sub(p), wb.m[p])
				wb.used[p] = true
				if t == nil {
					continue
				}
				tg := Target{
					Property: t.str("property", ""),
					List:     t.boolean("list", false),
					ListName: t.str("list_name", ""),
					Tag:      t.boolean("tag", false),

					IncludeOptedOut: t.boolean("include_opted_out", false),
					Create:          t.str("create", ""),

					NextOrderProperty: t.str("next_order_date_property", ""),
					OrderGapProperty:  t.str("avg_days_between_orders_property", ""),
				}
				if tg.Create != "" && !slices.Contains([]string{"never", "members", "all"}, tg.Create) {
					d.errorf(t.sub("create"), "must be one of never, members, all, got %q", tg.Create)
				}
				if tg.Property == "" && !tg.List && !tg.Tag && tg.NextOrderProperty == "" && tg.OrderGapProperty == "" {
					d.errorf(wb.sub(p), "must set at least one of property, list, tag, next_order_date_property or avg_days_between_orders_property")
				}
				if n := tg.NextOrderProperty; n != "" && (n == tg.Property || n == tg.OrderGapProperty) {
					d.errorf(t.sub("next_order_date_property"), "%q is already written by this definition; name another property", n)
				}
				t.done()
				def.Writeback[p] = tg
			}
		}
	}
	pv, _ := o.get("params")
	p := d.object(o.sub("params"), pv)
	if p != nil {
		switch def.Kind {
		case KindRFM:
			def.RFM = parseRFM(p)
		case KindValue:
			def.Value = parseValue(p)
		case KindBehavioral:
			def.Behavioral = parseBehavioral(p)
		case KindLifecycle:
			def.Lifecycle = parseLifecycle(p)
		case KindPredictive:
			def.Predictive = parsePredictive(p)
		case KindCluster:
			def.Cluster = parseCluster(p)
		case KindRule:
			def.Rule = parseRule(p)
		default:
			p.used = nil
			p.m = nil
		}
		if p.m != nil {
			p.done()
		}
	}
	if sv, ok := o.get("spend"); ok {
		def.Spend = parseSpend(o, sv, &def)
	}
	o.done()
	return def
}

func parseRFM(p *object) *RFMParams {
	r := &RFMParams{}
	r.Scoring = p.oneOf("scoring", "rank", "rank", "fixed")
	r.RecencyCuts = p.floats("recency_cuts")
	r.FrequencyCuts = p.floats("frequency_cuts")
	r.MonetaryCuts = p.floats("monetary_cuts")
	for _, c := range []struct {
		key  string
		cuts []float64
	}{{"recency_cuts", r.RecencyCuts}, {"frequency_cuts", r.FrequencyCuts}, {"monetary_cuts", r.MonetaryCuts}} {
		switch {
		case r.Scoring == "fixed" && !p.has(c.key):
			p.d.errorf(p.sub(c.key), "is required when scoring is fixed (4 ascending cut points)")
		case r.Scoring == "fixed" && len(c.cuts) != 4:
			p.d.errorf(p.sub(c.key), "must have 4 cut points, got %d", len(c.cuts))
		case r.Scoring == "fixed" && !slices.IsSorted(c.cuts):
			p.d.errorf(p.sub(c.key), "must be in ascending order")
		case r.Scoring == "rank" && p.has(c.key):
			p.d.errorf(p.sub(c.key), "is only used when scoring is fixed")
		}
	}
	if l, ok := p.list("groups"); ok {
		names := map[string]bool{}
		for i, gv := range l {
			gp := fmt.Sprintf("%s[%d]", p.sub("groups"), i)
			g := p.d.object(gp, gv)
			if g == nil {
				continue
			}
			grp := RFMGroup{Name: g.str("name", "")}
			if grp.Name == "" {
				p.d.errorf(g.sub("name"), "is required")
			} else if names[grp.Name] {
				p.d.errorf(g.sub("name"), "duplicate group %q", grp.Name)
			}
			names[grp.Name] = true
			grp.Codes = g.strings("codes", nil)
			if len(grp.Codes) == 0 {
				p.d.errorf(g.sub("codes"), "must list at least one code")
			}
			for j, c := range grp.Codes {
				if _, err := parseCodePattern(c); err != nil {
					p.d.errorf(fmt.Sprintf("%s[%d]", g.sub("codes"), j), "%v", err)
				}
			}
			g.done()
			r.Groups = append(r.Groups, grp)
		}
	}
	r.Fallback = p.str("fallback", "nearest")
	if r.Fallback != "nearest" {
		groups := r.Groups
		if len(groups) == 0 {
			groups = DefaultRFMGroups()
		}
		if !slices.ContainsFunc(groups, func(g RFMGroup) bool { return g.Name == r.Fallback }) {
			p.d.errorf(p.sub("fallback"), "must be \"nearest\" or the name of a group, got %q", r.Fallback)
		}
	}
	return r
}

func parseValue(p *object) *ValueParams {
	v := &ValueParams{Basis: p.oneOf("basis", "realised", "realised", "predicted")}
	if l, ok := p.list("tiers"); ok {
		prev := 0.0
		for i, tv := range l {
			tp := fmt.Sprintf("%s[%d]", p.sub("tiers"), i)
			t := p.d.object(tp, tv)
			if t == nil {
				continue
			}
			tier := ValueTier{Name: t.str("name", ""), TopPercent: t.num("top_percent", 0, 0.001, 100)}
			if tier.Name == "" {
				p.d.errorf(t.sub("name"), "is required")
			} else if !validName(tier.Name) {
				p.d.errorf(t.sub("name"), "must be lower-case letters, digits, '-' or '_', got %q", tier.Name)
			}
			if !t.has("top_percent") {
				p.d.errorf(t.sub("top_percent"), "is required")
			} else if tier.TopPercent <= prev {
				p.d.errorf(t.sub("top_percent"), "must be larger than the previous tier's (%s)", fmtNum(prev))
			}
			prev = max(prev, tier.TopPercent)
			t.done()
			v.Tiers = append(v.Tiers, tier)
		}
		if len(v.Tiers) == 0 {
			p.d.errorf(p.sub("tiers"), "must list at least one tier")
		}
	}
	return v
}

func parseBehavioral(p *object) *BehavioralParams {
	def := defaultBehavioral()
	b := &BehavioralParams{}
	b.Groups = p.strings("groups", def.Groups)
	for i, g := range b.Groups {
		if !slices.Contains(behavioralGroupNames(), g) {
			p.d.errorf(fmt.Sprintf("%s[%d]", p.sub("groups"), i), "must be one of %s, got %q", strings.Join(behavioralGroupNames(), ", "), g)
		}
	}
	b.FirstTimeDays = p.integer("first_time_days", def.FirstTimeDays, 1, 3650)
	b.RegularMinOrders = p.integer("regular_min_orders", def.RegularMinOrders, 3, 1000)
	b.RegularMaxCV = p.num("regular_max_cv", def.RegularMaxCV, 0, 10)
	b.BulkPercentile = p.num("bulk_percentile", def.BulkPercentile, 50, 99.99)
	b.SeasonalMinYears = p.integer("seasonal_min_years", def.SeasonalMinYears, 2, 100)
	b.SeasonalMinShare = p.num("seasonal_min_share", def.SeasonalMinShare, 0.1, 1)
	b.ChurnDays = p.integer("churn_days", def.ChurnDays, 1, 3650)
	b.WinBackGapDays = p.integer("win_back_gap_days", def.WinBackGapDays, 1, 3650)
	b.WinBackRecentDays = p.integer("win_back_recent_days", def.WinBackRecentDays, 1, 3650)
	b.EngagedDays = p.integer("engaged_days", def.EngagedDays, 1, 3650)
	b.DisengagedDays = p.integer("disengaged_days", def.DisengagedDays, 1, 3650)
	return b
}

func defaultBehavioral() BehavioralParams {
	return BehavioralParams{
		Groups: behavioralGroups(), FirstTimeDays: 90, RegularMinOrders: 3, RegularMaxCV: 0.5,
		BulkPercentile: 95, SeasonalMinYears: 2, SeasonalMinShare: 0.6, ChurnDays: 365,
		WinBackGapDays: 180, WinBackRecentDays: 30, EngagedDays: 90, DisengagedDays: 180,
	}
}

func parseLifecycle(p *object) *LifecycleParams {
	def := defaultLifecycle()
	l := &LifecycleParams{
		LoyalMinOrders: p.integer("loyal_min_orders", def.LoyalMinOrders, 2, 1000),
		LapsingDays:    p.integer("lapsing_days", def.LapsingDays, 1, 3650),
		ChurnDays:      p.integer("churn_days", def.ChurnDays, 1, 3650),
	}
	if l.ChurnDays <= l.LapsingDays {
		p.d.errorf(p.sub("churn_days"), "must be larger than lapsing_days (%d), got %d", l.LapsingDays, l.ChurnDays)
	}
	return l
}

func defaultLifecycle() LifecycleParams {
	return LifecycleParams{LoyalMinOrders: 4, LapsingDays: 180, ChurnDays: 365}
}

func parsePredictive(p *object) *PredictiveParams {
	def := defaultPredictive()
	return &PredictiveParams{
		Model:         p.oneOf("model", def.Model, "bgnbd", "mbgnbd", "pareto_nbd", "auto"),
		HorizonDays:   p.integer("horizon_days", def.HorizonDays, 7, 3650),
		DiscountRate:  p.num("discount_rate", def.DiscountRate, 0, 1),
		MinCustomers:  p.integer("min_customers", def.MinCustomers, 10, 1_000_000),
		AtRiskBelow:   p.num("at_risk_below", def.AtRiskBelow, 0, 1),
		TopCLVPercent: p.num("top_clv_percent", def.TopCLVPercent, 0.001, 100),
		FitSample:     p.integer("fit_sample", def.FitSample, 0, 100_000_000),
	}
}

func defaultPredictive() PredictiveParams {
	return PredictiveParams{Model: "bgnbd", HorizonDays: 365, DiscountRate: 0.10, MinCustomers: 50, AtRiskBelow: 0.5, TopCLVPercent: 20, FitSample: 20000}
}

func parseCluster(p *object) *ClusterParams {
	def := defaultCluster()
	c := &ClusterParams{}
	c.Features = p.strings("features", def.Features)
	for i, f := range c.Features {
		if !slices.Contains(clusterFeatureNames(), f) {
			p.d.errorf(fmt.Sprintf("%s[%d]", p.sub("features"), i), "must be one of %s, got %q", strings.Join(clusterFeatureNames(), ", "), f)
		}
	}
	if len(c.Features) == 0 && p.has("features") {
		p.d.errorf(p.sub("features"), "must list at least one feature")
	}
	c.KMin = p.integer("k_min", def.KMin, 2, 20)
	c.KMax = p.integer("k_max", def.KMax, 2, 20)
	if c.KMax < c.KMin {
		p.d.errorf(p.sub("k_max"), "must be at least k_min (%d), got %d", c.KMin, c.KMax)
	}
	c.Seed = uint64(p.integer("seed", int(def.Seed), 0, 1<<31))
	c.Sample = p.integer("sample", def.Sample, 100, 10_000_000)
	c.SilhouetteSample = p.integer("silhouette_sample", def.SilhouetteSample, 50, 100_000)
	c.MaxIter = p.integer("max_iter", def.MaxIter, 1, 10_000)
	return c
}

func defaultCluster() ClusterParams {
	return ClusterParams{Features: []string{"recency", "frequency", "monetary"}, KMin: 2, KMax: 6, Seed: 1, Sample: 20000, SilhouetteSample: 2000, MaxIter: 100}
}

func parseRule(p *object) *RuleParams {
	r := &RuleParams{Expr: p.str("expr", "")}
	if !p.has("expr") {
		p.d.errorf(p.sub("expr"), "is required")
		return r
	}
	if strings.TrimSpace(r.Expr) == "" {
		p.d.errorf(p.sub("expr"), "must not be empty")
		return r
	}
	if _, err := CompileRule(r.Expr); err != nil {
		p.d.errorf(p.sub("expr"), "%v", err)
	}
	return r
}

// parseSpend reads spend: a mapping of group to amount, or for a rule
// definition (one segment) a single amount.
func parseSpend(o *object, v any, def *Definition) map[string]float64 {
	path := o.sub("spend")
	if f, ok := toFloat(v); ok {
		if def.Kind != KindRule {
			o.d.errorf(path, "must be a mapping of group to amount for kind %s (a single amount only suits a rule)", def.Kind)
			return nil
		}
		if f < 0 {
			o.d.errorf(path, "must not be negative, got %s", fmtNum(f))
			return nil
		}
		return map[string]float64{"": f}
	}
	m := o.d.object(path, v)
	if m == nil {
		return nil
	}
	known := staticGroups(def)
	keys := make([]string, 0, len(m.m))
	for k := range m.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := map[string]float64{}
	for _, k := range keys {
		m.used[k] = true
		f, ok := toFloat(m.m[k])
		switch {
		case !ok:
			o.d.errorf(m.sub(k), "must be a number, got %s", typeName(m.m[k]))
		case f < 0:
			o.d.errorf(m.sub(k), "must not be negative, got %s", fmtNum(f))
		case known != nil && !slices.Contains(known, k):
			o.d.errorf(m.sub(k), "is not a group of this definition (groups: %s)", strings.Join(known, ", "))
		default:
			out[k] = f
		}
	}
	return out
}

// staticGroups lists the group parts of a definition's segment names, or
// nil when they are only known after a run.
func staticGroups(def *Definition) []string {
	switch def.Kind {
	case KindRFM:
		groups := DefaultRFMGroups()
		if def.RFM != nil && len(def.RFM.Groups) > 0 {
			groups = def.RFM.Groups
		}
		out := make([]string, len(groups))
		for i, g := range groups {
			out[i] = slug(g.Name)
		}
		return out
	case KindValue:
		if def.Value == nil || len(def.Value.Tiers) == 0 {
			return []string{"top-1", "top-20"}
		}
		out := make([]string, len(def.Value.Tiers))
		for i, t := range def.Value.Tiers {
			out[i] = t.Name
		}
		return out
	case KindBehavioral:
		if def.Behavioral == nil {
			return behavioralGroups()
		}
		return def.Behavioral.Groups
	case KindLifecycle:
		return lifecycleStages()
	case KindPredictive:
		return []string{"at-risk", "high-value"}
	case KindCluster:
		k := 20
		if def.Cluster != nil {
			k = def.Cluster.KMax
		}
		out := make([]string, k)
		for i := range out {
			out[i] = fmt.Sprintf("c%d", i+1)
		}
		return out
	case KindRule:
		return []string{""}
	}
	return nil
}

// DefaultPredictiveParams are the predictive kind's defaults, which the
// default model of a predicted value tier or a rule also uses.
func DefaultPredictiveParams() PredictiveParams { return defaultPredictive() }
