package web

import (
	"fmt"
	"net/http"

	"github.com/segconn/connector/core/segment"
)

// glossary defines the KPIs and predictions the pages show, with the
// last run's KPI window, the predictive horizon and discount rate of the
// first predictive definition (or the defaults) and the currency.
func (s *Server) glossary() []segment.GlossaryEntry {
	window := 90
	if res := s.app.Pipeline.LastResult(); res != nil && len(res.KPIs) > 0 {
		window = res.KPIs[0].WindowDays
	}
	pp := segment.DefaultPredictiveParams()
	for _, d := range s.app.Engine.Definitions() {
		if d.Predictive != nil {
			pp = *d.Predictive
			break
		}
	}
	h, cur := fmt.Sprintf("%d days", pp.HorizonDays), s.currency()
	out := segment.Glossary(window, pp.HorizonDays, pp.DiscountRate, cur)
	return append(out,
		segment.GlossaryEntry{Key: "p_alive", Label: "P(alive)", Definition: "probability, from the fitted purchase model, that the customer still buys (has not silently left)"},
		segment.GlossaryEntry{Key: "expected_purchases", Label: "Expected purchases (" + h + ")", Definition: "purchases the model expects from the customer in the next " + h},
		segment.GlossaryEntry{Key: "clv", Label: fmt.Sprintf("Predicted CLV (%s, %s)", h, cur), Definition: fmt.Sprintf("expected discounted value of the customer's purchases over the next %s (annual discount %g%%)", h, 100*pp.DiscountRate)},
		segment.GlossaryEntry{Key: "interval_90", Label: "90% interval", Definition: "the range that holds the prediction in 90% of parameter sets drawn from the fit's uncertainty (parametric bootstrap): how sure the model is, not the range of the customer's own behaviour"},
		segment.GlossaryEntry{Key: "expected_next_order_days", Label: "Next order expected in (days)", Definition: "days until the model's expected purchases reach one; none when the customer is not expected to buy within two years"},
		segment.GlossaryEntry{Key: "avg_days_between_orders", Label: "Avg days between orders", Definition: "mean gap between the customer's purchase days; none below two"},
		segment.GlossaryEntry{Key: "log_likelihood", Label: "Log-likelihood", Definition: "how probable the fitted model finds the calibration data; higher fits better (compare on the same customers only)"},
		segment.GlossaryEntry{Key: "bic", Label: "BIC", Definition: "4·ln(customers) − 2·log-likelihood; lower is better among models fitted on the same customers"},
		segment.GlossaryEntry{Key: "holdout_rmse", Label: "Holdout RMSE", Definition: "root mean square error per customer of the predicted against the actual repeat purchases in the holdout weeks"},
		segment.GlossaryEntry{Key: "degenerate", Label: "Degenerate fit", Definition: "a fit whose estimates ran to a limit where the model says nobody churns or contradicts recency; its predictions are not used"},
	)
}

// glossaryMap is the glossary by key, for the pages' tooltips.
func (s *Server) glossaryMap() map[string]string {
	out := map[string]string{}
	for _, e := range s.glossary() {
		out[e.Key] = e.Label + ": " + e.Definition
	}
	return out
}

func (s *Server) apiGlossary(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.glossary())
}
