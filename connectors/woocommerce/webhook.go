package woocommerce

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

var pingBody = regexp.MustCompile(`^webhook_id=[0-9]+$`)

func header(h map[string][]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// VerifyWebhook implements adapter.Adapter. WooCommerce signs deliveries
// with base64(HMAC-SHA256(secret, raw body)) in X-WC-Webhook-Signature
// and sends no timestamp. The unsigned ping (form body webhook_id=N) is
// answered 200 with no events.
//
// The event id (what the host's inbox deduplicates on) is built from
// signed content only: topic, record id and a hash of the body. The
// X-WC-Webhook-Delivery-ID header cannot serve: WooCommerce derives it
// from the webhook id and the current second, so two deliveries of one
// webhook within a second share it, and no signature covers it, so a
// captured delivery resent with a fresh one would pass as new. Distinct
// bodies are so always distinct events, and a redelivery or replay of a
// body is the same event. A replayed body the inbox no longer remembers
// cannot roll a record back either: the store keeps the newer
// date_modified_gmt.
//
// A *.deleted body is only {"id": N}, the same for every deletion of the
// record, so it cannot tell a replay from a deletion after a restore. It
// is therefore not applied as a deletion: the event names the record and
// the host fetches its current state (a trashed order or deleted customer
// is absent, which the fetch reports as a deletion). A replay costs one
// read and changes nothing; such events are keyed by the delivery id too.
func (c *Connector) VerifyWebhook(_ context.Context, req adapter.WebhookRequest) (adapter.WebhookResult, error) {
	cfg, _, m, err := c.state()
	if err != nil {
		return adapter.WebhookResult{}, err
	}
	sig := header(req.Headers, "X-WC-Webhook-Signature")
	if sig == "" && pingBody.Match(req.Body) {
		return adapter.WebhookResult{Status: http.StatusOK}, nil
	}
	if cfg.Webhooks.Secret == "" {
		return adapter.WebhookResult{}, adapter.Permanent(errors.New("verifying woocommerce webhook: platforms.woocommerce.webhooks.secret is not configured"))
	}
	if sig == "" {
		return adapter.WebhookResult{}, adapter.Auth(fmt.Errorf("verifying woocommerce webhook: no X-WC-Webhook-Signature header: %w", adapter.ErrBadSignature))
	}
	mac := hmac.New(sha256.New, []byte(cfg.Webhooks.Secret))
	mac.Write(req.Body)
	want := mac.Sum(nil)
	got, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(sig))
	if derr != nil || !hmac.Equal(want, got) {
		return adapter.WebhookResult{}, adapter.Auth(fmt.Errorf("verifying woocommerce webhook: %w", adapter.ErrBadSignature))
	}

	topic := header(req.Headers, "X-WC-Webhook-Topic")
	resource, event, _ := strings.Cut(topic, ".")
	var object string
	switch resource {
	case "customer":
		object = domain.ObjectContact
	case "order":
		object = domain.ObjectOrder
	default:
		return adapter.WebhookResult{Status: http.StatusOK}, nil
	}
	var probe struct {
		ID       json.Number `json:"id"`
		Modified string      `json:"date_modified_gmt"`
	}
	if err := json.Unmarshal(req.Body, &probe); err != nil {
		return adapter.WebhookResult{}, adapter.Permanent(fmt.Errorf("decoding woocommerce webhook %s body: %w", topic, err))
	}
	id, err := strconv.Atoi(probe.ID.String())
	if err != nil || id <= 0 {
		return adapter.WebhookResult{}, adapter.Permanent(fmt.Errorf("decoding woocommerce webhook %s body: id %q is not a record id", topic, probe.ID))
	}
	ev := adapter.WebhookEvent{ID: eventID(topic, id, req.Body), Kind: adapter.ChangeUpsert, Ref: m.ref(object, id, time.Time{}), OccurredAt: req.ReceivedAt.UTC()}
	if t, err := wooTime("date_modified_gmt", probe.Modified); err == nil {
		ev.OccurredAt = t
	}
	if event == "deleted" {
		// No Record: the host fetches the record's current state.
		if d := header(req.Headers, "X-WC-Webhook-Delivery-ID"); d != "" {
			ev.ID += ":" + d
		}
		return adapter.WebhookResult{Events: []adapter.WebhookEvent{ev}, Status: http.StatusOK}, nil
	}
	ch, rej, _ := m.change(object, req.Body)
	if rej == nil {
		ev.Kind = ch.Kind
		ev.Ref = ch.Ref
		ev.Record = &ch
	}
	// An unmappable body leaves Record nil: the host fetches the record and
	// quarantines it there with the reason.
	return adapter.WebhookResult{Events: []adapter.WebhookEvent{ev}, Status: http.StatusOK}, nil
}

