package analyze

import (
	"math"
	"slices"

	"github.com/segconn/connector/core/clv"
)

// Diagnostics are the purchase models' checks (models.diagnostics): what a
// practitioner looks at before trusting the predictions. ByFrequency,
// Tracking and HoldoutError need a holdout (--calibration-end before
// --as-of) and cover every sound fit; Matrix is the chosen model's.
type Diagnostics struct {
	// Censor is the calibration frequency from which ByFrequency pools
	// customers into one class ("7+").
	Censor int `json:"censor"`
	// ByFrequency: customers grouped by calibration repeat purchases x,
	// their mean actual holdout repeat purchases and each model's mean
	// conditional expectation ("conditional expectations", Fader, Hardie &
	// Lee 2005).
	ByFrequency []FrequencyRow `json:"by_frequency,omitempty"`
	// Tracking: repeat purchases week by week from the first customer's
	// first purchase to the as-of day (complete weeks only), actual and per model expected,
	// weekly and cumulative; CalibrationWeeks marks where the holdout
	// starts.
	Tracking         []TrackRow `json:"tracking,omitempty"`
	TrackingOrigin   string     `json:"tracking_origin,omitempty"`
	CalibrationWeeks float64    `json:"calibration_weeks,omitempty"`
	// HoldoutError summarises each model's per-customer holdout error.
	HoldoutError []HoldoutError `json:"holdout_error,omitempty"`
	// Matrix is the chosen model's P(alive) and expected purchases over the
	// horizon by frequency and recency, at the oldest customer's age.
	Matrix *clv.AliveMatrix `json:"matrix,omitempty"`
	// MatrixModel names the model of Matrix.
	MatrixModel string `json:"matrix_model,omitempty"`
}

// FrequencyRow is one calibration-frequency class.
type FrequencyRow struct {
	X         string             `json:"x"`
	Customers int                `json:"customers"`
	Actual    float64            `json:"actual_mean"`
	Expected  map[string]float64 `json:"expected_mean"` // by model
}

// TrackRow is one week of the tracking check.
type TrackRow struct {
	Week               int                `json:"week"`
	End                string             `json:"end"` // first day after the week
	Holdout            bool               `json:"holdout"`
	Actual             int                `json:"actual"`
	CumulativeActual   int                `json:"cumulative_actual"`
	Expected           map[string]float64 `json:"expected"` // by model
	CumulativeExpected map[string]float64 `json:"cumulative_expected"`
}

// HoldoutError is one model's holdout error over the calibration
// customers: totals, the relative error of the total, and per customer
// the root mean square and mean absolute error and the correlation of
// prediction with outcome.
type HoldoutError struct {
	Model        string  `json:"model"`
	Customers    int     `json:"customers"`
	Actual       int     `json:"actual"`
	Expected     float64 `json:"expected"`
	PercentError float64 `json:"percent_error"` // 100·(expected − actual)/actual
	RMSE         float64 `json:"rmse"`
	MAE          float64 `json:"mae"`
	Correlation  Num     `json:"correlation"`
}

// diagnosticsCensor pools calibration frequencies of 7 and more, as the
// published CDNOW figure does.
const diagnosticsCensor = 7

// matrixColumns is the number of recency columns of the matrix.
const matrixColumns = 10

