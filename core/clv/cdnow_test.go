package clv_test

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/segconn/connector/core/clv"
	"github.com/segconn/connector/internal/testenv"
)

// readColumns reads the named float columns of a shared data file
// (testenv.SharedFile).
func readColumns(t *testing.T, rel string, names ...string) [][]float64 {
	t.Helper()
	f, err := os.Open(testenv.SharedFile(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("reading %s: %v", rel, err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	out := make([][]float64, len(names))
	for _, row := range rows[1:] {
		for k, name := range names {
			i, ok := col[name]
			if !ok {
				t.Fatalf("%s has no column %q", rel, name)
			}
			v, err := strconv.ParseFloat(row[i], 64)
			if err != nil {
				t.Fatalf("%s: column %s: %v", rel, name, err)
			}
			out[k] = append(out[k], v)
		}
	}
	return out
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.6f, want %.6f ± %g", what, got, want, tol)
	}
}

func fitCDNOWBGNBD(t *testing.T) (clv.BGNBDFit, [][]float64) {
	t.Helper()
	c := readColumns(t, "data/cdnow/cdnow_customers_summary.csv", "frequency", "recency", "T")
	fit, err := clv.FitBGNBD(c[0], c[1], c[2])
	if err != nil {
		t.Fatal(err)
	}
	return fit, c
}

func TestBGNBDReproducesCDNOW(t *testing.T) {
	fit, _ := fitCDNOWBGNBD(t)
	p := fit.Params
	t.Logf("BG/NBD fit: %+v LL %.4f se %+v converged %v", p, fit.LogLikelihood, fit.StdErr, fit.Converged)
	if !fit.Converged {
		t.Error("fit did not converge")
	}
	if fit.N != 2357 {
		t.Errorf("N = %d, want 2357", fit.N)
	}
	near(t, "r", p.R, 0.243, 1e-3)
	near(t, "alpha", p.Alpha, 4.414, 1e-3)
	near(t, "a", p.A, 0.793, 1e-3)
	near(t, "b", p.B, 2.426, 1e-3)
	near(t, "LL", fit.LogLikelihood, -9582.429, 0.01)
	for i, se := range []float64{fit.StdErr.R, fit.StdErr.Alpha, fit.StdErr.A, fit.StdErr.B} {
		if !(se > 0) || math.IsInf(se, 0) {
			t.Errorf("std err %d = %v, want a positive finite number", i, se)
		}
	}

	// Customer 1 (x=2, tx=30.43, T=38.86): 39-week expectation and P(alive).
	near(t, "customer 1 E[Y(39)]", fit.ConditionalExpected(39, 2, 30.43, 38.86), 1.226, 1e-3)
	near(t, "customer 1 P(alive)", fit.PAlive(2, 30.43, 38.86), 0.7266, 1e-3)

	// Unconditional expectations from Hardie's spreadsheet (3 dp).
	for _, c := range []struct{ t, want float64 }{
		{0.1429, 0.0078}, {1, 0.0532}, {3, 0.1506}, {31.8571, 1.0405}, {32, 1.0437}, {78, 1.8576},
	} {
		near(t, "E[X("+strconv.FormatFloat(c.t, 'f', -1, 64)+")]", fit.ExpectedPurchases(c.t), c.want, 1e-3)
	}
	near(t, "E[X(52)]", fit.ExpectedPurchases(52), 1.444004, 1e-4)
}

func TestBGNBDPublishedParamsVignette(t *testing.T) {
	// BTYD vignette numbers at its full-precision estimate.
	p := clv.BGNBDParams{R: 0.2425982, Alpha: 4.4136842, A: 0.7929899, B: 2.4261667}
	near(t, "customer 1516 E[Y(52)]", p.ConditionalExpected(52, 26, 30.85714, 31), 25.75659, 1e-3)
	near(t, "customer 1516 P(alive)", p.PAlive(26, 30.85714, 31), 0.9688523, 1e-5)
	for _, c := range []struct{ x, want float64 }{{10, 0.3474606}, {15, 0.04283391}, {20, 0.004158973}, {25, 0.0003583685}} {
		near(t, "paradox x="+strconv.Itoa(int(c.x)), p.ConditionalExpected(52, c.x, 20, 39), c.want, c.want*1e-4)
	}
}

func TestBGNBDHoldoutTotal(t *testing.T) {
	c := readColumns(t, "data/cdnow/derived_cdnow_sample_cbs_holdout.csv", "x", "t_x", "T_cal", "x_star")
	fit, err := clv.FitBGNBD(c[0], c[1], c[2])
	if err != nil {
		t.Fatal(err)
	}
	var expected, actual float64
	for i := range c[0] {
		expected += fit.ConditionalExpected(39, c[0][i], c[1][i], c[2][i])
		actual += c[3][i]
	}
	t.Logf("holdout: expected %.2f, actual %.0f", expected, actual)
	near(t, "Σ holdout expectation", expected, 1653.4, 0.5)
	near(t, "Σ holdout actual", actual, 1882, 0)
}

func TestParetoNBDReproducesCDNOW(t *testing.T) {
	c := readColumns(t, "data/cdnow/derived_cdnow_sample_cbs_holdout.csv", "x", "t_x", "T_cal", "x_star")
	fit, err := clv.FitParetoNBD(c[0], c[1], c[2])
	if err != nil {
		t.Fatal(err)
	}
	p := fit.Params
	t.Logf("Pareto/NBD fit: %+v LL %.4f se %+v converged %v", p, fit.LogLikelihood, fit.StdErr, fit.Converged)
	near(t, "r", p.R, 0.553, 2e-3)
	near(t, "alpha", p.Alpha, 10.578, 2e-3*10.578)
	near(t, "s", p.S, 0.606, 2e-3)
	near(t, "beta", p.Beta, 11.669, 0.05)
	near(t, "LL", fit.LogLikelihood, -9594.976, 0.01)
	var expected float64
	for i := range c[0] {
		expected += fit.ConditionalExpected(39, c[0][i], c[1][i], c[2][i])
	}
	t.Logf("Pareto/NBD holdout expectation %.1f", expected)
	near(t, "Σ holdout expectation", expected, 1665, 5)
}

func TestParetoNBDPublishedParamsVignette(t *testing.T) {
	p := clv.ParetoNBDParams{R: 0.5534, Alpha: 10.5802, S: 0.6061, Beta: 11.6562}
	near(t, "customer 1516 E[Y(52)]", p.ConditionalExpected(52, 26, 30.85714, 31), 25.45647, 0.01)
	near(t, "customer 1516 P(alive)", p.PAlive(26, 30.85714, 31), 0.997874, 1e-4)
	for _, c := range []struct{ x, want float64 }{{10, 0.7062289}, {15, 0.1442396}, {20, 0.02250658}, {25, 0.00309267}} {
		near(t, "paradox x="+strconv.Itoa(int(c.x)), p.ConditionalExpected(52, c.x, 20, 39), c.want, c.want*2e-3)
	}
	want := []float64{0, 0.05077821, 0.09916088, 0.14542507, 0.18979930, 0.23247466, 0.27361274, 0.31335159, 0.35181024, 0.38909211}
	for i, w := range want {
		// lifetimes compares these with atol 0.01: its fit differs slightly from these parameters.
		near(t, "E[X("+strconv.Itoa(i)+")]", p.ExpectedPurchases(float64(i)), w, 0.01)
	}
	near(t, "E[X(52)]", p.ExpectedPurchases(52), 1.473434, 2e-3)
}

func TestGammaGammaReproducesCDNOW(t *testing.T) {
	// Full-precision m_x: the log-likelihood check.
	c := readColumns(t, "data/cdnow/derived_cdnow_sample_cbs_holdout.csv", "x", "m_x")
	fit, err := clv.FitGammaGamma(c[0], c[1])
	if err != nil {
		t.Fatal(err)
	}
	p := fit.Params
	t.Logf("Gamma-Gamma fit (m_x): %+v LL %.4f se %+v converged %v", p, fit.LogLikelihood, fit.StdErr, fit.Converged)
	if fit.N != 946 {
		t.Errorf("N = %d, want the 946 repeat customers", fit.N)
	}
	near(t, "p", p.P, 6.25, 0.01)
	near(t, "q", p.Q, 3.74, 0.01)
	near(t, "gamma", p.Gamma, 15.44, 0.02)
	near(t, "LL", fit.LogLikelihood, -4055.918, 0.01)

	// The lifetimes summary (zbar at 2 dp): parameters and per-customer E[Z].
	s := readColumns(t, "data/cdnow/cdnow_customers_summary_with_transactions.csv", "x", "zbar")
	fit2, err := clv.FitGammaGamma(s[0], s[1])
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Gamma-Gamma fit (zbar): %+v LL %.4f", fit2.Params, fit2.LogLikelihood)
	near(t, "p (zbar)", fit2.Params.P, 6.25, 0.01)
	near(t, "q (zbar)", fit2.Params.Q, 3.74, 0.01)
	near(t, "gamma (zbar)", fit2.Params.Gamma, 15.44, 0.02)
	want := []float64{24.658619, 18.911489, 35.170981, 35.170981, 35.170981, 71.462843, 18.91, 35.170981, 27.28, 35.170981}
	for i, w := range want {
		near(t, "E[Z] customer "+strconv.Itoa(i+1), fit2.ConditionalSpend(s[0][i], s[1][i]), w, 0.01)
	}
	var mean float64
	for i := range s[0] {
		mean += fit2.ConditionalSpend(s[0][i], s[1][i])
	}
	near(t, "mean E[Z] over 2357", mean/float64(len(s[0])), 35.2529588256, 0.01)
}

func TestCLVMatchesLifetimesQuickstart(t *testing.T) {
	// lifetimes docs/Quickstart.md: BG/NBD refit on the summary, Gamma-Gamma
	// fitted, customer_lifetime_value(time=12, discount_rate=0.01) with its
	// default freq "D", i.e. twelve steps of 30 model units (weeks here).
	s := readColumns(t, "data/cdnow/cdnow_customers_summary_with_transactions.csv", "x", "t_x", "T", "zbar")
	bg, err := clv.FitBGNBD(s[0], s[1], s[2])
	if err != nil {
		t.Fatal(err)
	}
	gg, err := clv.FitGammaGamma(s[0], s[3])
	if err != nil {
		t.Fatal(err)
	}
	h := clv.Horizon{Length: 360, Periods: 12, DiscountRate: 0.01}
	want := []float64{140.096211, 18.943467, 38.180574, 38.180574, 38.180574, 1003.868107, 28.109683, 38.180574, 167.418216, 38.180574}
	for i, w := range want {
		x, tx, T, m := s[0][i], s[1][i], s[2][i], s[3][i]
		got := clv.CLV(bg, x, tx, T, gg.ConditionalSpend(x, m), h)
		near(t, "CLV customer "+strconv.Itoa(i+1), got, w, w*2e-4)
	}
}
