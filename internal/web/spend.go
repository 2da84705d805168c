package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

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
}

func (s *Server) spendData(r *http.Request, form spendForm, msg string) (spendData, error) {
	d := spendData{Currency: currency, Error: msg, Form: form}
	if d.Form.Currency == "" {
		d.Form.Currency = currency
	}
	segs, err := s.segments(r.Context())
	if err != nil {
		return d, err
	}
	for _, sg := range segs {
		d.Segments = append(d.Segments, sg.Name)
	}
	entries, err := s.app.Store.SpendEntries(r.Context())
	if err != nil {
		return d, err
	}
	admin := who(r.Context()).admin()
	for _, e := range entries {
		d.Rows = append(d.Rows, spendRow{ID: e.ID, Segment: e.Segment, Note: e.Note, By: e.By, Deletable: admin,
			Amount: domain.FormatMinor(e.AmountMinor, domain.CurrencyExponent(e.Currency)) + " " + e.Currency,
			From:   e.From.Format(time.DateOnly), To: e.To.Format(time.DateOnly)})
	}
	for _, c := range s.app.Config.Spend {
		from, to, _ := c.Period() // validated when the configuration loaded
		d.Rows = append(d.Rows, spendRow{Segment: c.Segment, Amount: c.Amount + " " + c.Currency, Configured: true,
			From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), By: "configuration"})
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
