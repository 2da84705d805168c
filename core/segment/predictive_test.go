package segment

import (
	"fmt"
	"strings"
	"testing"
)

// explain shows how sure a prediction is: the 90% bootstrap interval of
// CDNOW customer 1's P(alive) brackets the point estimate 0.7266.
func TestExplainShowsPredictionIntervals(t *testing.T) {
	ds := loadCDNOW(t, "data/cdnow/CDNOW_sample.txt", 1, 2)
	r := run(t, ds, cdnowCalibrationEnd, []any{map[string]any{"name": "clv", "kind": "predictive",
		"params": map[string]any{"horizon_days": 273, "discount_rate": 0, "fit_sample": 0}}}, Options{})
	ex, err := r.Explain("1")
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for _, l := range ex.Definitions[0].Reasons {
		if strings.HasPrefix(l, "90% intervals") {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("no interval line in %q", ex.Definitions[0].Reasons)
	}
	t.Log(line)
	var lo, hi float64
	if _, err := fmt.Sscanf(line[strings.Index(line, "P(alive) "):], "P(alive) %f–%f", &lo, &hi); err != nil {
		t.Fatalf("parsing %q: %v", line, err)
	}
	if !(lo < 0.7266 && 0.7266 < hi && hi-lo < 0.5) {
		t.Errorf("P(alive) interval %.3f–%.3f does not bracket 0.7266 tightly", lo, hi)
	}
}

// model: auto keeps the sound BG-family fit with the higher
// log-likelihood: on CDNOW that is MBG/NBD (−9582.136 against BG/NBD's
// −9582.429).
func TestAutoModelPicksTheBetterFit(t *testing.T) {
	ds := loadCDNOW(t, "data/cdnow/CDNOW_sample.txt", 1, 2)
	r := run(t, ds, cdnowCalibrationEnd, []any{map[string]any{"name": "clv", "kind": "predictive",
		"params": map[string]any{"model": "auto", "fit_sample": 0}}}, Options{})
	pm := r.Models()["purchase"]
	if pm.Name != "mbgnbd" || pm.LogLikelihood < -9582.14 || pm.LogLikelihood > -9582.13 {
		t.Errorf("auto chose %s with LL %.4f, want mbgnbd at -9582.136", pm.Name, pm.LogLikelihood)
	}
}
