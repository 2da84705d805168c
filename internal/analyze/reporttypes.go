package analyze

import (
	"github.com/segconn/connector/core/clv"
	"github.com/segconn/connector/core/segment"
)

// Report is everything but the profiles, which are streamed.
type Report struct {
	Customers      int            `json:"customers"`
	AsOf           string         `json:"as_of"`
	CalibrationEnd string         `json:"calibration_end"`
	HorizonDays    float64        `json:"horizon_days"`
	Input          InputStats     `json:"input"`
	Columns        map[string]int `json:"columns"`
	Models         Models         `json:"models"`
	Segments       []Segment      `json:"segments"`
	Warnings       []string       `json:"warnings"`
	// Glossary labels and defines the segment KPIs, windows and horizon
	// stated.
	Glossary []segment.GlossaryEntry `json:"glossary"`
}

// Models reports the fitted models (null when not fitted).
type Models struct {
	// Method is what produced p_alive, expected_purchases and clv:
	// "bgnbd", "mbgnbd", "pareto_nbd" or "heuristic"
	// (see the package doc); Choice says why.
	Method     string       `json:"method"`
	Choice     string       `json:"choice"`
	SpendModel string       `json:"spend_model"` // "gamma_gamma" or "average_purchase_value"
	TimeUnit   string       `json:"time_unit"`   // always "weeks"
	FittedOn   int          `json:"fitted_on"`   // customers in the calibration summaries
	BGNBD      *BGNBD       `json:"bgnbd"`
	ParetoNBD  *ParetoNBD   `json:"pareto_nbd"`
	MBGNBD     *MBGNBD      `json:"mbgnbd"`
	Comparison []ModelScore `json:"comparison"`
	GammaGamma *GammaGamma  `json:"gamma_gamma"`
	Validation *Validation  `json:"validation,omitempty"`
	// Diagnostics are the checks behind the choice (see Diagnostics).
	Diagnostics *Diagnostics `json:"diagnostics,omitempty"`
}

// BGNBD is a fitted BG/NBD model as reported.
type BGNBD struct {
	R             float64        `json:"r"`
	Alpha         float64        `json:"alpha"`
	A             float64        `json:"a"`
	B             float64        `json:"b"`
	N             int            `json:"n"`
	LogLikelihood float64        `json:"log_likelihood"`
	StdErr        map[string]Num `json:"std_err"`
	Converged     bool           `json:"converged"`
	// Diagnostics lists what is wrong with the fit (clv.Diagnostic).
	Diagnostics []clv.Diagnostic `json:"diagnostics"`
}

// ParetoNBD is a fitted Pareto/NBD model as reported.
type ParetoNBD struct {
	R             float64        `json:"r"`
	Alpha         float64        `json:"alpha"`
	S             float64        `json:"s"`
	Beta          float64        `json:"beta"`
	N             int            `json:"n"` // customers fitted: at most ParetoSample
	LogLikelihood float64        `json:"log_likelihood"`
	StdErr        map[string]Num `json:"std_err"`
	Converged     bool           `json:"converged"`
	// Diagnostics lists what is wrong with the fit (clv.Diagnostic).
	Diagnostics []clv.Diagnostic `json:"diagnostics"`
}

// GammaGamma is a fitted Gamma-Gamma model as reported.
type GammaGamma struct {
	P             float64        `json:"p"`
	Q             float64        `json:"q"`
	Gamma         float64        `json:"gamma"`
	LogLikelihood float64        `json:"log_likelihood"`
	N             int            `json:"n"`
	StdErr        map[string]Num `json:"std_err"`
	Converged     bool           `json:"converged"`
}

// Validation compares the models' holdout predictions with what happened
// between the calibration end and the as-of day.
type Validation struct {
	HoldoutWeeks      float64  `json:"holdout_weeks"`
	Customers         int      `json:"customers"`
	ActualPurchases   int      `json:"actual_purchases"` // repeat purchase-days in the holdout
	BGNBDExpected     *float64 `json:"bgnbd_expected"`
	ParetoNBDExpected *float64 `json:"pareto_nbd_expected"`
}

// Segment is one segment with its KPIs: those of core/segment (size,
// share, revenue, aov, purchase_frequency, avg_realised_clv, retention,
// churn and conversion rates over a 90-day window, …; money in major
// units) plus avg_p_alive, expected_purchases, avg_clv and predicted_value
// from this run's purchase and spend models.
type Segment struct {
	Name string         `json:"name"`
	Kind string         `json:"kind"`
	Size int            `json:"size"`
	KPIs map[string]any `json:"kpis"`
}

// Profile is one customer's line of the report.
type Profile struct {
	CustomerID        string   `json:"customer_id"`
	RecencyDays       *int32   `json:"recency_days"` // null without purchases
	Frequency         int      `json:"frequency"`    // distinct orders
	Monetary          float64  `json:"monetary"`
	AOV               float64  `json:"aov"`
	FirstOrder        string   `json:"first_order,omitempty"`
	LastOrder         string   `json:"last_order,omitempty"`
	RScore            int      `json:"r_score"`
	FScore            int      `json:"f_score"`
	MScore            int      `json:"m_score"`
	RFMSegment        string   `json:"rfm_segment"`
	Segments          []string `json:"segments"`
	PAlive            float64  `json:"p_alive"`
	ExpectedPurchases float64  `json:"expected_purchases"`
	ExpectedSpend     float64  `json:"expected_spend"` // per purchase
	CLV               float64  `json:"clv"`
	// Intervals are 90% bootstrap intervals of p_alive, expected_purchases
	// and clv (see core/clv's Uncertainty), absent under the heuristic or
	// when the fit has no covariance.
	Intervals *clv.CustomerIntervals `json:"intervals_90,omitempty"`
}
