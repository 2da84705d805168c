package report

import (
	"fmt"
	"time"
)

// Review periods a schedule names.
const (
	Monthly   = "monthly"
	Quarterly = "quarterly"
)

// LastPeriod returns the last whole calendar period (UTC) of kind that
// ended at or before now: for quarterly on 2026-10-01 10:00, 2026-07-01 to
// 2026-10-01. To is the first instant after the period.
func LastPeriod(kind string, now time.Time) (from, to time.Time, err error) {
	now = now.UTC()
	switch kind {
	case Monthly:
		to = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
		return to.AddDate(0, -1, 0), to, nil
	case Quarterly:
		q := (int(now.Month()) - 1) / 3 * 3
		to = time.Date(now.Year(), time.Month(q+1), 1, 0, 0, 0, 0, time.UTC)
		return to.AddDate(0, -3, 0), to, nil
	}
	return from, to, fmt.Errorf("review period %q: want %s or %s", kind, Monthly, Quarterly)
}

// NextPeriodEnd returns the first period boundary of kind after now: when
// a scheduled review of the period that just ended is due.
func NextPeriodEnd(kind string, now time.Time) (time.Time, error) {
	_, to, err := LastPeriod(kind, now)
	if err != nil {
		return time.Time{}, err
	}
	if kind == Monthly {
		return to.AddDate(0, 1, 0), nil
	}
	return to.AddDate(0, 3, 0), nil
}
