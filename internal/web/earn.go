package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/segconn/connector/core/lift"
	"github.com/segconn/connector/internal/export"
	"github.com/segconn/connector/internal/report"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// What segmentation earns: the lift page, the review page and its API,
// and one segment's export.

// ReviewCharts returns the scripts the printable review draws its chart
// with: the embedded uPlot build and the review's own script, the same
// ones the review page loads.
func ReviewCharts() (*report.Charts, error) {
	read := func(name string) ([]byte, error) {
		b, err := fs.ReadFile(staticFS, "static/"+name)
		if err != nil {
			return nil, fmt.Errorf("reading the embedded %s: %w", name, err)
		}
		return b, nil
	}
	js, err := read("uplot/uPlot.iife.min.js")
	if err != nil {
		return nil, err
	}
	css, err := read("uplot/uPlot.min.css")
	if err != nil {
		return nil, err
	}
	script, err := read("review.js")
	if err != nil {
		return nil, err
	}
	return &report.Charts{UPlotJS: js, UPlotCSS: css, Script: script}, nil
}

func (s *Server) earnRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /lift", s.liftPage)
	mux.HandleFunc("GET /review", s.reviewPage)
	mux.HandleFunc("GET /api/v1/review", s.apiReview)
	mux.HandleFunc("GET /api/v1/segments/{name}/export", s.apiSegmentExport)
	s.spendRoutes(mux)
}

// reviewRequest reads from and to: dates (the first day, and the day
// after the last; UTC midnight) or RFC 3339 times. Without them it is the
// last whole quarter.
func (s *Server) reviewRequest(r *http.Request) (from, to time.Time, err error) {
	from, to, _ = report.LastPeriod(report.Quarterly, s.opts.Now())
	q := r.URL.Query()
	if from, err = parseDayOrTime(q.Get("from"), from); err != nil {
		return from, to, fmt.Errorf("from: %w", err)
	}
	if to, err = parseDayOrTime(q.Get("to"), to); err != nil {
		return from, to, fmt.Errorf("to: %w", err)
	}
	if !from.Before(to) {
		return from, to, errors.New("from must be before to")
	}
	if to.Sub(from) > 3*366*24*time.Hour {
		return from, to, errors.New("the period is longer than three years")
	}
	return from, to, nil
}

// parseDayOrTime reads a date (its start, UTC) or an RFC 3339 time.
func parseDayOrTime(v string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (YYYY-MM-DD) nor an RFC 3339 time", v)
	}
	return t, nil
}

func (s *Server) review(r *http.Request, from, to time.Time) (*report.ReviewResult, error) {
	spend, err := report.AllSpend(r.Context(), s.app.Store, s.app.Config.Spend)
	if err != nil {
		return nil, err
	}
	return report.Review(r.Context(), s.app.Store, report.ReviewOptions{From: from, To: to, Seed: 1, Spend: spend})
}

