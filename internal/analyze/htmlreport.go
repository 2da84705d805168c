package analyze

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"slices"
)

// The HTML report (--report FILE) shows the run's models, their
// diagnostics and the segments as tables. It draws no charts: the
// diagnostics are embedded as JSON (element id "diagnostics-data", the
// same shape as models.diagnostics) for a charting library to render.

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"f3":     func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"f2":     func(v float64) string { return fmt.Sprintf("%.2f", v) },
	"num":    func(v Num) string { return fmt.Sprintf("%.3f", float64(v)) },
	"models": sortedKeys,
	"at":     func(m map[string]float64, k string) string { return fmt.Sprintf("%.3f", m[k]) },
	"at1":    func(m map[string]float64, k string) string { return fmt.Sprintf("%.1f", m[k]) },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Customer analysis as of {{.R.AsOf}}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:right}th{background:#f4f4f4}caption{text-align:left;font-weight:bold}</style>
</head><body>
<h1>Customer analysis as of {{.R.AsOf}}</h1>
<p>{{.R.Customers}} customers{{with .R.CalibrationEnd}}; models fitted up to {{.}}, checked on the holdout after it{{end}}.
Predictions by <b>{{.R.Models.Method}}</b>{{with .R.Models.Choice}} ({{.}}){{end}}.</p>
{{with .R.Models.Comparison}}<table><caption>Purchase models</caption>
<tr><th>model</th><th>customers</th><th>log-likelihood</th><th>BIC</th><th>degenerate</th><th>lapsed with P(alive) &gt; 0.9</th><th>chosen</th></tr>
{{range .}}<tr><td>{{.Model}}</td><td>{{.N}}</td><td>{{f3 .LogLikelihood}}</td><td>{{f2 .BIC}}</td><td>{{.Degenerate}}</td><td>{{f3 .LapsedAlive}}</td><td>{{.Chosen}}</td></tr>
{{end}}</table>{{end}}
{{with .D}}
{{with .HoldoutError}}<table><caption>Holdout error (repeat purchases per customer)</caption>
<tr><th>model</th><th>customers</th><th>actual</th><th>expected</th><th>error %</th><th>RMSE</th><th>MAE</th><th>correlation</th></tr>
{{range .}}<tr><td>{{.Model}}</td><td>{{.Customers}}</td><td>{{.Actual}}</td><td>{{f2 .Expected}}</td><td>{{f2 .PercentError}}</td><td>{{f3 .RMSE}}</td><td>{{f3 .MAE}}</td><td>{{num .Correlation}}</td></tr>
{{end}}</table>{{end}}
{{if .ByFrequency}}{{$m := models (index .ByFrequency 0).Expected}}<table><caption>Calibration vs holdout: mean holdout repeat purchases by calibration repeat purchases</caption>
<tr><th>calibration x</th><th>customers</th><th>actual</th>{{range $m}}<th>{{.}}</th>{{end}}</tr>
{{range .ByFrequency}}{{$r := .}}<tr><td>{{.X}}</td><td>{{.Customers}}</td><td>{{f3 .Actual}}</td>{{range $m}}<td>{{at $r.Expected .}}</td>{{end}}</tr>
{{end}}</table>{{end}}
{{if .Tracking}}{{$m := models (index .Tracking 0).Expected}}<table><caption>Repeat purchases by week from {{.TrackingOrigin}} (holdout after week {{f2 .CalibrationWeeks}}): actual and expected, weekly and cumulative</caption>
<tr><th>week</th><th>ends</th><th>actual</th>{{range $m}}<th>{{.}}</th>{{end}}<th>cumulative actual</th>{{range $m}}<th>cumulative {{.}}</th>{{end}}</tr>
{{range .Tracking}}{{$r := .}}<tr><td>{{.Week}}{{if .Holdout}} (holdout){{end}}</td><td>{{.End}}</td><td>{{.Actual}}</td>{{range $m}}<td>{{at1 $r.Expected .}}</td>{{end}}<td>{{.CumulativeActual}}</td>{{range $m}}<td>{{at1 $r.CumulativeExpected .}}</td>{{end}}</tr>
{{end}}</table>{{end}}
{{with .Matrix}}<table><caption>P(alive) by frequency x (rows) and recency t_x in weeks (columns) at T = {{f2 .T}} weeks ({{$.D.MatrixModel}})</caption>
<tr><th>x \ t_x</th>{{range .Tx}}<th>{{f2 .}}</th>{{end}}</tr>
{{range $i, $row := .PAlive}}<tr><th>{{index $.D.Matrix.X $i}}</th>{{range $row}}<td>{{f3 .}}</td>{{end}}</tr>
{{end}}</table>
<table><caption>Expected purchases in the next {{f2 .Horizon}} weeks by frequency and recency ({{$.D.MatrixModel}})</caption>
<tr><th>x \ t_x</th>{{range .Tx}}<th>{{f2 .}}</th>{{end}}</tr>
{{range $i, $row := .Expected}}<tr><th>{{index $.D.Matrix.X $i}}</th>{{range $row}}<td>{{f3 .}}</td>{{end}}</tr>
{{end}}</table>{{end}}
{{end}}
<table><caption>Segments</caption><tr><th>segment</th><th>kind</th><th>size</th></tr>
{{range .R.Segments}}<tr><td style="text-align:left">{{.Name}}</td><td>{{.Kind}}</td><td>{{.Size}}</td></tr>
{{end}}</table>
{{with .R.Warnings}}<h2>Warnings</h2><ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
<script type="application/json" id="diagnostics-data">{{.JSON}}</script>
</body></html>
`))

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// writeReport writes the HTML report to w.
func writeReport(w io.Writer, a *analysis) error {
	d := a.report.Models.Diagnostics
	if d == nil {
		d = &Diagnostics{}
	}
	js, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encoding the diagnostics: %w", err)
	}
	data := struct {
		R    *Report
		D    *Diagnostics
		JSON template.JS
	}{&a.report, d, template.JS(js)}
	if err := reportTemplate.Execute(w, data); err != nil {
		return fmt.Errorf("writing the HTML report: %w", err)
	}
	return nil
}

// writeReportFile writes the HTML report to path.
func writeReportFile(path string, a *analysis) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating the report: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing the report %s: %w", path, cerr)
		}
	}()
	return writeReport(f, a)
}
