package segment

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/expr-lang/expr/vm"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// Options tune an Engine. Zero values take the documented defaults.
type Options struct {
	// Workers bounds the goroutines of a full run (default GOMAXPROCS).
	Workers int
	// KPIWindowDays is the window of retention, churn, conversion, CAC and
	// ROI, ending at as-of (default 90).
	KPIWindowDays int
	// Spend is marketing spend per segment name over the KPI window, in
	// major units of the dataset currency; it enables CAC and ROI.
	Spend map[string]float64
	// Warning thresholds: segments below MinSegmentSize (default 10)
	// customers or MinSegmentShare (0.01) of them; one segment of an
	// exclusive definition above DominantShare (0.8); two segments whose
	// members overlap with Jaccard ≥ SimilarJaccard (0.9).
	MinSegmentSize  int
	MinSegmentShare float64
	DominantShare   float64
	SimilarJaccard  float64
	// AbsurdAmount flags single orders above it (major units; default 1,000,000).
	AbsurdAmount float64
	// MaxStaleness bounds how old a full run may be for Rescore (default
	// 24h of as-of time); older results answer ErrStale.
	MaxStaleness time.Duration
	// ModelMaxAge is how long fitted purchase and spend models may be
	// reused by RunReusing before they are refitted (default 7 days of
	// as-of time).
	ModelMaxAge time.Duration
	// Models fits purchase and spend models for the predictive kind; nil
	// uses the package's built-in models (core/clv).
	Models Models
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.KPIWindowDays <= 0 {
		o.KPIWindowDays = 90
	}
	if o.MinSegmentSize <= 0 {
		o.MinSegmentSize = 10
	}
	if o.MinSegmentShare <= 0 {
		o.MinSegmentShare = 0.01
	}
	if o.DominantShare <= 0 {
		o.DominantShare = 0.8
	}
	if o.SimilarJaccard <= 0 {
		o.SimilarJaccard = 0.9
	}
	if o.AbsurdAmount <= 0 {
		o.AbsurdAmount = 1_000_000
	}
	if o.MaxStaleness <= 0 {
		o.MaxStaleness = 24 * time.Hour
	}
	if o.ModelMaxAge <= 0 {
		o.ModelMaxAge = 7 * 24 * time.Hour
	}
	if o.Models == nil {
		o.Models = builtinModels{}
	}
	return o
}

// Engine evaluates a fixed set of definitions. It is immutable and safe for
// concurrent use; each Run returns an independent Result.
type Engine struct {
	defs  []Definition
	kinds []kind
	opts  Options
	full  bool // some definition needs more than the core features
}

// kind prepares one definition for a run.
type kind interface {
	fit(ctx context.Context, fc *fitContext) (fitted, error)
}

// fitted is a definition prepared for one run: cut points, thresholds and
// models; it assigns customers and explains the assignment.
type fitted interface {
	groups() []groupInfo
	exclusive() bool
	assign(i int, c *Customer, f *Features, sc *scratch) uint32
	explain(i int, c *Customer, f *Features, sc *scratch, mask uint32) []string
}

type groupInfo struct {
	slug, display, description string
}

type fitContext struct {
	ds       *Dataset
	feats    []Features
	asOfDay  int32
	opts     Options
	def      *Definition
	shared   *predictions // first predictive fit, for value:predicted
	prev     *Result      // RunReusing: the run whose models may be reused
	warnings []Warning
}

func (fc *fitContext) warn(kind, segment, format string, args ...any) {
	fc.warnings = append(fc.warnings, Warning{Kind: kind, Segment: segment, Message: fmt.Sprintf(format, args...)})
}

// scratch is per-goroutine reusable state.
type scratch struct {
	vm      vm.VM
	env     RuleEnv
	envFor  *Customer
	envFull bool // env has shares and categories filled
}

