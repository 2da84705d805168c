package clv

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
)

// TestBGNBDGradientsMatchFiniteDifferences checks the analytic gradients
// of the BG/NBD and MBG/NBD log-likelihoods against central differences,
// on data with one-time buyers, repeaters, tx = 0 repeaters and tx = T.
func TestBGNBDGradientsMatchFiniteDifferences(t *testing.T) {
	x := []float64{0, 0, 1, 1, 2, 3, 7, 15, 2, 0}
	tx := []float64{0, 0, 5, 30, 0, 38, 20, 36, 39, 0}
	T := []float64{39, 20, 39, 38, 39, 39, 39, 38, 39, 1}
	d, err := newRFM(x, tx, T)
	if err != nil {
		t.Fatal(err)
	}
	for _, modified := range []bool{false, true} {
		ev := newBGNBDEval(d, modified)
		for _, p := range [][]float64{{0.243, 4.414, 0.793, 2.426}, {1.5, 0.7, 3, 0.4}, {0.05, 30, 0.02, 60}} {
			got := make([]float64, 4)
			ev.ll(p, got)
			want := fd.Gradient(nil, func(q []float64) float64 { return ev.ll(q, nil) }, p, &fd.Settings{Formula: fd.Central, Step: 1e-6})
			for i := range p {
				if math.Abs(got[i]-want[i]) > 1e-5*max(1, math.Abs(want[i])) {
					t.Errorf("modified %v, p %v: ∂LL/∂p[%d] = %.8g, numerical %.8g", modified, p, i, got[i], want[i])
				}
			}
		}
	}
}

// TestPenalizedObjectiveGradient checks the penalised, log-parameter
// gradient maximize hands to BFGS against central differences.
func TestPenalizedObjectiveGradient(t *testing.T) {
	x := []float64{0, 1, 2, 5, 0, 3}
	tx := []float64{0, 10, 20, 30, 0, 35}
	T := []float64{39, 39, 39, 39, 10, 38}
	d, _ := newRFM(x, tx, T)
	ev := newBGNBDEval(d, true)
	prob := objective(ev.ll, 4, float64(d.n), 0.1)
	th := []float64{math.Log(0.5), math.Log(3), math.Log(0.8), math.Log(2)}
	want := fd.Gradient(nil, prob.Func, th, &fd.Settings{Formula: fd.Central, Step: 1e-6})
	got := make([]float64, 4)
	prob.Grad(got, th)
	for i := range th {
		if math.Abs(got[i]-want[i]) > 1e-6 {
			t.Errorf("∂f/∂θ[%d] = %.8g, numerical %.8g", i, got[i], want[i])
		}
	}
	// the penalty is in the objective: it differs from the plain one
	plain := objective(ev.ll, 4, float64(d.n), 0)
	if d := prob.Func(th) - plain.Func(th); math.Abs(d-0.1*(0.25+9+0.64+4)) > 1e-12 {
		t.Errorf("penalty adds %v, want 0.1·Σp² = %v", d, 0.1*(0.25+9+0.64+4))
	}
}
