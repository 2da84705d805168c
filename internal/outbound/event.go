package outbound

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/internal/config"
)

// Event types.
const (
	EventEntered = "segment.entered"
	EventLeft    = "segment.left"
)

// EventTypes lists every event type, for validation and documentation.
var EventTypes = []string{EventEntered, EventLeft}

// Event is one membership change as a receiver sees it.
type Event struct {
	// ID identifies the event; the same change published twice (a job run
	// again) keeps its ID and is delivered once per endpoint. Publish
	// derives it from the other fields when empty.
	ID          string    `json:"id"`
	Type        string    `json:"type"` // EventEntered or EventLeft
	OccurredAt  time.Time `json:"occurred_at"`
	Segment     string    `json:"segment"`
	SegmentKind string    `json:"segment_kind,omitempty"`
	ProfileID   string    `json:"profile_id"`
	Email       string    `json:"email,omitempty"`
	// Control marks a member of the segment's holdout group: in the
	// segment, but deliberately left untreated to measure its effect.
	Control bool `json:"control,omitempty"`
	// Reason is why the profile entered (the rule or score), when known.
	Reason string `json:"reason,omitempty"`
}

// deriveID returns a stable id for an event that has none.
func (e *Event) deriveID() string {
	h := sha256.New()
	for _, s := range []string{e.Type, e.Segment, e.ProfileID, strconv.FormatInt(e.OccurredAt.UnixNano(), 10)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "evt_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Batch is the JSON body of one delivery.
type Batch struct {
	// DeliveryID equals the HeaderDelivery header: stable across retries of
	// the same events.
	DeliveryID string    `json:"delivery_id"`
	Attempt    int       `json:"attempt"`
	SentAt     time.Time `json:"sent_at"`
	Events     []Event   `json:"events"`
}

// deliveryID names a batch by the events it carries.
func deliveryID(events []Event) string {
	h := sha256.New()
	for _, e := range events {
		h.Write([]byte(e.ID))
		h.Write([]byte{0})
	}
	return "dlv_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Defaults of an endpoint's settings.
const (
	DefaultMaxAttempts = 8
	DefaultBatchSize   = 100
	MaxBatchSize       = 1000
)

// Endpoint is one configured receiver.
type Endpoint struct {
	URL    string
	Secret string
	// Events lists the event types sent; empty means all of them.
	Events      []string
	MaxAttempts int // attempts before a delivery is dead-lettered
	BatchSize   int // events per request
}

// Wants reports whether the endpoint subscribes to an event type.
func (e Endpoint) Wants(typ string) bool {
	return len(e.Events) == 0 || slices.Contains(e.Events, typ)
}

// FromConfig validates the outbound_webhooks section and returns endpoints
// with defaults filled in. Every problem is reported, each with its path.
func FromConfig(list []config.Outbound) ([]Endpoint, error) {
	var errs []error
	out := make([]Endpoint, 0, len(list))
	seen := map[string]int{}
	for i, o := range list {
		path := fmt.Sprintf("outbound_webhooks[%d]", i)
		ep := Endpoint{URL: strings.TrimSpace(o.URL), Secret: o.Secret, Events: o.Events,
			MaxAttempts: o.MaxAttempts, BatchSize: o.BatchSize}
		if err := checkURL(ep.URL); err != nil {
			errs = append(errs, fmt.Errorf("%s.url: %w", path, err))
		} else if j, dup := seen[ep.URL]; dup {
			errs = append(errs, fmt.Errorf("%s.url: same URL as outbound_webhooks[%d]", path, j))
		} else {
			seen[ep.URL] = i
		}
		if len(ep.Secret) < 16 {
			errs = append(errs, fmt.Errorf("%s.secret: must be at least 16 characters (receivers verify signatures with it)", path))
		}
		for j, ev := range ep.Events {
			if !slices.Contains(EventTypes, ev) {
				errs = append(errs, fmt.Errorf("%s.events[%d]: unknown event %q (want one of %s)", path, j, ev, strings.Join(EventTypes, ", ")))
			}
		}
		switch {
		case ep.MaxAttempts == 0:
			ep.MaxAttempts = DefaultMaxAttempts
		case ep.MaxAttempts < 0:
			errs = append(errs, fmt.Errorf("%s.max_attempts: must be positive, got %d", path, ep.MaxAttempts))
		}
		switch {
		case ep.BatchSize == 0:
			ep.BatchSize = DefaultBatchSize
		case ep.BatchSize < 0 || ep.BatchSize > MaxBatchSize:
			errs = append(errs, fmt.Errorf("%s.batch_size: must be between 1 and %d, got %d", path, MaxBatchSize, ep.BatchSize))
		}
		out = append(out, ep)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func checkURL(s string) error {
	if s == "" {
		return errors.New("required")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme must be http or https, got %q", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("has no host")
	}
	return nil
}

// DisplayURL renders an endpoint URL for listings without its query string
// or user info, which may carry credentials.
func DisplayURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.String()
}
