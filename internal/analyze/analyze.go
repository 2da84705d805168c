package analyze

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/core/clv"
	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Options configure one analyze run.
type Options struct {
	Orders    string // path of the orders file (CSV or whitespace text, gzip or not)
	Customers string // optional customers file: CSV with an id column (and email)
	// CustomersIDCol and CustomersEmailCol name the customers file's
	// columns; empty looks for the usual names.
	CustomersIDCol, CustomersEmailCol string
	Format                            Format
	// AsOf is the analysis day: orders dated on or before it count.
	AsOf time.Time
	// CalibrationEnd, when set and before AsOf, is the last day the models
	// are fitted on; the days after it up to AsOf are a holdout on which
	// the models' predictions are checked (models.validation).
	CalibrationEnd time.Time
	// HorizonDays is the prediction and CLV horizon (default 365).
	HorizonDays float64
	// Periods splits the horizon into CLV discounting steps (default: whole
	// months of the horizon, at least 1); DiscountRate is per step
	// (default 0.01).
	Periods      int
	DiscountRate float64
	Output       string // "table" (default), "json" or "csv"
	// Report, when set, is the path of an HTML report of the models, their
	// diagnostics and the segments, written besides the output.
	Report string
	Logger *slog.Logger

	// checkOnly stops after the models (Check): no profiles, no segments.
	checkOnly bool
	// paretoCap bounds the Pareto/NBD sample (0: ParetoSample).
	paretoCap int
}

const week = 7.0

// Run reads the orders (and customers) file, fits the models, scores and
// segments every customer, and writes the report to stdout in the chosen
// format. Memory grows with the number of customers and distinct orders
// (about 64 bytes an order at the peak: the aggregate and the segment
// engine's copy), never with the number of lines.
func Run(ctx context.Context, opts Options, stdout io.Writer) error {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := opts.defaults(); err != nil {
		return err
	}
	asOf := dayOf(opts.AsOf)
	calEnd := asOf
	if !opts.CalibrationEnd.IsZero() {
		calEnd = dayOf(opts.CalibrationEnd)
		if calEnd > asOf {
			return fmt.Errorf("calibration end %s is after the as-of day %s", opts.CalibrationEnd.Format(time.DateOnly), opts.AsOf.Format(time.DateOnly))
		}
	}

	f, err := os.Open(opts.Orders)
	if err != nil {
		return fmt.Errorf("opening orders file: %w", err)
	}
	defer f.Close()
	rd, err := NewReader(f, opts.Format)
	if err != nil {
		return fmt.Errorf("reading orders file %s: %w", opts.Orders, err)
	}
	defer rd.Close()
	agg := newAggregator(asOf, calEnd, rd.f.CancelPrefix)
	if opts.Customers != "" {
		if err := readCustomers(opts.Customers, opts.CustomersIDCol, opts.CustomersEmailCol, agg); err != nil {
			return err
		}
	}
	log.InfoContext(ctx, "reading orders", "file", opts.Orders)
	if err := agg.readAll(rd, ctx.Err); err != nil {
		return fmt.Errorf("reading orders file %s: %w", opts.Orders, err)
	}
	custs := agg.finish()
	log.InfoContext(ctx, "orders read", "rows", agg.stats.Rows, "customers", len(custs), "malformed", agg.stats.MalformedRows)
	if err := ctx.Err(); err != nil {
		return err
	}

	a, err := analyse(ctx, custs, agg, rd.Columns(), opts, asOf, calEnd)
	if err != nil {
		return err
	}
	log.InfoContext(ctx, "models fitted", "method", a.report.Models.Method)
	if opts.Report != "" {
		if err := writeReportFile(opts.Report, a); err != nil {
			return err
		}
	}
	switch opts.Output {
	case "json":
		return writeJSON(ctx, stdout, a)
	case "csv":
		return writeCSV(ctx, stdout, a)
	default:
		return writeTable(stdout, a)
	}
}

