package web

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/segconn/connector/internal/app"
)

// Error is every API error's body.
type Error struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, Error{Error: msg})
}

// fail answers an error from the data layer: 404 for what is not there,
// 500 otherwise (logged without the request's query, which may hold an
// email address).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errNotFound) {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	s.log.Error("web request failed", "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "internal error; see the connector's log")
}

func (s *Server) apiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/status", s.apiStatus)
	mux.HandleFunc("GET /api/v1/segments", s.apiSegments)
	mux.HandleFunc("GET /api/v1/segments/history", s.apiHistory)
	mux.HandleFunc("GET /api/v1/segments/{name}", s.apiSegment)
	mux.HandleFunc("GET /api/v1/segments/{name}/members", s.apiMembers)
	mux.HandleFunc("GET /api/v1/segments/{name}/members.csv", s.apiMembersCSV)
	mux.HandleFunc("GET /api/v1/profiles", s.apiProfiles)
	mux.HandleFunc("GET /api/v1/profiles/{id}", s.apiProfile)
	mux.HandleFunc("GET /api/v1/plans", s.apiPlans)
	mux.HandleFunc("POST /api/v1/plans", s.apiMakePlan)
	mux.HandleFunc("GET /api/v1/plans/{fingerprint}", s.apiPlan)
	mux.HandleFunc("POST /api/v1/plans/{fingerprint}/apply", s.apiApply)
	mux.HandleFunc("GET /api/v1/lift", s.apiLift)
	mux.HandleFunc("GET /api/v1/migrations", s.apiMigration)
	mux.HandleFunc("GET /api/v1/models", s.apiModels)
	mux.HandleFunc("GET /api/v1/glossary", s.apiGlossary)
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint; see /api/v1/openapi.json")
	})
}

func (s *Server) apiStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.status(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) apiSegments(w http.ResponseWriter, r *http.Request) {
	segs, err := s.segments(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, segs)
}

func (s *Server) apiSegment(w http.ResponseWriter, r *http.Request) {
	seg, err := s.segment(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, seg)
}

func (s *Server) apiHistory(w http.ResponseWriter, r *http.Request) {
	h, err := s.history(r.Context(), r.URL.Query()["segment"]...)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}

// paging reads offset and limit (default 50, at most 500).
func paging(r *http.Request) (offset, limit int, ok bool) {
	offset, limit = 0, 50
	q := r.URL.Query()
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, false
		}
		offset = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return 0, 0, false
		}
		limit = n
	}
	return offset, limit, true
}

func (s *Server) apiMembers(w http.ResponseWriter, r *http.Request) {
	offset, limit, ok := paging(r)
	if !ok {
		writeError(w, http.StatusBadRequest, "offset must be 0 or more and limit 1 to 500")
		return
	}
	name := r.PathValue("name")
	if _, err := s.segment(r.Context(), name); err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.members(r.Context(), name, r.URL.Query().Get("q"), offset, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) apiMembersCSV(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, err := s.segment(r.Context(), name); err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.members(r.Context(), name, r.URL.Query().Get("q"), 0, -1)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+csvName(name)+`.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"profile_id", "email", "name", "since", "holdout"})
	for _, m := range page.Items {
		since := ""
		if !m.Since.IsZero() {
			since = m.Since.UTC().Format(time.RFC3339)
		}
		_ = cw.Write([]string{m.ProfileID, csvSafe(m.Email), csvSafe(m.Name), since, strconv.FormatBool(m.Control)})
	}
	cw.Flush()
}

// csvName keeps a file name to letters, digits, dash and underscore.
func csvName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// csvSafe defuses a cell a spreadsheet would run as a formula.
func csvSafe(v string) string {
	if v != "" && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@') {
		return "'" + v
	}
	return v
}

func (s *Server) apiProfiles(w http.ResponseWriter, r *http.Request) {
	hits, err := s.searchProfiles(r.Context(), r.URL.Query().Get("q"), 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, hits)
}

func (s *Server) apiProfile(w http.ResponseWriter, r *http.Request) {
	c, err := s.customer(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) apiPlans(w http.ResponseWriter, r *http.Request) {
	vs, err := s.planViews(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, vs)
}

func (s *Server) apiMakePlan(w http.ResponseWriter, r *http.Request) {
	v, err := s.makePlan(r.Context(), who(r.Context()).Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) apiPlan(w http.ResponseWriter, r *http.Request) {
	v, err := s.findPlan(r.Context(), r.PathValue("fingerprint"))
	if errors.Is(err, errNotFound) {
		writeError(w, http.StatusNotFound, "no such plan; make one with POST /api/v1/plans")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiApply(w http.ResponseWriter, r *http.Request) {
	p := who(r.Context())
	if !p.admin() {
		writeError(w, http.StatusForbidden, "applying a plan needs the admin role")
		return
	}
	m, err := s.findPlan(r.Context(), r.PathValue("fingerprint"))
	if errors.Is(err, errNotFound) {
		writeError(w, http.StatusNotFound, "no such plan; make one with POST /api/v1/plans")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v, err := s.applyPlan(r.Context(), m, p.Name)
	var changed *app.PlanChangedError
	if errors.As(err, &changed) {
		writeError(w, http.StatusConflict, err.Error())
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) apiLift(w http.ResponseWriter, r *http.Request) {
	l, err := s.lift(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, l)
}

// migrationRequest reads definition, from (default 30 days ago) and to
// (default now).
func (s *Server) migrationRequest(r *http.Request) (def string, from, to time.Time, err error) {
	q := r.URL.Query()
	now := s.opts.Now()
	if from, err = parseWhen(q.Get("from"), now.AddDate(0, 0, -30)); err != nil {
		return "", from, to, fmt.Errorf("from: %w", err)
	}
	if to, err = parseWhen(q.Get("to"), now); err != nil {
		return "", from, to, fmt.Errorf("to: %w", err)
	}
	if to.Before(from) {
		return "", from, to, errors.New("to is before from")
	}
	return q.Get("definition"), from, to, nil
}

func (s *Server) apiMigration(w http.ResponseWriter, r *http.Request) {
	def, from, to, err := s.migrationRequest(r)
	if err == nil && def == "" {
		err = errors.New("definition is required, e.g. definition=rfm")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	m, err := s.migration(r.Context(), def, from, to)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}
