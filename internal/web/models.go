package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/segconn/connector/core/clv"
	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/analyze"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// ModelsView is the Models page and GET /api/v1/models: the purchase and
// spend models behind the last run's predictions, and a check of every
// purchase model on a holdout of the same customers.
type ModelsView struct {
	// AsOf is the last full run's as-of time; absent before the first run.
	AsOf *time.Time `json:"as_of,omitempty"`
	// Message says why something is missing (no run yet, no predictive
	// definition, too little history for a holdout).
	Message string `json:"message,omitempty"`
	// Used is what made the run's predictions; absent without a
	// predictive fit.
	Used *UsedModels `json:"used,omitempty"`
	// Check refits BG/NBD, MBG/NBD and Pareto/NBD on the run's customers
	// with the last weeks held out; absent when there are no orders.
	Check *ModelCheck `json:"check,omitempty"`
}

// UsedModels are the fits the run's predictions come from.
type UsedModels struct {
	// Definition is the predictive definition fitted (the default model's
	// "" when a predicted value tier or a rule fitted it).
	Definition string `json:"definition"`
	// Configured is the model the definition asks for; Method is what
	// answered: a model name, or "heuristic".
	Configured string `json:"configured"`
	Method     string `json:"method"`
	// Fallback says what replaced the configured model and why; empty
	// when the configured model answered.
	Fallback string             `json:"fallback,omitempty"`
	FittedAt time.Time          `json:"fitted_at,omitzero"`
	Purchase *segment.ModelInfo `json:"purchase,omitempty"`
	Spend    *segment.ModelInfo `json:"spend,omitempty"`
	// Warnings are the run's model warnings: degenerate fits, the model
	// used instead, fits on few customers.
	Warnings []string `json:"warnings"`
}

// ModelCheck is the holdout check of the purchase models.
type ModelCheck struct {
	CalibrationEnd string  `json:"calibration_end,omitempty"`
	HoldoutWeeks   float64 `json:"holdout_weeks"`
	FittedOn       int     `json:"fitted_on"`
	// Fits are each purchase model's parameters and diagnostics.
	Fits []FitView `json:"fits"`
	// Comparison scores the fits (log-likelihood, BIC, holdout error);
	// Choice says which the check prefers and why.
	Comparison []analyze.ModelScore `json:"comparison"`
	Choice     string               `json:"choice"`
	Chosen     string               `json:"chosen"`
	// ByFrequency: mean holdout repeat purchases by calibration repeat
	// purchases, actual against each sound model's expectation.
	ByFrequency []analyze.FrequencyRow `json:"by_frequency"`
	// Tracking: repeat purchases per week, actual against expected, also
	// cumulated; rows with holdout true are after the calibration end.
	Tracking     []analyze.TrackRow     `json:"tracking"`
	HoldoutError []analyze.HoldoutError `json:"holdout_error"`
	Warnings     []string               `json:"warnings"`
}

// FitView is one fitted purchase model.
type FitView struct {
	Model         string             `json:"model"`
	Params        map[string]float64 `json:"params"`
	StdErr        map[string]float64 `json:"std_err,omitempty"`
	LogLikelihood float64            `json:"log_likelihood"`
	N             int                `json:"n"`
	Converged     bool               `json:"converged"`
	Degenerate    bool               `json:"degenerate"`
	Diagnostics   []clv.Diagnostic   `json:"diagnostics"`
}

// modelsCache keeps the check of the last run: refitting three models
// on every customer takes a moment, and the data only change with a run.
type modelsCache struct {
	mu   sync.Mutex
	run  *segment.Result
	view ModelsView
}

// Holdout bounds: a third of the purchase history, at most a year, and
// no holdout below twelve weeks of history. Pareto/NBD, whose likelihood
// costs some hundred times BG/NBD's, is checked on a sample of 1,000
// customers, so the check of 10,000 takes seconds, not a minute.
const (
	minCheckWeeks     = 12
	maxHoldoutWeeks   = 52
	checkParetoSample = 1000
)