func (o *Options) defaults() error {
	if o.Orders == "" {
		return errors.New("no orders file: give --orders FILE")
	}
	if o.AsOf.IsZero() {
		return errors.New("no as-of day: give --as-of YYYY-MM-DD")
	}
	if o.HorizonDays == 0 {
		o.HorizonDays = 365
	}
	if o.HorizonDays < 0 || math.IsNaN(o.HorizonDays) {
		return fmt.Errorf("horizon %v days: must be positive", o.HorizonDays)
	}
	if o.Periods == 0 {
		o.Periods = max(1, int(math.Round(o.HorizonDays/30.4375)))
	}
	if o.Periods < 0 {
		return fmt.Errorf("periods %d: must be positive", o.Periods)
	}
	if o.DiscountRate == 0 {
		o.DiscountRate = 0.01
	}
	if o.DiscountRate <= -1 || math.IsNaN(o.DiscountRate) {
		return fmt.Errorf("discount rate %v: must be above -1", o.DiscountRate)
	}
	switch o.Output {
	case "", "table":
		o.Output = "table"
	case "json", "csv":
	default:
		return fmt.Errorf("output %q: want table, json or csv", o.Output)
	}
	return nil
}

// analysis is a finished run: the report and one profile per customer.
type analysis struct {
	report            Report
	profiles          []Profile
	haveCustomersFile bool
}

// summary holds a customer's model inputs in weeks.
type summary struct{ x, tx, T, m float64 }

func asOfSummary(c *customer, asOf int32) summary {
	n := len(c.days)
	s := summary{x: float64(n - 1), tx: float64(c.days[n-1]-c.days[0]) / week, T: float64(asOf-c.days[0]) / week}
	if n > 1 {
		s.m = float64(c.total-c.firstDayAmt) / 1e4 / s.x
	}
	return s
}

