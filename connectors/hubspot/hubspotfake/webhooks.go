package hubspotfake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Event is one webhook event as HubSpot sends it.
type Event struct {
	EventID                 int64   `json:"eventId"`
	SubscriptionID          int64   `json:"subscriptionId"`
	PortalID                int64   `json:"portalId"`
	AppID                   int64   `json:"appId"`
	OccurredAt              int64   `json:"occurredAt"`
	SubscriptionType        string  `json:"subscriptionType"`
	AttemptNumber           int     `json:"attemptNumber"`
	ObjectID                int64   `json:"objectId"`
	ObjectTypeID            string  `json:"objectTypeId,omitempty"`
	ChangeSource            string  `json:"changeSource,omitempty"`
	ChangeFlag              string  `json:"changeFlag,omitempty"`
	PropertyName            string  `json:"propertyName,omitempty"`
	PropertyValue           string  `json:"propertyValue,omitempty"`
	SourceID                string  `json:"sourceId,omitempty"`
	PrimaryObjectID         int64   `json:"primaryObjectId,omitempty"`
	MergedObjectIDs         []int64 `json:"mergedObjectIds,omitempty"`
	NewObjectID             int64   `json:"newObjectId,omitempty"`
	NumberOfPropertiesMoved int     `json:"numberOfPropertiesMoved,omitempty"`
}

// subscriptionType names the event for an object type, e.g. contact.merge;
// commerce orders use the generic object.* form with an objectTypeId.
func subscriptionType(t objectType, action string) (string, string) {
	switch t.Name {
	case "contacts", "companies", "deals", "line_items":
		return singular(t.Name) + "." + action, ""
	default:
		return "object." + action, t.TypeID
	}
}

// eventLocked records an event for later delivery.
func (f *Fake) eventLocked(t objectType, action string, id int64, mut func(*Event)) {
	f.nextEvt++
	st, otid := subscriptionType(t, action)
	e := Event{EventID: f.nextEvt, SubscriptionID: subscriptionID(st), PortalID: f.opts.PortalID, AppID: 1160452,
		OccurredAt: f.now().UnixMilli(), SubscriptionType: st, ObjectID: id, ObjectTypeID: otid, ChangeSource: "CRM"}
	if action == "creation" {
		e.ChangeFlag = "NEW"
	}
	if mut != nil {
		mut(&e)
	}
	f.events = append(f.events, e)
}

func subscriptionID(st string) int64 {
	var h int64 = 7
	for _, c := range st {
		h = h*31 + int64(c)
	}
	if h < 0 {
		h = -h
	}
	return h % 10_000_000
}

// TakeEvents returns and forgets the events recorded since the last call
// (every write through the API or the seeding helpers records them).
func (f *Fake) TakeEvents() []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	ev := f.events
	f.events = nil
	return ev
}

// Signing configures how deliveries are signed.
type Signing struct {
	ClientSecret string
	// Version is "v3" (default), "v2" or "v1".
	Version string
	// TimestampSkew shifts the v3 timestamp (negative for stale requests).
	TimestampSkew time.Duration
	// Corrupt flips the signature (a forged request).
	Corrupt bool
}

// Delivery configures a webhook delivery run.
type Delivery struct {
	URL     string // target URL, exactly as configured in the app
	Signing Signing
	// BatchSize is the events per request (1..100, default 100).
	BatchSize int
	// MaxRetries after a non-2xx or slow answer (HubSpot: up to 10).
	MaxRetries int
	RetryWait  time.Duration // default 10ms (HubSpot spreads retries over 24h)
	Timeout    time.Duration // answers slower than this are retried; default 5s
	// Duplicate sends every batch twice; Shuffle delivers events out of order.
	Duplicate bool
	Shuffle   bool
	Seed      uint64
	Client    *http.Client
}

// DeliveryReport says what a run did.
type DeliveryReport struct {
	Requests int   // HTTP requests made
	Statuses []int // status of each request (0 for a network error)
	Failed   int   // batches given up on
}

// decodeURI undoes the percent-encodings HubSpot decodes before signing.
func decodeURI(u string) string {
	r := strings.NewReplacer("%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$",
		"%27", "'", "%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";",
		"%3a", ":", "%2f", "/", "%3f", "?", "%2a", "*", "%2c", ",", "%3b", ";")
	return r.Replace(u)
}

