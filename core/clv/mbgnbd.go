package clv

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// MBGNBDParams are the modified BG/NBD parameters (Batislam, Denizel &
// Filiztekin 2007): as BG/NBD, purchase rates are Gamma(R, Alpha) and
// dropout probabilities Beta(A, B), but a customer may also drop out right
// after the first purchase, so a one-time buyer is not alive by
// construction as in BG/NBD.
type MBGNBDParams struct {
	R     float64 `json:"r"`
	Alpha float64 `json:"alpha"`
	A     float64 `json:"a"`
	B     float64 `json:"b"`
}

// MBGNBDFit is a fitted MBG/NBD model; fields as in BGNBDFit.
type MBGNBDFit struct {
	Params        MBGNBDParams `json:"params"`
	LogLikelihood float64      `json:"log_likelihood"`
	N             int          `json:"n"`
	StdErr        MBGNBDParams `json:"std_err"`
	Converged     bool         `json:"converged"`
	Diagnostics   []Diagnostic `json:"diagnostics"`
	Penalizer     float64      `json:"penalizer,omitempty"`
	cov           []float64
}

// Degenerate reports whether a diagnostic says the fit's predictions are
// not to be trusted.
func (f MBGNBDFit) Degenerate() bool { return anySevere(f.Diagnostics) }

// FitMBGNBD fits the MBG/NBD model by maximum likelihood; inputs, options,
// errors and minimums as for FitBGNBDWith.
func FitMBGNBD(x, tx, T []float64, o FitOptions) (MBGNBDFit, error) {
	d, err := newRFM(x, tx, T)
	if err != nil {
		return MBGNBDFit{}, err
	}
	if err := d.check("mbgnbd"); err != nil {
		return MBGNBDFit{}, err
	}
	if err := o.check(); err != nil {
		return MBGNBDFit{}, err
	}
	ev := newBGNBDEval(d, true)
	m := maximize(ev.ll, []float64{1, 1, 1, 1}, float64(d.n), o.L2)
	f := MBGNBDFit{
		Params:        MBGNBDParams{m.p[0], m.p[1], m.p[2], m.p[3]},
		LogLikelihood: m.ll,
		N:             d.n,
		StdErr:        MBGNBDParams{m.stdErr[0], m.stdErr[1], m.stdErr[2], m.stdErr[3]},
		Converged:     m.converged,
		Penalizer:     o.L2,
		cov:           m.cov,
	}
	f.Diagnostics = append(fitDiagnostics(m, "r", "alpha", "a", "b"), betaDropoutDiagnostics(f.Params.A, f.Params.B)...)
	f.Diagnostics = appendRecency(f.Diagnostics, f.Params, d)
	return f, nil
}

// LogLikelihoodAt returns the MBG/NBD log-likelihood of the data at p.
func (p MBGNBDParams) LogLikelihoodAt(x, tx, T []float64) (float64, error) {
	d, err := newRFM(x, tx, T)
	if err != nil {
		return 0, err
	}
	return newBGNBDEval(d, true).ll([]float64{p.R, p.Alpha, p.A, p.B}, nil), nil
}

// PAlive is the probability that a customer with history (x, tx, T) is
// still active at T:
//
//	1 / (1 + a/(b+x) · ((α+T)/(α+tx))^(r+x))
func (p MBGNBDParams) PAlive(x, tx, T float64) float64 {
	lr := math.Log(p.A) - math.Log(p.B+x) + (p.R+x)*(math.Log(p.Alpha+T)-math.Log(p.Alpha+tx))
	return 1 / (1 + math.Exp(lr))
}

// ExpectedPurchases is E[X(t)], the expected number of repeat purchases in
// (0, t] of a new customer:
//
//	b/(a−1) · [1 − (α/(α+t))^r · 2F1(r, b+1; a+b; t/(α+t))]
func (p MBGNBDParams) ExpectedPurchases(t float64) float64 {
	if t <= 0 {
		return 0
	}
	h := mathext.Hypergeo(p.R, p.B+1, p.A+p.B, t/(p.Alpha+t))
	return p.B / (p.A - 1) * (1 - math.Pow(p.Alpha/(p.Alpha+t), p.R)*h)
}

// ConditionalExpected is E[Y(t) | x, tx, T], the expected number of
// purchases in (T, T+t]:
//
//	(a+b+x)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x+1; a+b+x; t/(α+T+t))] · P(alive)
func (p MBGNBDParams) ConditionalExpected(t, x, tx, T float64) float64 {
	if t <= 0 {
		return 0
	}
	r, alpha, a, b := p.R, p.Alpha, p.A, p.B
	h := mathext.Hypergeo(r+x, b+x+1, a+b+x, t/(alpha+T+t))
	num := (a + b + x) / (a - 1) * (1 - math.Exp((r+x)*(math.Log(alpha+T)-math.Log(alpha+T+t)))*h)
	return num * p.PAlive(x, tx, T)
}

// PAlive is the fit's Params.PAlive.
func (f MBGNBDFit) PAlive(x, tx, T float64) float64 { return f.Params.PAlive(x, tx, T) }

// ExpectedPurchases is the fit's Params.ExpectedPurchases.
func (f MBGNBDFit) ExpectedPurchases(t float64) float64 { return f.Params.ExpectedPurchases(t) }

// ConditionalExpected is the fit's Params.ConditionalExpected.
func (f MBGNBDFit) ConditionalExpected(t, x, tx, T float64) float64 {
	return f.Params.ConditionalExpected(t, x, tx, T)
}