func analyse(ctx context.Context, custs []*customer, agg *aggregator, cols map[string]int, opts Options, asOf, calEnd int32) (*analysis, error) {
	a := &analysis{haveCustomersFile: agg.haveCustomersFile, report: Report{
		Customers:   len(custs),
		AsOf:        dayTime(asOf).Format(time.DateOnly),
		HorizonDays: opts.HorizonDays,
		Input:       agg.stats,
		Columns:     cols,
	}}
	rep := &a.report
	if calEnd < asOf {
		rep.CalibrationEnd = dayTime(calEnd).Format(time.DateOnly)
	}
	rep.Warnings = inputWarnings(agg, custs)

	// Calibration summaries.
	var cx, ctxs, cT, cm []float64
	var holdout []int
	var ids []string
	var calCusts []*customer
	origin := int32(math.MaxInt32)
	zeroAge := 0
	for _, c := range custs {
		if len(c.days) == 0 || c.days[0] > calEnd {
			continue
		}
		k, _ := slices.BinarySearch(c.days, calEnd+1)
		if c.days[0] == calEnd {
			zeroAge++
			continue
		}
		x := float64(k - 1)
		cx = append(cx, x)
		ctxs = append(ctxs, float64(c.days[k-1]-c.days[0])/week)
		cT = append(cT, float64(calEnd-c.days[0])/week)
		m := 0.0
		if k > 1 {
			m = float64(c.calTotal-c.firstDayAmt) / 1e4 / x
		}
		cm = append(cm, m)
		holdout = append(holdout, len(c.days)-k)
		ids = append(ids, c.id)
		calCusts = append(calCusts, c)
		origin = min(origin, c.days[0])
	}
	if zeroAge > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d %s first bought on the calibration end day: no history to fit, scored by the fitted model only", zeroAge, plural(zeroAge, "customer", "customers")))
	}
	md := &rep.Models
	md.TimeUnit = "weeks"
	md.FittedOn = len(cx)
	warn := func(w string) { rep.Warnings = append(rep.Warnings, w) }
	cal := calibration{x: cx, tx: ctxs, T: cT, ids: ids, holdout: holdout, paretoCap: opts.paretoCap}
	if calEnd < asOf {
		cal.weeks = float64(asOf-calEnd) / week
	}
	model, bg, pn, cands := fitPurchaseModels(cal, md, warn)
	md.Diagnostics = diagnose(cal, cands, model, md.Method, calCusts, origin, calEnd, asOf, opts.HorizonDays/week)
	var gg *clv.GammaGammaFit
	var gx, gm []float64 // repeat customers with a positive mean spend
	nonPositive := 0
	for i := range cx {
		switch {
		case cx[i] == 0:
		case cm[i] <= 0:
			nonPositive++
		default:
			gx, gm = append(gx, cx[i]), append(gm, cm[i])
		}
	}
	if nonPositive > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d repeat customers with a zero mean repeat spend left out of the Gamma-Gamma fit", nonPositive))
	}
	if fit, err := clv.FitGammaGamma(gx, gm); err == nil {
		gg = &fit
		md.GammaGamma = &GammaGamma{P: fit.Params.P, Q: fit.Params.Q, Gamma: fit.Params.Gamma,
			LogLikelihood: fit.LogLikelihood, N: fit.N, Converged: fit.Converged,
			StdErr: map[string]Num{"p": Num(fit.StdErr.P), "q": Num(fit.StdErr.Q), "gamma": Num(fit.StdErr.Gamma)}}
		if fit.Params.Q <= 1 {
			rep.Warnings = append(rep.Warnings, "Gamma-Gamma q ≤ 1: the population mean spend is infinite; spend falls back to each customer's average purchase-day value")
			gg = nil
		}
		if r := pearson(gx, gm); !math.IsNaN(r) && math.Abs(r) > 0.3 {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("frequency and mean spend of repeat customers correlate (Pearson %.3f): the Gamma-Gamma independence assumption is doubtful", r))
		}
	} else {
		rep.Warnings = append(rep.Warnings, "Gamma-Gamma not fitted: "+err.Error())
	}
	if bg != nil && bg.N < fewCustomers {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("BG/NBD fitted on only %d customers: its estimates are uncertain (standard errors r %s, alpha %s, a %s, b %s)",
			bg.N, seText(bg.StdErr.R), seText(bg.StdErr.Alpha), seText(bg.StdErr.A), seText(bg.StdErr.B)))
	}
	if gg != nil && gg.N < fewCustomers {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("Gamma-Gamma fitted on only %d repeat customers: its estimates are uncertain (standard errors p %s, q %s, gamma %s)",
			gg.N, seText(gg.StdErr.P), seText(gg.StdErr.Q), seText(gg.StdErr.Gamma)))
	}
	if model == nil {
		md.Method = "heuristic"
		if md.Choice == "" {
			md.Choice = "no purchase model could be fitted"
			warn("no purchase model could be fitted: p_alive, expected_purchases and clv use the heuristic (historical purchase rate; see --help)")
		}
	}
	md.SpendModel = "average_purchase_value"
	if gg != nil {
		md.SpendModel = "gamma_gamma"
	}
	if calEnd < asOf && len(cx) > 0 {
		v := &Validation{HoldoutWeeks: float64(asOf-calEnd) / week, Customers: len(cx)}
		var eb, ep float64
		for i := range cx {
			v.ActualPurchases += holdout[i]
			if bg != nil {
				eb += bg.ConditionalExpected(v.HoldoutWeeks, cx[i], ctxs[i], cT[i])
			}
			if pn != nil {
				ep += pn.ConditionalExpected(v.HoldoutWeeks, cx[i], ctxs[i], cT[i])
			}
		}
		if bg != nil {
			v.BGNBDExpected = &eb
		}
		if pn != nil {
			v.ParetoNBDExpected = &ep
		}
		md.Validation = v
	}

	if opts.checkOnly {
		if rep.Warnings == nil {
			rep.Warnings = []string{}
		}
		rep.Segments = []Segment{}
		return a, nil
	}

	// Profiles.
	horizon := clv.Horizon{Length: opts.HorizonDays / week, Periods: opts.Periods, DiscountRate: opts.DiscountRate}
	a.profiles = make([]Profile, len(custs))
	unc := newUncertainty(model, gg, horizon, warn)
	var withModel []int
	var sums []summary
	var spends []float64
	if unc != nil {
		sums, spends = make([]summary, len(custs)), make([]float64, len(custs))
	}
	for i, c := range custs {
		p := &a.profiles[i]
		p.CustomerID = c.id
		p.Segments = []string{}
		if len(c.days) == 0 {
			continue
		}
		rec := asOf - c.days[len(c.days)-1]
		p.RecencyDays = &rec
		p.Frequency = len(c.orders)
		p.Monetary = round2(float64(c.total) / 1e4)
		p.AOV = round2(float64(c.total) / 1e4 / float64(len(c.orders)))
		p.FirstOrder = dayTime(c.days[0]).Format(time.DateOnly)
		p.LastOrder = dayTime(c.days[len(c.days)-1]).Format(time.DateOnly)
		s := asOfSummary(c, asOf)
		dayValue := float64(c.total) / 1e4 / float64(len(c.days))
		spend := dayValue
		if gg != nil {
			spend = gg.ConditionalSpend(s.x, s.m)
			if s.x > 0 && s.m <= 0 {
				spend = gg.Params.PopulationMean()
			}
		}
		if model != nil {
			p.PAlive = model.PAlive(s.x, s.tx, s.T)
			p.ExpectedPurchases = model.ConditionalExpected(horizon.Length, s.x, s.tx, s.T)
			p.CLV = clv.CLV(model, s.x, s.tx, s.T, spend, horizon)
			if unc != nil {
				withModel = append(withModel, i)
				sums[i], spends[i] = s, spend
			}
		} else {
			h := heuristic{s}
			p.PAlive = h.PAlive(s.x, s.tx, s.T)
			p.ExpectedPurchases = h.ConditionalExpected(horizon.Length, s.x, s.tx, s.T)
			p.CLV = clv.CLV(h, s.x, s.tx, s.T, spend, horizon)
		}
		p.PAlive = round6(p.PAlive)
		p.ExpectedPurchases = round6(p.ExpectedPurchases)
		p.ExpectedSpend = round2(spend)
		p.CLV = round2(p.CLV)
	}
	unc.fill(a.profiles, withModel, sums, spends)
	if err := a.segment(ctx, custs, asOf); err != nil {
		return nil, err
	}
	rep.Glossary = glossary(opts)
	if rep.Warnings == nil {
		rep.Warnings = []string{}
	}
	if rep.Segments == nil {
		rep.Segments = []Segment{}
	}
	return a, nil
}

