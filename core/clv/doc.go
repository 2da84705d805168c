// Package clv fits the published customer-base models used to predict
// purchases and lifetime value from a customer's purchase history:
//
//   - BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way"),
//   - MBG/NBD, the modified BG/NBD (Batislam, Denizel & Filiztekin 2007),
//   - Pareto/NBD (Schmittlein, Morrison & Colombo 1987, in the form of
//     Fader & Hardie's 2005 derivation note),
//   - Gamma-Gamma spend (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader &
//     Hardie 2013 note 025),
//
// and combines them into a discounted customer lifetime value.
//
// The package is pure: no I/O, no clock, no package-level mutable state.
// Every function is a deterministic computation on its arguments, so the
// segment core and the CSV analyze mode can call it from anywhere.
//
// # Data conventions
//
// The purchase models take, per customer, the calibration summary used by
// the literature: x is the number of repeat purchases (purchase occasions
// after the first), tx the time from the first purchase to the last one (0
// when x = 0) and T the time from the first purchase to the end of the
// calibration period. Time is in whatever unit the caller picks; the
// published CDNOW numbers use weeks. tx is a recency measured from the first
// purchase, not the RFM "time since the last purchase".
//
// The spend model takes, per repeat customer, x and the mean value m of the
// repeat purchases (first purchase left out).
//
// # Fitting
//
// Parameters are estimated by maximum likelihood with gonum's optimize
// (BFGS on log-parameters so they stay positive, Nelder-Mead as a fallback
// when BFGS stops early) with analytic gradients. The Pareto/NBD dropout
// term is a Gauss hypergeometric function where its series converges fast
// and a Gauss-Legendre integral elsewhere (its gradient always comes from
// the integral form, derivatives taken under the integral sign).
// Identical summaries are compressed into weighted rows before fitting, and
// terms that depend only on x or only on a time value are computed once per
// distinct value, so fitting a million customers costs about as much as
// fitting the few hundred thousand distinct rows they collapse to.
// Gonum's mathext supplies Lgamma's companions (Digamma) and the Gauss
// hypergeometric function 2F1 (Hypergeo, after Cephes).
//
// Standard errors come from the numerical Hessian of the log-likelihood at
// the optimum (gonum diff/fd, computed on log-parameters and mapped back by
// the delta method). They describe the uncertainty of a fit; different tools
// publish different standard errors for CDNOW, so only point estimates and
// log-likelihoods are checked against the literature.
//
// # Few customers
//
// A fit still answers with few customers, reporting its uncertainty through
// StdErr. Below MinCustomers customers, or MinRepeaters customers with a
// repeat purchase, a purchase model is not identified well enough to trust,
// and FitBGNBD and FitParetoNBD return an *InsufficientDataError (matching
// ErrInsufficientData) so callers fall back to a heuristic and say so.
// FitGammaGamma needs MinSpendCustomers repeat customers.
//
// # Lifetime value
//
// CLV sums, over Periods equal steps of a horizon H, the expected number of
// purchases in each step times the expected spend per purchase, discounted
// per step:
//
//	CLV = Σ_{k=1..K} E[Z|x,m] · (E[Y(k·H/K) | x,tx,T] − E[Y((k−1)·H/K) | x,tx,T]) / (1+d)^k
//
// where E[Y(t)|…] is the purchase model's conditional expectation, E[Z|x,m]
// the Gamma-Gamma conditional mean spend and d the discount rate per step.
// With K = 12 monthly steps and d the monthly rate this is the usual
// 12-month CLV; lifetimes' customer_lifetime_value is the special case of
// 30-unit steps.
//
// # Uncertainty
//
// Per-customer intervals come from a parametric bootstrap. A fit's
// estimate is asymptotically normal; on log-parameters (where the
// optimiser works and the likelihood is closer to quadratic) its
// covariance is the inverse Hessian of −LL at the optimum, the one behind
// StdErr. Bootstrap draws parameter vectors exp(θ̂ + L·z) from that normal
// (L·Lᵀ the covariance, z standard normal) with a generator seeded by the
// caller, so the draws are deterministic. Intervals evaluates a customer's
// P(alive), expected purchases and CLV under every draw and takes central
// quantiles. The intervals reflect how well the data pin the parameters
// down, not the randomness of the customer's own future purchases: the
// interval for expected purchases is meant to cover the customer's
// conditional expectation under the true parameters (on simulated
// BG/NBD data, 90% intervals do so for 89.8% of customers). A fit
// with a singular Hessian has no covariance and gives ErrNoCovariance.
//
// # Diagnostics and model choice
//
// Every purchase fit carries Diagnostics: non-convergence, a singular
// Hessian, parameters at a bound, and two severe ones, a vanished dropout
// process (BG/NBD or MBG/NBD a → 0 or b → ∞, Pareto/NBD s → 0: "nobody
// ever churns") and predictions contradicting recency (most customers
// silent for over three of their own purchase gaps still get
// P(alive) > 0.9). MBG/NBD (Batislam, Denizel & Filiztekin 2007) lets a
// customer drop out right after the first purchase, so one-time buyers
// are not all alive as under BG/NBD. FitOptions.L2 adds the penalty
// lifetimes calls penalizer_coef. Choosing between models is the
// caller's: compare LogLikelihood (BIC with four parameters each) on the
// calibration data and the holdout error, and skip degenerate fits.
//
// The checks of a fit against a holdout return data for the caller to
// show: ConditionalByFrequency (mean holdout purchases against the mean
// conditional expectation by calibration frequency), Tracking (actual
// against expected repeat purchases per period, and cumulated) and
// FrequencyRecencyMatrix (P(alive) and expected purchases over a grid of
// frequency and recency).
//
// # Next purchase
//
// TimeToNextPurchase is the time until a customer's conditional expected
// purchases reach one, or none within a bound: the "expected date of the
// next order", which accounts for the chance that the customer has
// churned.
package clv