func (s *Server) apiReview(w http.ResponseWriter, r *http.Request) {
	from, to, err := s.reviewRequest(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := s.review(r, from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

type reviewData struct {
	From, To string // the form's dates: the first day and the last day
	Error    string
	Body     template.HTML
	Print    string // the printable review's query
}

func (s *Server) reviewPage(w http.ResponseWriter, r *http.Request) {
	from, to, err := s.reviewRequest(r)
	d := reviewData{From: from.UTC().Format(time.DateOnly), To: to.UTC().Format(time.DateOnly)}
	if err != nil {
		d.Error = err.Error()
		s.render(w, r, http.StatusBadRequest, "review", "Review", d)
		return
	}
	res, err := s.review(r, from, to)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if r.URL.Query().Get("format") == "html" {
		// The printable, self-contained page, as `connector report review
		// --format html` writes it: its scripts are inline, so it is
		// served as a download rather than under the app's policy.
		charts, err := ReviewCharts()
		if err == nil {
			var b bytes.Buffer
			if err = res.WriteHTML(&b, charts); err == nil {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.Header().Set("Content-Disposition", `attachment; filename="review-`+d.From+`-to-`+d.To+`.html"`)
				w.Header().Set("Cache-Control", "no-store")
				_, _ = w.Write(b.Bytes())
				return
			}
		}
		s.pageError(w, r, err)
		return
	}
	if d.Body, err = res.HTMLBody(); err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Print = "from=" + d.From + "&to=" + d.To + "&format=html"
	s.render(w, r, http.StatusOK, "review", "Review", d)
}

type liftData struct {
	Days  int
	AsOf  time.Time
	Lifts []report.SegmentLift
	ROI   []report.ROI
	Error string
}

func (s *Server) liftPage(w http.ResponseWriter, r *http.Request) {
	d := liftData{Days: 30, AsOf: s.opts.Now()}
	days, err := windowDays(r)
	if err != nil {
		d.Error = err.Error()
		s.render(w, r, http.StatusBadRequest, "lift", "Lift", d)
		return
	}
	d.Days = days
	lifts, roi, roiErr, err := s.spendReturn(r.Context(), d.AsOf, d.Days)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Lifts, d.ROI = lifts, roi
	if roiErr != nil {
		d.Error = "Return on spend: " + roiErr.Error()
	}
	s.render(w, r, http.StatusOK, "lift", "Lift", d)
}

// apiSegmentExport streams one table of one segment's export. Viewers
// may use it: it holds what the members list and the profiles API
// already show them.
func (s *Server) apiSegmentExport(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, err := s.segment(r.Context(), name); err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	format, table := q.Get("format"), q.Get("table")
	if format == "" {
		format = export.Parquet
	}
	if table == "" {
		table = "profiles"
	}
	since, err := parseDayOrTime(q.Get("since"), time.Time{})
	switch {
	case err != nil:
		writeError(w, http.StatusBadRequest, "since: "+err.Error())
		return
	case format != export.CSV && format != export.Parquet:
		writeError(w, http.StatusBadRequest, "format must be csv or parquet")
		return
	case !validTable(table):
		writeError(w, http.StatusBadRequest, "table must be profiles, orders, memberships or membership_history")
		return
	}
	var b bytes.Buffer // whole, so a failure is an error answer, not half a file
	n, err := export.WriteTable(r.Context(), s.app.Store, &b, table, format, since, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctype := "application/vnd.apache.parquet"
	if format == export.CSV {
		ctype = "text/csv; charset=utf-8"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+csvName(name)+"-"+table+"."+format+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Export-Rows", strconv.Itoa(n))
	_, _ = w.Write(b.Bytes())
}

func validTable(t string) bool {
	for _, x := range export.Tables() {
		if x == t {
			return true
		}
	}
	return false
}

// earnFuncs format lift figures on the lift page.
func earnFuncs() template.FuncMap {
	nan := func(f float64) bool { return f != f }
	minor := func(v float64, cur string) string {
		if nan(v) {
			return "–"
		}
		return domain.FormatMinor(int64(math.Round(v)), domain.CurrencyExponent(cur)) + " " + cur
	}
	return template.FuncMap{
		"liftPoints": func(l lift.Lift) string {
			if nan(float64(l.AbsoluteCI.Low)) {
				return fmt.Sprintf("%+.1f", 100*float64(l.Absolute))
			}
			return fmt.Sprintf("%+.1f (%+.1f to %+.1f)", 100*float64(l.Absolute), 100*float64(l.AbsoluteCI.Low), 100*float64(l.AbsoluteCI.High))
		},
		"liftMoney": func(l lift.Lift, cur string) string {
			s := minor(float64(l.Absolute), cur)
			if !nan(float64(l.AbsoluteCI.Low)) {
				s += " (" + minor(float64(l.AbsoluteCI.Low), cur) + " to " + minor(float64(l.AbsoluteCI.High), cur) + ")"
			}
			return s
		},
		"minorMoney": func(v any, cur string) string {
			switch v := v.(type) {
			case int64:
				return minor(float64(v), cur)
			case lift.Num:
				return minor(float64(v), cur)
			}
			return "–"
		},
		"liftPct": func(n lift.Num) string {
			if nan(float64(n)) {
				return "–"
			}
			return fmt.Sprintf("%.0f%%", 100*float64(n))
		},
	}
}