// segment runs core/segment's engine (rfm, value, behavioral and lifecycle
// definitions with their defaults) on the aggregated customers, adds two
// predictive segments from this run's models (at-risk: a buyer with
// P(alive) < 0.5; high-clv: the top 20 % of buyers by predicted CLV) and
// fills the profiles' RFM scores and segments and the report's segments
// and warnings.
func (a *analysis) segment(ctx context.Context, custs []*customer, asOf int32) error {
	ds := &segment.Dataset{Customers: make([]segment.Customer, len(custs))}
	for i, c := range custs {
		sc := &ds.Customers[i]
		sc.ID = c.id
		sc.Email = domain.NormalizeEmail(c.email)
		sc.Orders = make([]segment.OrderFact, len(c.orders))
		for j, o := range c.orders {
			t := dayTime(o.day)
			sc.Orders[j] = segment.OrderFact{
				Amount: int64(math.Round(float64(o.amount) / 100)), // 1/10,000 → cents
				Day:    o.day,
				Items:  int32(min(o.items/1e4, math.MaxInt32)),
				Year:   uint16(t.Year()),
				Month:  uint8(t.Month()),
				Status: segment.StatusPurchase,
			}
		}
		slices.SortStableFunc(sc.Orders, func(x, y segment.OrderFact) int { return cmp.Compare(x.Day, y.Day) })
	}
	defs := []segment.Definition{
		{Name: "rfm", Kind: segment.KindRFM},
		{Name: "value", Kind: segment.KindValue},
		{Name: "behavioral", Kind: segment.KindBehavioral},
		{Name: "lifecycle", Kind: segment.KindLifecycle},
	}
	eng, err := segment.NewEngine(defs, segment.Options{KPIWindowDays: kpiWindowDays})
	if err != nil {
		return fmt.Errorf("preparing segment definitions: %w", err)
	}
	res, err := eng.Run(ctx, ds, dayTime(asOf))
	if err != nil {
		return fmt.Errorf("segmenting customers: %w", err)
	}
	ps := a.profiles
	members := make(map[string][]int)
	for i := range ps {
		p := &ps[i]
		if sc, ok := res.RFM(i); ok {
			p.RScore, p.FScore, p.MScore = int(sc.R), int(sc.F), int(sc.M)
			p.RFMSegment = sc.Group
		}
		p.Segments = append(p.Segments, res.SegmentsOf(i)...)
	}
	// Predictive segments from this run's models.
	var buyers []int
	for i := range ps {
		if ps[i].Frequency == 0 {
			continue
		}
		buyers = append(buyers, i)
		if ps[i].PAlive < 0.5 {
			members["predictive:at-risk"] = append(members["predictive:at-risk"], i)
		}
	}
	slices.SortStableFunc(buyers, func(x, y int) int { return cmp.Compare(ps[y].CLV, ps[x].CLV) })
	members["predictive:high-clv"] = buyers[:int(math.Ceil(0.2*float64(len(buyers))))]
	for _, name := range []string{"predictive:at-risk", "predictive:high-clv"} {
		for _, i := range members[name] {
			ps[i].Segments = append(ps[i].Segments, name)
		}
	}

	rep := &a.report
	for k, info := range res.Segments {
		kpi := map[string]any{}
		if k < len(res.KPIs) {
			b, _ := json.Marshal(res.KPIs[k])
			_ = json.Unmarshal(b, &kpi)
			delete(kpi, "segment")
		}
		idx := res.Members(info.Name)
		modelKPIs(kpi, ps, idx)
		rep.Segments = append(rep.Segments, Segment{Name: info.Name, Kind: string(info.Kind), Size: len(idx), KPIs: kpi})
	}
	var revenue float64
	for i := range ps {
		revenue += ps[i].Monetary
	}
	for _, name := range []string{"predictive:at-risk", "predictive:high-clv"} {
		idx := members[name]
		kpi := map[string]any{}
		var rev float64
		orders := 0
		for _, i := range idx {
			rev += ps[i].Monetary
			orders += ps[i].Frequency
		}
		if len(ps) > 0 {
			kpi["share"] = round6(float64(len(idx)) / float64(len(ps)))
		}
		kpi["revenue"] = round2(rev)
		if orders > 0 {
			kpi["aov"] = round2(rev / float64(orders))
		}
		if len(idx) > 0 {
			kpi["purchase_frequency"] = round6(float64(orders) / float64(len(idx)))
			kpi["revenue_per_customer"] = round2(rev / float64(len(idx)))
		}
		if revenue > 0 {
			kpi["revenue_share"] = round6(rev / revenue)
		}
		modelKPIs(kpi, ps, idx)
		rep.Segments = append(rep.Segments, Segment{Name: name, Kind: "predictive", Size: len(idx), KPIs: kpi})
	}
	for _, w := range res.Warnings {
		if w.Kind == "data-quality" && !a.haveCustomersFile && strings.Contains(w.Message, "email") {
			continue // an orders file alone carries no emails to check
		}
		if !a.haveCustomersFile {
			// an orders file alone has no non-buyers, leads or prospects:
			// their segments are empty by construction
			if w = dropNoBuyerSegments(w); w.Message == "" {
				continue
			}
		}
		msg := w.Kind + ": " + w.Message
		if w.Segment != "" && !strings.Contains(w.Message, w.Segment) {
			msg += " (" + w.Segment + ")"
		}
		rep.Warnings = append(rep.Warnings, msg)
	}
	return nil
}

