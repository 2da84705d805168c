package report

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/segconn/connector/domain"
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
	_, err := io.WriteString(w, b.String())
	return err
}

var reviewHTML = template.Must(template.New("review").Funcs(template.FuncMap{
	"label": Label, "flow": FlowText,
	"money": money,
	"day":   func(t time.Time) string { return t.Format(time.DateOnly) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Segment review {{day .From}} to {{day .To}}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%}th,td{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;text-align:right}
th:first-child,td:first-child{text-align:left}li{margin:.3rem 0}.act{font-weight:600}
@media print{body{margin:0;max-width:none}h2{break-before:auto}table{break-inside:avoid}}
</style></head><body>
<h1>Segment review, {{day .From}} to {{day .To}}</h1>
<p>{{.Profiles}} profiles. Money in {{.Currency}}.</p>
<h2>What to do</h2>
{{if not .Findings}}<p>Nothing stands out this period.</p>{{end}}
<ul>{{range .Findings}}<li><span class="act">{{.Action}}</span> {{.Text}}</li>{{end}}</ul>
<h2>Segments</h2>
<table><tr><th>segment</th><th>people at start</th><th>people at end</th><th>entered</th><th>left</th><th>revenue per member</th><th>previous period</th></tr>
{{range .Segments}}<tr><td>{{label .Segment}}</td><td>{{.SizeFrom}}</td><td>{{.SizeTo}}</td><td>{{.Entered}}</td><td>{{.Left}}</td><td>{{money .RevenuePerMember $.Currency}}</td><td>{{money .RevenuePerMemberPrev $.Currency}}</td></tr>
{{end}}</table>
<h2>Largest moves</h2><ul>{{range .Flows}}<li>{{flow .}}</li>{{end}}</ul>
{{range .Matrices}}<h3>Migration: {{.Definition}} (rows: start, columns: end)</h3>
<table><tr><th>from \ to</th>{{range .Labels}}<th>{{label .}}</th>{{end}}</tr>
{{$mx := .}}{{range $i, $l := .Labels}}<tr><td>{{label $l}}</td>{{range index $mx.Counts $i}}<td>{{.}}</td>{{end}}</tr>{{end}}</table>
{{end}}
{{if .Lift}}<h2>Lift over the holdouts</h2><ul>{{range .Lift}}<li>{{label .Segment}}: {{.Result.Verdict.Text}}</li>{{end}}</ul>{{end}}
</body></html>
`))

// WriteHTML writes the review as one printable HTML page.
func (r *ReviewResult) WriteHTML(w io.Writer) error { return reviewHTML.Execute(w, r) }