func (s *Server) models(ctx context.Context) (ModelsView, error) {
	res := s.app.Pipeline.LastResult()
	if res == nil {
		return ModelsView{Message: "no full run yet: the models are fitted by the first one"}, nil
	}
	s.modelsCache.mu.Lock()
	defer s.modelsCache.mu.Unlock()
	if s.modelsCache.run == res {
		return s.modelsCache.view, nil
	}
	asOf := res.AsOf
	v := ModelsView{AsOf: &asOf}
	pp := segment.DefaultPredictiveParams()
	def := ""
	for _, d := range s.app.Engine.Definitions() {
		if d.Predictive != nil {
			pp, def = *d.Predictive, d.Name
			break
		}
	}
	if method, reason, ok := res.PurchaseMethod(); ok {
		u := &UsedModels{Definition: def, Configured: pp.Model, Method: method, FittedAt: res.ModelsFittedAt(), Warnings: []string{}}
		ms := res.Models()
		if m, ok := ms["purchase"]; ok {
			u.Purchase = &m
		}
		if m, ok := ms["spend"]; ok {
			u.Spend = &m
		}
		for _, w := range res.Warnings {
			if w.Kind == "model" {
				u.Warnings = append(u.Warnings, w.Message)
			}
		}
		switch {
		case method == "heuristic":
			u.Fallback = "heuristic: " + reason
		case method != pp.Model && pp.Model != "auto":
			u.Fallback = fmt.Sprintf("%s used instead of %s", method, pp.Model)
			for _, w := range u.Warnings {
				if strings.Contains(w, "used instead") {
					u.Fallback = w
				}
			}
		}
		v.Used = u
	} else {
		v.Message = "no segment definition predicts (kind predictive, a predicted value tier or a rule on p_alive or clv): the models below are a check only"
	}
	chk, err := checkModels(ctx, res, pp.HorizonDays)
	if err != nil {
		return v, err
	}
	v.Check = chk
	s.modelsCache.run, s.modelsCache.view = res, v
	return v, nil
}

