package clv

import (
	"math"

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
}

// FitParetoNBD fits the Pareto/NBD model by maximum likelihood; inputs,
// errors and minimums as for FitBGNBD.
func FitParetoNBD(x, tx, T []float64) (ParetoNBDFit, error) {
	d, err := newRFM(x, tx, T)
	if err != nil {
		return ParetoNBDFit{}, err
	}
	if err := d.check("pareto_nbd"); err != nil {
		return ParetoNBDFit{}, err
	}
	ll := func(p, _ []float64) float64 { return paretoLL(d, p) }
	m := maximize(ll, false, []float64{1, 1, 1, 1}, float64(d.n))
	return ParetoNBDFit{
		Params:        ParetoNBDParams{m.p[0], m.p[1], m.p[2], m.p[3]},
		LogLikelihood: m.ll,
		N:             d.n,
		StdErr:        ParetoNBDParams{m.stdErr[0], m.stdErr[1], m.stdErr[2], m.stdErr[3]},
		Converged:     m.converged,
	}, nil
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
		la, lA0 := pp.logTerms(x, d.tx[i], d.T[i])
		v := logSumExp(la, math.Log(pp.S/(pp.R+pp.S+x))+lA0)
		sum += d.w[i] * (lgamma(pp.R+x) + lead + v)
	}
	return sum
}

// logTerms returns ln[(α+T)^−(r+x) (β+T)^−s] and ln A0, where A0 is the
// integral over dropout times before T (the second term of the
// likelihood). A0 is −Inf when tx = T.
func (p ParetoNBDParams) logTerms(x, tx, T float64) (la, lA0 float64) {
	r, alpha, s, beta := p.R, p.Alpha, p.S, p.Beta
	rsx := r + s + x
	la = -(r+x)*math.Log(alpha+T) - s*math.Log(beta+T)
	var l1, l2 float64
	if alpha >= beta {
		l1 = math.Log(mathext.Hypergeo(rsx, s+1, rsx+1, (alpha-beta)/(alpha+tx))) - rsx*math.Log(alpha+tx)
		l2 = math.Log(mathext.Hypergeo(rsx, s+1, rsx+1, (alpha-beta)/(alpha+T))) - rsx*math.Log(alpha+T)
	} else {
		l1 = math.Log(mathext.Hypergeo(rsx, r+x, rsx+1, (beta-alpha)/(beta+tx))) - rsx*math.Log(beta+tx)
		l2 = math.Log(mathext.Hypergeo(rsx, r+x, rsx+1, (beta-alpha)/(beta+T))) - rsx*math.Log(beta+T)
	}
	// A0 = e^l1 − e^l2 with l1 ≥ l2.
	if l2 >= l1 {
		return la, math.Inf(-1)
	}
	return la, l1 + math.Log(-math.Expm1(l2-l1))
}

// PAlive is the probability that a customer with history (x, tx, T) is
// still active at T.
func (p ParetoNBDParams) PAlive(x, tx, T float64) float64 {
	la, lA0 := p.logTerms(x, tx, T)
	lr := math.Log(p.S/(p.R+p.S+x)) + lA0 - la
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
