package web

import (
	"errors"
	"net/http"
	"net/url"
)

// flowRoutes registers the people behind a migration's flows.
func (s *Server) flowRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/migrations/people", s.apiMovers)
	mux.HandleFunc("GET /migrations/people", s.moversPage)
}

// moversRequest reads a migration request plus source, target and paging.
func (s *Server) moversRequest(r *http.Request) (def, source, target string, m Movers, offset, limit int, err error) {
	def, from, to, err := s.migrationRequest(r)
	if err == nil && def == "" {
		err = errors.New("definition is required, e.g. definition=rfm")
	}
	var ok bool
	if offset, limit, ok = paging(r); !ok && err == nil {
		err = errors.New("offset must be 0 or more and limit 1 to 500")
	}
	q := r.URL.Query()
	return def, q.Get("source"), q.Get("target"), Movers{From: from, To: to}, offset, limit, err
}

func (s *Server) apiMovers(w http.ResponseWriter, r *http.Request) {
	def, source, target, m, offset, limit, err := s.moversRequest(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out, err := s.movers(r.Context(), def, m.From, m.To, source, target, offset, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

type moversData struct {
	Movers
	Query      string // definition, from, to, source and target, for paging links
	Next, Prev int
}

func (s *Server) moversPage(w http.ResponseWriter, r *http.Request) {
	def, source, target, m, offset, limit, err := s.moversRequest(r)
	if err != nil {
		s.render(w, r, http.StatusBadRequest, "error", "Error", err.Error())
		return
	}
	out, err := s.movers(r.Context(), def, m.From, m.To, source, target, offset, limit)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	q := url.Values{"definition": {def}, "from": {r.URL.Query().Get("from")}, "to": {r.URL.Query().Get("to")}, "source": {source}, "target": {target}}
	d := moversData{Movers: out, Query: q.Encode(), Prev: -1, Next: -1}
	if offset > 0 {
		d.Prev = max(0, offset-limit)
	}
	if offset+limit < out.Total {
		d.Next = offset + limit
	}
	s.render(w, r, http.StatusOK, "movers", "Who moved", d)
}

// moverLink is the people page of one flow (a matrix cell).
func moverLink(def, from, to, source, target string) string {
	return "/migrations/people?" + url.Values{"definition": {def}, "from": {from}, "to": {to}, "source": {source}, "target": {target}}.Encode()
}
