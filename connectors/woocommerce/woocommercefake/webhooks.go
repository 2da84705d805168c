package woocommercefake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

type webhookRec struct {
	Webhook
	secret   string
	failures int
	// pending is WooCommerce's pending_delivery: set when the webhook is
	// created, cleared by a ping answered 200.
	pending bool
}

// Delivery records one webhook request the fake sent.
type Delivery struct {
	WebhookID  int
	Topic      string // "" for a ping
	DeliveryID string
	Ping       bool
	Status     int // 0 when the request failed
	Err        error
	Body       []byte
}

func webhookTopic(t string) bool {
	res, ev, ok := strings.Cut(t, ".")
	switch {
	case !ok:
		return false
	case res != "customer" && res != "order" && res != "product" && res != "coupon":
		return false
	}
	return ev == "created" || ev == "updated" || ev == "deleted" || ev == "restored"
}

// AddWebhook registers a webhook directly (as the admin UI would) and
// returns its id. It sends no ping.
func (f *Fake) AddWebhook(name, topic, deliveryURL, secret string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addWebhookLocked(name, topic, deliveryURL, secret, "active").ID
}

func (f *Fake) addWebhookLocked(name, topic, deliveryURL, secret, status string) *webhookRec {
	id := f.nextID
	f.nextID++
	if secret == "" {
		secret = fmt.Sprintf("wc_webhook_secret_%d", id)
	}
	res, ev, _ := strings.Cut(topic, ".")
	rec := &webhookRec{Webhook: Webhook{ID: id, Name: name, Status: status, Topic: topic, Resource: res, Event: ev,
		Hooks: []string{"woocommerce_" + topic}, DeliveryURL: deliveryURL}, secret: secret}
	rec.DateCreated, rec.DateCreatedGMT = f.dates(f.now())
	rec.DateModified, rec.DateModifiedGMT = rec.DateCreated, rec.DateCreatedGMT
	f.webhooks[id] = rec
	return rec
}

// Webhooks returns every webhook, ascending by id.
func (f *Fake) Webhooks() []Webhook {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.webhookListLocked("")
}

func (f *Fake) webhookListLocked(status string) []Webhook {
	out := make([]Webhook, 0, len(f.webhooks))
	for _, w := range f.webhooks {
		if status == "" || status == "all" || w.Status == status {
			out = append(out, w.Webhook)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// SetWebhookStatus changes a webhook's status directly (no ping).
func (f *Fake) SetWebhookStatus(id int, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if w, ok := f.webhooks[id]; ok {
		w.Status = status
	}
}

// Deliveries lists every webhook request sent so far.
func (f *Fake) Deliveries() []Delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Delivery(nil), f.deliveries...)
}

func (f *Fake) listWebhooks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, ok := readPaging(w, q)
	if !ok {
		return
	}
	all := f.webhookListLocked(q.Get("status"))
	lo, hi := writePageHeaders(w, r, p, len(all))
	writeJSON(w, http.StatusOK, all[lo:hi])
}

type webhookIn struct {
	Name        *string `json:"name"`
	Status      *string `json:"status"`
	Topic       *string `json:"topic"`
	DeliveryURL *string `json:"delivery_url"`
	Secret      *string `json:"secret"`
}

func validWebhookStatus(s string) bool { return s == "active" || s == "paused" || s == "disabled" }

func (f *Fake) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhookIn
	if !readBody(w, r, &in) {
		return
	}
	if in.Topic == nil || in.DeliveryURL == nil {
		missing := []string{}
		if in.Topic == nil {
			missing = append(missing, "topic")
		}
		if in.DeliveryURL == nil {
			missing = append(missing, "delivery_url")
		}
		writeError(w, http.StatusBadRequest, "rest_missing_callback_param", "Missing parameter(s): "+strings.Join(missing, ", "),
			map[string]any{"params": missing})
		return
	}
	if !webhookTopic(*in.Topic) && !strings.HasPrefix(*in.Topic, "action.") {
		writeError(w, http.StatusBadRequest, "woocommerce_rest_webhook_invalid_topic", "Webhook topic is required and must be valid.", nil)
		return
	}
	if u, err := url.Parse(*in.DeliveryURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		invalidParam(w, "delivery_url", "Invalid URL.", "rest_invalid_url")
		return
	}
	status := "active"
	if in.Status != nil {
		if !validWebhookStatus(*in.Status) {
			invalidParam(w, "status", "status is not one of active, paused, and disabled.", "rest_not_in_enum")
			return
		}
		status = *in.Status
	}
	name, secret := "", ""
	if in.Name != nil {
		name = *in.Name
	}
	if in.Secret != nil {
		secret = *in.Secret
	}
	rec := f.addWebhookLocked(name, *in.Topic, *in.DeliveryURL, secret, status)
	rec.pending = true
	if status == "active" {
		f.pingAfterLocked(rec)
	}
	writeJSON(w, http.StatusCreated, rec.Webhook)
}