// checkModels refits the purchase models on the run's purchases with the
// last third of the history (at most a year) held out.
func checkModels(ctx context.Context, res *segment.Result, horizonDays int) (*ModelCheck, error) {
	ds := res.Dataset
	toTenThousandths := 1e4 / math.Pow10(domain.CurrencyExponent(ds.Currency))
	var orders []analyze.Purchase
	first := int32(math.MaxInt32)
	for i := range ds.Customers {
		c := &ds.Customers[i]
		for k, o := range c.Orders {
			if o.Status != segment.StatusPurchase {
				continue
			}
			first = min(first, o.Day)
			orders = append(orders, analyze.Purchase{Customer: c.ID, Order: c.ID + "#" + strconv.Itoa(k),
				Time: time.Unix(int64(o.Day)*86400, 0).UTC(), Amount: int64(math.Round(float64(o.Amount) * toTenThousandths))})
		}
	}
	if len(orders) == 0 {
		return nil, nil
	}
	asOf := res.AsOf.UTC().Truncate(24 * time.Hour)
	spanWeeks := asOf.Sub(time.Unix(int64(first)*86400, 0)).Hours() / 24 / 7
	opts := analyze.CheckOptions{AsOf: asOf, HorizonDays: float64(horizonDays), ParetoSample: checkParetoSample}
	if spanWeeks >= minCheckWeeks {
		hold := math.Min(math.Floor(spanWeeks/3), maxHoldoutWeeks)
		opts.CalibrationEnd = asOf.AddDate(0, 0, -int(hold*7))
	}
	rep, err := analyze.Check(ctx, orders, opts)
	if err != nil {
		return nil, err
	}
	md := rep.Models
	c := &ModelCheck{CalibrationEnd: rep.CalibrationEnd, FittedOn: md.FittedOn, Comparison: md.Comparison, Choice: md.Choice, Chosen: md.Method,
		Fits: []FitView{}, ByFrequency: []analyze.FrequencyRow{}, Tracking: []analyze.TrackRow{}, HoldoutError: []analyze.HoldoutError{}, Warnings: rep.Warnings}
	if c.Comparison == nil {
		c.Comparison = []analyze.ModelScore{}
	}
	if !opts.CalibrationEnd.IsZero() {
		c.HoldoutWeeks = asOf.Sub(opts.CalibrationEnd).Hours() / 24 / 7
	}
	if b := md.BGNBD; b != nil {
		c.Fits = append(c.Fits, fitView("bgnbd", map[string]float64{"r": b.R, "alpha": b.Alpha, "a": b.A, "b": b.B}, b.StdErr, b.LogLikelihood, b.N, b.Converged, b.Diagnostics))
	}
	if b := md.MBGNBD; b != nil {
		c.Fits = append(c.Fits, fitView("mbgnbd", map[string]float64{"r": b.R, "alpha": b.Alpha, "a": b.A, "b": b.B}, b.StdErr, b.LogLikelihood, b.N, b.Converged, b.Diagnostics))
	}
	if p := md.ParetoNBD; p != nil {
		c.Fits = append(c.Fits, fitView("pareto_nbd", map[string]float64{"r": p.R, "alpha": p.Alpha, "s": p.S, "beta": p.Beta}, p.StdErr, p.LogLikelihood, p.N, p.Converged, p.Diagnostics))
	}
	if d := md.Diagnostics; d != nil {
		if d.ByFrequency != nil {
			c.ByFrequency = d.ByFrequency
		}
		if d.Tracking != nil {
			c.Tracking = d.Tracking
		}
		if d.HoldoutError != nil {
			c.HoldoutError = d.HoldoutError
		}
	}
	return c, nil
}

func fitView(name string, params map[string]float64, se map[string]analyze.Num, ll float64, n int, conv bool, diags []clv.Diagnostic) FitView {
	f := FitView{Model: name, Params: params, StdErr: map[string]float64{}, LogLikelihood: ll, N: n, Converged: conv, Diagnostics: diags}
	if f.Diagnostics == nil {
		f.Diagnostics = []clv.Diagnostic{}
	}
	for k, v := range se {
		if x := float64(v); !math.IsNaN(x) && !math.IsInf(x, 0) {
			f.StdErr[k] = x
		}
	}
	for _, d := range diags {
		f.Degenerate = f.Degenerate || d.Severe
	}
	return f
}

func (s *Server) apiModels(w http.ResponseWriter, r *http.Request) {
	v, err := s.models(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// modelsData is the Models page's: the view, and what its charts draw
// as JSON.
type modelsData struct {
	ModelsView
	Charts template.JS
	// Holdout is each compared model's holdout RMSE, for the table.
	Holdout map[string]string
}

func (s *Server) modelsPage(w http.ResponseWriter, r *http.Request) {
	v, err := s.models(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := modelsData{ModelsView: v, Charts: "{}", Holdout: map[string]string{}}
	if v.Check != nil {
		for _, m := range v.Check.Comparison {
			if m.HoldoutRMSE != nil {
				d.Holdout[m.Model] = strconv.FormatFloat(*m.HoldoutRMSE, 'f', 4, 64)
			}
		}
		js, err := json.Marshal(struct {
			ByFrequency []analyze.FrequencyRow `json:"by_frequency"`
			Tracking    []analyze.TrackRow     `json:"tracking"`
		}{v.Check.ByFrequency, v.Check.Tracking})
		if err != nil {
			s.pageError(w, r, fmt.Errorf("encoding the charts' data: %w", err))
			return
		}
		d.Charts = template.JS(js)
	}
	s.render(w, r, http.StatusOK, "models", "Models", d)
}