// modelKPIs adds the model-based indicators of the members idx.
func modelKPIs(kpi map[string]any, ps []Profile, idx []int) {
	var alive, exp, value float64
	for _, i := range idx {
		alive += ps[i].PAlive
		exp += ps[i].ExpectedPurchases
		value += ps[i].CLV
	}
	n := float64(max(len(idx), 1))
	kpi["avg_p_alive"] = round6(alive / n)
	kpi["expected_purchases"] = round2(exp)
	kpi["avg_clv"] = round2(value / n)
	kpi["predicted_value"] = round2(value)
}

// fewCustomers is the fit size below which the report warns that the
// estimates are uncertain and quotes their standard errors.
const fewCustomers = 500

func seText(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "undefined"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// ParetoSample bounds the customers the Pareto/NBD model is fitted on.
// Its likelihood needs a hypergeometric function or an integral per
// customer, some hundred times the cost of BG/NBD's, and four parameters
// are well determined by this many customers; BG/NBD and Gamma-Gamma are
// fitted on everyone.
const ParetoSample = 20000

// paretoSample returns the calibration summaries of at most ParetoSample
// customers: those whose id hashes lowest, a deterministic sample that
// does not depend on the order of the file.
func paretoSample(x, tx, T []float64, ids []string, limit int) ([]float64, []float64, []float64) {
	if limit <= 0 {
		limit = ParetoSample
	}
	if len(x) <= limit {
		return x, tx, T
	}
	idx := make([]int, len(x))
	h := make([]uint64, len(x))
	for i := range idx {
		idx[i] = i
		h[i] = hashString(ids[i])
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(h[a], h[b]) })
	idx = idx[:limit]
	slices.Sort(idx)
	sx, stx, sT := make([]float64, len(idx)), make([]float64, len(idx)), make([]float64, len(idx))
	for k, i := range idx {
		sx[k], stx[k], sT[k] = x[i], tx[i], T[i]
	}
	return sx, stx, sT
}
