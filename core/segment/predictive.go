package segment

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"

	"github.com/segconn/connector/core/clv"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// PurchaseModel is a fitted purchase model (BG/NBD, MBG/NBD or Pareto/NBD), times in weeks.
type PurchaseModel = clv.PurchaseModel

// SpendModel predicts the value of a customer's future purchases.
type SpendModel interface {
	ConditionalSpend(x, m float64) float64
}

// ModelInfo is what a fit reports, for KPIs, explain and the CLI.
type ModelInfo struct {
	Name          string             `json:"name"`
	Params        map[string]float64 `json:"params"`
	StdErr        map[string]float64 `json:"std_err,omitempty"` // absent where not computable
	LogLikelihood float64            `json:"log_likelihood"`
	N             int                `json:"n"`
	Converged     bool               `json:"converged"`
	// Diagnostics lists what is wrong with the fit (clv.Diagnostic); a
	// severe one makes the run fall back to another model or the
	// heuristic.
	Diagnostics []clv.Diagnostic `json:"diagnostics,omitempty"`
}

// degenerate reports whether a diagnostic of the fit is severe.
func (m ModelInfo) degenerate() bool {
	for _, d := range m.Diagnostics {
		if d.Severe {
			return true
		}
	}
	return false
}

// Models fits the predictive kind's models. The default uses core/clv;
// tests and embedders may substitute their own.
type Models interface {
	FitPurchase(model string, x, tx, T []float64) (PurchaseModel, ModelInfo, error)
	FitSpend(x, m []float64) (SpendModel, ModelInfo, error)
}

type builtinModels struct{}

// finiteOnly drops NaN and infinite entries (standard errors of a singular
// Hessian), which JSON cannot carry.
func finiteOnly(m map[string]float64) map[string]float64 {
	for k, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			delete(m, k)
		}
	}
	return m
}

func (builtinModels) FitPurchase(model string, x, tx, T []float64) (PurchaseModel, ModelInfo, error) {
	if model == "pareto_nbd" {
		f, err := clv.FitParetoNBD(x, tx, T)
		if err != nil {
			return nil, ModelInfo{}, err
		}
		p, s := f.Params, f.StdErr
		return f, ModelInfo{Name: "pareto_nbd", LogLikelihood: f.LogLikelihood, N: f.N, Converged: f.Converged, Diagnostics: f.Diagnostics,
			Params: map[string]float64{"r": p.R, "alpha": p.Alpha, "s": p.S, "beta": p.Beta},
			StdErr: finiteOnly(map[string]float64{"r": s.R, "alpha": s.Alpha, "s": s.S, "beta": s.Beta})}, nil
	}
	if model == "mbgnbd" {
		f, err := clv.FitMBGNBD(x, tx, T, clv.FitOptions{})
		if err != nil {
			return nil, ModelInfo{}, err
		}
		p, s := f.Params, f.StdErr
		return f, ModelInfo{Name: "mbgnbd", LogLikelihood: f.LogLikelihood, N: f.N, Converged: f.Converged, Diagnostics: f.Diagnostics,
			Params: map[string]float64{"r": p.R, "alpha": p.Alpha, "a": p.A, "b": p.B},
			StdErr: finiteOnly(map[string]float64{"r": s.R, "alpha": s.Alpha, "a": s.A, "b": s.B})}, nil
	}
	f, err := clv.FitBGNBD(x, tx, T)
	if err != nil {
		return nil, ModelInfo{}, err
	}
	p, s := f.Params, f.StdErr
	return f, ModelInfo{Name: "bgnbd", LogLikelihood: f.LogLikelihood, N: f.N, Converged: f.Converged, Diagnostics: f.Diagnostics,
		Params: map[string]float64{"r": p.R, "alpha": p.Alpha, "a": p.A, "b": p.B},
		StdErr: finiteOnly(map[string]float64{"r": s.R, "alpha": s.Alpha, "a": s.A, "b": s.B})}, nil
}

func (builtinModels) FitSpend(x, m []float64) (SpendModel, ModelInfo, error) {
	f, err := clv.FitGammaGamma(x, m)
	if err != nil {
		return nil, ModelInfo{}, err
	}
	p, s := f.Params, f.StdErr
	return f, ModelInfo{Name: "gamma_gamma", LogLikelihood: f.LogLikelihood, N: f.N, Converged: f.Converged, Diagnostics: f.Diagnostics,
		Params: map[string]float64{"p": p.P, "q": p.Q, "gamma": p.Gamma},
		StdErr: finiteOnly(map[string]float64{"p": s.P, "q": s.Q, "gamma": s.Gamma})}, nil
}

