package clv

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/mathext"
)

// ParetoNBDParams are the Pareto/NBD parameters: purchase rates are
// Gamma(R, Alpha) and dropout rates Gamma(S, Beta) across customers.
type ParetoNBDParams struct {
	R     float64 `json:"r"`
	Alpha float64 `json:"alpha"`
	S     float64 `json:"s"`
	Beta  float64 `json:"beta"`
}

// ParetoNBDFit is a fitted Pareto/NBD model.
type ParetoNBDFit struct {
	Params        ParetoNBDParams `json:"params"`
	LogLikelihood float64         `json:"log_likelihood"`
	N             int             `json:"n"`
	StdErr        ParetoNBDParams `json:"std_err"`
	Converged     bool            `json:"converged"`
	Diagnostics   []Diagnostic    `json:"diagnostics"` // as in BGNBDFit
	Penalizer     float64         `json:"penalizer,omitempty"`
	cov           []float64
}

// Degenerate reports whether a diagnostic says the fit's predictions are
// not to be trusted.
func (f ParetoNBDFit) Degenerate() bool { return anySevere(f.Diagnostics) }

// FitParetoNBD fits the Pareto/NBD model by maximum likelihood; inputs,
// errors and minimums as for FitBGNBD.
func FitParetoNBD(x, tx, T []float64) (ParetoNBDFit, error) {
	return FitParetoNBDWith(x, tx, T, FitOptions{})
}

// FitParetoNBDWith is FitParetoNBD with options (an L2 penalizer).
func FitParetoNBDWith(x, tx, T []float64, o FitOptions) (ParetoNBDFit, error) {
	d, err := newRFM(x, tx, T)
	if err != nil {
		return ParetoNBDFit{}, err
	}
	if err := d.check("pareto_nbd"); err != nil {
		return ParetoNBDFit{}, err
	}
	if err := o.check(); err != nil {
		return ParetoNBDFit{}, err
	}
	ll := func(p, grad []float64) float64 {
		if grad == nil {
			return paretoLL(d, p)
		}
		return paretoLLGrad(d, p, grad)
	}
	m := maximize(ll, []float64{1, 1, 1, 1}, float64(d.n), o.L2)
	f := ParetoNBDFit{
		Params:        ParetoNBDParams{m.p[0], m.p[1], m.p[2], m.p[3]},
		LogLikelihood: m.ll,
		N:             d.n,
		StdErr:        ParetoNBDParams{m.stdErr[0], m.stdErr[1], m.stdErr[2], m.stdErr[3]},
		Converged:     m.converged,
		Penalizer:     o.L2,
		cov:           m.cov,
	}
	f.Diagnostics = fitDiagnostics(m, "r", "alpha", "s", "beta")
	if f.Params.S < MinParetoS {
		f.Diagnostics = append(f.Diagnostics, Diagnostic{Code: "no_dropout", Param: "s", Severe: true,
			Message: fmt.Sprintf("s = %.4g → 0: dropout rates are all but zero, so the model says nobody churns and P(alive) ≈ 1 for everyone", f.Params.S)})
	}
	f.Diagnostics = appendRecency(f.Diagnostics, f.Params, d)
	return f, nil
}

// LogLikelihoodAt returns the Pareto/NBD log-likelihood of the data at p.
func (p ParetoNBDParams) LogLikelihoodAt(x, tx, T []float64) (float64, error) {
	d, err := newRFM(x, tx, T)
	if err != nil {
		return 0, err
	}
	return paretoLL(d, []float64{p.R, p.Alpha, p.S, p.Beta}), nil
}

// paretoLL sums the Pareto/NBD log-likelihood over the compressed data
// (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model", eq. 19).
func paretoLL(d *rfm, p []float64) float64 {
	pp := ParetoNBDParams{p[0], p[1], p[2], p[3]}
	lgr := lgamma(pp.R)
	lead := pp.R*math.Log(pp.Alpha) + pp.S*math.Log(pp.Beta) - lgr
	var sum float64
	for i, x := range d.x {
		la, lsI := pp.logTerms(x, d.tx[i], d.T[i])
		v := logSumExp(la, lsI)
		sum += d.w[i] * (lgamma(pp.R+x) + lead + v)
	}
	return sum
}

