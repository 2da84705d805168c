package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func (a *cli) segmentsCommand() *cobra.Command {
	c := &cobra.Command{Use: "segments", Short: "Compute, plan, apply and explain segments"}
	var asOfFlag string
	asOf := func() (time.Time, error) {
		if asOfFlag == "" {
			return time.Now().UTC(), nil
		}
		t, err := time.Parse(time.DateOnly, asOfFlag)
		if err != nil {
			t, err = time.Parse(time.RFC3339, asOfFlag)
		}
		if err != nil {
			return time.Time{}, usageError{fmt.Errorf("--as-of %q: want YYYY-MM-DD or RFC 3339", asOfFlag)}
		}
		return t.UTC(), nil
	}
	c.PersistentFlags().StringVar(&asOfFlag, "as-of", "", "compute segments as of this date (default now)")
	// open checks -o and --as-of and opens the configured connector.
	open := func(cmd *cobra.Command) (*app.App, time.Time, error) {
		if err := a.checkOutput(); err != nil {
			return nil, time.Time{}, err
		}
		at, err := asOf()
		if err != nil {
			return nil, time.Time{}, err
		}
		ap, err := a.openApp(cmd.Context(), app.Options{})
		return ap, at, err
	}

	list := &cobra.Command{
		Use:   "list",
		Short: "Show every segment with its size and KPIs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env, at, err := open(cmd)
			if err != nil {
				return err
			}
			defer env.Close(cmd.Context())
			res, err := env.Recompute(cmd.Context(), at)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return a.printJSON(map[string]any{"as_of": res.AsOf, "customers": res.Len(), "currency": resultCurrency(res), "segments": res.KPIs, "warnings": res.Warnings})
			}
			cur := resultCurrency(res)
			rows := [][]string{}
			for _, k := range res.KPIs {
				rows = append(rows, []string{k.Segment, strconv.Itoa(k.Size), pct(k.Share), money(k.Revenue, cur), money(k.AOV, cur),
					fmt.Sprintf("%.2f", k.PurchaseFrequency), money(k.AvgRealisedCLV, cur), pct(k.RetentionRate), pct(k.ChurnRate)})
			}
			if err := table(a.stdout, []string{"SEGMENT", "CUSTOMERS", "SHARE", "REVENUE", "AVG ORDER", "ORDERS/CUSTOMER", "AVG CLV", "RETAINED", "CHURNED"}, rows); err != nil {
				return err
			}
			for _, w := range res.Warnings {
				fmt.Fprintf(a.stdout, "warning (%s): %s\n", w.Kind, w.Message)
			}
			return nil
		},
	}

	var saveTo string
	plan := &cobra.Command{
		Use:   "plan",
		Short: "Show who would enter and leave each segment and what would be written, without writing",
		Long: `Plan recomputes every segment and shows, per platform and segment, who
enters and who leaves, the API calls the write-back would take and their
share of the platform's daily quota. Nothing is written. With --save the
plan is kept in a file that "segments apply --plan" writes exactly.
-o json lists every record.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env, at, err := open(cmd)
			if err != nil {
				return err
			}
			defer env.Close(cmd.Context())
			prog := a.newProgress("computing segments", "")
			p, err := env.Plan(cmd.Context(), at)
			prog.done()
			if err != nil {
				return err
			}
			if saveTo != "" {
				data, err := json.MarshalIndent(p, "", "  ")
				if err != nil {
					return fmt.Errorf("encoding plan: %w", err)
				}
				if err := os.WriteFile(saveTo, data, 0o600); err != nil {
					return fmt.Errorf("saving plan: %w", err)
				}
			}
			if a.output == "json" {
				return a.printJSON(p)
			}
			return printPlan(a, p, saveTo)
		},
	}
	plan.Flags().StringVar(&saveTo, "save", "", "write the plan to this `FILE`, for segments apply --plan")

	var planFile string
	var refresh bool
	apply := &cobra.Command{
		Use:   "apply",
		Short: "Record segment changes and write them back to every platform",
		Long: `Apply writes a plan saved by "segments plan --save FILE": it recomputes
at the plan's as-of time and refuses (exit code 4) if anything changed since
the plan was made, unless --refresh is given, in which case it applies the
fresh plan. Without --plan, --refresh is required.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			if planFile == "" && !refresh {
				return usageError{errors.New("give --plan FILE (from `segments plan --save`) or --refresh")}
			}
			var saved pipeline.Plan
			at, err := asOf()
			if err != nil {
				return err
			}
			if planFile != "" {
				data, err := os.ReadFile(planFile)
				if err != nil {
					return fmt.Errorf("reading plan: %w", err)
				}
				if err := json.Unmarshal(data, &saved); err != nil {
					return fmt.Errorf("reading plan %s: %w", planFile, err)
				}
				at = saved.AsOf
			}
			prog := a.newProgress("computing segments, then writing back", "records")
			ap, err := a.openApp(cmd.Context(), app.Options{Hooks: prog.hooks()})
			if err != nil {
				prog.done()
				return err
			}
			defer ap.Close(cmd.Context())
			req := app.ApplyRequest{AsOf: at}
			if planFile != "" && !refresh {
				req.Fingerprint = saved.Fingerprint
			}
			rep, err := ap.ApplyAt(cmd.Context(), req)
			prog.done()
			var changed *app.PlanChangedError
			if errors.As(err, &changed) {
				return &exitCodeError{code: exitRefused, err: err}
			}
			if rep != nil && rep.TargetsErr != nil {
				fmt.Fprintf(a.stderr, "warning: %v (the affected write-back stays queued and is retried)\n", rep.TargetsErr)
			}
			if err != nil {
				return err
			}
			fresh, stats := rep.Plan, rep.Written
			if a.output == "json" {
				if err := a.printJSON(map[string]any{"fingerprint": fresh.Fingerprint, "memberships": len(fresh.Memberships), "writeback": stats}); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(a.stdout, "applied plan %s: %d membership changes\n", fresh.Fingerprint, len(fresh.Memberships))
				for _, st := range stats {
					fmt.Fprintf(a.stdout, "  %-12s %d calls, %d written, %d created, %d to retry, %d refused\n", st.Platform, st.Calls, st.OK, st.Created, st.Retryable, st.Permanent)
				}
			}
			return rep.WriteErr
		},
	}
	apply.Flags().StringVar(&planFile, "plan", "", "the plan `FILE` saved by segments plan --save")
	apply.Flags().BoolVar(&refresh, "refresh", false, "apply the current plan even if it differs from --plan")

	explain := &cobra.Command{
		Use:   "explain <email|id>",
		Short: "Explain why a person is in each of their segments",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			env, at, err := open(cmd)
			if err != nil {
				return err
			}
			defer env.Close(cmd.Context())
			p, ex, err := env.Explain(cmd.Context(), args[0], at)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return a.printJSON(ex)
			}
			fmt.Fprintf(a.stdout, "%s (%s) as of %s\n", p.PrimaryEmail(), p.ID, ex.AsOf.Format(time.DateOnly))
			keys := make([]string, 0, len(ex.Features))
			for k := range ex.Features {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(a.stdout, "  %-22s %s\n", strings.ReplaceAll(k, "_", " "), featureText(k, ex.Features[k], env.Currency()))
			}
			for _, d := range ex.Definitions {
				segs := strings.Join(d.Segments, ", ")
				if segs == "" {
					segs = "(none)"
				}
				fmt.Fprintf(a.stdout, "\n%s [%s]: %s\n", d.Definition, d.Kind, segs)
				if len(d.Control) > 0 {
					fmt.Fprintf(a.stdout, "  holdout (control group) in: %s\n", strings.Join(d.Control, ", "))
				}
				for _, r := range d.Reasons {
					fmt.Fprintf(a.stdout, "  - %s\n", r)
				}
				if d.Prediction != nil {
					for _, l := range predictionLines(d.Prediction) {
						fmt.Fprintf(a.stdout, "  %s\n", l)
					}
				}
			}
			return nil
		},
	}
	c.AddCommand(list, plan, apply, explain)
	return c
}

