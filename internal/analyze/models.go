package analyze

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/segconn/connector/core/clv"
	"github.com/segconn/connector/core/segment"
)

// MBGNBD is a fitted MBG/NBD model as reported.
type MBGNBD struct {
	R             float64          `json:"r"`
	Alpha         float64          `json:"alpha"`
	A             float64          `json:"a"`
	B             float64          `json:"b"`
	N             int              `json:"n"`
	LogLikelihood float64          `json:"log_likelihood"`
	StdErr        map[string]Num   `json:"std_err"`
	Converged     bool             `json:"converged"`
	Penalizer     float64          `json:"penalizer,omitempty"`
	Diagnostics   []clv.Diagnostic `json:"diagnostics"`
}

// ModelScore compares one fitted purchase model with the others.
type ModelScore struct {
	Model string `json:"model"`
	// N, LogLikelihood and BIC (4·ln N − 2·LL) are on the calibration
	// period; BICs compare only between models fitted on the same N.
	N             int     `json:"n"`
	LogLikelihood float64 `json:"log_likelihood"`
	BIC           float64 `json:"bic"`
	// Degenerate: a severe diagnostic (see the model's diagnostics).
	Degenerate bool `json:"degenerate"`
	// LapsedAlive is the share of lapsed calibration customers (silent
	// for over three of their mean purchase gaps and half their tenure)
	// given P(alive) > 0.9.
	LapsedAlive float64 `json:"lapsed_alive_share"`
	// HoldoutExpected and HoldoutRMSE (per customer, repeat purchases) are
	// set when a holdout period exists.
	HoldoutExpected *float64 `json:"holdout_expected,omitempty"`
	HoldoutRMSE     *float64 `json:"holdout_rmse,omitempty"`
	Chosen          bool     `json:"chosen"`
}

// candidate is one fitted purchase model in the running.
type candidate struct {
	name, label string
	m           clv.PurchaseModel
	n           int
	ll          float64
	degenerate  bool
	diags       []clv.Diagnostic
}

// calibration is the data the purchase models are fitted and checked on.
type calibration struct {
	x, tx, T []float64
	ids      []string
	holdout  []int   // repeat purchase-days after the calibration end
	weeks    float64 // holdout length; 0 without a holdout
	// paretoCap bounds the customers Pareto/NBD is fitted on (0:
	// ParetoSample).
	paretoCap int
}