// predictions are one predictive fit and its per-customer numbers.
//
// CLV over the horizon H (weeks) with annual discount rate d assumes the
// expected purchases E[X(H)] fall evenly over H: CLV = E[X(H)] × spend ×
// (1 − (1+d)^(−h)) / (h·ln(1+d)) with h = H in years (the mean discount
// factor over the horizon). This needs one model evaluation per customer
// instead of one per period, which keeps a million customers in seconds.
//
// The heuristic, used below PredictiveParams.MinCustomers repeat buyers or
// when a fit fails: a customer's weekly purchase rate is x/T (repeat
// purchase-days over weeks since the first purchase; the population's mean
// rate for one-time buyers), P(alive) = exp(−(T − tx)/(2·g)) with g the
// customer's mean gap in weeks (1/rate), expected purchases = P(alive) ×
// rate × H, and spend = the customer's mean order value.
type predictions struct {
	p                 PredictiveParams
	purchase          PurchaseModel
	spend             SpendModel
	purchaseInfo      ModelInfo
	spendInfo         ModelInfo
	heuristic         bool
	reason            string
	popRate, popSpend float64
	horizonW          float64
	discount          float64
	scale             float64 // minor units per major unit
	fittedAt          int32   // as-of day the models were fitted
	pAlive, expected  []float32
	expSpend, clv     []float32
}

// sampled reports whether a customer id falls in a deterministic sample
// holding about share of all ids (FNV-1a of the id).
func sampled(id string, share float64) bool {
	if share >= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(id))
	return float64(h.Sum64()>>11)/(1<<53) < share
}

