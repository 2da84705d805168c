package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/health"
	"github.com/segconn/connector/plugins/sdk/domain"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static") // the directory is embedded above
	fsrv := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}

// pages holds one parsed template per page, each with the layout.
type pages struct {
	t map[string]*template.Template
}

var funcs = template.FuncMap{
	"money": func(amount float64, cur string) template.HTML {
		return template.HTML(fmt.Sprintf(`<span class="money" data-money="%g" data-currency="%s">%s %.2f</span>`,
			amount, template.HTMLEscapeString(cur), template.HTMLEscapeString(cur), amount))
	},
	"minor": func(m domain.Money) template.HTML {
		amount := float64(m.Amount) / math.Pow10(domain.CurrencyExponent(m.Currency))
		return template.HTML(fmt.Sprintf(`<span class="money" data-money="%g" data-currency="%s">%s %.2f</span>`,
			amount, template.HTMLEscapeString(m.Currency), template.HTMLEscapeString(m.Currency), amount))
	},
	"when": func(t time.Time) template.HTML {
		if t.IsZero() {
			return "—"
		}
		s := t.UTC().Format(time.RFC3339)
		return template.HTML(`<time datetime="` + s + `">` + t.UTC().Format("2006-01-02 15:04 UTC") + `</time>`)
	},
	"pct": func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
	"num": func(n int) template.HTML {
		return template.HTML(fmt.Sprintf(`<span class="num" data-num="%d">%d</span>`, n, n))
	},
	"path":  url.PathEscape,
	"query": url.QueryEscape,
	"bar": func(n, total int) string {
		if total <= 0 {
			return "0"
		}
		return fmt.Sprintf("%.1f", 100*float64(n)/float64(total))
	},
	"add":       func(a, b int) int { return a + b },
	"list":      func(v ...string) []string { return v },
	"moverLink": moverLink,
	"recent": func(hs []health.Status) bool {
		for _, h := range hs {
			if len(h.Recent) > 0 {
				return true
			}
		}
		return false
	},
	"took": func(from, to time.Time) string { return to.Sub(from).Round(time.Millisecond).String() },
}

func loadPages() (*pages, error) {
	p := &pages{t: map[string]*template.Template{}}
	for _, name := range []string{"login", "overview", "segment", "customers", "customer", "platforms", "plans", "plan", "error", "migrations", "models", "runs", "movers", "builder", "lift", "review", "spend"} {
		t, err := template.New("layout.html").Funcs(funcs).Funcs(earnFuncs()).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parsing the %s page: %w", name, err)
		}
		p.t[name] = t
	}
	return p, nil
}

// view is what every page gets.
type view struct {
	Title string
	Nav   string
	User  *principal
	Data  any
	Flash string
	// Glossary defines the KPIs by key, for the labels' tooltips.
	Glossary map[string]string
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) {
	var buf bytes.Buffer
	v := view{Title: title, Nav: page, User: who(r.Context()), Data: data, Glossary: s.glossaryMap()}
	if err := s.pages.t[page].Execute(&buf, v); err != nil {
		s.log.Error("rendering a page", "page", page, "err", err)
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong; the connector's log says what."
	if errors.Is(err, errNotFound) {
		status, msg = http.StatusNotFound, "Not found: "+err.Error()
	} else {
		s.log.Error("web page failed", "path", r.URL.Path, "err", err)
	}
	s.render(w, r, status, "error", "Error", msg)
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, http.StatusOK, "")
	_ = r
}

func (s *Server) renderLogin(w http.ResponseWriter, status int, msg string) {
	var buf bytes.Buffer
	if err := s.pages.t["login"].Execute(&buf, view{Title: "Sign in", Nav: "login", Flash: msg}); err != nil {
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) pageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.overviewPage)
	mux.HandleFunc("GET /segments/{name}", s.segmentPage)
	mux.HandleFunc("GET /customers", s.customersPage)
	mux.HandleFunc("GET /customers/{id}", s.customerPage)
	mux.HandleFunc("GET /platforms", s.platformsPage)
	mux.HandleFunc("GET /migrations", s.migrationsPage)
	mux.HandleFunc("GET /models", s.modelsPage)
	mux.HandleFunc("GET /plans", s.plansPage)
	mux.HandleFunc("POST /plans", s.makePlanForm)
	mux.HandleFunc("GET /plans/{fingerprint}", s.planPage)
	mux.HandleFunc("POST /plans/{fingerprint}/apply", s.applyForm)
}

type overviewData struct {
	Status   Status
	Segments []Segment
	Total    int
}