// fitPurchaseModels fits BG/NBD, MBG/NBD and Pareto/NBD on the
// calibration data, reports each with its diagnostics, scores them and
// picks the one that makes the predictions (nil: the heuristic):
//
//  1. degenerate fits (clv.Diagnostic.Severe: nobody churns, or lapsed
//     customers all alive) are out;
//  2. with a holdout, the lowest per-customer holdout RMSE wins;
//     without one, the lowest BIC among models fitted on every customer;
//  3. when every fit is degenerate the heuristic is used (an L2-penalized
//     refit was tried on Online Retail and ran to a = b → 0 just the
//     same, so none is attempted).
//
// Every step that leaves the default is a warning naming what was wrong
// and what replaced it.
func fitPurchaseModels(c calibration, md *Models, warn func(string)) (clv.PurchaseModel, *clv.BGNBDFit, *clv.ParetoNBDFit, []candidate) {
	var cands []candidate
	var bg *clv.BGNBDFit
	var pn *clv.ParetoNBDFit
	// models refused for too little data share one warning when they
	// refuse for the same reason
	var refused []string
	var refusal string
	outer := warn
	warn = func(w string) {
		label, why, ok := strings.Cut(w, " not fitted: fitting ")
		if !ok {
			outer(w)
			return
		}
		if _, why, ok = strings.Cut(why, ": "); ok && (refusal == "" || refusal == why) {
			refused, refusal = append(refused, label), why
			return
		}
		outer(w)
	}
	defer func() {
		if len(refused) > 0 {
			outer(fmt.Sprintf("%s not fitted: %s", strings.Join(refused, ", "), refusal))
		}
	}()
	if fit, err := clv.FitBGNBD(c.x, c.tx, c.T); err == nil {
		bg = &fit
		md.BGNBD = &BGNBD{R: fit.Params.R, Alpha: fit.Params.Alpha, A: fit.Params.A, B: fit.Params.B, N: fit.N,
			LogLikelihood: fit.LogLikelihood, Converged: fit.Converged, Diagnostics: fit.Diagnostics,
			StdErr: map[string]Num{"r": Num(fit.StdErr.R), "alpha": Num(fit.StdErr.Alpha), "a": Num(fit.StdErr.A), "b": Num(fit.StdErr.B)}}
		cands = append(cands, candidate{"bgnbd", "BG/NBD", fit, fit.N, fit.LogLikelihood, fit.Degenerate(), fit.Diagnostics})
	} else {
		warn("BG/NBD not fitted: " + err.Error())
	}
	if fit, err := clv.FitMBGNBD(c.x, c.tx, c.T, clv.FitOptions{}); err == nil {
		md.MBGNBD = reportMBG(fit)
		cands = append(cands, candidate{"mbgnbd", "MBG/NBD", fit, fit.N, fit.LogLikelihood, fit.Degenerate(), fit.Diagnostics})
	} else {
		warn("MBG/NBD not fitted: " + err.Error())
	}
	px, ptx, pT := paretoSample(c.x, c.tx, c.T, c.ids, c.paretoCap)
	if fit, err := clv.FitParetoNBD(px, ptx, pT); err == nil {
		pn = &fit
		md.ParetoNBD = &ParetoNBD{R: fit.Params.R, Alpha: fit.Params.Alpha, S: fit.Params.S, Beta: fit.Params.Beta, N: fit.N,
			LogLikelihood: fit.LogLikelihood, Converged: fit.Converged, Diagnostics: fit.Diagnostics,
			StdErr: map[string]Num{"r": Num(fit.StdErr.R), "alpha": Num(fit.StdErr.Alpha), "s": Num(fit.StdErr.S), "beta": Num(fit.StdErr.Beta)}}
		cands = append(cands, candidate{"pareto_nbd", "Pareto/NBD", fit, fit.N, fit.LogLikelihood, fit.Degenerate(), fit.Diagnostics})
	} else {
		warn("Pareto/NBD not fitted: " + err.Error())
	}
	for _, cd := range cands {
		var msgs []string
		for _, d := range cd.diags {
			if d.Severe == cd.degenerate {
				msgs = append(msgs, d.Message)
			}
		}
		switch {
		case cd.degenerate:
			warn(fmt.Sprintf("%s fit is degenerate, not used for predictions: %s", cd.label, strings.Join(msgs, "; ")))
		case len(msgs) > 0:
			warn(fmt.Sprintf("%s fit: %s", cd.label, strings.Join(msgs, "; ")))
		}
	}
	if len(cands) == 0 {
		return nil, bg, pn, nil
	}
	best := pick(c, cands, md)
	if best < 0 {
		warn("every purchase model fit is degenerate: p_alive, expected_purchases and clv use the heuristic (historical purchase rate; see --help)")
		return nil, bg, pn, cands
	}
	chosen := cands[best]
	md.Method = chosen.name
	if chosen.name != "bgnbd" && bg != nil {
		warn(fmt.Sprintf("predictions by %s, not BG/NBD: %s", chosen.label, md.Choice))
	}
	return chosen.m, bg, pn, cands
}

func reportMBG(fit clv.MBGNBDFit) *MBGNBD {
	return &MBGNBD{R: fit.Params.R, Alpha: fit.Params.Alpha, A: fit.Params.A, B: fit.Params.B, N: fit.N,
		LogLikelihood: fit.LogLikelihood, Converged: fit.Converged, Penalizer: fit.Penalizer, Diagnostics: fit.Diagnostics,
		StdErr: map[string]Num{"r": Num(fit.StdErr.R), "alpha": Num(fit.StdErr.Alpha), "a": Num(fit.StdErr.A), "b": Num(fit.StdErr.B)}}
}