// eventID names a delivery by what its signature covers: the topic, the
// record id and a SHA-256 of the raw body.
func eventID(topic string, id int, body []byte) string {
	sum := sha256.Sum256(body)
	return topic + ":" + strconv.Itoa(id) + ":" + hex.EncodeToString(sum[:16])
}

// WebhookReport says what CheckWebhooks found and did.
type WebhookReport struct {
	Active    []int    // ours, already active
	Reenabled []int    // ours, were disabled or paused, now active
	Created   []int    // were missing, now created
	Inactive  []int    // ours, inactive and left so (reenable off)
	Missing   []string // topics without a webhook (recreate off)
}

type wcWebhook struct {
	ID          int    `json:"id"`
	Status      string `json:"status"`
	Topic       string `json:"topic"`
	DeliveryURL string `json:"delivery_url"`
}

// CheckWebhooks lists the store's webhooks and makes sure one active
// webhook per configured topic delivers to webhooks.delivery_url,
// re-enabling disabled ones (WooCommerce disables a webhook after repeated
// failed deliveries and never retries) and recreating missing ones, as
// configured. Deliveries so never stop silently. Re-enabling does not
// reset WooCommerce's failure count, so a webhook whose endpoint still
// fails is disabled again by its next failure and re-enabled by the next
// check.
func (c *Connector) CheckWebhooks(ctx context.Context) (WebhookReport, error) {
	rep, _, err := c.checkWebhooks(ctx, true)
	return rep, err
}

// WatchWebhooks implements adapter.WebhookWatcher: it lists the store's
// webhooks and reports, per configured topic, the ones delivering to this
// connector that are disabled (WooCommerce disables a webhook after
// repeated failed deliveries) or paused, and the topics none delivers.
// Only with webhooks.manage does it also re-enable and recreate them, as
// CheckWebhooks does. Without webhooks.delivery_url, the connector's
// webhooks are those whose delivery URL ends in /webhooks/woocommerce.
func (c *Connector) WatchWebhooks(ctx context.Context) (adapter.WebhookHealth, bool, error) {
	cfg, _, _, err := c.state()
	if err != nil {
		return adapter.WebhookHealth{}, false, err
	}
	rep, found, err := c.checkWebhooks(ctx, cfg.Webhooks.Manage)
	if err != nil {
		return adapter.WebhookHealth{}, true, err
	}
	h := adapter.WebhookHealth{Active: len(rep.Active) + len(rep.Reenabled) + len(rep.Created), Missing: rep.Missing}
	sub := func(id int) adapter.WebhookSubscription {
		w := found[id]
		return adapter.WebhookSubscription{ID: strconv.Itoa(id), Topic: w.Topic, Status: w.Status}
	}
	for _, id := range rep.Inactive {
		h.Inactive = append(h.Inactive, sub(id))
	}
	for _, id := range rep.Reenabled {
		h.Reenabled = append(h.Reenabled, sub(id))
	}
	for _, id := range rep.Created {
		h.Created = append(h.Created, sub(id))
	}
	return h, true, nil
}