func (f *Fake) webhookItem(w http.ResponseWriter, r *http.Request, id int) {
	rec, ok := f.webhooks[id]
	if !ok {
		writeError(w, http.StatusNotFound, "woocommerce_rest_webhook_invalid_id", "Invalid ID.", nil)
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, rec.Webhook)
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		var in webhookIn
		if !readBody(w, r, &in) {
			return
		}
		if in.Status != nil && !validWebhookStatus(*in.Status) {
			invalidParam(w, "status", "status is not one of active, paused, and disabled.", "rest_not_in_enum")
			return
		}
		if in.Topic != nil && !webhookTopic(*in.Topic) {
			writeError(w, http.StatusBadRequest, "woocommerce_rest_webhook_invalid_topic", "Webhook topic is required and must be valid.", nil)
			return
		}
		// WC_REST_Webhooks_V1_Controller::update_item sets the fields and
		// saves; WC_Webhook_Data_Store::update pings only when the webhook
		// is active and its delivery URL changed or a delivery is still
		// pending. Nothing resets failure_count: a webhook re-enabled after
		// being disabled keeps its count, so its next failed delivery
		// disables it again, until a successful one resets the count.
		moved := in.DeliveryURL != nil && *in.DeliveryURL != rec.DeliveryURL
		if in.Name != nil {
			rec.Name = *in.Name
		}
		if in.Topic != nil {
			rec.Topic = *in.Topic
			rec.Resource, rec.Event, _ = strings.Cut(*in.Topic, ".")
			rec.Hooks = []string{"woocommerce_" + *in.Topic}
		}
		if in.DeliveryURL != nil {
			rec.DeliveryURL = *in.DeliveryURL
		}
		if in.Secret != nil {
			rec.secret = *in.Secret
		}
		if in.Status != nil {
			rec.Status = *in.Status
		}
		if rec.Status == "active" && (moved || rec.pending) {
			f.pingAfterLocked(rec)
		}
		rec.DateModified, rec.DateModifiedGMT = f.dates(f.now())
		writeJSON(w, http.StatusOK, rec.Webhook)
	case http.MethodDelete:
		if q := r.URL.Query().Get("force"); q != "true" && q != "1" {
			writeError(w, http.StatusNotImplemented, "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", nil)
			return
		}
		delete(f.webhooks, id)
		writeJSON(w, http.StatusOK, rec.Webhook)
	default:
		writeError(w, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.", nil)
	}
}

// pingAfterLocked sends the ping in the background (the REST answer does
// not wait for it), recording the outcome in Deliveries.
func (f *Fake) pingAfterLocked(rec *webhookRec) {
	id, target := rec.ID, rec.DeliveryURL
	go func() { _, _ = f.sendPing(context.Background(), id, target) }()
}

// Ping sends the unsigned ping (form body webhook_id=N, no X-WC headers)
// to a webhook's delivery URL and returns the status. WooCommerce wants
// exactly 200; any other answer is reported as an error.
func (f *Fake) Ping(ctx context.Context, webhookID int) (int, error) {
	f.mu.Lock()
	rec, ok := f.webhooks[webhookID]
	target := ""
	if ok {
		target = rec.DeliveryURL
	}
	f.mu.Unlock()
	if !ok {
		return 0, fmt.Errorf("pinging webhook %d: no such webhook", webhookID)
	}
	return f.sendPing(ctx, webhookID, target)
}

func (f *Fake) sendPing(ctx context.Context, id int, target string) (int, error) {
	body := []byte("webhook_id=" + strconv.Itoa(id))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("building ping for webhook %d: %w", id, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", f.userAgent())
	status, err := f.send(req)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("Delivery URL returned response code: %d", status)
	}
	f.mu.Lock()
	f.deliveries = append(f.deliveries, Delivery{WebhookID: id, Ping: true, Status: status, Err: err, Body: body})
	if w, ok := f.webhooks[id]; ok && err == nil {
		w.pending = false // WC_Webhook::deliver_ping
	}
	f.mu.Unlock()
	return status, err
}

func (f *Fake) userAgent() string {
	return "WooCommerce/" + f.opts.Version + " Hookshot (WordPress/6.7.1)"
}