// diagnose computes the checks. cands are the fitted models (degenerate
// ones are left out), chosen the one making predictions (nil: heuristic),
// custs the calibration customers in the order of c's summaries, origin
// the first of their first purchase days.
func diagnose(c calibration, cands []candidate, chosen clv.PurchaseModel, chosenName string, custs []*customer, origin, calEnd, asOf int32, horizonWeeks float64) *Diagnostics {
	d := &Diagnostics{Censor: diagnosticsCensor}
	if chosen != nil && len(c.x) > 0 {
		maxT, maxX := 0.0, 0.0
		xs := make([]float64, 0, len(c.x))
		for i := range c.x {
			maxT = max(maxT, c.T[i])
			xs = append(xs, c.x[i])
		}
		maxX = quantile(xs, 0.99)
		am := clv.FrequencyRecencyMatrix(chosen, int(min(max(maxX, 1), 40)), maxT, matrixColumns, horizonWeeks)
		roundMatrix(&am)
		d.Matrix, d.MatrixModel = &am, chosenName
	}
	if c.weeks <= 0 || len(c.x) == 0 {
		return d
	}
	var sound []candidate
	for _, cd := range cands {
		if !cd.degenerate {
			sound = append(sound, cd)
		}
	}
	hold := make([]float64, len(c.holdout))
	for i, h := range c.holdout {
		hold[i] = float64(h)
	}
	// each model's holdout expectation per customer, for the classes and the error
	preds := make([][]float64, len(sound))
	for k, cd := range sound {
		preds[k] = make([]float64, len(c.x))
		for i := range c.x {
			preds[k][i] = cd.m.ConditionalExpected(c.weeks, c.x[i], c.tx[i], c.T[i])
		}
	}
	// by frequency
	for k, cd := range sound {
		bins := clv.ConditionalByFrequency(c.x, hold, preds[k], diagnosticsCensor)
		if k == 0 {
			for _, b := range bins {
				d.ByFrequency = append(d.ByFrequency, FrequencyRow{X: b.X, Customers: b.Customers, Actual: round6(b.Actual), Expected: map[string]float64{}})
			}
		}
		for j, b := range bins {
			d.ByFrequency[j].Expected[cd.name] = round6(b.Expected)
		}
	}
	// tracking
	births := make([]float64, len(custs))
	var repeats []float64
	for i, cu := range custs {
		births[i] = float64(cu.days[0]-origin) / week
		for _, day := range cu.days[1:] {
			repeats = append(repeats, float64(day-origin)/week)
		}
	}
	weeks := int(asOf-origin+1) / week // complete weeks only: a partial last week would compare a part of the actual with a whole week expected
	d.TrackingOrigin = dayTime(origin).Format("2006-01-02")
	d.CalibrationWeeks = round6(float64(calEnd-origin+1) / week)
	for k, cd := range sound {
		um, ok := cd.m.(clv.UnconditionalModel)
		if !ok {
			continue
		}
		pts := clv.Tracking(um, births, repeats, weeks, 1)
		if k == 0 || d.Tracking == nil {
			d.Tracking = make([]TrackRow, len(pts))
			for j, p := range pts {
				end := origin + int32(7*(j+1))
				d.Tracking[j] = TrackRow{Week: p.Period, End: dayTime(end).Format("2006-01-02"), Holdout: end-1 > calEnd,
					Actual: p.Actual, CumulativeActual: p.CumulativeActual, Expected: map[string]float64{}, CumulativeExpected: map[string]float64{}}
			}
		}
		for j, p := range pts {
			d.Tracking[j].Expected[cd.name] = round6(p.Expected)
			d.Tracking[j].CumulativeExpected[cd.name] = round6(p.CumulativeExpected)
		}
	}
	// holdout error
	for k, cd := range sound {
		e := HoldoutError{Model: cd.name, Customers: len(c.x)}
		var sq, ab float64
		for i := range c.x {
			p := preds[k][i]
			e.Actual += c.holdout[i]
			e.Expected += p
			sq += (p - hold[i]) * (p - hold[i])
			ab += math.Abs(p - hold[i])
		}
		n := float64(len(c.x))
		e.RMSE, e.MAE = round6(math.Sqrt(sq/n)), round6(ab/n)
		if e.Actual > 0 {
			e.PercentError = round2(100 * (e.Expected - float64(e.Actual)) / float64(e.Actual))
		}
		e.Expected = round2(e.Expected)
		e.Correlation = Num(round6(pearson(preds[k], hold)))
		d.HoldoutError = append(d.HoldoutError, e)
	}
	return d
}

func roundMatrix(am *clv.AliveMatrix) {
	for i := range am.PAlive {
		for j := range am.PAlive[i] {
			am.PAlive[i][j] = round6(am.PAlive[i][j])
			am.Expected[i][j] = round6(am.Expected[i][j])
		}
	}
	for j := range am.Tx {
		am.Tx[j] = round6(am.Tx[j])
	}
	am.T = round6(am.T)
	am.Horizon = round6(am.Horizon)
}

// quantile returns the q-quantile of v (nearest rank); v is sorted.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[min(int(q*float64(len(v))), len(v)-1)]
}
