package web

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/health"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// currency is the currency the segment engine reports revenue in: the
// configuration's (default USD).
func (s *Server) currency() string { return s.app.Currency() }

// Status is the overview: counts, platform health, queues, last run.
type Status struct {
	GeneratedAt time.Time       `json:"generated_at"`
	Profiles    int             `json:"profiles"`
	Revenue     Money           `json:"revenue"`
	Platforms   []health.Status `json:"platforms"`
	Queues      Queues          `json:"queues"`
	LastRun     *time.Time      `json:"last_run,omitempty"`
	LatestRun   *store.Run      `json:"latest_run,omitempty"`
	Segments    []SegmentSize   `json:"segments"`
	Warnings    []string        `json:"warnings"`
}

// Money is an amount with its currency.
type Money struct {
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency"`
}

// Queues are the depths of the webhook inbox and the write-back outbox.
type Queues struct {
	InboxPending  int `json:"inbox_pending"`
	OutboxPending int `json:"outbox_pending"`
	OutboxFailed  int `json:"outbox_failed"`
}

// SegmentSize is a segment's live member count.
type SegmentSize struct {
	Name string `json:"name"`
	Size int    `json:"size"`
}

func (s *Server) status(ctx context.Context) (Status, error) {
	sum, err := s.app.Status(ctx, s.opts.Now())
	if err != nil {
		return Status{}, fmt.Errorf("reading the status: %w", err)
	}
	st := Status{GeneratedAt: sum.GeneratedAt, Profiles: sum.Profiles, LastRun: sum.AsOf, Warnings: sum.Warnings,
		Revenue: Money{Currency: s.currency()}, Segments: []SegmentSize{}}
	st.Queues = Queues{InboxPending: sum.Inbox,
		OutboxPending: sum.Outbox[string(store.OutboxPending)] + sum.Outbox[string(store.OutboxLeased)],
		OutboxFailed:  sum.Outbox[string(store.OutboxFailed)]}
	st.Platforms = s.platformHealth()
	s.fillFromRuns(ctx, st.Platforms)
	st.LatestRun = s.lastRun(ctx)
	// Revenue of all customers: the largest per-definition total of the
	// last run (a definition that partitions everyone sums to all).
	byDef := map[string]float64{}
	for _, k := range sum.Segments {
		def, _, _ := strings.Cut(k.Name, ":")
		byDef[def] += k.Revenue
	}
	for _, v := range byDef {
		st.Revenue.Amount = max(st.Revenue.Amount, v)
	}
	sizes, err := s.app.SegmentSizes(ctx)
	if err != nil {
		return st, fmt.Errorf("counting segment members: %w", err)
	}
	for name, n := range sizes {
		st.Segments = append(st.Segments, SegmentSize{Name: name, Size: n})
	}
	sort.Slice(st.Segments, func(i, j int) bool { return st.Segments[i].Name < st.Segments[j].Name })
	return st, nil
}

// platformHealth is every configured platform's health, unknown for a
// platform nothing has been heard from (or without a tracker), each with
// the adapter its instance runs (woocommerce for a shop named shop-eu).
func (s *Server) platformHealth() []health.Status {
	known := map[string]health.Status{}
	snapshot := s.opts.Health
	if snapshot == nil && s.app.Health != nil {
		snapshot = s.app.Health.Snapshot
	}
	if snapshot != nil {
		for _, h := range snapshot() {
			known[h.Platform] = h
		}
	}
	out := []health.Status{}
	for _, p := range s.app.Platforms() {
		h, ok := known[p]
		if !ok {
			h = health.Status{Platform: p, State: health.Unknown}
		}
		out = append(out, h)
	}
	app.AdaptersOf(s.app.Config, out)
	return out
}

// Segment is one segment: its definition, live size and last KPIs.
type Segment struct {
	Name        string         `json:"name"`
	Definition  string         `json:"definition"`
	Kind        string         `json:"kind"`
	Description string         `json:"description,omitempty"`
	Holdout     float64        `json:"holdout_percent"`
	WrittenTo   []string       `json:"written_to"`
	Size        int            `json:"size"`
	KPIs        *segment.KPI   `json:"kpis,omitempty"`
	Configured  map[string]any `json:"configured,omitempty"`
}

