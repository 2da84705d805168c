package analyze

import (
	"fmt"
	"math"
	"strings"

	"github.com/segconn/connector/core/clv"
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
func fitPurchaseModels(c calibration, md *Models, warn func(string)) (clv.PurchaseModel, *clv.BGNBDFit, *clv.ParetoNBDFit) {
	var cands []candidate
	var bg *clv.BGNBDFit
	var pn *clv.ParetoNBDFit
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
	px, ptx, pT := paretoSample(c.x, c.tx, c.T, c.ids)
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
		return nil, bg, pn
	}
	best := pick(c, cands, md)
	if best < 0 {
		warn("every purchase model fit is degenerate: p_alive, expected_purchases and clv use the heuristic (historical purchase rate; see --help)")
		return nil, bg, pn
	}
	chosen := cands[best]
	md.Method = chosen.name
	if chosen.name != "bgnbd" && bg != nil {
		warn(fmt.Sprintf("predictions by %s, not BG/NBD: %s", chosen.label, md.Choice))
	}
	return chosen.m, bg, pn
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
