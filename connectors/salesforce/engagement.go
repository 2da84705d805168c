package salesforce

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// engagementMeasure is one key of engagement.fields: the domain attribute
// its field's value becomes and whether that is a date.
type engagementMeasure struct {
	attr string
	date bool
}

// engagementMeasures are the keys engagement.fields accepts. Salesforce
// itself records no web or email engagement on Contact or Lead; orgs that
// have it keep it in fields of their own or of a marketing package
// (Account Engagement, formerly Pardot, adds custom fields such as
// pi__last_activity__c), so the admin names them.
var engagementMeasures = map[string]engagementMeasure{
	"page_views":       {domain.AttrPageViews, false},
	"visits":           {domain.AttrVisits, false},
	"last_visit":       {domain.AttrLastVisit, true},
	"email_opens":      {domain.AttrEmailOpens, false},
	"email_clicks":     {domain.AttrEmailClicks, false},
	"email_bounces":    {domain.AttrEmailBounces, false},
	"form_submissions": {domain.AttrFormSubmissions, false},
	"last_email_open":  {domain.AttrLastEmailOpen, true},
	"last_email_click": {domain.AttrLastEmailClick, true},
}

// engagementKeys lists engagementMeasures' keys, sorted, for messages.
func engagementKeys() []string {
	out := make([]string, 0, len(engagementMeasures))
	for k := range engagementMeasures {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// mapEngagement copies the row's engagement fields into attrs under the
// domain names: counts (a number field, possibly "12.0") as whole
// numbers, dates and date-times as RFC 3339 UTC. A value that is neither
// is kept raw under the field's name, so it is not lost and does not
// pass for engagement.
func (m *mapper) mapEngagement(r row, attr func(k, v string)) {
	for key, field := range m.engagement {
		v := strings.TrimSpace(r.str(field))
		if v == "" {
			continue
		}
		me := engagementMeasures[key]
		if me.date {
			if t, err := r.timeOf(field); err == nil && !t.IsZero() {
				attr(me.attr, t.Format("2006-01-02T15:04:05Z07:00"))
				continue
			}
			if t, err := r.dateOf(field); err == nil && !t.IsZero() {
				attr(me.attr, t.UTC().Format("2006-01-02T15:04:05Z07:00"))
				continue
			}
		} else if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f == math.Trunc(f) && f < 1e15 {
			attr(me.attr, strconv.FormatInt(int64(f), 10))
			continue
		}
		attr(field, v)
	}
}

// resolveEngagement checks once which configured engagement fields exist
// on Contact and Lead (describe), so a query never names a field the org
// lacks: a missing one is logged and left out rather than failing every
// pull with INVALID_FIELD.
func (c *Connector) resolveEngagement(ctx context.Context) error {
	c.mu.Lock()
	done, want := c.engFields != nil, c.cfg.Engagement
	c.mu.Unlock()
	if done || len(want) == 0 {
		return nil
	}
	found := map[string][]string{}
	for _, obj := range []string{"Contact", "Lead"} {
		var d describeResult
		if err := c.getJSON(ctx, "/sobjects/"+obj+"/describe", nil, &d); err != nil {
			return c.mapErr(err, "describing salesforce "+obj+" for its engagement fields")
		}
		have := map[string]string{}
		for _, f := range d.Fields {
			have[strings.ToLower(f.Name)] = f.Name
		}
		for _, key := range engagementKeys() {
			field, ok := want[key]
			if !ok {
				continue
			}
			if name, ok := have[strings.ToLower(field)]; ok {
				found[obj] = append(found[obj], name)
			} else {
				c.log.Warn("salesforce engagement field not found; it is not read", "object", obj, "field", field, "measure", key)
			}
		}
	}
	c.mu.Lock()
	c.engFields = found
	c.mu.Unlock()
	return nil
}

// engagementFieldsOf are the engagement fields to select from object:
// those found by resolveEngagement, or every configured one before it ran.
func (c *Connector) engagementFieldsOf(object string) []string {
	if object != "Contact" && object != "Lead" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.engFields != nil {
		return c.engFields[object]
	}
	var out []string
	if c.cfg != nil {
		for _, key := range engagementKeys() {
			if f, ok := c.cfg.Engagement[key]; ok {
				out = append(out, f)
			}
		}
	}
	return out
}
