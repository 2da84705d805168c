package alert

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Condition is something wrong that holds now.
type Condition struct {
	Key     string    `json:"key"`     // stable: rule + "/" + subject; one alert per key
	Rule    string    `json:"rule"`    // platform_failing, writeback_failures, segment_size, run_failed, dead_letters
	Subject string    `json:"subject"` // the platform, segment or run kind it is about
	Summary string    `json:"summary"` // one line, plain words
	Detail  string    `json:"detail,omitempty"`
	Since   time.Time `json:"since"` // when the underlying state began
}

// Alert statuses.
const (
	Firing   = "firing"
	Resolved = "resolved"
)

// Alert is one message: a condition starting or clearing.
type Alert struct {
	Condition
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// Title is the alert's one-line headline.
func (a Alert) Title() string {
	if a.Status == Resolved {
		return "Resolved: " + a.Summary
	}
	return "Alert: " + a.Summary
}

// Notifier delivers alerts to one destination.
type Notifier interface {
	// Name identifies the destination in logs ("slack", "email", …).
	Name() string
	// Notify sends one alert; an error means it was not delivered.
	Notify(ctx context.Context, a Alert) error
}

// Monitor turns snapshots into alerts, once per condition start and once
// per recovery, per notifier.
type Monitor struct {
	rules     Rules
	notifiers []Notifier
	log       *slog.Logger

	mu     sync.Mutex
	active map[string]*tracked
}

// tracked is one condition the monitor has seen firing: which notifiers
// have its firing message, and whether it has cleared.
type tracked struct {
	cond    Condition
	sent    map[string]bool // notifier name → holds the firing message
	cleared bool
}

// NewMonitor returns a monitor sending to notifiers. A nil logger
// discards.
func NewMonitor(rules Rules, log *slog.Logger, notifiers ...Notifier) *Monitor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Monitor{rules: rules, notifiers: notifiers, log: log, active: map[string]*tracked{}}
}

// Active returns the conditions currently firing, by key.
func (m *Monitor) Active() []Condition {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Condition
	for _, t := range m.active {
		if !t.cleared {
			out = append(out, t.cond)
		}
	}
	slices.SortFunc(out, func(a, b Condition) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// Observe evaluates the rules on snap and sends what changed: a firing
// message for each new condition, a resolved message for each one that
// cleared. Deliveries that fail are retried on the next call; the error
// joins them.
func (m *Monitor) Observe(ctx context.Context, snap Snapshot) error {
	now := m.rules.Evaluate(snap)
	m.mu.Lock()
	defer m.mu.Unlock()
	holding := make(map[string]bool, len(now))
	for _, c := range now {
		holding[c.Key] = true
		t := m.active[c.Key]
		if t == nil {
			t = &tracked{cond: c, sent: map[string]bool{}}
			m.active[c.Key] = t
		}
		t.cond, t.cleared = c, false
	}
	for key, t := range m.active {
		if !holding[key] {
			t.cleared = true
		}
	}
	var errs []error
	keys := make([]string, 0, len(m.active))
	for k := range m.active {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		t := m.active[key]
		for _, n := range m.notifiers {
			name := n.Name()
			switch {
			case !t.cleared && !t.sent[name]:
				if err := m.send(ctx, n, Alert{Condition: t.cond, Status: Firing, At: snap.At}); err != nil {
					errs = append(errs, err)
					continue
				}
				t.sent[name] = true
			case t.cleared && t.sent[name]:
				if err := m.send(ctx, n, Alert{Condition: t.cond, Status: Resolved, At: snap.At}); err != nil {
					errs = append(errs, err)
					continue
				}
				delete(t.sent, name)
			}
		}
		if t.cleared && len(t.sent) == 0 {
			delete(m.active, key)
		}
	}
	return errors.Join(errs...)
}

func (m *Monitor) send(ctx context.Context, n Notifier, a Alert) error {
	if err := n.Notify(ctx, a); err != nil {
		m.log.Warn("alert not delivered; will retry", "notifier", n.Name(), "alert", a.Key, "status", a.Status, "err", err)
		return fmt.Errorf("sending %s alert %s to %s: %w", a.Status, a.Key, n.Name(), err)
	}
	m.log.Info("alert sent", "notifier", n.Name(), "alert", a.Key, "status", a.Status)
	return nil
}