// pick scores the candidates into md.Comparison and returns the index of
// the chosen one (-1: none is sound), setting md.Choice to the reason.
func pick(c calibration, cands []candidate, md *Models) int {
	best := -1
	var bestVal float64
	for i, cd := range cands {
		s := ModelScore{Model: cd.name, N: cd.n, LogLikelihood: cd.ll, Degenerate: cd.degenerate,
			BIC: 4*math.Log(float64(cd.n)) - 2*cd.ll}
		s.LapsedAlive, _ = clv.LapsedAlive(cd.m, c.x, c.tx, c.T, nil)
		s.LapsedAlive = round6(s.LapsedAlive)
		if c.weeks > 0 {
			var sum, sq float64
			for j := range c.x {
				e := cd.m.ConditionalExpected(c.weeks, c.x[j], c.tx[j], c.T[j])
				sum += e
				sq += (e - float64(c.holdout[j])) * (e - float64(c.holdout[j]))
			}
			rmse := math.Sqrt(sq / float64(max(len(c.x), 1)))
			s.HoldoutExpected, s.HoldoutRMSE = &sum, &rmse
		}
		md.Comparison = append(md.Comparison, s)
		if cd.degenerate {
			continue
		}
		val := s.BIC
		switch {
		case c.weeks > 0:
			val = *s.HoldoutRMSE
		case cd.n != len(c.x):
			continue // fitted on a sample: its BIC is not comparable
		}
		if best < 0 || val < bestVal {
			best, bestVal = i, val
		}
	}
	if best < 0 {
		md.Choice = "no sound fit"
		return -1
	}
	md.Comparison[best].Chosen = true
	if c.weeks > 0 {
		md.Choice = fmt.Sprintf("lowest holdout RMSE (%.4f repeat purchases per customer) among the sound fits", bestVal)
	} else {
		md.Choice = fmt.Sprintf("lowest BIC (%.1f) among the sound fits on every customer", bestVal)
	}
	return best
}

// BootstrapDraws is the number of parameter draws behind each profile's
// intervals: 5% and 95% quantiles of 200 values.
const BootstrapDraws = 200

// uncertainty computes profiles' 90% intervals from bootstrap draws of the
// chosen purchase model (and Gamma-Gamma). Customers are taken grouped by
// their summary (x, tx, T), so each draw evaluates the purchase model once
// per distinct summary; only the CLV, which depends on the customer's own
// spend, is summarised per customer.
type uncertainty struct {
	point clv.PurchaseModel
	draws []clv.PurchaseModel
	spend []clv.GammaGammaParams
	h     clv.Horizon
}

func newUncertainty(model clv.PurchaseModel, gg *clv.GammaGammaFit, h clv.Horizon, warn func(string)) *uncertainty {
	b, ok := model.(interface {
		Bootstrap(n int, seed uint64) ([]clv.PurchaseModel, error)
	})
	if !ok {
		return nil
	}
	draws, err := b.Bootstrap(BootstrapDraws, 1)
	if err != nil {
		warn("no intervals for p_alive, expected_purchases and clv: " + err.Error())
		return nil
	}
	u := &uncertainty{point: model, draws: draws, h: h}
	if gg != nil {
		if sd, err := gg.Bootstrap(BootstrapDraws, 2); err == nil {
			u.spend = sd
		}
	}
	return u
}