// Sign computes the signature headers for one request.
func Sign(s Signing, method, uri string, body []byte, now time.Time) http.Header {
	h := http.Header{}
	switch s.Version {
	case "v1":
		sum := sha256.Sum256(append([]byte(s.ClientSecret), body...))
		h.Set("X-HubSpot-Signature", hex.EncodeToString(sum[:]))
		h.Set("X-HubSpot-Signature-Version", "v1")
	case "v2":
		sum := sha256.Sum256([]byte(s.ClientSecret + method + uri + string(body)))
		h.Set("X-HubSpot-Signature", hex.EncodeToString(sum[:]))
		h.Set("X-HubSpot-Signature-Version", "v2")
	default:
		ts := strconv.FormatInt(now.Add(s.TimestampSkew).UnixMilli(), 10)
		mac := hmac.New(sha256.New, []byte(s.ClientSecret))
		mac.Write([]byte(method + decodeURI(uri) + string(body) + ts))
		h.Set("X-HubSpot-Signature-v3", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		h.Set("X-HubSpot-Request-Timestamp", ts)
	}
	if s.Corrupt {
		for _, k := range []string{"X-HubSpot-Signature", "X-HubSpot-Signature-v3"} {
			if v := h.Get(k); v != "" {
				h.Set(k, "A"+v[1:])
				if v[0] == 'A' {
					h.Set(k, "B"+v[1:])
				}
			}
		}
	}
	return h
}

// Deliver posts events to d.URL in signed batches, retrying as HubSpot
// does, and returns what happened.
func (f *Fake) Deliver(ctx context.Context, d Delivery, events []Event) (DeliveryReport, error) {
	if d.BatchSize <= 0 || d.BatchSize > WebhookBatchMax {
		d.BatchSize = WebhookBatchMax
	}
	if d.RetryWait == 0 {
		d.RetryWait = 10 * time.Millisecond
	}
	if d.Timeout == 0 {
		d.Timeout = 5 * time.Second
	}
	client := d.Client
	if client == nil {
		client = &http.Client{Timeout: d.Timeout}
	}
	evs := append([]Event(nil), events...)
	rng := rand.New(rand.NewPCG(d.Seed, 17))
	if d.Shuffle {
		rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	}
	var rep DeliveryReport
	for _, batch := range batches(evs, d.BatchSize) {
		times := 1
		if d.Duplicate {
			times = 2
		}
		for range times {
			ok := false
			for attempt := 0; attempt <= d.MaxRetries && !ok; attempt++ {
				if attempt > 0 {
					select {
					case <-time.After(d.RetryWait):
					case <-ctx.Done():
						return rep, ctx.Err()
					}
				}
				for i := range batch {
					batch[i].AttemptNumber = attempt
				}
				body, err := json.Marshal(batch)
				if err != nil {
					return rep, fmt.Errorf("encoding webhook batch: %w", err)
				}
				status, err := post(ctx, client, d, body, f.opts.Now())
				rep.Requests++
				rep.Statuses = append(rep.Statuses, status)
				ok = err == nil && status >= 200 && status < 300
			}
			if !ok {
				rep.Failed++
			}
		}
	}
	return rep, nil
}

// batches splits events into deliveries of at most size events; as HubSpot
// does, a contact.privacyDeletion and the contact.deletion it causes never
// travel in the same batch.
func batches(evs []Event, size int) [][]Event {
	var out [][]Event
	var cur []Event
	deleted := map[int64]bool{}
	for _, e := range evs {
		del := strings.HasSuffix(e.SubscriptionType, ".deletion") || strings.HasSuffix(e.SubscriptionType, ".privacyDeletion")
		if len(cur) == size || (del && deleted[e.ObjectID]) {
			out = append(out, cur)
			cur, deleted = nil, map[int64]bool{}
		}
		cur = append(cur, e)
		if del {
			deleted[e.ObjectID] = true
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func post(ctx context.Context, c *http.Client, d Delivery, body []byte, now time.Time) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("building webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "HubSpot Connect 2.0 (http://dev.hubspot.com/)")
	for k, v := range Sign(d.Signing, http.MethodPost, d.URL, body, now) {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}
