package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/segconn/connector/internal/health"
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

// fillFromRuns gives a platform whose last pull or push this process has
// not seen (it started since) the time of the newest run that did one,
// from the run history: a sync naming it or a full cycle, without an
// error naming it; an apply or a cycle that wrote something, for pushes.
func (s *Server) fillFromRuns(ctx context.Context, hs []health.Status) {
	missing := false
	for _, h := range hs {
		missing = missing || h.LastPull.IsZero() || h.LastPush.IsZero()
	}
	if !missing {
		return
	}
	runs, err := s.app.Runs(ctx, store.RunFilter{Limit: 200})
	if err != nil {
		s.log.Warn("reading the run history", "err", err)
		return
	}
	for i := range hs {
		h := &hs[i]
		failed := func(r store.Run) bool {
			return strings.Contains(r.Error, h.Platform+":") || (r.Kind == store.RunSync && r.Error != "")
		}
		for _, r := range runs { // newest first
			if r.FinishedAt.IsZero() || failed(r) {
				continue
			}
			names := strings.Split(r.Platforms, ",")
			if h.LastPull.IsZero() && (r.Kind == store.RunCycle || (r.Kind == store.RunSync && slices.Contains(names, h.Platform))) {
				h.LastPull = r.FinishedAt
			}
			if h.LastPush.IsZero() && (r.Kind == store.RunCycle || r.Kind == store.RunApply) && r.Counts["written"] > 0 {
				h.LastPush = r.FinishedAt
			}
		}
	}
}