func printPlan(a *cli, p *pipeline.Plan, saved string) error {
	fmt.Fprintf(a.stdout, "Plan %s as of %s: %d profiles, %d membership changes\n\n", p.Fingerprint, p.AsOf.Format(time.DateOnly), p.Profiles, len(p.Memberships))
	rows := [][]string{}
	for _, s := range p.Segments {
		if s.Size == 0 && s.Entered == 0 && s.Left == 0 {
			continue
		}
		rows = append(rows, []string{s.Segment, strconv.Itoa(s.Size), "+" + strconv.Itoa(s.Entered), "-" + strconv.Itoa(s.Left)})
	}
	if err := table(a.stdout, []string{"SEGMENT", "SIZE", "ENTER", "LEAVE"}, rows); err != nil {
		return err
	}
	for _, pp := range p.Platforms {
		fmt.Fprintf(a.stdout, "\n%s: %d records to update, ~%d API calls", pp.Platform, len(pp.Items), pp.Calls)
		if pp.QuotaShare > 0 {
			fmt.Fprintf(a.stdout, " (%.3f%% of the daily quota of %d", 100*pp.QuotaShare, pp.DailyQuota)
			if r := pp.QuotaRemaining; r != nil {
				fmt.Fprintf(a.stdout, "; %d left today", *r)
				if pp.Calls+pp.CreateCalls > *r {
					fmt.Fprint(a.stdout, ": NOT ENOUGH, the rest waits for tomorrow's budget")
				}
			}
			fmt.Fprint(a.stdout, ")")
		}
		fmt.Fprintln(a.stdout)
		if len(pp.Creates) > 0 {
			fmt.Fprintf(a.stdout, "  %d records to create (people the segments need who have none there), ~%d API calls\n", len(pp.Creates), pp.CreateCalls)
		}
		for _, w := range pp.Warnings {
			fmt.Fprintf(a.stdout, "  warning: %s\n", w)
		}
		keys := make([]string, 0, len(pp.PerSegment))
		for k := range pp.PerSegment {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			d := pp.PerSegment[k]
			fmt.Fprintf(a.stdout, "  %-40s +%d -%d\n", k, d.Entered, d.Left)
		}
		for _, k := range slices.Sorted(maps.Keys(pp.OptedOut)) {
			fmt.Fprintf(a.stdout, "  %-40s %d opted out of marketing: in no list or campaign\n", k, pp.OptedOut[k])
		}
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(a.stdout, "warning (%s): %s\n", w.Kind, w.Message)
	}
	if saved != "" {
		fmt.Fprintf(a.stdout, "\nsaved to %s; write it with: connector segments apply --plan %s\n", saved, saved)
	}
	return nil
}

