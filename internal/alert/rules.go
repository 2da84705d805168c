package alert

import (
	"fmt"
	"math"
	"time"
)

// Snapshot is the product's state at one moment, as the daemon sees it.
type Snapshot struct {
	At        time.Time
	Platforms []Platform
	// WriteBack counts write-back outcomes per platform over the recent
	// period the daemon chooses (the last hour, say).
	WriteBack []WriteBack
	Segments  []Segment
	// Runs are the latest run of each kind (sync, plan, apply, cycle).
	Runs []Run
	// DeadLetters is the number of outbound deliveries given up on now,
	// and DeadLettersBefore the number one period ago.
	DeadLetters, DeadLettersBefore int
}

// Platform states, as the status report gives them.
const (
	StateOK       = "ok"
	StateDegraded = "degraded"
	StateFailing  = "failing"
)

// Platform is one platform's health.
type Platform struct {
	Name      string
	State     string    // ok, degraded, failing
	Since     time.Time // when it entered State
	LastError string    // the platform's last error, secrets already redacted
}

// WriteBack is one platform's write-back outcomes over the period.
type WriteBack struct {
	Platform     string
	Done, Failed int
}

// Segment is a segment's size now and one period ago.
type Segment struct {
	Name         string
	Size, Before int
	Period       time.Duration
}

// Run is the latest run of one kind; Err is empty when it succeeded.
type Run struct {
	Kind string
	At   time.Time
	Err  string
}

// Rules say what is worth an alert. A zero field turns its rule off.
type Rules struct {
	// PlatformFailingFor alerts when a platform has been failing (auth,
	// quota stop, unreachable) for this long.
	PlatformFailingFor time.Duration `koanf:"platform_failing_for"`
	// WriteBackFailureShare alerts when more than this share of a
	// platform's write-back items failed in the period (at least
	// MinWriteBacks items).
	WriteBackFailureShare float64 `koanf:"writeback_failure_share"`
	MinWriteBacks         int     `koanf:"min_writebacks"`
	// SegmentChangeShare alerts when a segment's size changed by more
	// than this share over its period (segments under MinSegmentSize at
	// both ends are ignored: 3 → 6 people is not news).
	SegmentChangeShare float64 `koanf:"segment_change_share"`
	MinSegmentSize     int     `koanf:"min_segment_size"`
	// RunFailed alerts when the latest run of a kind failed.
	RunFailed bool `koanf:"run_failed"`
	// DeadLetterGrowth alerts when the dead-letter queue grew by at least
	// this many deliveries over the period.
	DeadLetterGrowth int `koanf:"dead_letter_growth"`
}

// DefaultRules are what a new installation alerts on.
func DefaultRules() Rules {
	return Rules{
		PlatformFailingFor:    10 * time.Minute,
		WriteBackFailureShare: 0.05,
		MinWriteBacks:         20,
		SegmentChangeShare:    0.5,
		MinSegmentSize:        50,
		RunFailed:             true,
		DeadLetterGrowth:      10,
	}
}

// Evaluate returns the conditions that hold in snap.
func (r Rules) Evaluate(snap Snapshot) []Condition {
	var out []Condition
	if r.PlatformFailingFor > 0 {
		for _, p := range snap.Platforms {
			if p.State != StateFailing || snap.At.Sub(p.Since) < r.PlatformFailingFor {
				continue
			}
			out = append(out, Condition{Key: "platform_failing/" + p.Name, Rule: "platform_failing", Subject: p.Name, Since: p.Since,
				Summary: fmt.Sprintf("%s has been failing for %s", p.Name, roundDuration(snap.At.Sub(p.Since))),
				Detail:  "Last error: " + p.LastError})
		}
	}
	if r.WriteBackFailureShare > 0 {
		for _, w := range snap.WriteBack {
			n := w.Done + w.Failed
			if n == 0 || n < r.MinWriteBacks || float64(w.Failed)/float64(n) <= r.WriteBackFailureShare {
				continue
			}
			out = append(out, Condition{Key: "writeback_failures/" + w.Platform, Rule: "writeback_failures", Subject: w.Platform, Since: snap.At,
				Summary: fmt.Sprintf("%d of %d write-backs to %s failed (%.0f%%)", w.Failed, n, w.Platform, 100*float64(w.Failed)/float64(n)),
				Detail:  "See `connector writeback failed` for the items and their errors."})
		}
	}
	if r.SegmentChangeShare > 0 {
		for _, s := range snap.Segments {
			if max(s.Size, s.Before) < r.MinSegmentSize || s.Before == 0 {
				continue
			}
			change := float64(s.Size-s.Before) / float64(s.Before)
			if math.Abs(change) <= r.SegmentChangeShare {
				continue
			}
			word := "grew"
			if change < 0 {
				word = "shrank"
			}
			out = append(out, Condition{Key: "segment_size/" + s.Name, Rule: "segment_size", Subject: s.Name, Since: snap.At,
				Summary: fmt.Sprintf("%s %s by %.0f%% (%d → %d people) in %s", s.Name, word, 100*math.Abs(change), s.Before, s.Size, roundDuration(s.Period))})
		}
	}
	if r.RunFailed {
		for _, run := range snap.Runs {
			if run.Err == "" {
				continue
			}
			out = append(out, Condition{Key: "run_failed/" + run.Kind, Rule: "run_failed", Subject: run.Kind, Since: run.At,
				Summary: fmt.Sprintf("the last %s failed", run.Kind), Detail: run.Err})
		}
	}
	if r.DeadLetterGrowth > 0 && snap.DeadLetters-snap.DeadLettersBefore >= r.DeadLetterGrowth {
		out = append(out, Condition{Key: "dead_letters", Rule: "dead_letters", Subject: "outbound", Since: snap.At,
			Summary: fmt.Sprintf("%d outbound deliveries were given up on (now %d)", snap.DeadLetters-snap.DeadLettersBefore, snap.DeadLetters),
			Detail:  "See `connector webhooks list` for the dead letters and their endpoints."})
	}
	return out
}

// roundDuration prints a duration to the minute (or second, under one).
func roundDuration(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}
