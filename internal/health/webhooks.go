package health

import (
	"slices"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// Webhook states.
const (
	WebhooksOK       = "ok"       // every topic has a subscription that delivers
	WebhooksInactive = "inactive" // some subscription is disabled or paused
	WebhooksMissing  = "missing"  // some topic has no subscription
	WebhooksUnknown  = "unknown"  // the last look failed
)

// Webhooks is one platform's webhook subscriptions as last seen.
type Webhooks struct {
	State     string                        `json:"state"`
	CheckedAt time.Time                     `json:"checked_at"`
	Active    int                           `json:"active"`
	Inactive  []adapter.WebhookSubscription `json:"inactive,omitempty"`
	Missing   []string                      `json:"missing,omitempty"`
	// Reenabled and Created are what the last look repaired.
	Reenabled []adapter.WebhookSubscription `json:"reenabled,omitempty"`
	Created   []adapter.WebhookSubscription `json:"created,omitempty"`
	LastError string                        `json:"last_error,omitempty"`
}

// summary names what a log line about w must change with: the state and
// which subscriptions or topics are at fault.
func (w *Webhooks) summary() string {
	if w == nil {
		return ""
	}
	parts := []string{w.State}
	for _, s := range w.Inactive {
		parts = append(parts, s.ID+"/"+s.Topic+"="+s.Status)
	}
	missing := slices.Clone(w.Missing)
	slices.Sort(missing)
	parts = append(parts, missing...)
	return strings.Join(parts, " ")
}

// WebhooksSeen records what a look at platform name's webhook
// subscriptions found, logging once per change: WARN when some stop
// delivering or go missing, INFO when all deliver again, WARN for each
// one re-enabled or recreated.
func (t *Tracker) WebhooksSeen(name string, h adapter.WebhookHealth) {
	w := &Webhooks{State: WebhooksOK, Active: h.Active, Inactive: h.Inactive, Missing: h.Missing, Reenabled: h.Reenabled, Created: h.Created}
	switch {
	case len(h.Inactive) > 0:
		w.State = WebhooksInactive
	case len(h.Missing) > 0:
		w.State = WebhooksMissing
	}
	t.setWebhooks(name, w)
}

// WebhooksUnseen records that looking at platform name's webhook
// subscriptions failed; what was seen before stays, marked unknown.
func (t *Tracker) WebhooksUnseen(name string, err error) {
	t.mu.Lock()
	prev := t.get(name).Webhooks
	t.mu.Unlock()
	w := &Webhooks{State: WebhooksUnknown, LastError: err.Error()}
	if prev != nil {
		w.Active, w.Inactive, w.Missing = prev.Active, prev.Inactive, prev.Missing
	}
	t.setWebhooks(name, w)
}

func (t *Tracker) setWebhooks(name string, w *Webhooks) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.get(name)
	w.CheckedAt = t.opts.Now()
	before, after := p.Webhooks.summary(), w.summary()
	p.Webhooks = w
	log := t.opts.Logger.With("platform", name)
	for _, s := range w.Reenabled {
		log.Warn("re-enabled a webhook the platform had stopped", "id", s.ID, "topic", s.Topic, "was", s.Status)
	}
	for _, s := range w.Created {
		log.Warn("created a missing webhook", "id", s.ID, "topic", s.Topic)
	}
	if before == after {
		return
	}
	switch w.State {
	case WebhooksOK:
		if before != "" {
			log.Info("webhooks deliver again", "active", w.Active)
		}
	case WebhooksUnknown:
		log.Warn("cannot see the platform's webhooks", "err", w.LastError)
	default:
		var inactive []string
		for _, s := range w.Inactive {
			inactive = append(inactive, s.ID+" ("+s.Topic+", "+s.Status+")")
		}
		log.Warn("webhooks do not deliver: changes arrive only with the scheduled pulls",
			"state", w.State, "inactive", inactive, "missing", w.Missing)
	}
}
