package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/core/lift"
	"github.com/segconn/connector/internal/alert"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/export"
	"github.com/segconn/connector/internal/report"
	"github.com/segconn/connector/internal/web"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// parseDay reads a date (2026-09-30) or an RFC 3339 time; "" gives def.
func parseDay(flag, s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usageError{fmt.Errorf("--%s %q: want a date (2026-09-30) or an RFC 3339 time", flag, s)}
	}
	return t, nil
}

func (a *cli) reportCommand() *cobra.Command {
	c := &cobra.Command{Use: "report", Short: "What segmentation earns: lift over the holdouts"}
	var days int
	var asOfFlag, currency string
	var segments []string
	lc := &cobra.Command{
		Use:   "lift",
		Short: "Members against their holdout: conversion, orders and revenue per person, with 95% intervals",
		Long: `Lift compares, for every segment with a holdout (control group), the people
written back as members with the holdout, over a window after each person's
first entry (from the membership history): conversion (a beta-binomial
posterior), orders and revenue per person (Welch's interval), and a verdict
in plain words. People whose window has not ended yet are counted as
pending. Revenue is in one currency (the most common, or --currency);
orders in other currencies are left out and counted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			if days <= 0 {
				return usageError{fmt.Errorf("--days %d: want at least 1", days)}
			}
			asOf, err := parseDay("as-of", asOfFlag, time.Now().UTC())
			if err != nil {
				return err
			}
			st, l, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := report.Lift(cmd.Context(), st, report.LiftOptions{AsOf: asOf, Window: time.Duration(days) * 24 * time.Hour,
				Segments: segments, Currency: currency, Lift: lift.Options{Seed: 1}})
			if err != nil {
				return err
			}
			spend, err := report.AllSpend(cmd.Context(), st, l.Spend)
			if err != nil {
				return err
			}
			rois, err := report.SpendROI(spend, res, asOf)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return a.printJSON(map[string]any{"as_of": asOf, "segments": res, "roi": rois})
			}
			if len(res) == 0 {
				_, err := fmt.Fprintln(a.stdout, "No segment has a holdout yet: set holdout_percent on a segment to measure its lift.")
				return err
			}
			var rows [][]string
			for _, s := range res {
				r := s.Result
				rows = append(rows, []string{s.Segment, strconv.Itoa(r.Members.People), strconv.Itoa(r.Holdout.People), strconv.Itoa(s.Pending),
					pct(r.Members.ConversionRate), pct(r.Holdout.ConversionRate), points(r.Conversion),
					minorMoney(float64(r.Revenue.Absolute), s.Currency), r.Verdict.Text})
			}
			fmt.Fprintf(a.stdout, "Lift over %d days after entry, as of %s (95%% intervals):\n\n", days, asOf.Format(time.DateOnly))
			if err := table(a.stdout, []string{"SEGMENT", "MEMBERS", "HOLDOUT", "PENDING", "CONVERTED", "HOLDOUT CONVERTED", "LIFT (POINTS)", "REVENUE/PERSON LIFT", "VERDICT"}, rows); err != nil {
				return err
			}
			if len(rois) == 0 {
				return nil
			}
			rows = rows[:0]
			for _, r := range rois {
				rows = append(rows, []string{r.Segment, minorMoney(float64(r.Spend), r.Currency), minorMoney(float64(r.IncrementalRevenue), r.Currency),
					minorMoney(float64(r.CAC), r.Currency), fmt.Sprintf("%.0f%%", 100*float64(r.ROI)), r.Text})
			}
			fmt.Fprintln(a.stdout, "\nReturn on the configured spend (incremental revenue only):")
			return table(a.stdout, []string{"SEGMENT", "SPEND", "INCREMENTAL REVENUE", "CAC", "ROI", "IN WORDS"}, rows)
		},
	}
	lc.Flags().IntVar(&days, "days", 30, "window after entry, in days")
	lc.Flags().StringVar(&asOfFlag, "as-of", "", "measure as of this date (default now)")
	lc.Flags().StringArrayVar(&segments, "segment", nil, "only this segment (repeatable)")
	lc.Flags().StringVar(&currency, "currency", "", "revenue currency (default: the most common)")
	c.AddCommand(lc, a.reviewCommand())
	return c
}

func (a *cli) reviewCommand() *cobra.Command {
	var fromFlag, toFlag, format, out string
	var send bool
	c := &cobra.Command{
		Use:   "review",
		Short: "The quarterly review: segment sizes and revenue, migrations, lift and suggested actions",
		Long: `Review reads the membership history and the orders of a period and writes
what changed: each segment's size, entries, exits and revenue per member
against the period before, the migration matrix of each definition and
the largest moves in words ("8 Champions became At Risk"), the lift over
the holdouts, and findings with a suggested action each (win-back for
valuable customers who lapsed, segments too small, too big or overlapping,
data quality). Formats: markdown (the default on a terminal), html (one
printable page that carries its chart, so it works offline) and json
(-o json).

With --send the review goes to the alert destinations instead of standard
output (--out still writes the file): Slack gets a summary and a link to
the web app's review page (review.link), email the whole page, the
webhook the JSON. review.schedule sends it every month or quarter.`,
		Example: "  connector report review --from 2026-07-01 --to 2026-10-01 --format html --out review.html",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			if fromFlag == "" || toFlag == "" {
				return usageError{fmt.Errorf("--from and --to are required")}
			}
			from, err := parseDay("from", fromFlag, time.Time{})
			if err != nil {
				return err
			}
			to, err := parseDay("to", toFlag, time.Time{})
			if err != nil {
				return err
			}
			if !from.Before(to) {
				return usageError{fmt.Errorf("--from %s is not before --to %s", fromFlag, toFlag)}
			}
			if a.output == "json" {
				format = "json"
			}
			if format != "markdown" && format != "html" && format != "json" {
				return usageError{fmt.Errorf("--format %q: want markdown, html or json", format)}
			}
			st, l, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			spend, err := report.AllSpend(cmd.Context(), st, l.Spend)
			if err != nil {
				return err
			}
			r, err := report.Review(cmd.Context(), st, report.ReviewOptions{From: from, To: to, Seed: 1, Spend: spend})
			if err != nil {
				return err
			}
			if send {
				if err := a.sendReview(cmd, r, l); err != nil {
					return err
				}
				if out == "" {
					return nil
				}
			}
			w := a.stdout
			if out != "" {
				f, err := os.Create(out)
				if err != nil {
					return fmt.Errorf("writing the review: %w", err)
				}
				defer f.Close()
				w = f
			}
			switch format {
			case "json":
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			case "html":
				charts, err := web.ReviewCharts()
				if err != nil {
					return err
				}
				return r.WriteHTML(w, charts)
			}
			return r.WriteMarkdown(w)
		},
	}
	c.Flags().StringVar(&fromFlag, "from", "", "first day of the period (2026-07-01)")
	c.Flags().StringVar(&toFlag, "to", "", "the day after the period (2026-10-01)")
	c.Flags().StringVar(&format, "format", "markdown", "markdown, html or json")
	c.Flags().StringVar(&out, "out", "", "write to this file instead of standard output")
	c.Flags().BoolVar(&send, "send", false, "send it through the configured alert destinations (Slack, email, webhook)")
	return c
}

// sendReview sends the review to every alert destination and says which
// got it.
func (a *cli) sendReview(cmd *cobra.Command, r *report.ReviewResult, l *config.Loaded) error {
	_, ns, err := alert.FromConfig(l.Alerts)
	if err != nil {
		return err
	}
	if len(ns) == 0 {
		return usageError{fmt.Errorf("--send: no alert destination is configured (alerts.slack, alerts.email or alerts.webhook)")}
	}
	notice, err := r.Notice(l.Review.Link, time.Now())
	if err != nil {
		return err
	}
	sent, err := alert.SendReport(cmd.Context(), notice, ns, nil)
	if len(sent) > 0 {
		fmt.Fprintf(a.stderr, "Review sent to %s.\n", strings.Join(sent, ", "))
	}
	if err != nil {
		return fmt.Errorf("sending the review: %w", err)
	}
	return nil
}

func points(l lift.Lift) string {
	if math.IsNaN(float64(l.AbsoluteCI.Low)) {
		return fmt.Sprintf("%+.1f", 100*float64(l.Absolute))
	}
	return fmt.Sprintf("%+.1f (%+.1f to %+.1f)", 100*float64(l.Absolute), 100*float64(l.AbsoluteCI.Low), 100*float64(l.AbsoluteCI.High))
}

// minorMoney formats minor units of currency, rounded to the minor unit.
func minorMoney(minor float64, currency string) string {
	if math.IsNaN(minor) {
		return "–"
	}
	return domain.FormatMinor(int64(math.Round(minor)), domain.CurrencyExponent(currency)) + " " + currency
}

func (a *cli) exportCommand() *cobra.Command {
	var dir, format, sinceFlag string
	var tables []string
	c := &cobra.Command{
		Use:   "export",
		Short: "Write profiles, orders, memberships and their history as CSV or Parquet for BI tools",
		Long: `Export writes one file per table (profiles, orders, memberships,
membership_history) into --dir, as CSV or Parquet, with a stable schema that
Tableau, Power BI, Looker Studio and DuckDB read as they are. Money is an
integer in minor units beside its currency, plus a decimal for charts; times
are UTC. With --since, only profiles and orders updated since then and
history recorded since then are written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			if dir == "" {
				return usageError{fmt.Errorf("--dir is required")}
			}
			if format != export.CSV && format != export.Parquet {
				return usageError{fmt.Errorf("--format %q: want csv or parquet", format)}
			}
			for _, t := range tables {
				if !slices.Contains(export.Tables(), t) {
					return usageError{fmt.Errorf("--table %q: want one of %s", t, strings.Join(export.Tables(), ", "))}
				}
			}
			since, err := parseDay("since", sinceFlag, time.Time{})
			if err != nil {
				return err
			}
			st, _, err := a.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := export.Export(cmd.Context(), st, export.Options{Dir: dir, Format: format, Since: since, Tables: tables})
			if err != nil {
				return err
			}
			if a.output == "json" {
				return a.printJSON(res)
			}
			var rows [][]string
			for _, t := range export.Tables() {
				if f, ok := res.Files[t]; ok {
					rows = append(rows, []string{t, strconv.Itoa(res.Rows[t]), f})
				}
			}
			return table(a.stdout, []string{"TABLE", "ROWS", "FILE"}, rows)
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "folder to write into (created if missing)")
	c.Flags().StringVar(&format, "format", export.Parquet, "csv or parquet")
	c.Flags().StringVar(&sinceFlag, "since", "", "only what changed since this date")
	c.Flags().StringArrayVar(&tables, "table", nil, "only this table (repeatable): profiles, orders, memberships, membership_history")
	return c
}