func fitPredictions(ctx context.Context, fc *fitContext, p PredictiveParams) (*predictions, error) {
	pr := &predictions{p: p, horizonW: float64(p.HorizonDays) / 7, scale: 1}
	pr.scale = math.Pow10(domain.CurrencyExponent(fc.ds.Currency))
	h := float64(p.HorizonDays) / 365.25
	if p.DiscountRate > 0 {
		pr.discount = (1 - math.Pow(1+p.DiscountRate, -h)) / (h * math.Log1p(p.DiscountRate))
	} else {
		pr.discount = 1
	}
	var buyers, repeaters int
	var rateSum, spendSum float64
	for i := range fc.feats {
		f := &fc.feats[i]
		if f.Orders == 0 {
			continue
		}
		buyers++
		x, _, T := f.ModelInputs()
		if x > 0 && T > 0 {
			repeaters++
			rateSum += x / T
		}
		spendSum += f.AOV() / pr.scale
	}
	if repeaters > 0 {
		pr.popRate = rateSum / float64(buyers)
	}
	if buyers > 0 {
		pr.popSpend = spendSum / float64(buyers)
	}
	if old := fc.reusable(p); old != nil {
		pr.purchase, pr.spend, pr.purchaseInfo, pr.spendInfo = old.purchase, old.spend, old.purchaseInfo, old.spendInfo
		pr.heuristic, pr.reason, pr.fittedAt = old.heuristic, old.reason, old.fittedAt
		pr.popRate, pr.popSpend = old.popRate, old.popSpend
		pr.fillCustomers(fc)
		return pr, ctx.Err()
	}
	pr.fittedAt = fc.asOfDay
	share := 1.0
	if p.FitSample > 0 && buyers > p.FitSample {
		share = float64(p.FitSample) / float64(buyers)
	}
	if repeaters < p.MinCustomers {
		pr.heuristic = true
		pr.reason = fmt.Sprintf("%d repeat buyers, fewer than min_customers %d: heuristic used instead of %s", repeaters, p.MinCustomers, p.Model)
	} else {
		var xs, txs, Ts, ms []float64
		for i := range fc.feats {
			f := &fc.feats[i]
			if f.Orders == 0 || f.TenureDays <= 0 || !sampled(fc.ds.Customers[i].ID, share) {
				continue
			}
			x, tx, T := f.ModelInputs()
			xs, txs, Ts = append(xs, x), append(txs, tx), append(Ts, T)
			m := 0.0
			if x > 0 {
				m = f.RepeatSpend / pr.scale
			}
			ms = append(ms, m)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pm, info, err := fitSound(fc, p.Model, xs, txs, Ts)
		if err != nil {
			if !errors.Is(err, clv.ErrInsufficientData) {
				fc.warn("model", fc.def.Name, "fitting %s: %v; heuristic used", p.Model, err)
			}
			pr.heuristic = true
			pr.reason = fmt.Sprintf("fitting %s: %v; heuristic used", p.Model, err)
		} else {
			pr.purchase, pr.purchaseInfo = pm, info
			// Gamma-Gamma on repeat buyers with positive mean spend
			gx, gm := xs[:0:0], ms[:0:0]
			for j := range xs {
				if xs[j] > 0 && ms[j] > 0 {
					gx, gm = append(gx, xs[j]), append(gm, ms[j])
				}
			}
			sm, sinfo, err := fc.opts.Models.FitSpend(gx, gm)
			if err != nil {
				pr.reason = fmt.Sprintf("fitting gamma_gamma: %v; spend = the customer's mean order value", err)
			} else if sinfo.Params["q"] <= 1 {
				pr.reason = fmt.Sprintf("gamma_gamma q = %.3f ≤ 1 (infinite mean spend); spend = the customer's mean order value", sinfo.Params["q"])
				pr.spendInfo = sinfo
			} else {
				pr.spend, pr.spendInfo = sm, sinfo
			}
			if info.N < 10*p.MinCustomers {
				se := "standard errors " + sortedParams(info.StdErr)
				if len(info.StdErr) == 0 {
					se = "standard errors not computable: the likelihood is flat"
				}
				fc.warn("model", fc.def.Name, "%s fitted on only %d customers: estimates are uncertain (%s)", info.Name, info.N, se)
			}
		}
	}
	pr.fillCustomers(fc)
	return pr, ctx.Err()
}

// fitSound fits the configured purchase model; when that fit is
// degenerate (a severe clv.Diagnostic: nobody churns, or lapsed customers
// all alive) it tries the other BG-family model (MBG/NBD for BG/NBD and
// Pareto/NBD, BG/NBD for MBG/NBD) and uses it when sound. When both are
// degenerate it returns an error, so the caller uses the heuristic. Every
// fallback is a warning naming the diagnostics.
//
// Model "auto" fits BG/NBD and MBG/NBD and keeps the sound one with the
// higher log-likelihood (both have four parameters, so this is also the
// lower BIC).
func fitSound(fc *fitContext, model string, x, tx, T []float64) (PurchaseModel, ModelInfo, error) {
	if model == "auto" {
		bm, binfo, berr := fc.opts.Models.FitPurchase("bgnbd", x, tx, T)
		mm, minfo, merr := fc.opts.Models.FitPurchase("mbgnbd", x, tx, T)
		bOK, mOK := berr == nil && !binfo.degenerate(), merr == nil && !minfo.degenerate()
		switch {
		case mOK && (!bOK || minfo.LogLikelihood > binfo.LogLikelihood):
			return mm, minfo, nil
		case bOK:
			return bm, binfo, nil
		case berr != nil:
			return nil, binfo, berr
		default:
			why := "bgnbd: " + diagText(binfo)
			if merr == nil {
				why += "; mbgnbd: " + diagText(minfo)
			}
			return nil, binfo, fmt.Errorf("every fit is degenerate (%s)", why)
		}
	}
	pm, info, err := fc.opts.Models.FitPurchase(model, x, tx, T)
	if err != nil || !info.degenerate() {
		return pm, info, err
	}
	why := diagText(info)
	alt := "mbgnbd"
	if model == "mbgnbd" {
		alt = "bgnbd"
	}
	pm2, info2, err2 := fc.opts.Models.FitPurchase(alt, x, tx, T)
	if err2 == nil && !info2.degenerate() {
		fc.warn("model", fc.def.Name, "%s fit is degenerate (%s): %s used instead", model, why, alt)
		return pm2, info2, nil
	}
	if err2 == nil {
		why += "; " + alt + ": " + diagText(info2)
	}
	return nil, info, fmt.Errorf("every fit is degenerate (%s: %s)", model, why)
}

func diagText(info ModelInfo) string {
	var out string
	for _, d := range info.Diagnostics {
		if d.Severe {
			if out != "" {
				out += "; "
			}
			out += d.Message
		}
	}
	return out
}

// fillCustomers computes every customer's numbers with the fitted models.
func (pr *predictions) fillCustomers(fc *fitContext) {
	n := len(fc.feats)
	pr.pAlive, pr.expected, pr.expSpend, pr.clv = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	parallel(n, fc.opts.Workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			a, e, s, c := pr.compute(&fc.feats[i])
			a, e, s, c = finite(a), finite(e), finite(s), finite(c)
			pr.pAlive[i], pr.expected[i], pr.expSpend[i], pr.clv[i] = float32(a), float32(e), float32(s), float32(c)
		}
	})
}

