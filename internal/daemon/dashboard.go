package daemon

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"sort"
	"time"
)

//go:embed dashboard.html
var dashboardHTML []byte

// Summary is what the dashboard shows; /api/summary serves it as JSON. It
// carries no secrets: platform names and counts only.
type Summary struct {
	GeneratedAt time.Time        `json:"generated_at"`
	Profiles    int              `json:"profiles"`
	Platforms   []string         `json:"platforms"`
	AsOf        *time.Time       `json:"as_of,omitempty"`
	Segments    []SegmentSummary `json:"segments"`
	Inbox       int              `json:"inbox_pending"`
	Outbox      map[string]int   `json:"outbox"`
	Warnings    []string         `json:"warnings"`
}

// SegmentSummary is one bar of the dashboard's chart.
type SegmentSummary struct {
	Name    string  `json:"name"`
	Size    int     `json:"size"`
	Share   float64 `json:"share"`
	Revenue float64 `json:"revenue"`
	AOV     float64 `json:"aov"`
	CLV     float64 `json:"avg_clv"`
	Churn   float64 `json:"churn_rate"`
}

func (d *Daemon) summary(r *http.Request) (Summary, error) {
	ctx := r.Context()
	s := Summary{GeneratedAt: d.opts.Now().UTC(), Platforms: d.env.Pipeline.Platforms(), Outbox: map[string]int{}, Segments: []SegmentSummary{}, Warnings: []string{}}
	n, err := d.env.Store.CountProfiles(ctx)
	if err != nil {
		return s, err
	}
	s.Profiles = n
	if pending, err := d.env.Store.InboxPending(ctx, 100000); err == nil {
		s.Inbox = len(pending)
	}
	if stats, err := d.env.Store.OutboxStats(ctx); err == nil {
		for k, v := range stats {
			s.Outbox[string(k)] = v
		}
	}
	if res := d.env.Pipeline.LastResult(); res != nil {
		at := res.AsOf
		s.AsOf = &at
		for _, k := range res.KPIs {
			s.Segments = append(s.Segments, SegmentSummary{Name: k.Segment, Size: k.Size, Share: k.Share, Revenue: k.Revenue, AOV: k.AOV, CLV: k.AvgRealisedCLV, Churn: k.ChurnRate})
		}
		for _, w := range res.Warnings {
			s.Warnings = append(s.Warnings, w.Kind+": "+w.Message)
		}
	}
	sort.SliceStable(s.Segments, func(i, j int) bool { return s.Segments[i].Name < s.Segments[j].Name })
	return s, nil
}

func (d *Daemon) handleSummary(w http.ResponseWriter, r *http.Request) {
	s, err := d.summary(r)
	if err != nil {
		http.Error(w, "store unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s)
}

func (d *Daemon) handleDashboard(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'")
	_, _ = w.Write(dashboardHTML)
}