// ours reports whether a webhook delivers to this connector.
func ours(cfg Config, deliveryURL string) bool {
	if cfg.Webhooks.DeliveryURL != "" {
		return deliveryURL == cfg.Webhooks.DeliveryURL
	}
	u, err := url.Parse(deliveryURL)
	return err == nil && strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/webhooks/"+Name)
}

// checkWebhooks is CheckWebhooks, repairing only with repair; it also
// returns the webhooks it saw (as they were found) by id.
func (c *Connector) checkWebhooks(ctx context.Context, repair bool) (WebhookReport, map[int]wcWebhook, error) {
	found := map[int]wcWebhook{}
	cfg, a, _, err := c.state()
	if err != nil {
		return WebhookReport{}, found, err
	}
	var rep WebhookReport
	var all []wcWebhook
	for page := 1; ; page++ {
		var batch []wcWebhook
		h, err := a.do(ctx, "listing woocommerce webhooks", http.MethodGet, "/webhooks", url.Values{"per_page": {"100"}, "page": {strconv.Itoa(page)}}, nil, &batch)
		if err != nil {
			return rep, found, err
		}
		for _, w := range batch {
			found[w.ID] = w
		}
		all = append(all, batch...)
		info := readPageInfo(h)
		if len(batch) < 100 || (info.totalPages >= 0 && page >= info.totalPages) {
			break
		}
	}
	for _, topic := range cfg.Webhooks.Topics {
		var mine *wcWebhook
		for i := range all {
			w := &all[i]
			if w.Topic == topic && ours(cfg, w.DeliveryURL) {
				if mine == nil || (mine.Status != "active" && w.Status == "active") {
					mine = w
				}
			}
		}
		switch {
		case mine != nil && mine.Status == "active":
			rep.Active = append(rep.Active, mine.ID)
		case mine != nil && repair && *cfg.Webhooks.Reenable:
			var out wcWebhook
			if _, err := a.do(ctx, "re-enabling woocommerce webhook "+strconv.Itoa(mine.ID), http.MethodPut, "/webhooks/"+strconv.Itoa(mine.ID),
				nil, map[string]string{"status": "active", "secret": cfg.Webhooks.Secret}, &out); err != nil {
				return rep, found, err
			}
			c.log.WarnContext(ctx, "re-enabled a woocommerce webhook", "id", mine.ID, "topic", topic, "was", mine.Status)
			rep.Reenabled = append(rep.Reenabled, mine.ID)
		case mine != nil:
			// The host reports it (once per change), not every check.
			c.log.DebugContext(ctx, "woocommerce webhook is not active", "id", mine.ID, "topic", topic, "status", mine.Status)
			rep.Inactive = append(rep.Inactive, mine.ID)
		case repair && *cfg.Webhooks.Recreate && cfg.Webhooks.DeliveryURL != "":
			var out wcWebhook
			body := map[string]string{"name": cfg.Webhooks.Name + " " + topic, "topic": topic, "delivery_url": cfg.Webhooks.DeliveryURL,
				"secret": cfg.Webhooks.Secret, "status": "active"}
			if _, err := a.do(ctx, "creating woocommerce webhook "+topic, http.MethodPost, "/webhooks", nil, body, &out); err != nil {
				return rep, found, err
			}
			found[out.ID] = out
			c.log.InfoContext(ctx, "created a woocommerce webhook", "id", out.ID, "topic", topic)
			rep.Created = append(rep.Created, out.ID)
		default:
			c.log.DebugContext(ctx, "no woocommerce webhook for topic", "topic", topic)
			rep.Missing = append(rep.Missing, topic)
		}
	}
	return rep, found, nil
}

func (c *Connector) webhookLoop(ctx context.Context, every time.Duration, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := c.CheckWebhooks(ctx); err != nil && ctx.Err() == nil {
			c.log.WarnContext(ctx, "checking woocommerce webhooks", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