// paretoLLGrad is paretoLL with its analytic gradient. Both come from the
// quadrature form of the dropout term (the value differs from paretoLL's
// 2F1 form by about 1e-9 relative), with the derivatives of the integral
// taken under the integral sign:
//
//	∂I/∂r = −E[ln(α+τ)]·I, ∂I/∂α = −(r+x)·E[1/(α+τ)]·I,
//	∂I/∂s = −E[ln(β+τ)]·I, ∂I/∂β = −(s+1)·E[1/(β+τ)]·I.
func paretoLLGrad(d *rfm, p, grad []float64) float64 {
	r, alpha, s, beta := p[0], p[1], p[2], p[3]
	lgr, psr := lgamma(r), mathext.Digamma(r)
	lal, lbe := math.Log(alpha), math.Log(beta)
	lgx := make([]float64, len(d.xs))
	psx := make([]float64, len(d.xs))
	for j, x := range d.xs {
		lgx[j] = lgamma(r+x) - lgr
		psx[j] = mathext.Digamma(r+x) - psr
	}
	var sum, gr, ga, gs, gb float64
	var mom [4]float64
	for i, x := range d.x {
		w, tx, T := d.w[i], d.tx[i], d.T[i]
		laT, lbT := math.Log(alpha+T), math.Log(beta+T)
		la := -(r+x)*laT - s*lbT
		v, wB := la, 0.0
		if T > tx {
			lsI := math.Log(s) + logIntegralMoments(alpha, r+x, beta, s+1, tx, T, &mom)
			v = logSumExp(la, lsI)
			wB = math.Exp(lsI - v)
		}
		wA := 1 - wB
		j := d.xi[i]
		sum += w * (lgx[j] + r*lal + s*lbe + v)
		gr += w * (psx[j] + lal - wA*laT - wB*mom[0])
		ga += w * (r/alpha - wA*(r+x)/(alpha+T) - wB*(r+x)*mom[1])
		gs += w * (lbe - wA*lbT + wB/s - wB*mom[2])
		gb += w * (s/beta - wA*s/(beta+T) - wB*(s+1)*mom[3])
	}
	grad[0], grad[1], grad[2], grad[3] = gr, ga, gs, gb
	return sum
}

// logTerms returns ln[(α+T)^−(r+x) (β+T)^−s], the likelihood term of a
// customer alive at T, and ln(s·I), the term of one who dropped out between
// tx and T, where
//
//	I = ∫_tx^T (α+τ)^−(r+x) (β+τ)^−(s+1) dτ
//
// s·I is the s/(r+s+x)·A0 of Fader & Hardie's note (eq. 19), computed from
// its 2F1 form when the hypergeometric series converges in a few dozen
// terms and by quadrature (logIntegral) otherwise: near an argument of 1
// (data without visible churn drives the fit there) or with many repeat
// purchases the series needs thousands of terms. ln(s·I) is −Inf when
// tx = T.
func (p ParetoNBDParams) logTerms(x, tx, T float64) (la, lsI float64) {
	r, alpha, s, beta := p.R, p.Alpha, p.S, p.Beta
	la = -(r+x)*math.Log(alpha+T) - s*math.Log(beta+T)
	if T <= tx {
		return la, math.Inf(-1)
	}
	rsx := r + s + x
	var l1, l2 float64
	if alpha >= beta {
		z := (alpha - beta) / (alpha + tx)
		if slowSeries(s+1, z) {
			return la, math.Log(s) + logIntegral(alpha, r+x, beta, s+1, tx, T)
		}
		l1 = math.Log(mathext.Hypergeo(rsx, s+1, rsx+1, z)) - rsx*math.Log(alpha+tx)
		l2 = math.Log(mathext.Hypergeo(rsx, s+1, rsx+1, (alpha-beta)/(alpha+T))) - rsx*math.Log(alpha+T)
	} else {
		z := (beta - alpha) / (beta + tx)
		if slowSeries(r+x, z) {
			return la, math.Log(s) + logIntegral(alpha, r+x, beta, s+1, tx, T)
		}
		l1 = math.Log(mathext.Hypergeo(rsx, r+x, rsx+1, z)) - rsx*math.Log(beta+tx)
		l2 = math.Log(mathext.Hypergeo(rsx, r+x, rsx+1, (beta-alpha)/(beta+T))) - rsx*math.Log(beta+T)
	}
	// A0 = e^l1 − e^l2 with l1 > l2.
	if l2 >= l1 {
		return la, math.Inf(-1)
	}
	return la, math.Log(s/rsx) + l1 + math.Log(-math.Expm1(l2-l1))
}

// slowSeries reports whether the 2F1(·, b; ·; z) series needs many terms:
// its terms peak near n = b·z/(1−z), and Cephes tries the plain series
// first even near z = 1.
func slowSeries(b, z float64) bool {
	return z > 0.9 || b*z > 40*(1-z)
}

// logIntegral returns ln ∫_tx^T (a+τ)^−ea (b+τ)^−eb dτ for positive a, b,
// ea, eb. In u = ln((c+τ)/(c+tx)), c = min(a, b), the log-integrand is
// smooth and decreasing; the range is cut into panels over which it drops
// by about 6 (steps from its local slope, at most 1 wide) and each panel is integrated by
// 8-point Gauss-Legendre, stopping once the integrand is e^−30 below its
// start. The largest term is factored out so nothing under- or overflows.
func logIntegral(a, ea, b, eb, tx, T float64) float64 {
	return logIntegralMoments(a, ea, b, eb, tx, T, nil)
}