// reusable returns the previous run's predictions for the same definition
// and parameters when RunReusing was given a run whose models are at most
// Options.ModelMaxAge old at this as-of.
func (fc *fitContext) reusable(p PredictiveParams) *predictions {
	if fc.prev == nil {
		return nil
	}
	for j, d := range fc.prev.defs {
		if d.Name != fc.def.Name {
			continue
		}
		var old *predictions
		switch f := fc.prev.fitted[j].(type) {
		case *predictiveFitted:
			old = f.pred
		case *valueFitted:
			old = f.pred
		}
		if old == nil || old.p != p || fc.prev.Dataset.Currency != fc.ds.Currency {
			return nil
		}
		age := fc.asOfDay - old.fittedAt
		if age < 0 || float64(age)*24 > fc.opts.ModelMaxAge.Hours() {
			return nil
		}
		return old
	}
	return nil
}

// at returns P(alive), expected purchases over the horizon, expected spend
// per purchase (major units) and CLV (minor units) for customer i, or for
// a customer outside the run when i < 0.
func (pr *predictions) at(i int, f *Features) (pAlive, expected, spend, clvMinor float64) {
	if i >= 0 && i < len(pr.clv) {
		return float64(pr.pAlive[i]), float64(pr.expected[i]), float64(pr.expSpend[i]), float64(pr.clv[i])
	}
	// round like the stored values, so a rescore agrees with the full run
	a, e, s, c := pr.compute(f)
	a, e, s, c = finite(a), finite(e), finite(s), finite(c)
	return float64(float32(a)), float64(float32(e)), float64(float32(s)), float64(float32(c))
}

// finite maps NaN and infinities (degenerate fits on absurd data) to 0.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

func (pr *predictions) compute(f *Features) (pAlive, expected, spend, clvMinor float64) {
	if f.Orders == 0 {
		return 0, 0, 0, 0
	}
	x, tx, T := f.ModelInputs()
	T = max(T, 1.0/7)
	aov := f.AOV() / pr.scale
	if pr.heuristic || pr.purchase == nil {
		rate := pr.popRate
		if x > 0 {
			rate = x / T
		}
		pAlive = 1
		if rate > 0 {
			pAlive = math.Exp(-(T - tx) * rate / 2)
		}
		expected = pAlive * rate * pr.horizonW
	} else {
		pAlive = pr.purchase.PAlive(x, tx, T)
		expected = pr.purchase.ConditionalExpected(pr.horizonW, x, tx, T)
	}
	spend = aov
	if pr.spend != nil {
		m := 0.0
		if x > 0 {
			m = f.RepeatSpend / pr.scale
		}
		spend = pr.spend.ConditionalSpend(x, m)
	}
	clvMinor = expected * spend * pr.discount * pr.scale
	if math.IsNaN(clvMinor) || math.IsInf(clvMinor, 0) {
		clvMinor = 0
	}
	return
}

// ---- predictive kind ----

type predictiveKind struct{ p PredictiveParams }

type predictiveFitted struct {
	p      PredictiveParams
	pred   *predictions
	clvCut float64 // CLV at or above this is high-value
}

func (k *predictiveKind) fit(ctx context.Context, fc *fitContext) (fitted, error) {
	pr, err := fitPredictions(ctx, fc, k.p)
	if err != nil {
		return nil, err
	}
	if pr.heuristic {
		fc.warn("model", fc.def.Name, "%s", pr.reason)
	}
	f := &predictiveFitted{p: k.p, pred: pr}
	vals := make([]float64, 0, len(fc.feats))
	for i := range fc.feats {
		if fc.feats[i].Orders > 0 {
			vals = append(vals, float64(pr.clv[i]))
		}
	}
	f.clvCut = percentile(vals, 100-k.p.TopCLVPercent)
	return f, nil
}

func (f *predictiveFitted) groups() []groupInfo {
	return []groupInfo{
		{slug: "at-risk", display: "at-risk", description: fmt.Sprintf("buyers with P(alive) below %s", fmtNum(f.p.AtRiskBelow))},
		{slug: "high-value", display: "high-value", description: fmt.Sprintf("top %s%% of buyers by %d-day CLV", fmtNum(f.p.TopCLVPercent), f.p.HorizonDays)},
	}
}

