// Package analyze is the engine of `connector analyze`: it segments an
// orders export with no platform at all, a small business's first use.
//
// It streams an orders file (CSV or whitespace-separated text, gzip
// detected from the first bytes) line by line into per-customer aggregates
// (one 32-byte entry per distinct order: key, day, value, items), so
// memory grows with customers and orders, never with lines: an order
// spread over many lines (Online Retail averages 21) costs one entry.
// From the aggregates it fits the published purchase and spend models of
// core/clv (BG/NBD, MBG/NBD, Pareto/NBD, Gamma-Gamma) on the calibration
// period, reports each fit's diagnostics, picks the sound model with the
// lowest holdout error (or BIC) and falls back to a heuristic when every
// fit is degenerate (models.go), predicts P(alive), purchases and CLV per
// customer with 90% parametric-bootstrap intervals, hands the customers
// to the segment engine of core/segment for RFM scores, segments, KPIs and
// warnings, and writes a table, a JSON document whose profiles are written
// one by one, or a CSV of profiles.
//
// The models' checks (diagnostics.go: conditional expectations by
// calibration frequency, weekly tracking of repeat purchases, holdout
// error, P(alive) and expected-purchase matrices, computed by core/clv)
// are part of the JSON (models.diagnostics) and of the optional HTML
// report (htmlreport.go, html/template). The report shows them as tables
// and embeds them as JSON; it draws no charts of its own.
//
// Libraries: the standard library's bufio and compress/gzip; CSV records
// are split by a small RFC 4180 splitter of our own rather than
// encoding/csv, because encoding/csv cannot resynchronise after an
// unterminated quote (it swallows the rest of the file), and a malformed
// line must cost only itself; cobra for the
// command (the CLI's framework), gonum through core/clv for the models.
// Money is summed exactly in 1/10,000 units; floats appear only in the
// reported statistics.
//
// The line rules, column synonyms, date formats, model conventions and the
// heuristic used when too few customers allow a model are documented in the
// command's help text (longHelp in command.go), which is the user-facing
// statement of this package's behaviour.
package analyze
