package clv

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
)

// GammaGammaParams are the Gamma-Gamma spend parameters: a customer's
// transaction values are Gamma(P, ν) with ν ~ Gamma(Q, Gamma) across
// customers (shape, rate).
type GammaGammaParams struct {
	P     float64 `json:"p"`
	Q     float64 `json:"q"`
	Gamma float64 `json:"gamma"`
}

// GammaGammaFit is a fitted Gamma-Gamma model.
type GammaGammaFit struct {
	Params        GammaGammaParams `json:"params"`
	LogLikelihood float64          `json:"log_likelihood"`
	N             int              `json:"n"` // repeat customers fitted
	StdErr        GammaGammaParams `json:"std_err"`
	Converged     bool             `json:"converged"`
	Diagnostics   []Diagnostic     `json:"diagnostics"` // not_converged, singular_hessian, at_bound
	cov           []float64
}

// spend is a Gamma-Gamma data set compressed to distinct (x, m) pairs.
type spend struct {
	x, m, logm, w []float64
	n             int
	xs            []float64
	xi            []int32
}

// FitGammaGamma fits the Gamma-Gamma model by maximum likelihood to the
// repeat customers' number of repeat purchases x and their mean value m.
// Customers with x = 0 are ignored (they carry no spend information), so
// callers may pass every customer; every other customer must have m > 0.
// Below MinSpendCustomers usable customers it returns an
// *InsufficientDataError.
func FitGammaGamma(x, meanSpend []float64) (GammaGammaFit, error) {
	d, err := newSpend(x, meanSpend)
	if err != nil {
		return GammaGammaFit{}, err
	}
	if d.n < MinSpendCustomers {
		return GammaGammaFit{}, &InsufficientDataError{Model: "gamma_gamma", What: "customers with a repeat purchase", Have: d.n, Need: MinSpendCustomers}
	}
	ev := &ggEval{d: d, c: make([]float64, len(d.xs)), dp: make([]float64, len(d.xs)), dq: make([]float64, len(d.xs)), lx: make([]float64, len(d.xs))}
	m := maximize(ev.ll, []float64{1, 1, 1}, float64(d.n), 0)
	return GammaGammaFit{
		Diagnostics:   fitDiagnostics(m, "p", "q", "gamma"),
		cov:           m.cov,
		Params:        GammaGammaParams{m.p[0], m.p[1], m.p[2]},
		LogLikelihood: m.ll,
		N:             d.n,
		StdErr:        GammaGammaParams{m.stdErr[0], m.stdErr[1], m.stdErr[2]},
		Converged:     m.converged,
	}, nil
}

func newSpend(x, m []float64) (*spend, error) {
	if len(x) != len(m) {
		return nil, fmt.Errorf("input slices differ in length: x %d, meanSpend %d", len(x), len(m))
	}
	type key struct{ x, m float64 }
	idx := make(map[key]int32)
	d := &spend{}
	for i := range x {
		xi, mi := x[i], m[i]
		if !finite(xi) || xi < 0 || xi != math.Trunc(xi) {
			return nil, &InputError{i, "x", xi, "frequency must be a non-negative whole number"}
		}
		if xi == 0 {
			continue
		}
		if !finite(mi) || mi <= 0 {
			return nil, &InputError{i, "meanSpend", mi, "mean spend of a repeat customer must be positive"}
		}
		d.n++
		k := key{xi, mi}
		j, ok := idx[k]
		if !ok {
			j = int32(len(d.x))
			idx[k] = j
			d.x = append(d.x, xi)
			d.m = append(d.m, mi)
			d.logm = append(d.logm, math.Log(mi))
			d.w = append(d.w, 0)
		}
		d.w[j]++
	}
	d.xs, d.xi = distinct(d.x, nil)
	return d, nil
}

type ggEval struct {
	d             *spend
	c, dp, dq, lx []float64 // per distinct x
}

// ll is the Gamma-Gamma log-likelihood of the observed mean spends
// (Fader & Hardie 2013, note 025, eq. 3) with its analytic gradient:
//
//	LL_i = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln γ + (px−1) ln m + px ln x − (px+q) ln(γ+mx)
func (e *ggEval) ll(par, grad []float64) float64 {
	p, q, g := par[0], par[1], par[2]
	d := e.d
	lgq := lgamma(q)
	var psq float64
	if grad != nil {
		psq = mathext.Digamma(q)
	}
	for j, x := range d.xs {
		e.lx[j] = math.Log(x)
		e.c[j] = lgamma(p*x+q) - lgamma(p*x) - lgq + p*x*e.lx[j]
		if grad != nil {
			ps := mathext.Digamma(p*x + q)
			e.dp[j] = x * (ps - mathext.Digamma(p*x) + e.lx[j])
			e.dq[j] = ps - psq
		}
	}
	lg := math.Log(g)
	var sum, gp, gq, gg float64
	for i, x := range d.x {
		w := d.w[i]
		j := d.xi[i]
		u := g + d.m[i]*x
		lu := math.Log(u)
		sum += w * (e.c[j] + q*lg + (p*x-1)*d.logm[i] - (p*x+q)*lu)
		if grad != nil {
			gp += w * (e.dp[j] + x*d.logm[i] - x*lu)
			gq += w * (e.dq[j] + lg - lu)
			gg += w * (q/g - (p*x+q)/u)
		}
	}
	if grad != nil {
		grad[0], grad[1], grad[2] = gp, gq, gg
	}
	return sum
}

// LogLikelihoodAt returns the Gamma-Gamma log-likelihood of the data at p.
func (p GammaGammaParams) LogLikelihoodAt(x, meanSpend []float64) (float64, error) {
	d, err := newSpend(x, meanSpend)
	if err != nil {
		return 0, err
	}
	ev := &ggEval{d: d, c: make([]float64, len(d.xs)), lx: make([]float64, len(d.xs))}
	return ev.ll([]float64{p.P, p.Q, p.Gamma}, nil), nil
}

// ConditionalSpend is E[Z | x, m], the expected value of a customer's
// future transaction given x repeat purchases of mean value m:
// (γ + m·x)·p / (p·x + q − 1). With x = 0 it is the population mean
// p·γ / (q − 1). It is +Inf when q ≤ 1 (the population mean is infinite).
func (p GammaGammaParams) ConditionalSpend(x, m float64) float64 {
	if x <= 0 {
		return p.PopulationMean()
	}
	den := p.P*x + p.Q - 1
	if den <= 0 {
		return math.Inf(1)
	}
	return (p.Gamma + m*x) * p.P / den
}

// PopulationMean is the expected transaction value of a new customer,
// p·γ / (q − 1), or +Inf when q ≤ 1.
func (p GammaGammaParams) PopulationMean() float64 {
	if p.Q <= 1 {
		return math.Inf(1)
	}
	return p.P * p.Gamma / (p.Q - 1)
}

// ConditionalSpend is the fit's Params.ConditionalSpend.
func (f GammaGammaFit) ConditionalSpend(x, m float64) float64 { return f.Params.ConditionalSpend(x, m) }
