package lift

import (
	"cmp"
	"slices"
	"time"
)

// Entry is a person entering the segment, from the membership history.
type Entry struct {
	Person  string
	At      time.Time
	Control bool // entered as a holdout member
}

// Order is one order of a person, net of refunds.
type Order struct {
	Person  string
	At      time.Time
	Revenue int64 // minor units, one currency
}

// Cohort is the outcome of every person whose window has passed, and
// how many are still inside theirs.
type Cohort struct {
	Outcomes []Outcome
	Pending  int // entered, but their window ends after asOf
}

// Outcomes builds one outcome per person from their first entry: the
// orders placed in [entry, entry+window). A person whose window ends
// after asOf is pending: counting them now would count a non-buyer who
// simply has not had the time yet.
func Outcomes(entries []Entry, orders []Order, window time.Duration, asOf time.Time) Cohort {
	first := make(map[string]Entry, len(entries))
	for _, e := range entries {
		if f, ok := first[e.Person]; !ok || e.At.Before(f.At) {
			first[e.Person] = e
		}
	}
	byPerson := make(map[string][]Order, len(first))
	for _, o := range orders {
		if _, ok := first[o.Person]; ok {
			byPerson[o.Person] = append(byPerson[o.Person], o)
		}
	}
	people := make([]string, 0, len(first))
	for p := range first {
		people = append(people, p)
	}
	slices.Sort(people) // a stable order, so seeded estimates repeat
	var c Cohort
	for _, p := range people {
		e := first[p]
		end := e.At.Add(window)
		if end.After(asOf) {
			c.Pending++
			continue
		}
		out := Outcome{Control: e.Control}
		os := byPerson[p]
		slices.SortFunc(os, func(a, b Order) int { return cmp.Compare(a.At.UnixNano(), b.At.UnixNano()) })
		for _, o := range os {
			if !o.At.Before(e.At) && o.At.Before(end) {
				out.Orders++
				out.Revenue += o.Revenue
			}
		}
		c.Outcomes = append(c.Outcomes, out)
	}
	return c
}
