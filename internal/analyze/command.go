package analyze

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

const longHelp = `Segment an orders export with no platform at all.

Reads an orders file (CSV or whitespace-separated text; gzip is detected and
read directly), groups its lines into orders and customers, fits the
BG/NBD, MBG/NBD and Pareto/NBD purchase models and the Gamma-Gamma spend model, and
reports per customer: recency, frequency, monetary value, RFM scores and
group, segments, P(alive), expected purchases and CLV over the horizon.
Memory grows with the number of customers, not lines; profiles are written
as they are produced.

INPUT FORMATS (--preset; default auto)
  auto           recognise Online Retail and CDNOW master files by their
                 header, else generic.
  generic        comma-separated with a header; columns found by name.
  online-retail  UCI Online Retail: InvoiceNo, Quantity, UnitPrice,
                 InvoiceDate, CustomerID; "C" invoices are cancellations.
  cdnow          CDNOW_master.txt: whitespace, header "customer_id date
                 number_of_cds dollar_value", dates YYYYMMDD.
  cdnow-sample   CDNOW_sample.txt: whitespace, no header; columns master id,
                 sample id, date, CDs, dollars.
  Flags below override the preset.

COLUMN MAPPING
  Each --*-col takes a header name (case, spaces, "_", "-" and "." ignored)
  or a 1-based position (3 or #3; required with --no-header). Left empty,
  the first header matching these names is used:
    customer    customer_id, customer, customer_no, client_id, user_id,
                contact_id, email, customer_email, billing_email, masterid
    order       order_id, invoice_no, invoice, order_number, order_no,
                transaction_id, receipt_id   (optional)
    date        order_date, invoice_date, date, created_at, date_created,
                timestamp, purchase_date, transaction_date, time
    amount      amount, total, order_total, revenue, sales, dollar_value,
                value, grand_total, total_price
    quantity    quantity, qty, number_of_cds, cds, items, units
    unit price  unit_price, price, item_price
  A line's value is the amount column, or quantity × unit price when there
  is no amount column. Amounts are decimal ("1234.56", "1,234.56", "$12");
  they are summed exactly.

DATE FORMATS (--date-format)
  auto (default) tries: RFC 3339, 2006-01-02 15:04:05, 2006-01-02T15:04:05,
  2006-01-02 15:04, 2006-01-02, 20060102, 2006/01/02, 1/2/2006 15:04:05,
  1/2/2006 15:04, 1/2/2006 (month first), with or without a zone.
  Aliases: iso (2006-01-02), yyyymmdd (20060102), us (1/2/2006 15:04,
  month first), eu (2/1/2006 15:04, day first), unix (seconds since 1970).
  Anything else is a Go time layout written with the reference time
  Mon Jan 2 15:04:05 2006, e.g. "02.01.2006 15:04". Dates without a zone
  are read as UTC, dates with one are converted to UTC; then only the
  calendar day is used.

LINE RULES
  - A line without a customer id is skipped (counted).
  - An order id with the cancel prefix (--cancel-prefix; "C" for
    online-retail) is a cancellation: left out of frequency and monetary.
  - A line with quantity ≤ 0 (quantity × price mode) or a negative amount is
    a return: left out. A unit price ≤ 0 is an adjustment: left out. A zero
    amount in amount mode is a purchase (CDNOW has some).
  - Lines dated after --as-of are ignored.
  - A malformed line is reported with its line number and skipped; the rest
    of the file is read.
  Lines with the same order id (or, without an order column, the same
  customer and timestamp) are one order. Frequency counts orders; the models
  count purchase-days (orders on one day are merged), as the literature does.

MODELS AND TIME
  Model time is in weeks (days/7) between calendar days. x = purchase-days
  minus one, t_x = weeks from the first to the last purchase, T = weeks from
  the first purchase to the calibration end (--calibration-end, inclusive;
  default the as-of day). With --calibration-end before --as-of, the models
  are fitted on the calibration period and checked on the holdout up to
  --as-of (models.validation); predictions always use the history up to
  --as-of. Expected purchases and CLV cover --horizon (365d, 52w, 12mo, 1y,
  or a Go duration such as 8760h; default 365d), discounted per period
  (--periods, default the horizon's months) at --discount-rate per period
  (default 0.01):
    CLV = Σ_k E[spend] · (E[purchases by step k] − E[purchases by step k−1]) / (1+d)^k
  E[spend] is the Gamma-Gamma conditional mean. Pareto/NBD, whose
  likelihood costs far more per customer, is fitted on at most 20,000
  customers (those whose id hashes lowest: deterministic). With fewer than 30
  customers, or 10 repeat customers, in the calibration period no purchase
  model is fitted and a heuristic is used and reported: a customer buys at
  their historical rate λ = purchase-days / max(T, 1 week), is alive with
  probability exp(−λ·(T − t_x)), and spends their average purchase-day value.
  BG/NBD, MBG/NBD (dropout possible right after the first purchase) and
  Pareto/NBD are all fitted and checked: a fit where nobody churns (a or s
  near 0) or where most long-silent customers stay alive is degenerate and
  not used. Of the sound fits the one with the lowest holdout RMSE (with
  --calibration-end) or the lowest BIC is used (models.method, .choice,
  .comparison); with none sound, the heuristic is used and reported.

OUTPUT (-o)
  table  summary, models, segments with KPIs, warnings.
  json   {customers, as_of, input, columns, models{method, choice, bgnbd,
         mbgnbd, pareto_nbd (each with diagnostics), comparison[],
         gamma_gamma, validation, diagnostics{by_frequency, tracking,
         holdout_error, matrix}}, segments[{name, kind, size, kpis}],
         warnings[], profiles[{customer_id, recency_days, frequency,
         monetary, r_score, f_score, m_score, rfm_segment, segments[],
         p_alive, expected_purchases, clv, intervals_90 (parametric
         bootstrap of the fit: p_alive, expected_purchases, clv lo/hi), …}]}
  csv    one row per profile.
  --report FILE also writes an HTML page: the model comparison, the holdout
  error, calibration versus holdout repeat purchases by frequency, weekly
  actual versus expected repeat purchases, and the P(alive) and expected
  purchases matrices by frequency and recency (models.diagnostics, also
  embedded as JSON), and the segments.
SEGMENTS
  From core/segment with its default definitions: rfm:<group> (scores
  1 + floor(5·w/N), w = customers with a strictly worse value; when over a
  fifth bought once, F = 1 is exactly them and repeat buyers score
  2 + floor(4·w'/N') among themselves; the 11 groups Champions … Lost), value:<tier> (realised revenue tiers),
  behavioral:<group> (first-time, regular, bulk, seasonal, non-buyer,
  churned, win-back), lifecycle:<stage>. From this run's models:
  predictive:at-risk (a buyer with P(alive) < 0.5) and predictive:high-clv
  (top 20 % of buyers by CLV). KPIs per segment: size, share, revenue, AOV,
  purchase frequency, realised CLV, retention, churn and conversion over 90
  days, and average P(alive), expected purchases and predicted CLV.`