// fill sets the intervals of the profiles idx, whose summaries are sums[i]
// and point spends spends[i].
func (u *uncertainty) fill(ps []Profile, idx []int, sums []summary, spends []float64) {
	if u == nil {
		return
	}
	slices.SortFunc(idx, func(a, b int) int {
		sa, sb := sums[a], sums[b]
		return cmp.Or(cmp.Compare(sa.x, sb.x), cmp.Compare(sa.tx, sb.tx), cmp.Compare(sa.T, sb.T))
	})
	n := len(u.draws)
	pa, ex, buf, cv := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	var paI, exI clv.Interval
	var disc float64
	var last summary
	for j, i := range idx {
		s := sums[i]
		if j == 0 || s.x != last.x || s.tx != last.tx || s.T != last.T {
			last = s
			for k, d := range u.draws {
				pa[k] = d.PAlive(s.x, s.tx, s.T)
				ex[k] = d.ConditionalExpected(u.h.Length, s.x, s.tx, s.T)
			}
			copy(buf, pa)
			paI = clv.Central(buf, 0.9)
			copy(buf, ex)
			exI = clv.Central(buf, 0.9)
			disc = 1
			if e := u.point.ConditionalExpected(u.h.Length, s.x, s.tx, s.T); e > 0 {
				disc = clv.CLV(u.point, s.x, s.tx, s.T, 1, u.h) / e
			}
		}
		spend := spends[i]
		for k := range cv {
			sk := spend
			if len(u.spend) > 0 && !(s.x > 0 && s.m <= 0) {
				sk = u.spend[k%len(u.spend)].ConditionalSpend(s.x, s.m)
			}
			cv[k] = sk * ex[k] * disc
		}
		clvI := clv.Central(cv, 0.9)
		ps[i].Intervals = &clv.CustomerIntervals{
			PAlive:   clv.Interval{Lo: round6(paI.Lo), Hi: round6(paI.Hi)},
			Expected: clv.Interval{Lo: round6(exI.Lo), Hi: round6(exI.Hi)},
			CLV:      clv.Interval{Lo: round2(clvI.Lo), Hi: round2(clvI.Hi)},
		}
	}
}

// noBuyerSegments are empty whenever the input is an orders file alone.
func noBuyerSegment(name string) bool {
	return name == "behavioral:non-buyer" || name == "lifecycle:lead" || name == "lifecycle:prospect"
}

// dropNoBuyerSegments removes the segments that cannot have members
// without a customers file from an "is empty"/"are empty" warning; the
// message is empty when none is left.
func dropNoBuyerSegments(w segment.Warning) segment.Warning {
	if noBuyerSegment(w.Segment) && strings.HasSuffix(w.Message, " is empty") {
		return segment.Warning{}
	}
	_, list, ok := strings.Cut(w.Message, " segments are empty: ")
	if !ok || w.Segment != "" {
		return w
	}
	names := slices.DeleteFunc(strings.Split(list, ", "), noBuyerSegment)
	switch len(names) {
	case 0:
		return segment.Warning{}
	case 1:
		w.Message = "segment " + names[0] + " is empty"
	default:
		w.Message = fmt.Sprintf("%d segments are empty: %s", len(names), strings.Join(names, ", "))
	}
	return w
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// kpiWindowDays is the window of the segment KPIs' churn, retention and
// conversion.
const kpiWindowDays = 90

// glossary is core/segment's KPI glossary for this run's window (the
// segment engine's predicted CLV is not used here) plus the model-based
// KPIs analyze adds, with the horizon and discount stated.
func glossary(opts Options) []segment.GlossaryEntry {
	var out []segment.GlossaryEntry
	for _, e := range segment.Glossary(kpiWindowDays, int(opts.HorizonDays), 0, "") {
		if e.Key != "avg_predicted_clv" {
			out = append(out, e)
		}
	}
	h := fmt.Sprintf("%.0f days", opts.HorizonDays)
	return append(out,
		segment.GlossaryEntry{Key: "avg_p_alive", Label: "Avg P(alive)", Definition: "mean probability, from the purchase model, that a member still buys"},
		segment.GlossaryEntry{Key: "expected_purchases", Label: "Expected purchases (" + h + ")", Definition: "sum over the members of the expected purchases in the next " + h},
		segment.GlossaryEntry{Key: "avg_clv", Label: "Predicted CLV (" + h + ")", Definition: fmt.Sprintf("mean predicted lifetime value over the next %s, discounted at %g per period over %d periods; a prediction, unlike revenue_per_customer", h, opts.DiscountRate, opts.Periods)},
		segment.GlossaryEntry{Key: "predicted_value", Label: "Predicted value (" + h + ")", Definition: "sum of the members' predicted CLV"},
	)
}
