package segment

import (
	"strings"
	"testing"
)

// explain carries each prediction beside its interval as data: CDNOW
// customer 1's P(alive), expected purchases and CLV each lie inside their
// 90% bootstrap interval, and a heuristic answer says why it has none.
func TestExplainPredictionHasIntervals(t *testing.T) {
	ds := loadCDNOW(t, "data/cdnow/CDNOW_sample.txt", 1, 2)
	r := run(t, ds, cdnowCalibrationEnd, []any{map[string]any{"name": "clv", "kind": "predictive",
		"params": map[string]any{"horizon_days": 273, "discount_rate": 0, "fit_sample": 0}}}, Options{})
	ex, err := r.Explain("1")
	if err != nil {
		t.Fatal(err)
	}
	p := ex.Definitions[0].Prediction
	if p == nil || p.Model != "bgnbd" || p.Level != 0.9 || p.HorizonDays != 273 {
		t.Fatalf("prediction %+v: want bgnbd's with 90%% intervals over 273 days", p)
	}
	for _, c := range []struct {
		name     string
		v        float64
		lo, hi   float64
		haveIntv bool
	}{
		{"P(alive)", p.PAlive, p.PAliveInterval.Lo, p.PAliveInterval.Hi, p.PAliveInterval != nil},
		{"expected purchases", p.ExpectedPurchases, p.ExpectedInterval.Lo, p.ExpectedInterval.Hi, p.ExpectedInterval != nil},
		{"CLV", p.CLV, p.CLVInterval.Lo, p.CLVInterval.Hi, p.CLVInterval != nil},
	} {
		if !(c.lo < c.v && c.v < c.hi) {
			t.Errorf("%s %.4f is outside its interval %.4f–%.4f", c.name, c.v, c.lo, c.hi)
		}
	}
	if p.PAlive < 0.72 || p.PAlive > 0.73 {
		t.Errorf("P(alive) %.4f, want the published 0.7266", p.PAlive)
	}

	h := run(t, ds, cdnowCalibrationEnd, []any{map[string]any{"name": "clv", "kind": "predictive",
		"params": map[string]any{"min_customers": 1000000}}}, Options{})
	ex, err = h.Explain("1")
	if err != nil {
		t.Fatal(err)
	}
	p = ex.Definitions[0].Prediction
	if p == nil || p.Model != "heuristic" || p.PAliveInterval != nil || !strings.Contains(p.NoInterval, "min_customers") {
		t.Errorf("heuristic prediction %+v: want no interval and the reason", p)
	}
}
