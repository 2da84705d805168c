package hubspot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// header returns a header value whatever the case of its name.
func header(h map[string][]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// decodeSignedURI undoes the percent-encodings HubSpot decodes before it
// signs the URI (v3).
func decodeSignedURI(u string) string {
	return strings.NewReplacer("%3A", ":", "%2F", "/", "%3F", "?", "%40", "@", "%21", "!", "%24", "$",
		"%27", "'", "%28", "(", "%29", ")", "%2A", "*", "%2C", ",", "%3B", ";",
		"%3a", ":", "%2f", "/", "%3f", "?", "%2a", "*", "%2c", ",", "%3b", ";").Replace(u)
}

func (c *Connector) reject(format string, args ...any) error {
	c.webhooksRejected.Add(1)
	err := fmt.Errorf(format, args...)
	// Debug only: the host logs rejected requests, at a bounded rate.
	c.log.Debug("rejecting hubspot webhook", "reason", err.Error())
	return adapter.Auth(fmt.Errorf("verifying hubspot webhook: %s: %w", err.Error(), adapter.ErrBadSignature))
}

// verify checks the request's signature with the configured versions.
func (c *Connector) verify(cfg Config, req adapter.WebhookRequest) error {
	secret := cfg.Webhooks.ClientSecret
	if secret == "" {
		return adapter.Permanent(errors.New("verifying hubspot webhook: webhooks.client_secret (or oauth.client_secret) is not configured"))
	}
	if sig := header(req.Headers, "X-HubSpot-Signature-v3"); sig != "" && slices.Contains(cfg.Webhooks.Versions, "v3") {
		tsText := header(req.Headers, "X-HubSpot-Request-Timestamp")
		ts, err := strconv.ParseInt(tsText, 10, 64)
		if err != nil {
			return c.reject("X-HubSpot-Request-Timestamp %q is not epoch milliseconds", tsText)
		}
		received := req.ReceivedAt
		if received.IsZero() {
			received = c.now()
		}
		age := received.Sub(time.UnixMilli(ts))
		if age > cfg.Webhooks.MaxAge || age < -cfg.Webhooks.MaxAge {
			return c.reject("timestamp is %s away from now, outside the %s window", age.Round(time.Second), cfg.Webhooks.MaxAge)
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(req.Method + decodeSignedURI(req.URL) + string(req.Body) + tsText))
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if subtle.ConstantTimeCompare([]byte(want), []byte(sig)) != 1 {
			return c.reject("v3 signature does not match")
		}
		return nil
	}
	sig := header(req.Headers, "X-HubSpot-Signature")
	version := strings.ToLower(header(req.Headers, "X-HubSpot-Signature-Version"))
	if version == "" {
		version = "v1"
	}
	if sig == "" {
		return c.reject("no X-HubSpot-Signature-v3 or X-HubSpot-Signature header")
	}
	if !slices.Contains(cfg.Webhooks.Versions, version) {
		return c.reject("signature version %s is not accepted (webhooks.versions)", version)
	}
	var sum [32]byte
	switch version {
	case "v1":
		sum = sha256.Sum256([]byte(secret + string(req.Body)))
	case "v2":
		sum = sha256.Sum256([]byte(secret + req.Method + req.URL + string(req.Body)))
	default:
		return c.reject("unknown signature version %q", version)
	}
	want := hex.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(sig))) != 1 {
		return c.reject("%s signature does not match", version)
	}
	return nil
}

// webhookEvent is one event of HubSpot's delivery (fields per the docs;
// the type arrives as subscriptionType, or eventType in the docs' table).
type webhookEvent struct {
	EventID          json.Number `json:"eventId"`
	SubscriptionID   json.Number `json:"subscriptionId"`
	PortalID         json.Number `json:"portalId"`
	OccurredAt       int64       `json:"occurredAt"`
	SubscriptionType string      `json:"subscriptionType"`
	EventType        string      `json:"eventType"`
	ObjectID         json.Number `json:"objectId"`
	ObjectTypeID     string      `json:"objectTypeId"`
	PrimaryObjectID  json.Number `json:"primaryObjectId"`
	MergedObjectIDs  []int64     `json:"mergedObjectIds"`
	NewObjectID      json.Number `json:"newObjectId"`
	PropertyName     string      `json:"propertyName"`
	PropertyValue    string      `json:"propertyValue"`
}