func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request) {
	st, err := s.status(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	segs, err := s.segments(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "overview", "Overview", overviewData{Status: st, Segments: segs, Total: st.Profiles})
}

type segmentData struct {
	Segment  Segment
	Members  MembersPage
	Q        string
	Total    int
	Currency string
	Next     int
	Prev     int
}

func (s *Server) segmentPage(w http.ResponseWriter, r *http.Request) {
	seg, err := s.segment(r.Context(), r.PathValue("name"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	offset, limit, ok := paging(r)
	if !ok {
		offset, limit = 0, 50
	}
	q := r.URL.Query().Get("q")
	page, err := s.members(r.Context(), seg.Name, q, offset, limit)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	n, _ := s.app.Store.CountProfiles(r.Context())
	d := segmentData{Segment: seg, Members: page, Q: q, Total: n, Currency: s.currency(), Prev: -1, Next: -1}
	if offset > 0 {
		d.Prev = max(0, offset-limit)
	}
	if offset+limit < page.Total {
		d.Next = offset + limit
	}
	s.render(w, r, http.StatusOK, "segment", seg.Name, d)
}

type customersData struct {
	Q    string
	Hits []ProfileHit
}

func (s *Server) customersPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	hits, err := s.searchProfiles(r.Context(), q, 50)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if len(hits) == 1 && strings.Contains(q, "@") {
		http.Redirect(w, r, "/customers/"+url.PathEscape(hits[0].ID), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "customers", "Customers", customersData{Q: q, Hits: hits})
}

type customerData struct {
	Customer
	Name    string
	Sources []fieldSource
}

type fieldSource struct{ Field, Value, Source string }

func (s *Server) customerPage(w http.ResponseWriter, r *http.Request) {
	c, err := s.customer(r.Context(), r.PathValue("id"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	p := c.Profile
	d := customerData{Customer: c, Name: fullName(p)}
	if d.Name == "" {
		d.Name = p.PrimaryEmail()
	}
	vals := map[string]string{"email": p.PrimaryEmail(), "first_name": p.FirstName, "last_name": p.LastName,
		"phone": strings.Join(p.Phones, ", "), "lifecycle_stage": p.LifecycleStage, "gender": p.Gender, "birth_date": p.BirthDate}
	if p.Company != nil {
		vals["company"] = p.Company.Name
	}
	for k, v := range p.Attributes {
		vals[k] = v
	}
	for _, k := range sortedKeys(vals) {
		if vals[k] != "" || p.Sources[k] != "" {
			d.Sources = append(d.Sources, fieldSource{Field: k, Value: vals[k], Source: p.Sources[k]})
		}
	}
	s.render(w, r, http.StatusOK, "customer", d.Name, d)
}

func (s *Server) platformsPage(w http.ResponseWriter, r *http.Request) {
	s.renderPlatforms(w, r, http.StatusOK, "")
}

func (s *Server) plansPage(w http.ResponseWriter, r *http.Request) {
	vs, err := s.planViews(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "plans", "Plans", vs)
}

func (s *Server) makePlanForm(w http.ResponseWriter, r *http.Request) {
	v, err := s.makePlan(r.Context(), who(r.Context()).Name)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	http.Redirect(w, r, "/plans/"+url.PathEscape(v.Fingerprint), http.StatusSeeOther)
}

type planData struct {
	Plan  PlanView
	Error string
}

func (s *Server) planPage(w http.ResponseWriter, r *http.Request) {
	m, err := s.findPlan(r.Context(), r.PathValue("fingerprint"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "plan", "Plan", planData{Plan: m})
}

func (s *Server) applyForm(w http.ResponseWriter, r *http.Request) {
	p := who(r.Context())
	m, err := s.findPlan(r.Context(), r.PathValue("fingerprint"))
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if !p.admin() {
		s.render(w, r, http.StatusForbidden, "plan", "Plan", planData{Plan: m, Error: "Applying a plan needs the admin role."})
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		s.render(w, r, http.StatusBadRequest, "plan", "Plan", planData{Plan: m, Error: "Tick the confirmation to apply."})
		return
	}
	v, err := s.applyPlan(r.Context(), m, p.Name)
	var changed *app.PlanChangedError
	if errors.As(err, &changed) {
		s.render(w, r, http.StatusConflict, "plan", "Plan", planData{Plan: m, Error: "The data changed since this plan was made; make a new plan."})
		return
	}
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "plan", "Plan", planData{Plan: v})
}

type migrationData struct {
	Definitions []string
	Definition  string
	From, To    string
	Error       string
	Migration   *Migration
}

func (s *Server) migrationsPage(w http.ResponseWriter, r *http.Request) {
	defs, err := s.definitions(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := migrationData{Definitions: defs}
	def, from, to, err := s.migrationRequest(r)
	if def == "" && len(defs) > 0 {
		def = defs[0]
	}
	d.Definition, d.From, d.To = def, from.UTC().Format(time.DateOnly), to.UTC().Format(time.DateOnly)
	if err != nil {
		d.Error = err.Error()
		s.render(w, r, http.StatusBadRequest, "migrations", "Migrations", d)
		return
	}
	m, err := s.migration(r.Context(), def, from, to)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d.Migration = &m
	s.render(w, r, http.StatusOK, "migrations", "Migrations", d)
}