// NewCommand returns the "analyze" command.
func NewCommand() *cobra.Command {
	var (
		opts                          Options
		asOf, calEnd, horizon, preset string
	)
	cmd := &cobra.Command{
		Use:   "analyze --orders FILE --as-of DATE [flags]",
		Short: "Segment an orders export (CSV) and predict lifetime value, no platform needed",
		Long:  longHelp,
		Example: `  connector analyze --orders online_retail.csv.gz --as-of 2011-12-09 -o json
  connector analyze --orders CDNOW_master.txt --as-of 1998-06-30 --calibration-end 1997-09-30
  connector analyze --orders CDNOW_sample.txt --preset cdnow-sample --as-of 1998-06-30 --calibration-end 1997-09-30
  connector analyze --orders shop.csv --customer-col email --date-col created --amount-col total --date-format eu --as-of 2024-12-31`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if opts.AsOf, err = parseDay("--as-of", asOf); err != nil {
				return err
			}
			if calEnd != "" {
				if opts.CalibrationEnd, err = parseDay("--calibration-end", calEnd); err != nil {
					return err
				}
			}
			if horizon != "" {
				if opts.HorizonDays, err = ParseHorizon(horizon); err != nil {
					return err
				}
			}
			opts.Format.Preset = preset
			if opts.Logger == nil {
				opts.Logger = slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			}
			return Run(cmd.Context(), opts, cmd.OutOrStdout())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Orders, "orders", "", "orders file: CSV or whitespace-separated, gzip or not (required)")
	fl.StringVar(&opts.Customers, "customers", "", "customers file: CSV with a header and an id column; customers without orders become non-buyers")
	fl.StringVar(&opts.CustomersIDCol, "customers-id-col", "", "id column of the customers file (default: customer_id, id, customer, …)")
	fl.StringVar(&opts.CustomersEmailCol, "customers-email-col", "", "email column of the customers file (default: email)")
	fl.StringVar(&asOf, "as-of", "", "analysis day YYYY-MM-DD: orders on or before it count (required)")
	fl.StringVar(&calEnd, "calibration-end", "", "last day (YYYY-MM-DD, inclusive) the models are fitted on; the rest up to --as-of is a holdout")
	fl.StringVar(&horizon, "horizon", "365d", "prediction and CLV horizon: 365d, 52w, 12mo, 1y or a Go duration")
	fl.IntVar(&opts.Periods, "periods", 0, "CLV discounting steps over the horizon (default: its months)")
	fl.Float64Var(&opts.DiscountRate, "discount-rate", 0.01, "CLV discount rate per period")
	fl.StringVarP(&opts.Output, "output", "o", "table", "output format: table, json or csv")
	fl.StringVar(&opts.Report, "report", "", "also write an HTML report of the models, their diagnostics and the segments to this file")
	fl.StringVar(&preset, "preset", "auto", "input preset: auto, generic, online-retail, cdnow, cdnow-sample")
	fl.StringVar(&opts.Format.Delimiter, "delimiter", "", `field delimiter: one character ("," ";" "\t" "|") or "whitespace" (default ",")`)
	fl.BoolVar(&opts.Format.NoHeader, "no-header", false, "the first line is data; name columns by position")
	fl.StringVar(&opts.Format.CustomerCol, "customer-col", "", "customer id column (name or 1-based position)")
	fl.StringVar(&opts.Format.OrderCol, "order-col", "", "order id column (optional)")
	fl.StringVar(&opts.Format.DateCol, "date-col", "", "order date column")
	fl.StringVar(&opts.Format.AmountCol, "amount-col", "", "line or order value column (else quantity × unit price)")
	fl.StringVar(&opts.Format.QuantityCol, "quantity-col", "", "quantity column")
	fl.StringVar(&opts.Format.PriceCol, "price-col", "", "unit price column")
	fl.StringVar(&opts.Format.DateFormat, "date-format", "", "date format: auto, iso, yyyymmdd, us, eu, unix or a Go layout (default auto)")
	fl.StringVar(&opts.Format.CancelPrefix, "cancel-prefix", "", `order id prefix marking cancellations ("C" with --preset online-retail)`)
	_ = cmd.MarkFlagRequired("orders")
	_ = cmd.MarkFlagRequired("as-of")
	return cmd
}

func parseDay(flag, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range []string{time.DateOnly, "20060102", time.RFC3339} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q: want a day as YYYY-MM-DD", flag, s)
}
