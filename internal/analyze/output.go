package analyze

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
)

// readCustomers reads the customers file (CSV with a header, gzip or not)
// and registers every customer id, so customers without orders get a
// profile (non-buyers). Rows without an id are counted in a warning.
func readCustomers(path, idCol, emailCol string, agg *aggregator) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("opening customers file: %w", err)
	}
	defer f.Close()
	rd, err := NewReader(f, Format{Preset: "generic"})
	if err != nil {
		return fmt.Errorf("reading customers file %s: %w", path, err)
	}
	defer rd.Close()
	agg.haveCustomersFile = true
	header, _, err := rd.record()
	if err != nil {
		return fmt.Errorf("reading customers file %s: header: %w", path, err)
	}
	find := func(spec string, names []string) int {
		for i, h := range header {
			if spec != "" && normName(h) == normName(spec) {
				return i
			}
			if spec == "" && contains(names, normName(h)) {
				return i
			}
		}
		if n, err := strconv.Atoi(spec); err == nil && n >= 1 {
			return n - 1
		}
		return -1
	}
	idI := find(idCol, []string{"customerid", "id", "customer", "contactid", "userid", "clientid"})
	if idI < 0 {
		return fmt.Errorf("reading customers file %s: no customer id column (name it with --customers-id-col; header %q)", path, header)
	}
	emI := find(emailCol, []string{"email", "emailaddress", "mail"})
	noID := 0
	for {
		rec, line, err := rd.record()
		if err == io.EOF {
			break
		}
		if le, ok := err.(*LineError); ok {
			agg.issues = append(agg.issues, &LineError{Num: le.Num, Field: "customers file", Err: le.Err})
			continue
		}
		if err != nil {
			return fmt.Errorf("reading customers file %s: line %d: %w", path, line, err)
		}
		if idI >= len(rec) || strings.TrimSpace(rec[idI]) == "" {
			noID++
			continue
		}
		id := strings.TrimSpace(rec[idI])
		c := agg.customers[id]
		if c == nil {
			c = &customer{id: id}
			agg.customers[id] = c
		}
		c.inFile = true
		if emI >= 0 && emI < len(rec) {
			c.email = strings.TrimSpace(rec[emI])
		}
	}
	if noID > 0 {
		agg.issues = append(agg.issues, &LineError{Field: "customers file", Err: fmt.Errorf("%d rows without a customer id skipped", noID)})
	}
	return nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// writeJSON writes the report as one JSON object whose profiles array is
// written profile by profile.
func writeJSON(ctx context.Context, w io.Writer, a *analysis) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	head, err := json.Marshal(a.report)
	if err != nil {
		return fmt.Errorf("encoding report: %w", err)
	}
	// Reopen the object to append the streamed profiles.
	bw.Write(head[:len(head)-1])
	bw.WriteString(",\n\"profiles\":[")
	for i := range a.profiles {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
		b, err := json.Marshal(&a.profiles[i])
		if err != nil {
			return fmt.Errorf("encoding profile %s: %w", a.profiles[i].CustomerID, err)
		}
		bw.Write(b)
	}
	bw.WriteString("\n]}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}

var csvHeader = []string{"customer_id", "recency_days", "frequency", "monetary", "aov", "first_order", "last_order",
	"r_score", "f_score", "m_score", "rfm_segment", "segments", "p_alive", "expected_purchases", "expected_spend", "clv"}

// writeCSV writes one row per profile, streamed.
func writeCSV(ctx context.Context, w io.Writer, a *analysis) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return fmt.Errorf("writing csv: %w", err)
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	row := make([]string, len(csvHeader))
	for i := range a.profiles {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		p := &a.profiles[i]
		rec := ""
		if p.RecencyDays != nil {
			rec = strconv.Itoa(int(*p.RecencyDays))
		}
		row = append(row[:0], p.CustomerID, rec, strconv.Itoa(p.Frequency), f(p.Monetary), f(p.AOV), p.FirstOrder, p.LastOrder,
			strconv.Itoa(p.RScore), strconv.Itoa(p.FScore), strconv.Itoa(p.MScore), p.RFMSegment, strings.Join(p.Segments, ";"),
			f(p.PAlive), f(p.ExpectedPurchases), f(p.ExpectedSpend), f(p.CLV))
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("writing csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing csv: %w", err)
	}
	return nil
}