func objectOf(prefix, typeID string) string {
	switch prefix {
	case "contact":
		return domain.ObjectContact
	case "company":
		return domain.ObjectCompany
	case "deal":
		return domain.ObjectDeal
	case "object":
		if typeID == "0-123" {
			return domain.ObjectOrder
		}
	}
	return ""
}

// maxWebhookEvents is the most events HubSpot puts in one webhook request.
const maxWebhookEvents = 100

// VerifyWebhook authenticates a HubSpot delivery (v3, or v1/v2 when
// configured) and turns its events into work: fetches for creations and
// changes, deletes, privacy deletes and merges. The event id is stable
// across HubSpot's retries (attemptNumber is left out) so the host can
// deduplicate replays.
func (c *Connector) VerifyWebhook(_ context.Context, req adapter.WebhookRequest) (adapter.WebhookResult, error) {
	st, err := c.state()
	if err != nil {
		return adapter.WebhookResult{}, err
	}
	if err := c.verify(st.cfg, req); err != nil {
		return adapter.WebhookResult{}, err
	}
	var events []webhookEvent
	dec := json.NewDecoder(strings.NewReader(string(req.Body)))
	dec.UseNumber()
	if err := dec.Decode(&events); err != nil {
		c.webhooksRejected.Add(1)
		return adapter.WebhookResult{}, adapter.Permanent(fmt.Errorf("parsing hubspot webhook body: expected a JSON array of events: %w", err))
	}
	if len(events) > maxWebhookEvents {
		// HubSpot sends at most 100 events in one request (its webhooks
		// API guide): more is not a HubSpot delivery.
		c.webhooksRejected.Add(1)
		return adapter.WebhookResult{}, adapter.Permanent(fmt.Errorf("parsing hubspot webhook body: %d events, more than the %d HubSpot sends in one request", len(events), maxWebhookEvents))
	}
	c.webhooksAccepted.Add(1)
	var out []adapter.WebhookEvent
	for _, e := range events {
		typ := e.SubscriptionType
		if typ == "" {
			typ = e.EventType
		}
		prefix, action, _ := strings.Cut(typ, ".")
		object := objectOf(prefix, e.ObjectTypeID)
		if object == "" {
			continue // not an object we sync (tickets, products, …)
		}
		id := strings.Join([]string{e.PortalID.String(), e.SubscriptionID.String(), e.EventID.String(), e.ObjectID.String(), strconv.FormatInt(e.OccurredAt, 10)}, ":")
		ev := adapter.WebhookEvent{ID: id, Ref: st.ref(object, e.ObjectID.String(), time.Time{})}
		if e.OccurredAt > 0 {
			ev.OccurredAt = time.UnixMilli(e.OccurredAt).UTC()
		}
		switch action {
		case "deletion":
			ev.Kind = adapter.ChangeDelete
		case "privacyDeletion":
			ev.Kind, ev.Privacy = adapter.ChangeDelete, true
		case "merge":
			survivor := e.NewObjectID.String()
			if survivor == "" {
				survivor = e.PrimaryObjectID.String()
			}
			if survivor == "" {
				survivor = e.ObjectID.String()
			}
			merged := slices.Clone(e.MergedObjectIDs)
			if p := e.PrimaryObjectID.String(); p != "" && p != survivor {
				n, _ := strconv.ParseInt(p, 10, 64)
				merged = append(merged, n)
			}
			for i, m := range merged {
				out = append(out, adapter.WebhookEvent{ID: id + ":" + strconv.Itoa(i), Kind: adapter.ChangeMerge, OccurredAt: ev.OccurredAt,
					Ref: st.ref(object, strconv.FormatInt(m, 10), time.Time{}), MergedInto: st.ref(object, survivor, time.Time{})})
			}
			ev.Kind, ev.Ref = adapter.ChangeUpsert, st.ref(object, survivor, time.Time{})
		case "propertyChange":
			ev.Kind, ev.Property, ev.Value = adapter.ChangeUpsert, e.PropertyName, e.PropertyValue
		default: // creation, restore, associationChange
			ev.Kind = adapter.ChangeUpsert
		}
		out = append(out, ev)
	}
	return adapter.WebhookResult{Events: out}, nil
}
