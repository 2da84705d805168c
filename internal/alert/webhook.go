package alert

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/segconn/connector/internal/outbound"
)

// Webhook posts each alert as JSON to a URL, signed like the outbound
// segment events (outbound.HeaderTimestamp and outbound.HeaderSignature:
// HMAC-SHA256 of timestamp + "." + body), so receivers verify both with
// outbound.Verify. HeaderDelivery is the same for every retry of one
// message, so receivers can drop repeats.
type Webhook struct {
	URL    string
	Secret string
	Client *http.Client
}

// Name implements Notifier.
func (w *Webhook) Name() string { return "webhook" }

// Notify implements Notifier.
func (w *Webhook) Notify(ctx context.Context, a Alert) error {
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encoding alert: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("webhook: the URL is not a valid URL")
	}
	ts := a.At.Unix()
	id := sha256.Sum256([]byte(a.Key + "|" + a.Status + "|" + strconv.FormatInt(a.Since.UnixNano(), 10)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(outbound.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(outbound.HeaderSignature, outbound.SignatureHeader(w.Secret, ts, body))
	req.Header.Set(outbound.HeaderDelivery, hex.EncodeToString(id[:16]))
	return post(w.Client, req, "alert webhook")
}