func (s *Server) segments(ctx context.Context) ([]Segment, error) {
	byName := map[string]segment.Definition{}
	for _, d := range s.app.Engine.Definitions() { // the configured ones and the builder's
		byName[d.Name] = d
	}
	sizes, err := s.app.SegmentSizes(ctx)
	if err != nil {
		return nil, fmt.Errorf("counting segment members: %w", err)
	}
	kpis := map[string]segment.KPI{}
	if res := s.app.Pipeline.LastResult(); res != nil {
		for _, k := range res.KPIs {
			kpis[k.Segment] = k
			if _, ok := sizes[k.Segment]; !ok {
				sizes[k.Segment] = 0
			}
		}
	}
	out := make([]Segment, 0, len(sizes))
	for name, n := range sizes {
		defName, _, _ := strings.Cut(name, ":")
		d := byName[defName]
		seg := Segment{Name: name, Definition: defName, Kind: string(d.Kind), Description: d.Description,
			Holdout: d.HoldoutPercent, WrittenTo: []string{}, Size: n}
		for p := range d.Writeback {
			seg.WrittenTo = append(seg.WrittenTo, p)
		}
		sort.Strings(seg.WrittenTo)
		if k, ok := kpis[name]; ok {
			seg.KPIs = &k
		}
		out = append(out, seg)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

var errNotFound = errors.New("not found")

func (s *Server) segment(ctx context.Context, name string) (Segment, error) {
	all, err := s.segments(ctx)
	if err != nil {
		return Segment{}, err
	}
	for _, seg := range all {
		if seg.Name == name {
			for _, m := range s.app.Config.Segments {
				if n, _ := m["name"].(string); n == seg.Definition {
					seg.Configured = m
				}
			}
			return seg, nil
		}
	}
	return Segment{}, fmt.Errorf("segment %q: %w", name, errNotFound)
}

// Member is one member of a segment.
type Member struct {
	ProfileID string    `json:"profile_id"`
	Email     string    `json:"email,omitempty"`
	Name      string    `json:"name,omitempty"`
	Since     time.Time `json:"since,omitzero"`
	Control   bool      `json:"control,omitempty"`
}

// MembersPage is a page of members.
type MembersPage struct {
	Segment string   `json:"segment"`
	Total   int      `json:"total"`
	Offset  int      `json:"offset"`
	Items   []Member `json:"items"`
}

func fullName(p domain.Profile) string {
	return strings.TrimSpace(p.FirstName + " " + p.LastName)
}

func matches(p domain.Profile, q string) bool {
	if q == "" {
		return true
	}
	q = strings.ToLower(q)
	if strings.Contains(strings.ToLower(fullName(p)), q) || strings.Contains(strings.ToLower(p.ID), q) {
		return true
	}
	for _, e := range p.Emails {
		if strings.Contains(e, q) {
			return true
		}
	}
	return p.Company != nil && strings.Contains(strings.ToLower(p.Company.Name), q)
}

// members returns a page of a segment's members matching q (all when
// limit < 0).
func (s *Server) members(ctx context.Context, name, q string, offset, limit int) (MembersPage, error) {
	ms, err := s.app.Store.SegmentMembers(ctx, name)
	if err != nil {
		return MembersPage{}, fmt.Errorf("reading the members of %s: %w", name, err)
	}
	page := MembersPage{Segment: name, Offset: offset, Items: []Member{}}
	if q == "" {
		page.Total = len(ms)
		end := len(ms)
		if limit >= 0 {
			end = min(len(ms), offset+limit)
		}
		for _, m := range ms[min(offset, len(ms)):end] {
			p, err := s.app.Store.Profile(ctx, m.ProfileID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return page, fmt.Errorf("reading a member's profile: %w", err)
			}
			page.Items = append(page.Items, Member{ProfileID: m.ProfileID, Email: p.PrimaryEmail(), Name: fullName(p), Since: m.Since, Control: m.Control})
		}
		return page, nil
	}
	in := make(map[string]domain.Membership, len(ms))
	for _, m := range ms {
		in[m.ProfileID] = m
	}
	var found []Member
	err = s.eachProfile(ctx, func(p domain.Profile) {
		if m, ok := in[p.ID]; ok && matches(p, q) {
			found = append(found, Member{ProfileID: p.ID, Email: p.PrimaryEmail(), Name: fullName(p), Since: m.Since, Control: m.Control})
		}
	})
	if err != nil {
		return page, err
	}
	page.Total = len(found)
	end := len(found)
	if limit >= 0 {
		end = min(len(found), offset+limit)
	}
	page.Items = append(page.Items, found[min(offset, len(found)):end]...)
	return page, nil
}

func (s *Server) eachProfile(ctx context.Context, fn func(domain.Profile)) error {
	for after := ""; ; {
		ps, err := s.app.Store.ListProfiles(ctx, after, 1000)
		if err != nil {
			return fmt.Errorf("listing profiles: %w", err)
		}
		for _, p := range ps {
			fn(p)
		}
		if len(ps) < 1000 {
			return nil
		}
		after = ps[len(ps)-1].ID
	}
}

// ProfileHit is one profile found by a search.
type ProfileHit struct {
	ID      string `json:"id"`
	Email   string `json:"email,omitempty"`
	Name    string `json:"name,omitempty"`
	Company string `json:"company,omitempty"`
}

func hit(p domain.Profile) ProfileHit {
	h := ProfileHit{ID: p.ID, Email: p.PrimaryEmail(), Name: fullName(p)}
	if p.Company != nil {
		h.Company = p.Company.Name
	}
	return h
}

// searchProfiles finds up to limit profiles by email, id, name or company.
func (s *Server) searchProfiles(ctx context.Context, q string, limit int) ([]ProfileHit, error) {
	out := []ProfileHit{}
	q = strings.TrimSpace(q)
	if q == "" {
		return out, nil
	}
	if p, err := app.FindProfile(ctx, s.app.Store, q); err == nil {
		return append(out, hit(p)), nil
	}
	err := s.eachProfile(ctx, func(p domain.Profile) {
		if len(out) < limit && matches(p, q) {
			out = append(out, hit(p))
		}
	})
	return out, err
}

// Customer is one person: identity, orders, segments and their history.
type Customer struct {
	Profile     domain.Profile             `json:"profile"`
	Links       []store.Link               `json:"links"`
	Orders      []domain.Order             `json:"orders"`
	Memberships []domain.Membership        `json:"memberships"`
	Explain     []segment.DefinitionReason `json:"explain"`
	Timeline    []store.MembershipEvent    `json:"timeline"`
}

func (s *Server) customer(ctx context.Context, id string) (Customer, error) {
	p, err := s.app.Store.Profile(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Customer{}, fmt.Errorf("profile %q: %w", id, errNotFound)
	}
	if err != nil {
		return Customer{}, fmt.Errorf("reading profile: %w", err)
	}
	c := Customer{Profile: p, Links: []store.Link{}, Orders: []domain.Order{}, Memberships: []domain.Membership{},
		Explain: []segment.DefinitionReason{}, Timeline: []store.MembershipEvent{}}
	ex, err := s.app.Store.Explain(ctx, p.ID)
	if err != nil {
		return c, fmt.Errorf("reading the profile's links: %w", err)
	}
	c.Links = append(c.Links, ex.Links...)
	os, err := s.app.Store.Orders(ctx, p.ID)
	if err != nil {
		return c, fmt.Errorf("reading orders: %w", err)
	}
	c.Orders = append(c.Orders, os...)
	ms, err := s.app.Store.Memberships(ctx, p.ID)
	if err != nil {
		return c, fmt.Errorf("reading memberships: %w", err)
	}
	c.Memberships = append(c.Memberships, ms...)
	hist, err := s.app.Store.MembershipHistory(ctx, p.ID)
	if err != nil {
		return c, fmt.Errorf("reading membership history: %w", err)
	}
	c.Timeline = append(c.Timeline, hist...)
	// The last run explains without recomputing; a profile it does not
	// hold (new since) is explained by a fresh run.
	if res := s.app.Pipeline.LastResult(); res != nil {
		if e, err := res.Explain(p.ID); err == nil {
			c.Explain = append(c.Explain, e.Definitions...)
			return c, nil
		}
	}
	if _, e, err := s.app.Explain(ctx, p.ID, s.opts.Now()); err == nil {
		c.Explain = append(c.Explain, e.Definitions...)
	}
	return c, nil
}
