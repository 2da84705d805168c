package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/segconn/connector/internal/store"
)

// opsRoutes registers the run history, the write-back failures and the
// outbound deliveries (see ops.go).
func (s *Server) opsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/runs", s.apiRuns)
	mux.HandleFunc("GET /runs", s.runsPage)
	s.failureRoutes(mux)
	s.flowRoutes(mux)
	s.builderRoutes(mux)
}

// runFilter reads kind, before and limit (1 to 500, default 50).
func runFilter(r *http.Request) (store.RunFilter, bool) {
	q := r.URL.Query()
	f := store.RunFilter{Kind: q.Get("kind"), Limit: 50}
	switch f.Kind {
	case "", store.RunSync, store.RunPlan, store.RunApply, store.RunCycle, store.RunResegment:
	default:
		return f, false
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return f, false
		}
		f.BeforeID = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return f, false
		}
		f.Limit = n
	}
	return f, true
}

func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request) {
	f, ok := runFilter(r)
	if !ok {
		writeError(w, http.StatusBadRequest, "kind must be sync, plan, apply, cycle or resegment; before a run id; limit 1 to 500")
		return
	}
	runs, err := s.app.Runs(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, runs)
}

type runsData struct {
	Kind string
	Runs []store.Run
	Next int64
}

func (s *Server) runsPage(w http.ResponseWriter, r *http.Request) {
	f, ok := runFilter(r)
	if !ok {
		f = store.RunFilter{Limit: 50}
	}
	runs, err := s.app.Runs(r.Context(), f)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := runsData{Kind: f.Kind, Runs: runs}
	if len(runs) == f.Limit {
		d.Next = runs[len(runs)-1].ID
	}
	s.render(w, r, http.StatusOK, "runs", "Runs", d)
}

// lastRun is the newest run of the history, or nil.
func (s *Server) lastRun(ctx context.Context) *store.Run {
	runs, err := s.app.Runs(ctx, store.RunFilter{Limit: 1})
	if err != nil || len(runs) == 0 {
		if err != nil {
			s.log.Warn("reading the last run", "err", err)
		}
		return nil
	}
	return &runs[0]
}
