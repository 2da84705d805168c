package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/internal/report"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// The spend page: campaign spend per segment and period, for the return
// on spend on the lift and review pages. Everyone signed in sees it;
// only admins add or delete entries (the forms carry the session's CSRF
// token like every other form). Entries from the configuration's spend
// section are listed too, read-only.

type spendRow struct {
	ID                    int64
	Segment               string
	Amount                string // "250.00 USD"
	From, To, Note, By    string
	Configured, Deletable bool
}

type spendData struct {
	Rows     []spendRow
	Segments []string
	Currency string
	Error    string
	Form     spendForm
}

type spendForm struct{ Segment, Amount, Currency, From, To, Note string }

func (s *Server) spendRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /spend", s.spendPage)
	mux.HandleFunc("POST /spend", s.addSpend)
	mux.HandleFunc("POST /spend/{id}/delete", s.deleteSpend)
	mux.HandleFunc("GET /api/v1/spend", s.apiSpend)
}

// SpendEntry is one spend entry: entered in the app (Source "app", with
// its id) or in the configuration's spend section (Source
// "configuration", read-only).
type SpendEntry struct {
	ID      int64  `json:"id,omitempty"`
	Segment string `json:"segment"`
	// AmountMinor is the amount in minor units of Currency (25000 for
	// 250.00 USD); Amount is the same as a decimal.
	AmountMinor int64  `json:"amount_minor"`
	Amount      string `json:"amount"`
	Currency    string `json:"currency"`
	// From is the first day, To the day after the last (UTC midnights).
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Note   string    `json:"note,omitempty"`
	By     string    `json:"by"`
	Source string    `json:"source"`
}

// SpendReport is the spend page's entries and the return on them the
// lift page shows: each segment with a holdout and spend, its spend
// against the revenue its members made beyond the holdout's, over
// WindowDays after each person's entry.
type SpendReport struct {
	AsOf       time.Time    `json:"as_of"`
	WindowDays int          `json:"window_days"`
	Entries    []SpendEntry `json:"entries"`
	ROI        []report.ROI `json:"roi"`
	// ROIError says why there is no return on spend (spend in another
	// currency than its segment's revenue); empty when there is one.
	ROIError string `json:"roi_error,omitempty"`
}

// spendEntries lists the spend entered in the app, then the configured.
func (s *Server) spendEntries(ctx context.Context) ([]SpendEntry, error) {
	entered, err := s.app.Store.SpendEntries(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the spend entries: %w", err)
	}
	out := make([]SpendEntry, 0, len(entered)+len(s.app.Config.Spend))
	for _, e := range entered {
		out = append(out, SpendEntry{ID: e.ID, Segment: e.Segment, AmountMinor: e.AmountMinor, Currency: e.Currency,
			Amount: domain.FormatMinor(e.AmountMinor, domain.CurrencyExponent(e.Currency)),
			From:   e.From.UTC(), To: e.To.UTC(), Note: e.Note, By: e.By, Source: "app"})
	}
	for i, c := range s.app.Config.Spend {
		// Both were checked when the configuration loaded.
		from, to, err := c.Period()
		if err != nil {
			return nil, fmt.Errorf("spend[%d]: %w", i, err)
		}
		minor, err := c.Minor()
		if err != nil {
			return nil, fmt.Errorf("spend[%d]: %w", i, err)
		}
		out = append(out, SpendEntry{Segment: c.Segment, AmountMinor: minor, Currency: c.Currency,
			Amount: domain.FormatMinor(minor, domain.CurrencyExponent(c.Currency)),
			From:   from, To: to, By: "configuration", Source: "configuration"})
	}
	return out, nil
}

// spendReturn measures the lift of every segment with a holdout over a
// window of days after entry, as of now, and the return on its spend.
// A spend the ROI cannot use (another currency) is roiErr, not err.
func (s *Server) spendReturn(ctx context.Context, asOf time.Time, days int) (lifts []report.SegmentLift, roi []report.ROI, roiErr, err error) {
	lifts, err = report.Lift(ctx, s.app.Store, report.LiftOptions{AsOf: asOf, Window: time.Duration(days) * 24 * time.Hour, Currency: s.currency()})
	if err != nil {
		return nil, nil, nil, err
	}
	spend, err := report.AllSpend(ctx, s.app.Store, s.app.Config.Spend)
	if err != nil {
		return nil, nil, nil, err
	}
	roi, roiErr = report.SpendROI(spend, lifts, asOf)
	return lifts, roi, roiErr, nil
}