func pct(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

// money formats an amount in major units with its currency's decimals
// and code: "1234.50 USD".
func money(f float64, currency string) string {
	if currency == "" {
		return fmt.Sprintf("%.2f", f)
	}
	return fmt.Sprintf("%.*f %s", domain.CurrencyExponent(currency), f, currency)
}

// featureText says one feature's value in words: amounts with their
// currency, shares as percentages, days with their unit.
func featureText(name string, v any, cur string) string {
	switch x := v.(type) {
	case map[string]float64:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + " " + pct(x[k])
		}
		if len(parts) == 0 {
			return "none"
		}
		return strings.Join(parts, ", ")
	case float64:
		switch {
		case name == "monetary" || name == "aov":
			return money(x, cur)
		case strings.HasSuffix(name, "_days"):
			return fmt.Sprintf("%.1f days", x)
		default:
			return strconv.FormatFloat(math.Round(x*100)/100, 'f', -1, 64)
		}
	case float32:
		return featureText(name, float64(x), cur)
	case int, int32, int64:
		if strings.HasSuffix(name, "_days") {
			return fmt.Sprintf("%d days", x)
		}
		return fmt.Sprint(x)
	default:
		return fmt.Sprint(x)
	}
}

// resultCurrency is the currency of a segment run's amounts.
func resultCurrency(res *segment.Result) string {
	if res == nil || res.Dataset == nil {
		return ""
	}
	return res.Dataset.Currency
}