// logIntegralMoments is logIntegral; when mom is non-nil it also stores
// the means, under the integrand as a density on [tx, T], of ln(a+τ),
// 1/(a+τ), ln(b+τ) and 1/(b+τ): what the gradient of the likelihood needs.
func logIntegralMoments(a, ea, b, eb, tx, T float64, mom *[4]float64) float64 {
	c := min(a, b)
	l0 := math.Log(c + tx)
	uMax := math.Log(c+T) - l0
	la0, lb0 := math.Log(a+tx), math.Log(b+tx)
	// logH(u) = ln[(a+τ)^−ea (b+τ)^−eb (c+τ)] − its value at u = 0,
	// with a+τ = (a+tx) + (c+tx)(e^u − 1), likewise b.
	logH := func(u float64) float64 {
		em := (c + tx) * math.Expm1(u)
		return -ea*math.Log1p(em/(a+tx)) - eb*math.Log1p(em/(b+tx)) + u
	}
	slope := func(u float64) float64 {
		eu := (c + tx) * math.Exp(u)
		em := eu - (c + tx)
		return -ea*eu/(a+tx+em) - eb*eu/(b+tx+em) + 1
	}
	var sum float64
	var m [4]float64
	minStep := uMax / 256
	for u := 0.0; u < uMax; {
		h0 := logH(u)
		if h0 < -30 {
			break
		}
		step := min(max(6/math.Max(math.Abs(slope(u)), 1e-300), minStep), 1)
		hi := math.Min(u+step, uMax)
		for i, node := range gaussLegendre8.x {
			un := u + node*(hi-u)
			em := (c + tx) * math.Expm1(un)
			lpa, lpb := math.Log1p(em/(a+tx)), math.Log1p(em/(b+tx))
			f := gaussLegendre8.w[i] * (hi - u) * math.Exp(-ea*lpa-eb*lpb+un)
			sum += f
			if mom != nil {
				m[0] += f * lpa
				m[1] += f / (a + tx + em)
				m[2] += f * lpb
				m[3] += f / (b + tx + em)
			}
		}
		u = hi
	}
	if mom != nil {
		mom[0] = m[0]/sum + la0
		mom[1] = m[1] / sum
		mom[2] = m[2]/sum + lb0
		mom[3] = m[3] / sum
	}
	return math.Log(sum) - ea*la0 - eb*lb0 + l0
}

// gaussLegendre8 holds fixed 8-point Gauss-Legendre nodes and weights on
// [0, 1]; computed once, never modified.
var gaussLegendre8 = func() (g struct{ x, w []float64 }) {
	g.x, g.w = make([]float64, 8), make([]float64, 8)
	quad.Legendre{}.FixedLocations(g.x, g.w, 0, 1)
	return g
}()

// PAlive is the probability that a customer with history (x, tx, T) is
// still active at T.
func (p ParetoNBDParams) PAlive(x, tx, T float64) float64 {
	la, lsI := p.logTerms(x, tx, T)
	lr := lsI - la
	return 1 / (1 + math.Exp(lr))
}

// powTerm returns [1 − (u/(u+t))^(s−1)] / (s−1), continuous at s = 1.
func powTerm(s, u, t float64) float64 {
	l := math.Log(u) - math.Log(u+t)
	if math.Abs(s-1) < 1e-9 {
		return -l
	}
	return -math.Expm1((s-1)*l) / (s - 1)
}

// ExpectedPurchases is E[X(t)], the expected number of repeat purchases
// in (0, t] of a new customer.
func (p ParetoNBDParams) ExpectedPurchases(t float64) float64 {
	if t <= 0 {
		return 0
	}
	return p.R * p.Beta / p.Alpha * powTerm(p.S, p.Beta, t)
}

// ConditionalExpected is E[Y(t) | x, tx, T], the expected number of
// purchases in (T, T+t] of a customer with history (x, tx, T).
func (p ParetoNBDParams) ConditionalExpected(t, x, tx, T float64) float64 {
	if t <= 0 {
		return 0
	}
	return (p.R + x) * (p.Beta + T) / (p.Alpha + T) * powTerm(p.S, p.Beta+T, t) * p.PAlive(x, tx, T)
}

// PAlive is the fit's Params.PAlive.
func (f ParetoNBDFit) PAlive(x, tx, T float64) float64 { return f.Params.PAlive(x, tx, T) }

// ExpectedPurchases is the fit's Params.ExpectedPurchases.
func (f ParetoNBDFit) ExpectedPurchases(t float64) float64 { return f.Params.ExpectedPurchases(t) }

// ConditionalExpected is the fit's Params.ConditionalExpected.
func (f ParetoNBDFit) ConditionalExpected(t, x, tx, T float64) float64 {
	return f.Params.ConditionalExpected(t, x, tx, T)
}