// writeTable writes a human summary: input, models, segments, warnings.
func writeTable(w io.Writer, a *analysis) error {
	r := &a.report
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	in := r.Input
	fmt.Fprintf(tw, "Customers\t%d\n", r.Customers)
	fmt.Fprintf(tw, "As of\t%s\n", r.AsOf)
	if r.CalibrationEnd != "" {
		fmt.Fprintf(tw, "Calibration end\t%s\n", r.CalibrationEnd)
	}
	fmt.Fprintf(tw, "Rows read / used\t%d / %d\n", in.Rows, in.RowsUsed)
	fmt.Fprintf(tw, "Orders / revenue\t%d / %.2f\n", in.Orders, in.Revenue)
	fmt.Fprintf(tw, "Orders between\t%s .. %s\n", in.FirstOrder, in.LastOrder)
	fmt.Fprintln(tw)
	m := r.Models
	fmt.Fprintf(tw, "Model (time in %s)\tparameters\tlog-likelihood\tcustomers\n", m.TimeUnit)
	if b := m.BGNBD; b != nil {
		fmt.Fprintf(tw, "BG/NBD\tr=%.4f alpha=%.4f a=%.4f b=%.4f\t%.3f\t%d\n", b.R, b.Alpha, b.A, b.B, b.LogLikelihood, b.N)
	}
	if b := m.MBGNBD; b != nil {
		fmt.Fprintf(tw, "MBG/NBD\tr=%.4f alpha=%.4f a=%.4f b=%.4f\t%.3f\t%d\n", b.R, b.Alpha, b.A, b.B, b.LogLikelihood, b.N)
	}
	if p := m.ParetoNBD; p != nil {
		fmt.Fprintf(tw, "Pareto/NBD\tr=%.4f alpha=%.4f s=%.4f beta=%.4f\t%.3f\t%d\n", p.R, p.Alpha, p.S, p.Beta, p.LogLikelihood, p.N)
	}
	for _, c := range m.Comparison {
		verdict := "sound"
		if c.Degenerate {
			verdict = "DEGENERATE"
		}
		if c.Chosen {
			verdict += ", chosen"
		}
		fmt.Fprintf(tw, "  %s\tBIC %.1f, lapsed with P(alive)>0.9 %.0f%%", c.Model, c.BIC, 100*c.LapsedAlive)
		if c.HoldoutRMSE != nil {
			fmt.Fprintf(tw, ", holdout RMSE %.4f", *c.HoldoutRMSE)
		}
		fmt.Fprintf(tw, "\t%s\t\n", verdict)
	}
	if g := m.GammaGamma; g != nil {
		fmt.Fprintf(tw, "Gamma-Gamma\tp=%.4f q=%.4f gamma=%.4f\t%.3f\t%d\n", g.P, g.Q, g.Gamma, g.LogLikelihood, g.N)
	}
	fmt.Fprintf(tw, "Predictions by\t%s (%s), spend by %s\t\n", m.Method, m.Choice, m.SpendModel)
	if v := m.Validation; v != nil {
		fmt.Fprintf(tw, "Holdout (%.1f weeks)\tactual %d", v.HoldoutWeeks, v.ActualPurchases)
		if v.BGNBDExpected != nil {
			fmt.Fprintf(tw, ", BG/NBD %.1f", *v.BGNBDExpected)
		}
		if v.ParetoNBDExpected != nil {
			fmt.Fprintf(tw, ", Pareto/NBD %.1f", *v.ParetoNBDExpected)
		}
		fmt.Fprintln(tw, "\t")
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "Segment\tkind\tsize\tshare\trevenue\tAOV\torders/cust\trevenue/cust\tchurn (no order in %dd)\tavg P(alive)\tpredicted CLV (%.0fd)\n", kpiWindowDays, r.HorizonDays)
	for _, s := range r.Segments {
		k := func(name string) float64 { v, _ := s.KPIs[name].(float64); return v }
		churn := "-"
		if _, ok := s.KPIs["churn_rate"]; ok {
			churn = fmt.Sprintf("%.1f%%", 100*k("churn_rate"))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f%%\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t%.3f\t%.2f\n", s.Name, s.Kind, s.Size,
			100*k("share"), k("revenue"), k("aov"), k("purchase_frequency"), k("revenue_per_customer"), churn, k("avg_p_alive"), k("avg_clv"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing table: %w", err)
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w, "\nWarnings:")
		for _, x := range r.Warnings {
			fmt.Fprintln(w, "  - "+x)
		}
	}
	return nil
}
