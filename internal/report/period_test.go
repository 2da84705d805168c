package report

import (
	"testing"
	"time"
)

func TestPeriods(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		kind, now, from, to, next string
	}{
		{Quarterly, "2026-10-01T10:00:00Z", "2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{Quarterly, "2026-09-30T23:59:59Z", "2026-04-01T00:00:00Z", "2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z"},
		{Quarterly, "2027-02-14T00:00:00Z", "2026-10-01T00:00:00Z", "2027-01-01T00:00:00Z", "2027-04-01T00:00:00Z"},
		{Monthly, "2026-03-01T00:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"},
		{Monthly, "2026-01-15T08:00:00+05:00", "2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"},
	} {
		from, to, err := LastPeriod(c.kind, at(c.now))
		if err != nil || !from.Equal(at(c.from)) || !to.Equal(at(c.to)) {
			t.Errorf("%s at %s: %s to %s (%v), want %s to %s", c.kind, c.now, from, to, err, c.from, c.to)
		}
		next, err := NextPeriodEnd(c.kind, at(c.now))
		if err != nil || !next.Equal(at(c.next)) {
			t.Errorf("%s at %s: next %s (%v), want %s", c.kind, c.now, next, err, c.next)
		}
	}
	if _, _, err := LastPeriod("yearly", time.Now()); err == nil {
		t.Error("an unknown period was accepted")
	}
}
