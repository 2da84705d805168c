package analyze

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segconn/connector/internal/testenv"
)

// runDiagnostics runs analyze on the CDNOW 1/10 sample with the published
// calibration/holdout split and returns models.diagnostics from the JSON.
func runDiagnostics(t *testing.T) Diagnostics {
	t.Helper()
	path := testenv.SharedFile(t, "data/cdnow/CDNOW_sample.txt")
	var out bytes.Buffer
	err := Run(context.Background(), Options{Orders: path, Format: Format{Preset: "cdnow-sample"}, Output: "json",
		AsOf: day("1998-06-30"), CalibrationEnd: day("1997-09-30"), HorizonDays: 39 * 7}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Models struct {
			Diagnostics *Diagnostics `json:"diagnostics"`
		} `json:"models"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Models.Diagnostics == nil {
		t.Fatal("no models.diagnostics in the JSON")
	}
	return *r.Models.Diagnostics
}

// The conditional-expectations check on CDNOW reproduces the published
// figure (Fader, Hardie & Lee 2005; the BTYD walkthrough's
// bgnbd.PlotFreqVsConditionalExpectedFrequency, T* = 39 weeks, censor 7),
// and the tracking check the published cumulative repeat purchases.
func TestDiagnosticsReproduceCDNOWFigures(t *testing.T) {
	t.Parallel()
	d := runDiagnostics(t)
	want := []struct {
		x         string
		n         int
		actual, e float64
	}{
		{"0", 1411, 0.2367116, 0.2250893}, {"1", 439, 0.6970387, 0.5231364}, {"2", 214, 1.392523, 1.044126},
		{"3", 100, 1.560000, 1.520256}, {"4", 62, 2.532258, 2.163824}, {"5", 38, 2.947368, 2.653789},
		{"6", 29, 3.862069, 3.503957}, {"7+", 64, 6.359375, 6.157036},
	}
	if len(d.ByFrequency) != len(want) {
		t.Fatalf("%d frequency classes, want %d: %+v", len(d.ByFrequency), len(want), d.ByFrequency)
	}
	for i, w := range want {
		g := d.ByFrequency[i]
		if g.X != w.x || g.Customers != w.n {
			t.Errorf("class %d: x %s with %d customers, want %s with %d", i, g.X, g.Customers, w.x, w.n)
		}
		near(t, "actual mean x="+w.x, g.Actual, w.actual, 1e-6)
		// the fit is within 1e-3 of the published parameters
		near(t, "BG/NBD expected x="+w.x, g.Expected["bgnbd"], w.e, 2e-3)
	}
	// Tracking: BTYD walkthrough weeks 20–25, and week 78 (FHL 2005: the
	// BG/NBD forecast is about 4% under the actual 4,339).
	if len(d.Tracking) != 78 {
		t.Fatalf("%d tracking weeks, want 78", len(d.Tracking))
	}
	actual := []int{1359, 1414, 1484, 1517, 1573, 1672}
	expected := []float64{1312.458, 1387.346, 1460.392, 1531.713, 1601.418, 1669.6}
	for k := range actual {
		w := d.Tracking[19+k]
		if w.Week != 20+k || w.CumulativeActual != actual[k] {
			t.Errorf("week %d: cumulative actual %d, want %d", w.Week, w.CumulativeActual, actual[k])
		}
		near(t, "cumulative BG/NBD week "+w.End, w.CumulativeExpected["bgnbd"], expected[k], 1)
	}
	last := d.Tracking[77]
	if last.CumulativeActual != 4339 {
		t.Errorf("week 78 cumulative actual %d, want 4339", last.CumulativeActual)
	}
	// Week 78 ends on 1998-07-01, a day after the as-of day, where
	// Σ E[X(T_i + 39)] = 4,160.6 stops; a day later the sum is about 5 higher.
	under := 100 * (1 - last.CumulativeExpected["bgnbd"]/4339)
	if under < 3.5 || under > 4.5 {
		t.Errorf("week 78: BG/NBD %.1f is %.2f%% under the actual 4,339, want about 4%%", last.CumulativeExpected["bgnbd"], under)
	}
	if d.Tracking[38].Holdout || !d.Tracking[39].Holdout {
		t.Errorf("holdout starts at week %d, want 40", firstHoldout(d.Tracking))
	}
	near(t, "calibration weeks", d.CalibrationWeeks, 39, 0.2)
	var bg *HoldoutError
	for i := range d.HoldoutError {
		if d.HoldoutError[i].Model == "bgnbd" {
			bg = &d.HoldoutError[i]
		}
	}
	if bg == nil || bg.Actual != 1882 || bg.Customers != 2357 {
		t.Fatalf("holdout error %+v", d.HoldoutError)
	}
	near(t, "BG/NBD holdout total", bg.Expected, 1653.4, 0.5)
	near(t, "BG/NBD holdout percent error", bg.PercentError, 100*(1653.4-1882)/1882, 0.05)
	if !(bg.RMSE > bg.MAE && bg.MAE > 0 && bg.Correlation > 0.5) {
		t.Errorf("BG/NBD holdout RMSE %.3f MAE %.3f correlation %.3f", bg.RMSE, bg.MAE, float64(bg.Correlation))
	}
	t.Logf("holdout error: %+v", d.HoldoutError)
	// The P(alive) matrix: a customer with many purchases long ago is less
	// likely alive than one with the same purchases just now.
	m := d.Matrix
	if m == nil || len(m.X) < 5 || len(m.Tx) != matrixColumns {
		t.Fatalf("matrix %+v", m)
	}
	if hi, lo := m.PAlive[4][len(m.Tx)-1], m.PAlive[4][0]; !(hi > 0.9 && lo < 0.3) {
		t.Errorf("x=4: P(alive) %.3f at tx=T and %.3f at tx=0", hi, lo)
	}
	t.Logf("matrix model %s, T %.2f, x 0..%v", d.MatrixModel, m.T, m.X[len(m.X)-1])
}

func firstHoldout(rows []TrackRow) int {
	for _, r := range rows {
		if r.Holdout {
			return r.Week
		}
	}
	return -1
}

// --report writes the diagnostics as HTML tables, with the data embedded
// as JSON for charts.
func TestHTMLReportHasTheDiagnostics(t *testing.T) {
	t.Parallel()
	path := testenv.SharedFile(t, "data/cdnow/CDNOW_sample.txt")
	report := filepath.Join(t.TempDir(), "report.html")
	err := Run(context.Background(), Options{Orders: path, Format: Format{Preset: "cdnow-sample"}, Output: "json", Report: report,
		AsOf: day("1998-06-30"), CalibrationEnd: day("1997-09-30"), HorizonDays: 39 * 7}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		"<caption>Calibration vs holdout: mean holdout repeat purchases by calibration repeat purchases</caption>",
		"<tr><td>7&#43;</td><td>64</td><td>6.359</td><td>6.157</td>",
		"<caption>Holdout error",
		"<td>bgnbd</td><td>2357</td><td>1882</td><td>1653.41</td>",
		"<td>78 (holdout)</td><td>1998-07-01</td>",
		"<caption>P(alive) by frequency",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	i := strings.Index(s, `<script type="application/json" id="diagnostics-data">`)
	j := strings.LastIndex(s, "</script>")
	if i < 0 || j < i {
		t.Fatal("no embedded diagnostics")
	}
	var d Diagnostics
	if err := json.Unmarshal([]byte(s[i+len(`<script type="application/json" id="diagnostics-data">`):j]), &d); err != nil {
		t.Fatalf("embedded diagnostics: %v", err)
	}
	if len(d.Tracking) != 78 || len(d.ByFrequency) != 8 {
		t.Errorf("embedded diagnostics: %d weeks, %d classes", len(d.Tracking), len(d.ByFrequency))
	}
	if err := Run(context.Background(), Options{Orders: path, Format: Format{Preset: "cdnow-sample"}, Report: filepath.Join(t.TempDir(), "no", "such", "dir.html"),
		AsOf: day("1998-06-30")}, io.Discard); err == nil || !strings.Contains(err.Error(), "creating the report") {
		t.Errorf("unwritable report path: %v", err)
	}
}

// Tracking covers complete weeks only: with the as-of day three days short
// of week 78, week 77 is the last, so no week compares part of the actual
// purchases with a whole week of expected ones.
func TestTrackingStopsAtTheLastCompleteWeek(t *testing.T) {
	t.Parallel()
	path := testenv.SharedFile(t, "data/cdnow/CDNOW_sample.txt")
	var out bytes.Buffer
	err := Run(context.Background(), Options{Orders: path, Format: Format{Preset: "cdnow-sample"}, Output: "json",
		AsOf: day("1998-06-27"), CalibrationEnd: day("1997-09-30"), HorizonDays: 39 * 7}, &out)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Models struct {
			Diagnostics Diagnostics `json:"diagnostics"`
		} `json:"models"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	tr := r.Models.Diagnostics.Tracking
	if len(tr) != 77 {
		t.Fatalf("%d weeks, want 77", len(tr))
	}
	if end := tr[76].End; end != "1998-06-24" {
		t.Errorf("week 77 ends %s, want 1998-06-24", end)
	}
}