func (f *Fake) send(req *http.Request) (int, error) {
	resp, err := f.opts.WebhookClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Sign is WooCommerce's webhook signature: base64(HMAC-SHA256(secret, body)).
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// payloadLocked renders the body WooCommerce sends for topic and id: the
// record as the REST API renders it, or {"id": id} for *.deleted.
func (f *Fake) payloadLocked(topic string, id int) []byte {
	resource, event, _ := strings.Cut(topic, ".")
	var body []byte
	var err error
	switch {
	case event == "deleted":
		body, err = json.Marshal(map[string]int{"id": id})
	case resource == "order":
		if rec, ok := f.orderByID[id]; ok {
			body, err = json.Marshal(rec.o)
		}
	case resource == "customer":
		if c, ok := f.custByID[id]; ok {
			body, err = json.Marshal(c)
		}
	}
	if body == nil || err != nil {
		body = []byte(fmt.Sprintf(`{"id":%d}`, id))
	}
	return body
}

func (f *Fake) sourceLocked() string {
	if u := f.URL(); u != "" {
		return u + "/"
	}
	return "http://example.test/"
}

// deliveryHeaders are the headers of a signed delivery.
func (f *Fake) deliveryHeaders(source, topic string, webhookID int, deliveryID, secret string, body []byte) http.Header {
	resource, event, _ := strings.Cut(topic, ".")
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", f.userAgent())
	h.Set("X-WC-Webhook-Source", source)
	h.Set("X-WC-Webhook-Topic", topic)
	h.Set("X-WC-Webhook-Resource", resource)
	h.Set("X-WC-Webhook-Event", event)
	h.Set("X-WC-Webhook-Signature", Sign(secret, body))
	h.Set("X-WC-Webhook-ID", strconv.Itoa(webhookID))
	h.Set("X-WC-Webhook-Delivery-ID", deliveryID)
	return h
}

// deliveryIDLocked is WooCommerce's X-WC-Webhook-Delivery-ID:
// WC_Webhook::get_new_delivery_id() returns wp_hash($webhook_id .
// strtotime('now')), and wp_hash is an HMAC-MD5 keyed with the site's
// auth salt. It depends only on the webhook and the current second, so
// two deliveries of one webhook within a second share it.
func (f *Fake) deliveryIDLocked(webhookID int) string {
	mac := hmac.New(md5.New, []byte(f.opts.SiteSalt))
	mac.Write([]byte(strconv.Itoa(webhookID) + strconv.FormatInt(f.opts.Now().Unix(), 10)))
	return hex.EncodeToString(mac.Sum(nil))
}

// SignedDelivery builds, without sending it, the delivery WooCommerce
// would make for topic and record id, signed with secret: the headers and
// the raw body. The webhook id is 0 (a webhook not saved), so the delivery
// id is the one every such delivery gets within the same second. For
// tests and the conformance kit.
func (f *Fake) SignedDelivery(topic string, id int, secret string) (http.Header, []byte) {
	f.mu.Lock()
	body := f.payloadLocked(topic, id)
	source := f.sourceLocked()
	did := f.deliveryIDLocked(0)
	f.mu.Unlock()
	return f.deliveryHeaders(source, topic, 0, did, secret, body), body
}

// Trigger delivers topic (e.g. "order.updated", "customer.deleted") for
// the record id to every active webhook subscribed to it, once each, with
// no retries, as WooCommerce does. The body is the record as the REST API
// renders it, or {"id": id} for *.deleted. Failures are tracked as
// WC_Webhook::log_delivery() and failed_delivery() do: an answer from 200
// to 302 resets the webhook's failure count; anything else (a transport
// error included) is a failure, and a failure that finds the count already
// above woocommerce_max_webhook_delivery_failures (WebhookMaxFailures, 5)
// disables the webhook instead of counting. With the default threshold the
// seventh consecutive failure disables it.
func (f *Fake) Trigger(ctx context.Context, topic string, id int) []Delivery {
	f.mu.Lock()
	body := f.payloadLocked(topic, id)
	type target struct {
		id          int
		url, secret string
	}
	var targets []target
	for _, w := range f.webhooksSortedLocked() {
		if w.Status == "active" && w.Topic == topic {
			targets = append(targets, target{w.ID, w.DeliveryURL, w.secret})
		}
	}
	source := f.sourceLocked()
	f.mu.Unlock()

	var out []Delivery
	for _, t := range targets {
		f.mu.Lock()
		d := Delivery{WebhookID: t.id, Topic: topic, Body: body, DeliveryID: f.deliveryIDLocked(t.id)}
		f.mu.Unlock()
		req, rerr := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
		if rerr != nil {
			d.Err = rerr
		} else {
			req.Header = f.deliveryHeaders(source, topic, t.id, d.DeliveryID, t.secret, body)
			d.Status, d.Err = f.send(req)
		}
		f.mu.Lock()
		if w, ok := f.webhooks[t.id]; ok {
			switch {
			case d.Err == nil && d.Status >= 200 && d.Status < 303:
				w.failures = 0
			case w.failures > f.opts.WebhookMaxFailures:
				w.Status = "disabled"
			default:
				w.failures++
			}
		}
		f.deliveries = append(f.deliveries, d)
		f.mu.Unlock()
		out = append(out, d)
	}
	return out
}

func (f *Fake) webhooksSortedLocked() []*webhookRec {
	out := make([]*webhookRec, 0, len(f.webhooks))
	for _, w := range f.webhooks {
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
