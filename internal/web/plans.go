package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/report"
	"github.com/segconn/connector/internal/store"
)

// keptPlans is how many of the newest stored plans the plans list shows.
const keptPlans = 20

// PlanView is a plan as the API shows it: counts, calls, and the first
// entries and exits.
type PlanView struct {
	Fingerprint string                  `json:"fingerprint"`
	AsOf        time.Time               `json:"as_of"`
	MadeAt      time.Time               `json:"made_at"`
	MadeBy      string                  `json:"made_by"`
	Profiles    int                     `json:"profiles"`
	Segments    []pipeline.SegmentDelta `json:"segments"`
	Platforms   []PlanPlatform          `json:"platforms"`
	Changes     int                     `json:"changes"`
	Sample      []PlanChange            `json:"sample"`
	Applied     *AppliedPlan            `json:"applied,omitempty"`
}

// PlanPlatform is the write-back a plan makes on one platform.
type PlanPlatform struct {
	Platform   string  `json:"platform"`
	Records    int     `json:"records"`
	Targets    int     `json:"targets"`
	Calls      int     `json:"calls"`
	QuotaShare float64 `json:"quota_share"`
}

// PlanChange is one entry or exit.
type PlanChange struct {
	ProfileID string `json:"profile_id"`
	Segment   string `json:"segment"`
	Entered   bool   `json:"entered"`
}

// AppliedPlan is what applying a plan did.
type AppliedPlan struct {
	At       time.Time      `json:"at"`
	By       string         `json:"by"`
	Written  map[string]int `json:"written"`
	Failed   map[string]int `json:"failed"`
	WriteErr string         `json:"write_error,omitempty"`
}

// planView is what the app shows of a plan just made.
func planView(p *pipeline.Plan, made time.Time, by string) PlanView {
	v := PlanView{Fingerprint: p.Fingerprint, AsOf: p.AsOf, MadeAt: made, MadeBy: by, Profiles: p.Profiles,
		Segments: append([]pipeline.SegmentDelta{}, p.Segments...), Platforms: []PlanPlatform{},
		Changes: len(p.Memberships), Sample: []PlanChange{}}
	for _, pp := range p.Platforms {
		v.Platforms = append(v.Platforms, PlanPlatform{Platform: pp.Platform, Records: len(pp.Items), Targets: len(pp.Targets), Calls: pp.Calls, QuotaShare: pp.QuotaShare})
	}
	for _, c := range p.Memberships[:min(len(p.Memberships), 100)] {
		v.Sample = append(v.Sample, PlanChange{ProfileID: c.ProfileID, Segment: c.Segment, Entered: c.Entered})
	}
	return v
}

// savePlan stores a plan's view, so it can be reviewed and applied after
// a restart or on another replica.
func (s *Server) savePlan(ctx context.Context, v PlanView) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding plan %s: %w", v.Fingerprint, err)
	}
	return s.app.Store.PlanPut(ctx, store.SavedPlan{Fingerprint: v.Fingerprint, MadeAt: v.MadeAt, View: b})
}

func (s *Server) makePlan(ctx context.Context, by string) (PlanView, error) {
	p, err := s.app.Plan(app.WithRunBy(ctx, by), s.opts.Now())
	if err != nil {
		return PlanView{}, fmt.Errorf("making a plan: %w", err)
	}
	v := planView(p, s.opts.Now().UTC(), by)
	return v, s.savePlan(ctx, v)
}

// findPlan reads a stored plan: errNotFound when there is none.
func (s *Server) findPlan(ctx context.Context, fp string) (PlanView, error) {
	sp, err := s.app.Store.SavedPlan(ctx, fp)
	if errors.Is(err, store.ErrNotFound) {
		return PlanView{}, fmt.Errorf("plan %q: %w", fp, errNotFound)
	}
	if err != nil {
		return PlanView{}, err
	}
	var v PlanView
	if err := json.Unmarshal(sp.View, &v); err != nil {
		return v, fmt.Errorf("decoding stored plan %s: %w", fp, err)
	}
	return v, nil
}