// windowDays reads the days parameter: 1 to 365, 30 by default.
func windowDays(r *http.Request) (int, error) {
	v := r.URL.Query().Get("days")
	if v == "" {
		return 30, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 365 {
		return 0, errors.New("days must be a whole number from 1 to 365")
	}
	return n, nil
}

func (s *Server) apiSpend(w http.ResponseWriter, r *http.Request) {
	days, err := windowDays(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rep := SpendReport{AsOf: s.opts.Now().UTC(), WindowDays: days}
	if rep.Entries, err = s.spendEntries(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	_, roi, roiErr, err := s.spendReturn(r.Context(), rep.AsOf, days)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rep.ROI = roi
	if rep.ROI == nil {
		rep.ROI = []report.ROI{}
	}
	if roiErr != nil {
		rep.ROIError = roiErr.Error()
	}
	writeJSON(w, http.StatusOK, rep)
}

func (s *Server) spendData(r *http.Request, form spendForm, msg string) (spendData, error) {
	d := spendData{Currency: s.currency(), Error: msg, Form: form}
	if d.Form.Currency == "" {
		d.Form.Currency = d.Currency
	}
	segs, err := s.segments(r.Context())
	if err != nil {
		return d, err
	}
	for _, sg := range segs {
		d.Segments = append(d.Segments, sg.Name)
	}
	entries, err := s.spendEntries(r.Context())
	if err != nil {
		return d, err
	}
	admin := who(r.Context()).admin()
	for _, e := range entries {
		configured := e.Source == "configuration"
		d.Rows = append(d.Rows, spendRow{ID: e.ID, Segment: e.Segment, Note: e.Note, By: e.By,
			Configured: configured, Deletable: admin && !configured, Amount: e.Amount + " " + e.Currency,
			From: e.From.Format(time.DateOnly), To: e.To.Format(time.DateOnly)})
	}
	return d, nil
}

func (s *Server) renderSpend(w http.ResponseWriter, r *http.Request, status int, form spendForm, msg string) {
	d, err := s.spendData(r, form, msg)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, status, "spend", "Spend", d)
}

func (s *Server) spendPage(w http.ResponseWriter, r *http.Request) {
	s.renderSpend(w, r, http.StatusOK, spendForm{}, "")
}

func (s *Server) addSpend(w http.ResponseWriter, r *http.Request) {
	p := who(r.Context())
	f := spendForm{Segment: r.PostFormValue("segment"), Amount: strings.TrimSpace(r.PostFormValue("amount")),
		Currency: strings.ToUpper(strings.TrimSpace(r.PostFormValue("currency"))), From: r.PostFormValue("from"),
		To: r.PostFormValue("to"), Note: strings.TrimSpace(r.PostFormValue("note"))}
	if !p.admin() {
		s.renderSpend(w, r, http.StatusForbidden, f, "Entering spend needs the admin role.")
		return
	}
	e, err := s.parseSpend(r, f)
	if err != nil {
		s.renderSpend(w, r, http.StatusBadRequest, f, err.Error())
		return
	}
	e.By = p.Name
	if _, err := s.app.Store.AddSpend(r.Context(), e); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.log.Info("spend entered", "segment", e.Segment, "by", p.Name)
	http.Redirect(w, r, "/spend", http.StatusSeeOther)
}

func (s *Server) parseSpend(r *http.Request, f spendForm) (store.Spend, error) {
	if _, err := s.segment(r.Context(), f.Segment); err != nil {
		return store.Spend{}, fmt.Errorf("no segment %q", f.Segment)
	}
	m, err := domain.ParseMoney(f.Amount, f.Currency)
	if err != nil || m.Amount <= 0 {
		return store.Spend{}, errors.New("the amount must be a positive decimal (250.00) and the currency a three-letter code (USD)")
	}
	from, err1 := time.Parse(time.DateOnly, f.From)
	to, err2 := time.Parse(time.DateOnly, f.To)
	if err1 != nil || err2 != nil || !from.Before(to) {
		return store.Spend{}, errors.New("from and to must be dates, from before to (to is the day after the last)")
	}
	if len(f.Note) > 200 {
		return store.Spend{}, errors.New("the note is longer than 200 characters")
	}
	return store.Spend{Segment: f.Segment, AmountMinor: m.Amount, Currency: m.Currency, From: from, To: to, Note: f.Note}, nil
}

func (s *Server) deleteSpend(w http.ResponseWriter, r *http.Request) {
	if !who(r.Context()).admin() {
		s.renderSpend(w, r, http.StatusForbidden, spendForm{}, "Deleting spend needs the admin role.")
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.pageError(w, r, fmt.Errorf("spend %q: %w", r.PathValue("id"), errNotFound))
		return
	}
	if err := s.app.Store.DeleteSpend(r.Context(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = fmt.Errorf("spend %d: %w", id, errNotFound)
		}
		s.pageError(w, r, err)
		return
	}
	s.log.Info("spend deleted", "id", id, "by", who(r.Context()).Name)
	http.Redirect(w, r, "/spend", http.StatusSeeOther)
}
