package clv

import (
	"math"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// loglik evaluates a model's total log-likelihood at natural (positive)
// parameters p. When grad is non-nil it also stores d LL / d p there.
type loglik func(p, grad []float64) float64

// mle is the outcome of a maximum-likelihood fit.
type mle struct {
	p         []float64
	ll        float64
	stdErr    []float64
	converged bool
}

// maximize finds the parameters maximising ll, starting at init. It
// optimises over log-parameters so every parameter stays positive, scales
// the objective by the customer count n so tolerances do not depend on the
// data size, and uses BFGS with ll's gradient, falling back to Nelder-Mead
// from the best point when BFGS stops without converging.
func maximize(ll loglik, init []float64, n float64) mle {
	dim := len(init)
	theta := make([]float64, dim)
	for i, v := range init {
		theta[i] = math.Log(v)
	}
	p := make([]float64, dim)
	gp := make([]float64, dim)
	toP := func(th []float64) {
		for i, v := range th {
			p[i] = math.Exp(v)
		}
	}
	f := func(th []float64) float64 {
		toP(th)
		v := ll(p, nil)
		if !finite(v) {
			return math.Inf(1)
		}
		return -v / n
	}
	prob := optimize.Problem{Func: f, Grad: func(g, th []float64) {
		toP(th)
		v := ll(p, gp)
		for i := range g {
			g[i] = -gp[i] * p[i] / n
			if !finite(v) || !finite(g[i]) {
				g[i] = 0
			}
		}
	}}
	settings := &optimize.Settings{
		GradientThreshold: 1e-9,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-13, Relative: 1e-13, Iterations: 50},
		MajorIterations:   2000,
	}
	best := theta
	bestF := f(theta)
	converged := false
	res, err := optimize.Minimize(prob, theta, settings, &optimize.BFGS{})
	if res != nil && res.F <= bestF {
		best, bestF = res.X, res.F
	}
	if err == nil && res != nil && (res.Status == optimize.GradientThreshold || res.Status == optimize.FunctionConvergence || res.Status == optimize.Success) {
		converged = true
	}
	// A line search that fails where the gradient has all but vanished is
	// at the optimum as far as float64 can tell (flat surfaces near a
	// boundary do this): accept it rather than restart.
	if !converged && res != nil && len(res.Gradient) == dim && floats.Norm(res.Gradient, math.Inf(1)) < 1e-4 {
		converged = true
	}
	if !converged {
		nm := &optimize.Settings{
			Converger:       &optimize.FunctionConverge{Absolute: 1e-12, Relative: 1e-12, Iterations: 200},
			FuncEvaluations: 5000,
		}
		res, err = optimize.Minimize(optimize.Problem{Func: f}, best, nm, &optimize.NelderMead{})
		if res != nil && res.F <= bestF {
			best, bestF = res.X, res.F
		}
		converged = err == nil && res != nil && res.Status == optimize.FunctionConvergence
	}
	out := mle{p: make([]float64, dim), ll: -bestF * n, converged: converged && finite(bestF)}
	for i, v := range best {
		out.p[i] = math.Exp(v)
	}
	out.stdErr = stdErrors(ll, best, out.p)
	return out
}

// stdErrors returns the standard errors of the natural parameters from the
// numerical Hessian of the negative log-likelihood in log-parameter space,
// mapped back by the delta method (se_i = p_i · se(log p_i)). Entries are
// NaN when the Hessian is not positive definite.
func stdErrors(ll loglik, theta, p []float64) []float64 {
	dim := len(theta)
	se := make([]float64, dim)
	q := make([]float64, dim)
	negLL := func(th []float64) float64 {
		for i, v := range th {
			q[i] = math.Exp(v)
		}
		return -ll(q, nil)
	}
	var h mat.SymDense
	fd.Hessian(&h, negLL, theta, &fd.Settings{Formula: fd.Central, Step: 1e-4})
	var chol mat.Cholesky
	if !chol.Factorize(&h) {
		for i := range se {
			se[i] = math.NaN()
		}
		return se
	}
	var cov mat.SymDense
	if err := chol.InverseTo(&cov); err != nil {
		for i := range se {
			se[i] = math.NaN()
		}
		return se
	}
	for i := range se {
		se[i] = p[i] * math.Sqrt(cov.At(i, i))
	}
	return se
}
