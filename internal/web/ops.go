package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/health"
	"github.com/segconn/connector/internal/outbound"
)

func (s *Server) failureRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/platforms", s.apiPlatforms)
	mux.HandleFunc("GET /api/v1/writeback/failed", s.apiFailedWriteback)
	mux.HandleFunc("POST /api/v1/writeback/retry", s.apiRetryWriteback)
	mux.HandleFunc("GET /api/v1/deliveries", s.apiDeliveries)
	mux.HandleFunc("POST /api/v1/deliveries/retry", s.apiRetryDeliveries)
	mux.HandleFunc("POST /platforms/writeback/retry", s.retryWritebackForm)
	mux.HandleFunc("POST /platforms/deliveries/retry", s.retryDeliveriesForm)
}

// OutboundDelivery is one outbound webhook delivery as the API shows it:
// the endpoint without its query string or user info, the event's type,
// segment and profile, never its payload (which may hold an email).
type OutboundDelivery struct {
	ID            int64     `json:"id"`
	Endpoint      string    `json:"endpoint"`
	EventType     string    `json:"event_type"`
	Segment       string    `json:"segment"`
	ProfileID     string    `json:"profile_id"`
	Status        string    `json:"status"`
	Attempts      int       `json:"attempts"`
	CreatedAt     time.Time `json:"created_at"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	LastAttemptAt time.Time `json:"last_attempt_at,omitzero"`
	LastError     string    `json:"last_error,omitempty"`
}

// RetryRequest names what to retry: the ids, or all.
type RetryRequest struct {
	IDs []int64 `json:"ids"`
	All bool    `json:"all"`
}

// DeliveriesRetried says how many dead letters went back to pending.
type DeliveriesRetried struct {
	Requeued int `json:"requeued"`
}

func limitParam(r *http.Request, def int) (int, bool) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, false
	}
	return n, true
}

func (s *Server) failedWriteback(ctx context.Context, platform string, limit int) ([]app.ParkedWrite, error) {
	out, err := s.app.FailedWriteback(ctx, platform, limit)
	if out == nil {
		out = []app.ParkedWrite{}
	}
	return out, err
}

func (s *Server) apiFailedWriteback(w http.ResponseWriter, r *http.Request) {
	limit, ok := limitParam(r, 100)
	if !ok {
		writeError(w, http.StatusBadRequest, "limit must be 1 to 1000")
		return
	}
	out, err := s.failedWriteback(r.Context(), r.URL.Query().Get("platform"), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// deliveries lists outbound deliveries by status: open (pending, then
// dead), pending, dead or delivered.
func (s *Server) deliveries(ctx context.Context, status string, limit int) ([]OutboundDelivery, error) {
	q := outbound.NewStoreQueue(s.app.Store)
	var ds []outbound.Delivery
	switch status {
	case "open", "":
		pending, err := q.List(ctx, outbound.ListFilter{Status: outbound.StatusPending, Limit: limit})
		if err != nil {
			return nil, fmt.Errorf("listing pending deliveries: %w", err)
		}
		dead, err := q.List(ctx, outbound.ListFilter{Status: outbound.StatusDead, Limit: limit})
		if err != nil {
			return nil, fmt.Errorf("listing dead-lettered deliveries: %w", err)
		}
		ds = append(pending, dead...)
	default:
		var err error
		if ds, err = q.List(ctx, outbound.ListFilter{Status: outbound.Status(status), Limit: limit}); err != nil {
			return nil, fmt.Errorf("listing deliveries: %w", err)
		}
	}
	out := make([]OutboundDelivery, 0, len(ds))
	for _, d := range ds {
		out = append(out, OutboundDelivery{ID: d.ID, Endpoint: outbound.DisplayURL(d.Endpoint), EventType: d.Event.Type,
			Segment: d.Event.Segment, ProfileID: d.Event.ProfileID, Status: string(d.Status), Attempts: d.Attempts,
			CreatedAt: d.CreatedAt, NextAttemptAt: d.NextAttemptAt, LastAttemptAt: d.LastAttemptAt, LastError: d.LastError})
	}
	return out, nil
}

func (s *Server) apiDeliveries(w http.ResponseWriter, r *http.Request) {
	limit, ok := limitParam(r, 100)
	status := r.URL.Query().Get("status")
	switch status {
	case "", "open", "pending", "dead", "delivered":
	default:
		ok = false
	}
	if !ok {
		writeError(w, http.StatusBadRequest, "status must be open, pending, dead or delivered; limit 1 to 1000")
		return
	}
	out, err := s.deliveries(r.Context(), status, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// readRetry reads a retry request from a JSON body.
func readRetry(w http.ResponseWriter, r *http.Request) (RetryRequest, error) {
	var req RetryRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("the body must be {\"ids\": [...]} or {\"all\": true}: %w", err)
	}
	if !req.All && len(req.IDs) == 0 {
		return req, errors.New("name the ids to retry, or send \"all\": true")
	}
	return req, nil
}

func (s *Server) apiRetryWriteback(w http.ResponseWriter, r *http.Request) {
	p := who(r.Context())
	if !p.admin() {
		writeError(w, http.StatusForbidden, "retrying write-back needs the admin role")
		return
	}
	req, err := readRetry(w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rep, err := s.app.RetryWriteback(r.Context(), req.IDs, req.All)
	if err != nil {
		// The one error naming input is an unknown id.
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.log.Info("write-back retried", "by", p.Name, "requeued", rep.Requeued, "superseded", rep.Superseded)
	writeJSON(w, http.StatusOK, rep)
}

func (s *Server) retryDeliveries(ctx context.Context, req RetryRequest) (int, error) {
	ids := req.IDs
	if req.All {
		ids = nil // every dead letter
	}
	return outbound.NewStoreQueue(s.app.Store).Requeue(ctx, ids, s.opts.Now())
}

func (s *Server) apiRetryDeliveries(w http.ResponseWriter, r *http.Request) {
	p := who(r.Context())
	if !p.admin() {
		writeError(w, http.StatusForbidden, "retrying deliveries needs the admin role")
		return
	}
	req, err := readRetry(w, r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	n, err := s.retryDeliveries(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("outbound deliveries retried", "by", p.Name, "requeued", n)
	writeJSON(w, http.StatusOK, DeliveriesRetried{Requeued: n})
}

// formRetry reads a retry form: all=yes, or one or more id fields.
func formRetry(r *http.Request) (RetryRequest, error) {
	if err := r.ParseForm(); err != nil {
		return RetryRequest{}, err
	}
	req := RetryRequest{All: r.PostForm.Get("all") == "yes"}
	for _, v := range r.PostForm["id"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return req, fmt.Errorf("id %q is not a number", v)
		}
		req.IDs = append(req.IDs, id)
	}
	if !req.All && len(req.IDs) == 0 {
		return req, errors.New("nothing to retry was named")
	}
	return req, nil
}

func (s *Server) retryWritebackForm(w http.ResponseWriter, r *http.Request) {
	p := who(r.Context())
	req, err := formRetry(r)
	flash := ""
	status := http.StatusOK
	switch {
	case !p.admin():
		status, flash = http.StatusForbidden, "Retrying write-back needs the admin role."
	case err != nil:
		status, flash = http.StatusBadRequest, err.Error()
	default:
		rep, err := s.app.RetryWriteback(r.Context(), req.IDs, req.All)
		if err != nil {
			status, flash = http.StatusBadRequest, err.Error()
		} else {
			s.log.Info("write-back retried", "by", p.Name, "requeued", rep.Requeued)
			flash = fmt.Sprintf("Requeued %d write-back items; %d were settled by a newer write of their record.", rep.Requeued, rep.Superseded)
		}
	}
	s.renderPlatforms(w, r, status, flash)
}

func (s *Server) retryDeliveriesForm(w http.ResponseWriter, r *http.Request) {
	p := who(r.Context())
	req, err := formRetry(r)
	flash := ""
	status := http.StatusOK
	switch {
	case !p.admin():
		status, flash = http.StatusForbidden, "Retrying deliveries needs the admin role."
	case err != nil:
		status, flash = http.StatusBadRequest, err.Error()
	default:
		n, err := s.retryDeliveries(r.Context(), req)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		s.log.Info("outbound deliveries retried", "by", p.Name, "requeued", n)
		flash = fmt.Sprintf("Re-queued %d dead-lettered deliveries.", n)
	}
	s.renderPlatforms(w, r, status, flash)
}

// PlatformQuota is a platform's daily request budget and what this
// process used of it today.
type PlatformQuota struct {
	Platform string `json:"platform"`
	// Limit is the daily budget (0 when unknown or unlimited).
	Limit int `json:"limit"`
	// Remaining is what the platform last said is left (-1 when unknown).
	Remaining int `json:"remaining"`
	// Used is the budget used today: Limit - Remaining when the platform
	// says, else the requests this process counted since midnight UTC.
	Used int `json:"used"`
}

type platformsData struct {
	Status     Status
	Quotas     map[string]PlatformQuota
	Failed     []app.ParkedWrite
	Deliveries []OutboundDelivery
	Flash      string
}

func (s *Server) quotas(st Status) map[string]PlatformQuota {
	out := map[string]PlatformQuota{}
	for _, h := range st.Platforms {
		q := PlatformQuota{Platform: h.Platform, Remaining: -1, Used: h.RequestsToday}
		if aq, ok := s.app.Quota(h.Platform); ok {
			q.Limit, q.Remaining = aq.Limit, aq.Remaining
			if aq.Limit > 0 && aq.Remaining >= 0 {
				q.Used = aq.Limit - aq.Remaining
			}
		}
		out[h.Platform] = q
	}
	return out
}

func (s *Server) renderPlatforms(w http.ResponseWriter, r *http.Request, status int, flash string) {
	st, err := s.status(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	d := platformsData{Status: st, Quotas: s.quotas(st), Flash: flash}
	if d.Failed, err = s.failedWriteback(r.Context(), "", 100); err != nil {
		s.pageError(w, r, err)
		return
	}
	if d.Deliveries, err = s.deliveries(r.Context(), "open", 100); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.render(w, r, status, "platforms", "Platforms", d)
}

// PlatformView is one platform: its health (connection state, last pull
// and push, requests today, recent errors) and its quota.
type PlatformView struct {
	health.Status
	Quota PlatformQuota `json:"quota"`
}

func (s *Server) apiPlatforms(w http.ResponseWriter, r *http.Request) {
	hs := s.platformHealth()
	s.fillFromRuns(r.Context(), hs)
	qs := s.quotas(Status{Platforms: hs})
	out := make([]PlatformView, 0, len(hs))
	for _, h := range hs {
		out = append(out, PlatformView{Status: h, Quota: qs[h.Platform]})
	}
	writeJSON(w, http.StatusOK, out)
}
