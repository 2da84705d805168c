package app

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/segconn/connector/internal/store"
)

// Summary is the connector's state at a glance, as the dashboard shows it.
// It carries no secrets: platform names and counts only.
type Summary struct {
	GeneratedAt time.Time        `json:"generated_at"`
	Profiles    int              `json:"profiles"`
	Platforms   []string         `json:"platforms"`
	AsOf        *time.Time       `json:"as_of,omitempty"`
	Segments    []SegmentSummary `json:"segments"`
	Inbox       int              `json:"inbox_pending"`
	Outbox      map[string]int   `json:"outbox"`
	// AwaitingFirstPull lists the platforms no pull has run to its end
	// for yet; the daemon holds write-back until it is empty.
	AwaitingFirstPull []string `json:"awaiting_first_pull,omitempty"`
	// ErasuresPending counts erasures some platform has not confirmed.
	ErasuresPending int      `json:"erasures_pending,omitempty"`
	Warnings        []string `json:"warnings"`
}

// SegmentSummary is one segment of a Summary.
type SegmentSummary struct {
	Name    string  `json:"name"`
	Size    int     `json:"size"`
	Share   float64 `json:"share"`
	Revenue float64 `json:"revenue"`
	AOV     float64 `json:"aov"`
	CLV     float64 `json:"avg_clv"`
	Churn   float64 `json:"churn_rate"`
}

// Status summarises the store's counts, the queues and this process's
// last full segment run; now stamps it. Only counting the profiles may
// fail it: the queue counts are left out when unreadable.
func (a *App) Status(ctx context.Context, now time.Time) (Summary, error) {
	s := Summary{GeneratedAt: now.UTC(), Platforms: a.Pipeline.Platforms(), Outbox: map[string]int{}, Segments: []SegmentSummary{}, Warnings: []string{}}
	n, err := a.Store.CountProfiles(ctx)
	if err != nil {
		return s, err
	}
	s.Profiles = n
	if pending, err := a.Store.InboxPending(ctx, 100000); err == nil {
		s.Inbox = len(pending)
	}
	if stats, err := a.Store.OutboxStats(ctx); err == nil {
		for k, v := range stats {
			s.Outbox[string(k)] = v
		}
		if n := stats[store.OutboxFailed]; n > 0 {
			s.Warnings = append(s.Warnings, fmt.Sprintf("write-back: %d items failed for good and wait for a person (connector writeback failed, then writeback retry)", n))
		}
	}
	if waiting, err := a.AwaitingFirstPull(ctx); err == nil && len(waiting) > 0 {
		s.AwaitingFirstPull = waiting
		s.Warnings = append(s.Warnings, "write-back: held until the first pull of "+strings.Join(waiting, ", ")+" has finished")
	}
	if ers, err := a.Store.Erasures(ctx, true, 1000); err == nil && len(ers) > 0 {
		s.ErasuresPending = len(ers)
		s.Warnings = append(s.Warnings, fmt.Sprintf("privacy: %d erasures wait for a platform to confirm its deletion (connector privacy status)", len(ers)))
	}
	if res := a.Pipeline.LastResult(); res != nil {
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
