package salesforce

import (
	"context"
	"crypto/subtle"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// AckBody is the exact acknowledgement an Outbound Message needs (HTTP
// 200, this SOAP envelope). Anything else makes Salesforce retry.
const AckBody = `<?xml version="1.0" encoding="UTF-8"?>` +
	`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">` +
	`<soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">` +
	`<Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>`

type omEnvelope struct {
	XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
	Body    struct {
		Notifications *struct {
			OrganizationID string           `xml:"http://soap.sforce.com/2005/09/outbound OrganizationId"`
			ActionID       string           `xml:"http://soap.sforce.com/2005/09/outbound ActionId"`
			Notification   []omNotification `xml:"http://soap.sforce.com/2005/09/outbound Notification"`
		} `xml:"http://soap.sforce.com/2005/09/outbound notifications"`
	} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
}

type omNotification struct {
	ID      string `xml:"http://soap.sforce.com/2005/09/outbound Id"`
	SObject *struct {
		Type   string    `xml:"http://www.w3.org/2001/XMLSchema-instance type,attr"`
		Fields []omField `xml:",any"`
	} `xml:"http://soap.sforce.com/2005/09/outbound sObject"`
}

type omField struct {
	XMLName xml.Name
	Nil     string `xml:"http://www.w3.org/2001/XMLSchema-instance nil,attr"`
	Value   string `xml:",chardata"`
}

func badSignature(format string, args ...any) error {
	return adapter.Auth(fmt.Errorf("verifying salesforce outbound message: %s: %w", fmt.Sprintf(format, args...), adapter.ErrBadSignature))
}

// VerifyWebhook authenticates and parses an Outbound Message. Salesforce
// signs nothing, so authenticity rests on the OrganizationId (compared in
// constant time with the configured org) and, when configured, a secret
// last path segment of the endpoint URL. Malformed XML is a permanent
// error (the host answers 400 and stores nothing). The result carries the
// exact Ack envelope; the host must send it only after storing the events.
func (c *Connector) VerifyWebhook(_ context.Context, req adapter.WebhookRequest) (adapter.WebhookResult, error) {
	if err := c.ready(); err != nil {
		return adapter.WebhookResult{}, err
	}
	if c.cfg.WebhookPathSecret != "" {
		u, err := url.Parse(req.URL)
		seg := ""
		if err == nil {
			p := strings.TrimRight(u.Path, "/")
			seg = p[strings.LastIndexByte(p, '/')+1:]
		}
		if subtle.ConstantTimeCompare([]byte(seg), []byte(c.cfg.WebhookPathSecret)) != 1 {
			return adapter.WebhookResult{}, badSignature("the URL's secret path segment does not match")
		}
	}
	var env omEnvelope
	dec := xml.NewDecoder(strings.NewReader(string(req.Body)))
	if err := dec.Decode(&env); err != nil {
		return adapter.WebhookResult{}, adapter.Permanent(fmt.Errorf("parsing salesforce outbound message: %w", err))
	}
	n := env.Body.Notifications
	if n == nil {
		return adapter.WebhookResult{}, adapter.Permanent(errors.New("parsing salesforce outbound message: no notifications element in the SOAP body"))
	}
	if c.cfg.OrganizationID == "" {
		return adapter.WebhookResult{}, badSignature("organization_id is not configured, so no org can be trusted")
	}
	if len(n.OrganizationID) < 15 || subtle.ConstantTimeCompare([]byte(n.OrganizationID[:15]), []byte(c.cfg.OrganizationID[:15])) != 1 {
		return adapter.WebhookResult{}, badSignature("OrganizationId %q is not the configured org", n.OrganizationID)
	}
	if len(n.Notification) < 1 || len(n.Notification) > 100 {
		return adapter.WebhookResult{}, adapter.Permanent(fmt.Errorf("parsing salesforce outbound message: %d notifications, expected 1 to 100", len(n.Notification)))
	}
	m := &mapper{org: n.OrganizationID, currency: c.cfg.Currency, multi: c.cfg.MultiCurrency, engagement: c.cfg.Engagement}
	res := adapter.WebhookResult{Status: 200, ContentType: "text/xml; charset=utf-8", Body: []byte(AckBody)}
	for i, nt := range n.Notification {
		if nt.ID == "" || nt.SObject == nil {
			return adapter.WebhookResult{}, adapter.Permanent(fmt.Errorf("parsing salesforce outbound message: notification %d has no Id or sObject", i+1))
		}
		object := nt.SObject.Type
		if _, local, ok := strings.Cut(object, ":"); ok {
			object = local
		}
		r := row{}
		for _, f := range nt.SObject.Fields {
			if f.Nil == "true" {
				continue
			}
			r[f.XMLName.Local] = f.Value
		}
		id := r.str("Id")
		if !validID(id) {
			return adapter.WebhookResult{}, adapter.Permanent(fmt.Errorf("parsing salesforce outbound message: notification %s: sObject Id %q is not a Salesforce id", nt.ID, id))
		}
		ev := adapter.WebhookEvent{ID: nt.ID, Kind: adapter.ChangeUpsert, Ref: m.ref(refType(object), id, time.Time{})}
		if mod, err := r.timeOf("SystemModstamp"); err == nil && !mod.IsZero() {
			ev.OccurredAt = mod
			ev.Ref.LastModified = mod
			// The message carries current values; when it carries the
			// fields we map, hand the record over so no fetch is needed.
			if ch, err := m.mapRow(object, r); err == nil && hasMappedFields(object, r) {
				ev.Kind, ev.MergedInto = ch.Kind, ch.MergedInto
				ev.Record = &ch
			}
		}
		res.Events = append(res.Events, ev)
	}
	return res, nil
}

// hasMappedFields reports whether an Outbound Message row carries enough
// of the fields to replace a fetch (admins choose which fields are sent).
func hasMappedFields(object string, r row) bool {
	switch object {
	case "Contact", "Lead":
		_, e := r["Email"]
		_, l := r["LastName"]
		return e && l
	case "Account":
		_, ok := r["Name"]
		return ok
	case "Opportunity":
		_, a := r["StageName"]
		_, w := r["IsWon"]
		return a && w
	}
	return false
}