// NewEngine validates definitions built in code or by ParseDefinitions,
// fills defaults and compiles rules.
func NewEngine(defs []Definition, opts Options) (*Engine, error) {
	e := &Engine{defs: make([]Definition, len(defs)), opts: opts.withDefaults()}
	copy(e.defs, defs)
	var errs []error
	seen := map[string]bool{}
	for i := range e.defs {
		d := &e.defs[i]
		path := fmt.Sprintf("segments[%d]", i)
		if !validName(d.Name) {
			errs = append(errs, &FieldError{Path: path + ".name", Msg: fmt.Sprintf("must be lower-case letters, digits, '-' or '_', got %q", d.Name)})
		}
		if seen[d.Name] {
			errs = append(errs, &FieldError{Path: path + ".name", Msg: fmt.Sprintf("duplicate segment name %q", d.Name)})
		}
		seen[d.Name] = true
		k, err := newKind(d)
		if err != nil {
			errs = append(errs, &FieldError{Path: path + ".params", Msg: err.Error()})
			continue
		}
		e.kinds = append(e.kinds, k)
		switch d.Kind {
		case KindBehavioral, KindPredictive, KindRule:
			e.full = true
		case KindValue:
			e.full = e.full || d.Value.Basis == "predicted"
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return e, nil
}

func newKind(d *Definition) (kind, error) {
	switch d.Kind {
	case KindRFM:
		if d.RFM == nil {
			d.RFM = &RFMParams{Scoring: "rank", Fallback: "nearest"}
		}
		return newRFMKind(d.RFM)
	case KindValue:
		if d.Value == nil {
			d.Value = &ValueParams{Basis: "realised"}
		}
		if len(d.Value.Tiers) == 0 {
			d.Value.Tiers = []ValueTier{{Name: "top-1", TopPercent: 1}, {Name: "top-20", TopPercent: 20}}
		}
		return &valueKind{p: *d.Value}, nil
	case KindBehavioral:
		if d.Behavioral == nil {
			b := defaultBehavioral()
			d.Behavioral = &b
		}
		return &behavioralKind{p: *d.Behavioral}, nil
	case KindLifecycle:
		if d.Lifecycle == nil {
			l := defaultLifecycle()
			d.Lifecycle = &l
		}
		return &lifecycleKind{p: *d.Lifecycle}, nil
	case KindPredictive:
		if d.Predictive == nil {
			p := defaultPredictive()
			d.Predictive = &p
		}
		return &predictiveKind{p: *d.Predictive}, nil
	case KindCluster:
		if d.Cluster == nil {
			c := defaultCluster()
			d.Cluster = &c
		}
		return &clusterKind{p: *d.Cluster}, nil
	case KindRule:
		if d.Rule == nil {
			return nil, errors.New("rule needs params.expr")
		}
		prog, err := CompileRule(d.Rule.Expr)
		if err != nil {
			return nil, err
		}
		return &ruleKind{rule: prog}, nil
	}
	return nil, fmt.Errorf("unknown kind %q", d.Kind)
}

// Definitions returns the definitions with defaults filled in.
func (e *Engine) Definitions() []Definition { return e.defs }

// SegmentInfo describes one segment of a run.
type SegmentInfo struct {
	Name        string // "<definition>:<group>", or the definition name for rules
	Definition  string
	Kind        Kind
	Group       string // display name of the group, e.g. "Champions"
	Description string
	Exclusive   bool // the definition puts each customer in at most one segment
	Holdout     float64
	Writeback   map[string]Target
}

// Warning is one finding about the segmentation or the data.
type Warning struct {
	Kind    string `json:"kind"` // over-segmentation, under-segmentation, data-quality, model
	Segment string `json:"segment,omitempty"`
	Message string `json:"message"`
}

// Result is one full run: features, memberships, KPIs, warnings, and the
// cached cut points and models that Rescore and Explain use.
type Result struct {
	AsOf time.Time
	// Dataset is a shallow copy of the input taken by Run: the same
	// customers, its own copy of the name dictionaries.
	Dataset  *Dataset
	Features []Features
	Segments []SegmentInfo
	KPIs     []KPI
	Warnings []Warning

	asOfDay int32
	opts    Options
	defs    []Definition
	fitted  []fitted
	masks   [][]uint32 // definition → customer → group bits
	segIdx  [][]int    // definition → group bit → index in Segments
	shared  *predictions

	indexOnce sync.Once
	index     map[string]int
}

// Run computes everything for ds at asOf. It reads ds and never modifies it.
func (e *Engine) Run(ctx context.Context, ds *Dataset, asOf time.Time) (*Result, error) {
	return e.RunReusing(ctx, ds, asOf, nil)
}

// RunReusing is Run, except that the purchase and spend models fitted by
// prev (a run of an engine with the same predictive definitions) are
// reused while they are at most Options.ModelMaxAge old, so the scheduled
// full recompute costs no model fitting; everything else, including every
// customer's predictions, is recomputed. The models are refitted on the
// first run past that age: that is the schedule, and the bound on their
// staleness.
func (e *Engine) RunReusing(ctx context.Context, ds *Dataset, asOf time.Time, prev *Result) (*Result, error) {
	opts := e.opts
	// a shallow copy with its own dictionaries: a Builder that keeps
	// converting customers for Rescore may extend the original's later
	ds = &Dataset{
		Customers: ds.Customers, Currency: ds.Currency, OrphanOrders: ds.OrphanOrders,
		Categories: slices.Clone(ds.Categories), Devices: slices.Clone(ds.Devices),
		Channels: slices.Clone(ds.Channels), Problems: slices.Clone(ds.Problems), Emails: ds.Emails,
	}
	r := &Result{AsOf: asOf, Dataset: ds, asOfDay: DayOf(asOf), opts: opts, defs: e.defs}
	n := len(ds.Customers)
	r.Features = make([]Features, n)
	if unsorted := computeAll(r.Features, ds.Customers, r.asOfDay, int32(opts.KPIWindowDays), opts.Workers, e.full); len(unsorted) > 0 {
		r.Warnings = append(r.Warnings, Warning{Kind: "data-quality", Message: fmt.Sprintf("%d customers' orders were not sorted by day (first: %s); they were sorted for this run", len(unsorted), ds.Customers[unsorted[0]].ID)})
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("computing features: %w", err)
	}
	r.fitted = make([]fitted, len(e.defs))
	// Two chains fitted concurrently: the model chain (predictive
	// definitions, then value tiers on predicted CLV, which use the first
	// one's predictions) and everything else. Each has its own context.
	var models, rest []int
	for i, d := range e.defs {
		if d.Kind == KindPredictive {
			models = append(models, i)
		}
	}
	for i, d := range e.defs {
		switch {
		case d.Kind == KindValue && d.Value.Basis == "predicted":
			models = append(models, i)
		case d.Kind == KindRule && e.kinds[i].(*ruleKind).rule.needPrediction:
			models = append(models, i) // reads expected_next_order_days
		case d.Kind != KindPredictive:
			rest = append(rest, i)
		}
	}
	base := fitContext{ds: ds, feats: r.Features, asOfDay: r.asOfDay, opts: opts, prev: prev}
	warns := make([][]Warning, len(e.defs))
	errs := make([]error, len(e.defs))
	chain := func(order []int) *fitContext {
		fc := base
		for _, i := range order {
			d := &e.defs[i]
			fc.def, fc.warnings = d, nil
			if (d.Kind == KindValue && d.Value.Basis == "predicted" || d.Kind == KindRule) && fc.shared == nil {
				pred, err := fitPredictions(ctx, &fc, defaultPredictive())
				if err != nil {
					errs[i] = fmt.Errorf("fitting the default predictive model for %s: %w", d.Name, err)
					return &fc
				}
				fc.shared = pred
			}
			f, err := e.kinds[i].fit(ctx, &fc)
			if err == nil {
				err = ctx.Err()
			}
			warns[i] = fc.warnings
			if err != nil {
				errs[i] = fmt.Errorf("fitting segment definition %s: %w", d.Name, err)
				return &fc
			}
			if pk, ok := f.(*predictiveFitted); ok && fc.shared == nil {
				fc.shared = pk.pred
			}
			r.fitted[i] = f
		}
		return &fc
	}
	var modelFC *fitContext
	parallelDo(opts.Workers,
		func() { modelFC = chain(models) },
		func() { chain(rest) },
	)
	for i := range e.defs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		r.Warnings = append(r.Warnings, warns[i]...)
	}
	r.shared = modelFC.shared
	r.segIdx = make([][]int, len(e.defs))
	for i, f := range r.fitted {
		d := &e.defs[i]
		for _, g := range f.groups() {
			name := d.Name
			if g.slug != "" {
				name += ":" + g.slug
			}
			r.segIdx[i] = append(r.segIdx[i], len(r.Segments))
			r.Segments = append(r.Segments, SegmentInfo{
				Name: name, Definition: d.Name, Kind: d.Kind, Group: g.display,
				Description: g.description, Exclusive: f.exclusive(),
				Holdout: d.HoldoutPercent, Writeback: d.Writeback,
			})
		}
	}
	r.masks = make([][]uint32, len(e.defs))
	for i := range r.masks {
		r.masks[i] = make([]uint32, n)
	}
	parallel(n, opts.Workers, func(lo, hi int) {
		sc := &scratch{}
		for c := lo; c < hi; c++ {
			cu, f := &ds.Customers[c], &r.Features[c]
			for d, ft := range r.fitted {
				r.masks[d][c] = ft.assign(c, cu, f, sc)
			}
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("assigning segments: %w", err)
	}
	r.KPIs = r.computeKPIs()
	r.Warnings = append(r.Warnings, r.segmentWarnings()...)
	r.Warnings = append(r.Warnings, r.dataWarnings()...)
	return r, nil
}

// Len is the number of customers.
func (r *Result) Len() int { return len(r.Features) }

// Lookup returns the index of a customer id.
func (r *Result) Lookup(id string) (int, bool) {
	r.indexOnce.Do(func() {
		r.index = make(map[string]int, len(r.Dataset.Customers))
		for i := range r.Dataset.Customers {
			r.index[r.Dataset.Customers[i].ID] = i
		}
	})
	i, ok := r.index[id]
	return i, ok
}

// SegmentsOf lists the segment names customer i belongs to.
func (r *Result) SegmentsOf(i int) []string {
	var out []string
	for d := range r.masks {
		out = r.appendNames(out, d, r.masks[d][i])
	}
	return out
}

func (r *Result) appendNames(out []string, d int, m uint32) []string {
	for m != 0 {
		b := bits.TrailingZeros32(m)
		m &^= 1 << b
		out = append(out, r.Segments[r.segIdx[d][b]].Name)
	}
	return out
}

// Memberships returns customer i's memberships, control flags set by the
// deterministic holdout.
func (r *Result) Memberships(i int) []domain.Membership {
	id := r.Dataset.Customers[i].ID
	var out []domain.Membership
	for d := range r.masks {
		m := r.masks[d][i]
		for m != 0 {
			b := bits.TrailingZeros32(m)
			m &^= 1 << b
			s := &r.Segments[r.segIdx[d][b]]
			out = append(out, domain.Membership{ProfileID: id, Segment: s.Name, Control: InHoldout(id, s.Name, s.Holdout)})
		}
	}
	return out
}

// Members returns the indexes of the customers in a segment.
func (r *Result) Members(segment string) []int {
	for d := range r.segIdx {
		for b, si := range r.segIdx[d] {
			if r.Segments[si].Name != segment {
				continue
			}
			var out []int
			bit := uint32(1) << b
			for i, m := range r.masks[d] {
				if m&bit != 0 {
					out = append(out, i)
				}
			}
			return out
		}
	}
	return nil
}

// InHoldout reports whether a customer is in the control group of a
// segment: FNV-1a of "id\x00segment" modulo 10,000 below percent·100. It
// depends on nothing else, so it is stable across runs and machines, and a
// customer who leaves and re-enters a segment keeps their role.
func InHoldout(customerID, segment string, percent float64) bool {
	if percent <= 0 {
		return false
	}
	h := fnv.New64a()
	h.Write([]byte(customerID))
	h.Write([]byte{0})
	h.Write([]byte(segment))
	return float64(h.Sum64()%10000) < percent*100
}

// slug turns a display name into a segment-name part: "Can't Lose Them" →
// "cant-lose-them".
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		switch {
		case c == '\'' || c == '’':
		case unicode.IsLetter(c) || unicode.IsDigit(c):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(c)
		default:
			dash = true
		}
	}
	return b.String()
}
