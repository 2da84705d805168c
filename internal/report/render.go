package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	"github.com/segconn/connector/core/lift"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// money formats minor units of currency with the currency code.
func money(minor float64, currency string) string {
	return domain.FormatMinor(int64(minor+0.5*sign(minor)), domain.CurrencyExponent(currency)) + " " + currency
}

func sign(x float64) float64 {
	if x < 0 {
		return -1
	}
	return 1
}

// WriteMarkdown writes the review as Markdown.
func (r *ReviewResult) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Segment review, %s to %s\n\n", r.From.Format(time.DateOnly), r.To.Format(time.DateOnly))
	fmt.Fprintf(&b, "%d profiles. Money in %s.\n\n## What to do\n\n", r.Profiles, r.Currency)
	if len(r.Findings) == 0 {
		b.WriteString("Nothing stands out this period.\n")
	}
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "- **%s** %s\n", f.Action, f.Text)
	}
	b.WriteString("\n## Segments\n\n| segment | people at start | people at end | entered | left | revenue per member | previous period |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range r.Segments {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %s | %s |\n", Label(s.Segment), s.SizeFrom, s.SizeTo, s.Entered, s.Left,
			money(s.RevenuePerMember, r.Currency), money(s.RevenuePerMemberPrev, r.Currency))
	}
	b.WriteString("\n## Largest moves\n\n")
	for _, f := range r.Flows {
		fmt.Fprintf(&b, "- %s\n", FlowText(f))
	}
	for _, mx := range r.Matrices {
		fmt.Fprintf(&b, "\n### Migration: %s (rows: start, columns: end)\n\n| from \\ to |", mx.Definition)
		for _, l := range mx.Labels {
			fmt.Fprintf(&b, " %s |", Label(l))
		}
		b.WriteString("\n|---|" + strings.Repeat("---:|", len(mx.Labels)) + "\n")
		for i, l := range mx.Labels {
			fmt.Fprintf(&b, "| %s |", Label(l))
			for _, n := range mx.Counts[i] {
				fmt.Fprintf(&b, " %d |", n)
			}
			b.WriteString("\n")
		}
	}
	if len(r.Lift) > 0 {
		b.WriteString("\n## Lift over the holdouts\n\n")
		for _, l := range r.Lift {
			fmt.Fprintf(&b, "- %s: %s\n", Label(l.Segment), l.Result.Verdict.Text)
		}
	}
	if len(r.ROI) > 0 {
		b.WriteString("\n## Return on spend\n\n")
		for _, x := range r.ROI {
			fmt.Fprintf(&b, "- %s: spent %s, %s\n", Label(x.Segment), money(float64(x.Spend), x.Currency), x.Text)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Charts are the scripts the HTML review draws its charts with: uPlot's
// released build and its stylesheet, and the script that reads the
// review's data and draws (the same one the web app's review page runs).
// They are written into the page, so it needs no network to show them.
type Charts struct {
	UPlotJS, UPlotCSS, Script []byte
}

var reviewBody = `
<h1>Segment review, {{day .From}} to {{day .To}}</h1>
<p>{{.Profiles}} profiles. Money in {{.Currency}}.</p>
<h2>What to do</h2>
{{if not .Findings}}<p>Nothing stands out this period.</p>{{end}}
<ul class="findings">{{range .Findings}}<li><span class="act">{{.Action}}</span> {{.Text}}</li>{{end}}</ul>
{{end}}{{define "chart"}}<h2>Segment sizes</h2>
<div id="review-sizes" class="chart review-chart" role="img" aria-label="Each segment's size at the end of each day of the period">{{if not .Sizes.Days}}No membership history in this period.{{end}}</div>
<script type="application/json" id="review-data">{{.Sizes}}</script>
{{end}}{{define "rest"}}<h2>Segments</h2>
<table class="review"><tr><th>segment</th><th>people at start</th><th>people at end</th><th>entered</th><th>left</th><th>revenue per member</th><th>previous period</th></tr>
{{range .Segments}}<tr><td>{{label .Segment}}</td><td>{{.SizeFrom}}</td><td>{{.SizeTo}}</td><td>{{.Entered}}</td><td>{{.Left}}</td><td>{{money .RevenuePerMember $.Currency}}</td><td>{{money .RevenuePerMemberPrev $.Currency}}</td></tr>
{{end}}</table>
<h2>Largest moves</h2><ul>{{range .Flows}}<li>{{flow .}}</li>{{end}}</ul>
{{range .Matrices}}<h3>Migration: {{.Definition}} (rows: start, columns: end)</h3>
<table class="review"><tr><th>from \ to</th>{{range .Labels}}<th>{{label .}}</th>{{end}}</tr>
{{$mx := .}}{{range $i, $l := .Labels}}<tr><td>{{label $l}}</td>{{range index $mx.Counts $i}}<td>{{.}}</td>{{end}}</tr>{{end}}</table>
{{end}}
{{if .Lift}}<h2>Lift over the holdouts</h2>
<table class="review"><tr><th>segment</th><th>members</th><th>holdout</th><th>converted</th><th>holdout converted</th><th>lift (points, 95% interval)</th><th>verdict</th></tr>
{{range .Lift}}<tr><td>{{label .Segment}}</td><td>{{.Result.Members.People}}</td><td>{{.Result.Holdout.People}}</td><td>{{pct .Result.Members.ConversionRate}}</td><td>{{pct .Result.Holdout.ConversionRate}}</td><td>{{points .Result.Conversion}}</td><td>{{.Result.Verdict.Text}}</td></tr>
{{end}}</table>{{end}}
{{if .ROI}}<h2>Return on spend</h2>
<table class="review"><tr><th>segment</th><th>spend</th><th>incremental revenue</th><th>ROI</th><th>in words</th></tr>
{{range .ROI}}<tr><td>{{label .Segment}}</td><td>{{money (num .Spend) .Currency}}</td><td>{{money (num .IncrementalRevenue) .Currency}}</td><td>{{pct (num .ROI)}}</td><td>{{.Text}}</td></tr>
{{end}}</table>{{end}}
`

var reviewHTML = template.Must(template.New("review").Funcs(template.FuncMap{
	"label": Label, "flow": FlowText,
	"money": money,
	"day":   func(t time.Time) string { return t.Format(time.DateOnly) },
	"pct": func(f float64) string {
		if math.IsNaN(f) {
			return "–"
		}
		return fmt.Sprintf("%.1f%%", 100*f)
	},
	"points": func(l lift.Lift) string {
		if math.IsNaN(float64(l.AbsoluteCI.Low)) {
			return fmt.Sprintf("%+.1f", 100*float64(l.Absolute))
		}
		return fmt.Sprintf("%+.1f (%+.1f to %+.1f)", 100*float64(l.Absolute), 100*float64(l.AbsoluteCI.Low), 100*float64(l.AbsoluteCI.High))
	},
	"num": func(v any) float64 {
		switch v := v.(type) {
		case int64:
			return float64(v)
		case lift.Num:
			return float64(v)
		}
		return math.NaN()
	},
	"js":  func(b []byte) template.JS { return template.JS(b) },   // #nosec: the embedded uPlot build and our own script
	"css": func(b []byte) template.CSS { return template.CSS(b) }, // #nosec: uPlot's stylesheet
}).Parse(`{{define "top"}}` + reviewBody + `{{end}}{{define "body"}}{{template "top" .}}{{template "chart" .}}{{template "rest" .}}{{end}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Segment review {{day .R.From}} to {{day .R.To}}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%}th,td{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}li{margin:.3rem 0}.act{font-weight:600}
.review-chart{min-height:300px;margin:.5rem 0 1.5rem}
@media print{body{margin:0;max-width:none}h2{break-before:auto}table,.review-chart{break-inside:avoid}}
</style>{{with .C}}<style>{{css .UPlotCSS}}</style>{{end}}</head><body>
{{template "top" .R}}{{if .C}}{{template "chart" .R}}{{end}}{{template "rest" .R}}
{{with .C}}<script>{{js .UPlotJS}}</script>
<script>{{js .Script}}</script>{{end}}
</body></html>
`))

// WriteHTML writes the review as one printable, self-contained HTML
// page. With charts it draws the segment sizes with them; without (in
// an email, say) it leaves the chart out and the tables carry
// everything.
func (r *ReviewResult) WriteHTML(w io.Writer, charts *Charts) error {
	return reviewHTML.Execute(w, struct {
		R *ReviewResult
		C *Charts
	}{r, charts})
}

// HTMLBody returns the review's content without the page around it, for
// a page that brings its own layout and scripts; its chart is drawn by
// [Charts].Script.
func (r *ReviewResult) HTMLBody() (template.HTML, error) {
	var b bytes.Buffer
	if err := reviewHTML.ExecuteTemplate(&b, "body", r); err != nil {
		return "", fmt.Errorf("rendering the review: %w", err)
	}
	return template.HTML(b.String()), nil // #nosec: produced by html/template
}