func (s *Server) planViews(ctx context.Context) ([]PlanView, error) {
	sps, err := s.app.Store.SavedPlans(ctx, keptPlans)
	if err != nil {
		return nil, err
	}
	out := []PlanView{}
	for _, sp := range sps {
		var v PlanView
		if err := json.Unmarshal(sp.View, &v); err != nil {
			return nil, fmt.Errorf("decoding stored plan %s: %w", sp.Fingerprint, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// applyPlan applies a reviewed plan: refused when the data changed since.
func (s *Server) applyPlan(ctx context.Context, v PlanView, by string) (PlanView, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rep, err := s.app.ApplyAt(app.WithRunBy(ctx, by), app.ApplyRequest{AsOf: v.AsOf, Fingerprint: v.Fingerprint})
	if err != nil {
		return PlanView{}, err
	}
	a := &AppliedPlan{At: s.opts.Now().UTC(), By: by, Written: map[string]int{}, Failed: map[string]int{}}
	for _, w := range rep.Written {
		a.Written[w.Platform] += w.OK
		a.Failed[w.Platform] += w.Retryable + w.Permanent
	}
	if rep.WriteErr != nil {
		a.WriteErr = rep.WriteErr.Error()
	}
	v.Applied = a
	if err := s.savePlan(ctx, v); err != nil {
		return v, fmt.Errorf("recording that plan %s was applied: %w", v.Fingerprint, err)
	}
	s.log.Info("plan applied", "fingerprint", v.Fingerprint, "by", by, "changes", v.Changes)
	return v, nil
}

func (s *Server) lift(ctx context.Context) ([]report.SegmentLift, error) {
	out, err := report.Lift(ctx, s.app.Store, report.LiftOptions{AsOf: s.opts.Now(), Currency: s.currency()})
	if out == nil {
		out = []report.SegmentLift{}
	}
	return out, err
}

// History is each segment's size at the end of each period (a day, an
// hour or a minute, by how long the history spans), from the membership
// history.
type History struct {
	Bucket   string           `json:"bucket"` // day, hour or minute
	Days     []time.Time      `json:"days"`   // the start of each period
	Segments map[string][]int `json:"segments"`
}

// bucketFor picks the period that gives a history spanning span a
// readable number of points.
func bucketFor(span time.Duration) (string, time.Duration) {
	switch {
	case span >= 14*24*time.Hour:
		return "day", 24 * time.Hour
	case span >= 12*time.Hour:
		return "hour", time.Hour
	default:
		return "minute", time.Minute
	}
}

// history replays the membership history into sizes per period, for the
// segments named (every segment when none are).
func (s *Server) history(ctx context.Context, only ...string) (History, error) {
	want := map[string]bool{}
	for _, n := range only {
		want[n] = true
	}
	h := History{Days: []time.Time{}, Segments: map[string][]int{}}
	first, err := s.app.Store.MembershipHistorySince(ctx, 0, 1)
	if err != nil {
		return h, fmt.Errorf("reading the membership history: %w", err)
	}
	var width time.Duration
	h.Bucket, width = "day", 24*time.Hour
	if len(first) == 1 {
		h.Bucket, width = bucketFor(s.opts.Now().Sub(first[0].At))
	}
	size := map[string]int{}
	var day time.Time
	flush := func() {
		h.Days = append(h.Days, day)
		for name, n := range size {
			col := h.Segments[name]
			for len(col) < len(h.Days)-1 {
				col = append(col, 0)
			}
			h.Segments[name] = append(col, n)
		}
	}
	for after := int64(0); ; {
		evs, err := s.app.Store.MembershipHistorySince(ctx, after, 5000)
		if err != nil {
			return h, fmt.Errorf("reading the membership history: %w", err)
		}
		for _, e := range evs {
			after = e.Seq
			if len(want) > 0 && !want[e.Segment] {
				continue
			}
			d := e.At.UTC().Truncate(width)
			if !day.IsZero() && !d.Equal(day) {
				flush()
			}
			day = d
			size[e.Segment] += delta(e)
		}
		if len(evs) < 5000 {
			break
		}
	}
	if !day.IsZero() {
		flush()
	}
	for name, col := range h.Segments {
		for len(col) < len(h.Days) {
			col = append(col, 0)
		}
		h.Segments[name] = col
	}
	return h, nil
}

func delta(e store.MembershipEvent) int {
	if e.Entered {
		return 1
	}
	return -1
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
