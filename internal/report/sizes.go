package report

import (
	"cmp"
	"slices"
	"time"

	"github.com/segconn/connector/internal/store"
)

// SizeSeries is each segment's size at the end of each day of the
// review's period (each week for a period over a year): what the review's
// chart draws. Days[i] is the end of the step, Segments[name][i] the
// members (holdouts included) at that moment.
type SizeSeries struct {
	Days     []time.Time      `json:"days"`
	Segments map[string][]int `json:"segments"`
}

// sizeSeries replays events over [from, to], in the order they happened.
func sizeSeries(events []store.MembershipEvent, from, to time.Time) SizeSeries {
	events = slices.Clone(events)
	slices.SortStableFunc(events, func(a, b store.MembershipEvent) int { return cmp.Compare(a.At.UnixNano(), b.At.UnixNano()) })
	step := 24 * time.Hour
	if to.Sub(from) > 366*24*time.Hour {
		step = 7 * 24 * time.Hour
	}
	var ends []time.Time
	for t := from.Add(step); ; t = t.Add(step) {
		if t.After(to) {
			t = to
		}
		ends = append(ends, t)
		if !t.Before(to) {
			break
		}
	}
	members := map[string]map[string]bool{}
	out := SizeSeries{Days: ends, Segments: map[string][]int{}}
	seen := map[string]bool{}
	i := 0
	for k, end := range ends {
		for ; i < len(events) && events[i].At.Before(end); i++ {
			e := events[i]
			if members[e.Segment] == nil {
				members[e.Segment] = map[string]bool{}
			}
			if e.Entered {
				members[e.Segment][e.ProfileID] = true
			} else {
				delete(members[e.Segment], e.ProfileID)
			}
			if !seen[e.Segment] {
				seen[e.Segment] = true
				out.Segments[e.Segment] = make([]int, len(ends))
			}
		}
		for s, m := range members {
			out.Segments[s][k] = len(m)
		}
	}
	return out
}
