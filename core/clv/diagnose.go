package clv

import (
	"fmt"
	"math"
)

// FitOptions tune a purchase-model fit.
type FitOptions struct {
	// L2 is the penalizer coefficient: the fit minimises
	// −LL/n + L2·Σ p² over the natural parameters p, the penalty
	// lifetimes calls penalizer_coef. It pulls parameters that run off
	// to a boundary back towards moderate values; 0 (the default) is plain
	// maximum likelihood, which reproduces the published estimates.
	L2 float64
}

func (o FitOptions) check() error {
	if !finite(o.L2) || o.L2 < 0 {
		return fmt.Errorf("penalizer %v: must be a finite number ≥ 0", o.L2)
	}
	return nil
}

// A Diagnostic is one thing wrong with a fit, as data.
//
// Codes:
//   - "not_converged": the optimiser stopped before convergence;
//   - "singular_hessian": the Hessian of the log-likelihood at the estimate
//     is not finite or not positive definite, so the standard errors (and
//     intervals built on them) are undefined: the likelihood is flat in
//     some direction;
//   - "at_bound": a parameter ran off below BoundLow or above BoundHigh;
//   - "no_dropout": the dropout process vanished (BG/NBD or MBG/NBD a → 0
//     or b → ∞, Pareto/NBD s → 0), so the model says nobody ever churns;
//   - "recency_contradiction": most customers who have been silent for
//     many of their own purchase gaps still get P(alive) > 0.9.
//
// Severe diagnostics (no_dropout, recency_contradiction) mean the model's
// P(alive) and expected purchases are not to be used; callers fall back to
// another model or a heuristic and say which.
type Diagnostic struct {
	Code    string `json:"code"`
	Param   string `json:"param,omitempty"`
	Severe  bool   `json:"severe"`
	Message string `json:"message"`
}

// Bounds outside which a fitted parameter counts as at a boundary.
const (
	BoundLow  = 1e-4
	BoundHigh = 1e5
)

// Thresholds of the degeneracy checks.
const (
	// MinDropout: a BG/NBD or MBG/NBD a below this, or a mean dropout
	// probability a/(a+b) below a tenth of it, is "no_dropout".
	MinDropout = 0.01
	// MinParetoS: a Pareto/NBD s below this is "no_dropout".
	MinParetoS = 0.01
	// LapsedGaps: a customer with x ≥ 1 is lapsed when the time since the
	// last purchase, T − tx, exceeds LapsedGaps mean gaps tx/x and half
	// of T.
	LapsedGaps = 3.0
	// LapsedAliveShare: "recency_contradiction" when more than this share
	// of at least MinLapsed lapsed customers get P(alive) > 0.9.
	LapsedAliveShare = 0.5
	// MinLapsed is the fewest lapsed customers the recency check needs.
	MinLapsed = 20
)

func anySevere(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severe {
			return true
		}
	}
	return false
}

// fitDiagnostics reports non-convergence, a singular Hessian and
// parameters at their bounds.
func fitDiagnostics(m mle, names ...string) []Diagnostic {
	out := []Diagnostic{}
	if !m.converged {
		out = append(out, Diagnostic{Code: "not_converged", Message: "the optimiser stopped before converging: treat the estimates with care"})
	}
	if !m.hessianOK {
		out = append(out, Diagnostic{Code: "singular_hessian", Message: "the Hessian at the estimate is singular or not finite: the likelihood is flat in some direction and standard errors are undefined"})
	}
	for i, v := range m.p {
		if v < BoundLow || v > BoundHigh || !finite(v) {
			out = append(out, Diagnostic{Code: "at_bound", Param: names[i],
				Message: fmt.Sprintf("%s = %.4g ran to a boundary (outside [%g, %g])", names[i], v, BoundLow, BoundHigh)})
		}
	}
	return out
}

// betaDropoutDiagnostics checks the Beta(a, b) dropout probability of
// BG/NBD and MBG/NBD for the no-churn limit.
func betaDropoutDiagnostics(a, b float64) []Diagnostic {
	mean := a / (a + b)
	switch {
	case a < MinDropout:
		return []Diagnostic{{Code: "no_dropout", Param: "a", Severe: true,
			Message: fmt.Sprintf("a = %.4g → 0: dropout probabilities are all but zero, so the model says nobody churns and P(alive) ≈ 1 for everyone", a)}}
	case mean < MinDropout/10:
		return []Diagnostic{{Code: "no_dropout", Param: "b", Severe: true,
			Message: fmt.Sprintf("b = %.4g → ∞ against a = %.4g: mean dropout probability %.2g per purchase, so the model says nobody churns", b, a, mean)}}
	}
	return nil
}

// aliveModel is what the recency check needs of a model.
type aliveModel interface {
	PAlive(x, tx, T float64) float64
}

// appendRecency adds "recency_contradiction" when most lapsed customers
// (see LapsedGaps) get P(alive) > 0.9 from m.
func appendRecency(ds []Diagnostic, m aliveModel, d *rfm) []Diagnostic {
	share, lapsed := LapsedAlive(m, d.x, d.tx, d.T, d.w)
	if lapsed >= MinLapsed && share > LapsedAliveShare {
		ds = append(ds, Diagnostic{Code: "recency_contradiction", Severe: true,
			Message: fmt.Sprintf("%.0f%% of %.0f customers silent for over %g of their mean purchase gaps get P(alive) > 0.9", 100*share, lapsed, LapsedGaps)})
	}
	return ds
}

// LapsedAlive returns, among the lapsed customers of the summaries
// (x ≥ 1, T − tx > LapsedGaps·tx/x and > T/2), weighted by w (nil: one
// each), the share m gives P(alive) > 0.9 and their number.
func LapsedAlive(m aliveModel, x, tx, T, w []float64) (share, lapsed float64) {
	var alive float64
	for i := range x {
		if x[i] < 1 || !(T[i]-tx[i] > LapsedGaps*tx[i]/x[i]) || !(T[i]-tx[i] > T[i]/2) {
			continue
		}
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		lapsed += wi
		if pa := m.PAlive(x[i], tx[i], T[i]); pa > 0.9 || math.IsNaN(pa) {
			alive += wi
		}
	}
	if lapsed == 0 {
		return 0, 0
	}
	return alive / lapsed, lapsed
}