func (f *predictiveFitted) exclusive() bool { return false }

func (f *predictiveFitted) assign(i int, _ *Customer, ft *Features, _ *scratch) uint32 {
	if ft.Orders == 0 {
		return 0
	}
	a, _, _, c := f.pred.at(i, ft)
	var m uint32
	if a < f.p.AtRiskBelow {
		m |= 1
	}
	if c >= f.clvCut && c > 0 {
		m |= 2
	}
	return m
}

func (f *predictiveFitted) explain(i int, _ *Customer, ft *Features, _ *scratch, _ uint32) []string {
	if ft.Orders == 0 {
		return []string{"no purchases, so no purchase model applies"}
	}
	pr := f.pred
	a, e, s, c := pr.at(i, ft)
	x, tx, T := ft.ModelInputs()
	model := "heuristic (" + pr.reason + ")"
	if !pr.heuristic {
		model = fmt.Sprintf("%s %v, log-likelihood %.3f on %d customers", pr.purchaseInfo.Name, sortedParams(pr.purchaseInfo.Params), pr.purchaseInfo.LogLikelihood, pr.purchaseInfo.N)
		if pr.spend != nil {
			model += fmt.Sprintf("; gamma_gamma %v", sortedParams(pr.spendInfo.Params))
		}
	}
	out := []string{
		"model: " + model,
		fmt.Sprintf("inputs: x=%.0f repeat purchase-days, tx=%.2f weeks, T=%.2f weeks", x, tx, T),
		fmt.Sprintf("P(alive)=%.3f (at-risk below %s); expected purchases in %d days=%.3f; expected spend per purchase=%.2f; CLV=%.2f (high-value from %.2f)",
			a, fmtNum(f.p.AtRiskBelow), f.p.HorizonDays, e, s, c/pr.scale, f.clvCut/pr.scale),
	}
	out = append(out, nextOrderLine(pr.nextOrderDays(ft), ft, !pr.heuristic && pr.purchase != nil))
	if ci, ok := pr.intervals(ft); ok {
		out = append(out, fmt.Sprintf("90%% intervals from a parametric bootstrap of the fit (parameter uncertainty): P(alive) %.3f–%.3f; expected purchases %.3f–%.3f; CLV %.2f–%.2f",
			ci.PAlive.Lo, ci.PAlive.Hi, ci.Expected.Lo, ci.Expected.Hi, ci.CLV.Lo, ci.CLV.Hi))
	}
	if !pr.heuristic && len(pr.purchaseInfo.Diagnostics) > 0 {
		d := "fit diagnostics:"
		for _, g := range pr.purchaseInfo.Diagnostics {
			d += " " + g.Code
		}
		out = append(out, d)
	}
	return out
}

// ExplainDraws is the number of bootstrap draws behind explain's intervals.
const ExplainDraws = 200

// intervals returns the customer's 90% bootstrap intervals (CLV in major
// units, discounted like the point estimate), or false under the heuristic
// or when the fit has no covariance or is not a core/clv fit.
func (pr *predictions) intervals(ft *Features) (clv.CustomerIntervals, bool) {
	if pr.heuristic || pr.purchase == nil {
		return clv.CustomerIntervals{}, false
	}
	b, ok := pr.purchase.(interface {
		Bootstrap(n int, seed uint64) ([]clv.PurchaseModel, error)
	})
	if !ok {
		return clv.CustomerIntervals{}, false
	}
	draws, err := b.Bootstrap(ExplainDraws, 1)
	if err != nil {
		return clv.CustomerIntervals{}, false
	}
	x, tx, T := ft.ModelInputs()
	T = max(T, 1.0/7)
	m := 0.0
	if x > 0 {
		m = ft.RepeatSpend / pr.scale
	}
	spend := ft.AOV() / pr.scale
	var spendDraws []clv.GammaGammaParams
	if gg, ok := pr.spend.(clv.GammaGammaFit); ok {
		spend = gg.ConditionalSpend(x, m)
		spendDraws, _ = gg.Bootstrap(ExplainDraws, 2)
	}
	ci := clv.Intervals(draws, spendDraws, 0.9, x, tx, T, m, spend, clv.Horizon{Length: pr.horizonW, Periods: 1}, pr.purchase)
	ci.CLV.Lo *= pr.discount
	ci.CLV.Hi *= pr.discount
	return ci, true
}

func sortedParams(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := "{"
	for i, k := range keys {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%s=%.4g", k, m[k])
	}
	return out + "}"
}
