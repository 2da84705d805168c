package salesforcefake

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Notification is one Outbound Message notification: the notification id
// (04l…, what receivers dedupe on) and the sObject's current field values.
type Notification struct {
	ID     string
	Object string            // e.g. "Contact"
	Fields map[string]string // API name → value, including "Id"
}

// OutboundOptions shape one Outbound Message delivery.
type OutboundOptions struct {
	OrgID     string // default: the fake's org; set another to test mismatches
	ActionID  string // default 04k000000000001AAA
	SessionID string // empty sends xsi:nil, as when "Send Session ID" is off
	// Backoff is the first wait between attempts, doubling up to MaxBackoff
	// (the platform waits up to 2 h; compressed here). Default 5ms / 200ms.
	Backoff, MaxBackoff time.Duration
	// GiveUpAfter is the compressed "24 hours" after which the message is
	// dropped; default 2s. MaxAttempts also bounds it (default 50).
	GiveUpAfter time.Duration
	MaxAttempts int
	// Duplicate delivers the message once more after it was acknowledged,
	// as the platform's at-least-once delivery does.
	Duplicate bool
	Client    *http.Client
}

// Delivery reports what happened to one Outbound Message.
type Delivery struct {
	Attempts int
	Acked    bool
	Dropped  bool
	Statuses []int // HTTP status per attempt, 0 for a transport error
}

// OutboundFor builds notifications carrying the current fields of stored
// records, with fresh notification ids.
func (f *Fake) OutboundFor(object string, ids ...string) []Notification {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Notification
	for _, id := range ids {
		rec := f.records[object][id]
		if rec == nil {
			continue
		}
		f.seq++
		n := Notification{ID: fmt.Sprintf("04l%012dAAA", f.seq), Object: object, Fields: map[string]string{"Id": id}}
		for k, v := range rec.fields {
			if v != nil {
				n.Fields[k] = csvValue(f.schema[object][k], v)
			}
		}
		out = append(out, n)
	}
	return out
}

// OutboundEnvelope renders the SOAP 1.1 envelope Salesforce posts.
func (f *Fake) OutboundEnvelope(notes []Notification, o OutboundOptions) []byte {
	org := o.OrgID
	if org == "" {
		org = f.opts.OrgID
	}
	action := o.ActionID
	if action == "" {
		action = "04k000000000001AAA"
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`)
	b.WriteString(` <soapenv:Body>`)
	b.WriteString(`  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">`)
	fmt.Fprintf(&b, `<OrganizationId>%s</OrganizationId><ActionId>%s</ActionId>`, esc(org), esc(action))
	if o.SessionID == "" {
		b.WriteString(`<SessionId xsi:nil="true"/>`)
	} else {
		fmt.Fprintf(&b, `<SessionId>%s</SessionId>`, esc(o.SessionID))
	}
	base := f.URL()
	fmt.Fprintf(&b, `<EnterpriseUrl>%s/services/Soap/c/62.0/%s</EnterpriseUrl><PartnerUrl>%s/services/Soap/u/62.0/%s</PartnerUrl>`,
		esc(base), esc(org[:min(15, len(org))]), esc(base), esc(org[:min(15, len(org))]))
	for _, n := range notes {
		fmt.Fprintf(&b, `<Notification><Id>%s</Id><sObject xsi:type="sf:%s" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">`, esc(n.ID), esc(n.Object))
		keys := make([]string, 0, len(n.Fields))
		for k := range n.Fields {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			if a == "Id" {
				return -1
			}
			if b == "Id" {
				return 1
			}
			return strings.Compare(a, b)
		})
		for _, k := range keys {
			fmt.Fprintf(&b, `<sf:%s>%s</sf:%s>`, k, esc(n.Fields[k]), k)
		}
		b.WriteString(`</sObject></Notification>`)
	}
	b.WriteString(`</notifications></soapenv:Body></soapenv:Envelope>`)
	return b.Bytes()
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// SendOutbound posts notes (1 to 100) to url until the receiver answers
// HTTP 200 with notificationsResponse/Ack = true, backing off between
// attempts, and drops the message after GiveUpAfter or MaxAttempts.
func (f *Fake) SendOutbound(ctx context.Context, url string, notes []Notification, o OutboundOptions) (Delivery, error) {
	if len(notes) < 1 || len(notes) > 100 {
		return Delivery{}, fmt.Errorf("an outbound message carries 1 to 100 notifications, not %d", len(notes))
	}
	if o.Backoff <= 0 {
		o.Backoff = 5 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 200 * time.Millisecond
	}
	if o.GiveUpAfter <= 0 {
		o.GiveUpAfter = 2 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 50
	}
	client := o.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	body := f.OutboundEnvelope(notes, o)
	var d Delivery
	deadline := time.Now().Add(o.GiveUpAfter)
	wait := o.Backoff
	for {
		d.Attempts++
		status, ack := f.postOutbound(ctx, client, url, body)
		d.Statuses = append(d.Statuses, status)
		if ack {
			d.Acked = true
			break
		}
		if d.Attempts >= o.MaxAttempts || time.Now().Add(wait).After(deadline) {
			d.Dropped = true
			return d, nil
		}
		select {
		case <-ctx.Done():
			return d, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, o.MaxBackoff)
	}
	if o.Duplicate {
		d.Attempts++
		status, _ := f.postOutbound(ctx, client, url, body)
		d.Statuses = append(d.Statuses, status)
	}
	return d, nil
}

func (f *Fake) postOutbound(ctx context.Context, client *http.Client, url string, body []byte) (int, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, false
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `""`)
	req.Header.Set("User-Agent", "Jakarta Commons-HttpClient/3.1")
	resp, err := client.Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.StatusCode == http.StatusOK && IsAck(data)
}

// IsAck reports whether body is a SOAP envelope whose
// notificationsResponse (in the outbound namespace) holds Ack = true.
func IsAck(body []byte) bool {
	var env struct {
		XMLName xml.Name
		Body    struct {
			Resp *struct {
				XMLName xml.Name
				Ack     string `xml:"Ack"`
			} `xml:"http://soap.sforce.com/2005/09/outbound notificationsResponse"`
		} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
	}
	if err := xml.Unmarshal(body, &env); err != nil {
		return false
	}
	if env.XMLName.Space != "http://schemas.xmlsoap.org/soap/envelope/" || env.XMLName.Local != "Envelope" {
		return false
	}
	return env.Body.Resp != nil && strings.TrimSpace(env.Body.Resp.Ack) == "true"
}
