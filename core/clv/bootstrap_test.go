package clv_test

import (
	"errors"
	"testing"

	"github.com/segconn/connector/core/clv"
)

// TestBootstrapIntervalsCoverTheTruth: on data simulated from known BG/NBD
// parameters, the 90% bootstrap intervals for a customer's expected
// purchases over 52 weeks must cover the conditional expectation under
// the true parameters for 85–95% of customers. Customers of one data set
// share one estimate, so their coverage moves together; the test pools
// many independent data sets.
func TestBootstrapIntervalsCoverTheTruth(t *testing.T) {
	truth := clv.BGNBDParams{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}
	reps, perRep, draws := 200, 25, 200
	h := clv.Horizon{Length: 52, Periods: 12}
	covered, total := 0, 0
	var width float64
	for rep := range reps {
		x, tx, T := simulateBGNBD(2000, truth, uint64(1000+rep))
		fit, err := clv.FitBGNBD(x, tx, T)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := fit.Bootstrap(draws, uint64(rep))
		if err != nil {
			t.Fatalf("replicate %d: %v (diagnostics %v)", rep, err, fit.Diagnostics)
		}
		for i := range perRep {
			ci := clv.Intervals(ds, nil, 0.9, x[i], tx[i], T[i], 0, 1, h, fit)
			want := truth.ConditionalExpected(h.Length, x[i], tx[i], T[i])
			if ci.Expected.Contains(want) {
				covered++
			}
			if !(ci.PAlive.Lo <= ci.PAlive.Hi && ci.PAlive.Lo >= 0 && ci.PAlive.Hi <= 1) {
				t.Errorf("P(alive) interval %+v", ci.PAlive)
			}
			width += ci.Expected.Hi - ci.Expected.Lo
			total++
		}
	}
	cov := float64(covered) / float64(total)
	t.Logf("90%% intervals for expected purchases in 52 weeks cover the truth for %d of %d customers (%.1f%%), %d data sets of 2,000; mean width %.3f", covered, total, 100*cov, reps, width/float64(total))
	if cov < 0.85 || cov > 0.95 {
		t.Errorf("coverage %.3f, want 0.85–0.95", cov)
	}
}

func TestBootstrapNeedsACovariance(t *testing.T) {
	var f clv.BGNBDFit // no fit, no covariance
	if _, err := f.Bootstrap(10, 1); !errors.Is(err, clv.ErrNoCovariance) {
		t.Errorf("err = %v, want ErrNoCovariance", err)
	}
}
