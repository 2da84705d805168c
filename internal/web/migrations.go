package web

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/segconn/connector/internal/store"
)

// none labels "in no segment of the definition" in a migration.
const none = "(none)"

// Migration counts who moved between a definition's segments from one
// time to another, replayed from the membership history.
type Migration struct {
	Definition string    `json:"definition"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	// Segments label the rows (where people were at From) and the columns
	// (where they were at To); "(none)" is in no segment of the definition.
	Segments []string `json:"segments"`
	// Matrix[i][j] counts people in Segments[i] at From and Segments[j] at To.
	Matrix [][]int `json:"matrix"`
}

// migration replays the history up to to. A person in several segments
// of the definition at once (a non-partitioning kind) counts under the
// segment they entered last.
func (s *Server) migration(ctx context.Context, def string, from, to time.Time) (Migration, error) {
	m := Migration{Definition: def, From: from.UTC(), To: to.UTC()}
	atFrom, atTo, err := s.migrationStates(ctx, def, from, to)
	if err != nil {
		return m, err
	}
	labels := map[string]bool{}
	for _, seg := range atFrom {
		labels[seg] = true
	}
	for _, seg := range atTo {
		labels[seg] = true
	}
	for _, seg := range s.definitionSegments(def) {
		labels[seg] = true
	}
	m.Segments = append(sortedKeys(labels), none)
	idx := map[string]int{}
	for i, seg := range m.Segments {
		idx[seg] = i
	}
	m.Matrix = make([][]int, len(m.Segments))
	for i := range m.Matrix {
		m.Matrix[i] = make([]int, len(m.Segments))
	}
	people := map[string]bool{}
	for p := range atFrom {
		people[p] = true
	}
	for p := range atTo {
		people[p] = true
	}
	for p := range people {
		a, b := none, none
		if seg, ok := atFrom[p]; ok {
			a = seg
		}
		if seg, ok := atTo[p]; ok {
			b = seg
		}
		m.Matrix[idx[a]][idx[b]]++
	}
	return m, nil
}

// migrationStates replays the history up to to: each person's segment
// of the definition at from and at to (absent: in none).
func (s *Server) migrationStates(ctx context.Context, def string, from, to time.Time) (atFrom, atTo map[string]string, err error) {
	prefix := def + ":"
	atFrom, atTo = map[string]string{}, map[string]string{}
	apply := func(state map[string]string, profile, seg string, entered bool) {
		if entered {
			state[profile] = seg
		} else if state[profile] == seg {
			delete(state, profile)
		}
	}
	for after := int64(0); ; {
		evs, err := s.app.Store.MembershipHistorySince(ctx, after, 5000)
		if err != nil {
			return nil, nil, fmt.Errorf("reading the membership history: %w", err)
		}
		for _, e := range evs {
			after = e.Seq
			if !strings.HasPrefix(e.Segment, prefix) || e.At.After(to) {
				continue
			}
			if !e.At.After(from) {
				apply(atFrom, e.ProfileID, e.Segment, e.Entered)
			}
			apply(atTo, e.ProfileID, e.Segment, e.Entered)
		}
		if len(evs) < 5000 {
			return atFrom, atTo, nil
		}
	}
}

// Movers is a page of the people who moved from one segment to another
// between two times ("" for either: any segment; "(none)": in none).
type Movers struct {
	Definition string       `json:"definition"`
	From       time.Time    `json:"from"`
	To         time.Time    `json:"to"`
	Source     string       `json:"source,omitempty"`
	Target     string       `json:"target,omitempty"`
	Total      int          `json:"total"`
	Offset     int          `json:"offset"`
	Items      []ProfileHit `json:"items"`
}

// movers lists the people in source at from and target at to.
func (s *Server) movers(ctx context.Context, def string, from, to time.Time, source, target string, offset, limit int) (Movers, error) {
	m := Movers{Definition: def, From: from.UTC(), To: to.UTC(), Source: source, Target: target, Offset: offset, Items: []ProfileHit{}}
	atFrom, atTo, err := s.migrationStates(ctx, def, from, to)
	if err != nil {
		return m, err
	}
	people := map[string]bool{}
	for p := range atFrom {
		people[p] = true
	}
	for p := range atTo {
		people[p] = true
	}
	var ids []string
	for _, p := range sortedKeys(people) {
		a, b := none, none
		if seg, ok := atFrom[p]; ok {
			a = seg
		}
		if seg, ok := atTo[p]; ok {
			b = seg
		}
		if (source == "" || source == a) && (target == "" || target == b) {
			ids = append(ids, p)
		}
	}
	m.Total = len(ids)
	for _, id := range ids[min(offset, len(ids)):min(offset+limit, len(ids))] {
		p, err := s.app.Store.Profile(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			m.Items = append(m.Items, ProfileHit{ID: id}) // erased or merged away since
			continue
		}
		if err != nil {
			return m, fmt.Errorf("reading a mover's profile: %w", err)
		}
		m.Items = append(m.Items, hit(p))
	}
	return m, nil
}

// definitionSegments names the segments of a definition the last run
// produced, so empty ones still get a row.
func (s *Server) definitionSegments(def string) []string {
	var out []string
	if res := s.app.Pipeline.LastResult(); res != nil {
		for _, k := range res.KPIs {
			if strings.HasPrefix(k.Segment, def+":") {
				out = append(out, k.Segment)
			}
		}
	}
	sort.Strings(out)
	return out
}

// definitions names every segment definition.
func (s *Server) definitions(ctx context.Context) ([]string, error) {
	segs, err := s.segments(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, seg := range segs {
		seen[seg.Definition] = true
	}
	return sortedKeys(seen), nil
}

// parseWhen reads an RFC 3339 time or a date (meaning the end of that
// day, UTC); "" gives def.
func parseWhen(v string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a date (YYYY-MM-DD) nor an RFC 3339 time", v)
	}
	return d.Add(24*time.Hour - time.Nanosecond), nil
}
