package csvfolder

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Webhook headers: the signature is "sha256=" + hex(HMAC-SHA256(secret,
// timestamp + "." + body)); the timestamp is Unix seconds.
const (
	SignatureHeader = "X-Csvfolder-Signature"
	TimestampHeader = "X-Csvfolder-Timestamp"
	// Tolerance is how far a notification's timestamp may be from receipt.
	Tolerance = 5 * time.Minute
)

// Notification is the body of a change notification.
type Notification struct {
	Events []NotificationEvent `json:"events"`
}

// NotificationEvent announces that one row changed or was removed.
type NotificationEvent struct {
	ID         string    `json:"id"`
	Object     string    `json:"object"` // contact or order
	RecordID   string    `json:"record_id"`
	Deleted    bool      `json:"deleted,omitempty"`
	OccurredAt time.Time `json:"occurred_at,omitzero"`
}

// Sign returns the headers that authenticate body sent at ts.
func Sign(secret string, ts time.Time, body []byte) map[string][]string {
	t := strconv.FormatInt(ts.Unix(), 10)
	return map[string][]string{
		SignatureHeader: {"sha256=" + hex.EncodeToString(mac(secret, t, body))},
		TimestampHeader: {t},
		"Content-Type":  {"application/json"},
	}
}

func mac(secret, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

func header(h map[string][]string, name string) string {
	for k, v := range h {
		if http.CanonicalHeaderKey(k) == name && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func badSignature(why string) error {
	return adapter.Auth(fmt.Errorf("verifying csvfolder notification: %s: %w", why, adapter.ErrBadSignature))
}

// VerifyWebhook implements adapter.Adapter.
func (a *Adapter) VerifyWebhook(_ context.Context, req adapter.WebhookRequest) (adapter.WebhookResult, error) {
	cfg, err := a.config()
	if err != nil {
		return adapter.WebhookResult{}, err
	}
	if cfg.WebhookSecret == "" {
		return adapter.WebhookResult{}, adapter.Permanent(fmt.Errorf("verifying csvfolder notification: webhook_secret is not set: %w", adapter.ErrUnsupported))
	}
	sig, ok := strings.CutPrefix(header(req.Headers, SignatureHeader), "sha256=")
	if !ok {
		return adapter.WebhookResult{}, badSignature(SignatureHeader + " header missing or not sha256=")
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return adapter.WebhookResult{}, badSignature(SignatureHeader + " is not hex")
	}
	ts := header(req.Headers, TimestampHeader)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return adapter.WebhookResult{}, badSignature(TimestampHeader + " header missing or not Unix seconds")
	}
	if !hmac.Equal(got, mac(cfg.WebhookSecret, ts, req.Body)) {
		return adapter.WebhookResult{}, badSignature("signature does not match body")
	}
	at := req.ReceivedAt
	if at.IsZero() {
		at = time.Now()
	}
	if d := at.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return adapter.WebhookResult{}, badSignature(fmt.Sprintf("timestamp is %s away from receipt", d.Round(time.Second)))
	}
	var n Notification
	if err := json.Unmarshal(req.Body, &n); err != nil {
		return adapter.WebhookResult{}, adapter.Permanent(fmt.Errorf("decoding csvfolder notification: %w", err))
	}
	res := adapter.WebhookResult{Events: make([]adapter.WebhookEvent, 0, len(n.Events))}
	for i, e := range n.Events {
		if e.RecordID == "" || (e.Object != domain.ObjectContact && e.Object != domain.ObjectOrder) {
			return adapter.WebhookResult{}, adapter.Permanent(fmt.Errorf(
				"decoding csvfolder notification: events[%d]: want object contact or order and a record_id", i))
		}
		kind := adapter.ChangeUpsert
		if e.Deleted {
			kind = adapter.ChangeDelete
		}
		res.Events = append(res.Events, adapter.WebhookEvent{ID: e.ID, Kind: kind, Ref: a.ref(e.Object, e.RecordID), OccurredAt: e.OccurredAt.UTC()})
	}
	return res, nil
}
