package daemon

import (
	"testing"
	"time"
)

// The review job fires at the first instant of each month or quarter
// (UTC), whatever the time zone of the clock River hands it.
func TestReviewSchedule(t *testing.T) {
	paris := time.FixedZone("CEST", 2*3600)
	for _, c := range []struct {
		kind string
		now  time.Time
		want time.Time
	}{
		{"quarterly", time.Date(2026, 9, 30, 23, 59, 0, 0, time.UTC), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)},
		{"quarterly", time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"quarterly", time.Date(2026, 10, 1, 1, 30, 0, 0, paris), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)},
		{"monthly", time.Date(2026, 2, 14, 12, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if got := periodSchedule(c.kind).Next(c.now); !got.Equal(c.want) {
			t.Errorf("%s after %s: %s, want %s", c.kind, c.now, got, c.want)
		}
	}
}
