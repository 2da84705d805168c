package hubspot

import (
	"math"
	"strconv"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// engagementProp is one HubSpot contact property that records engagement
// and the domain attribute it maps to.
type engagementProp struct {
	hs, attr string
	date     bool // datetime property; else a number (a count)
}

// engagementProps are the HubSpot default contact properties of web
// analytics, marketing email and forms. HubSpot computes them (they are
// read-only) as lifetime totals and last dates; it keeps no per-window
// counts on the contact. Reading them costs no extra calls: they travel
// with the contact.
var engagementProps = []engagementProp{
	{"hs_analytics_num_page_views", domain.AttrPageViews, false},
	{"hs_analytics_num_visits", domain.AttrVisits, false},
	{"hs_analytics_last_visit_timestamp", domain.AttrLastVisit, true},
	{"hs_email_open", domain.AttrEmailOpens, false},
	{"hs_email_click", domain.AttrEmailClicks, false},
	{"hs_email_bounce", domain.AttrEmailBounces, false},
	{"num_conversion_events", domain.AttrFormSubmissions, false},
	{"hs_email_last_open_date", domain.AttrLastEmailOpen, true},
	{"hs_email_last_click_date", domain.AttrLastEmailClick, true},
}

// mapEngagement copies the contact's engagement properties into attrs
// under the domain names: counts as whole numbers, dates as RFC 3339 UTC.
// A value that is neither (a negative or fractional count, an unreadable
// date) is kept raw under the HubSpot name, so it is not lost and does
// not pass for engagement.
func mapEngagement(o hsObject, attrs map[string]string) {
	for _, p := range engagementProps {
		v := o.prop(p.hs)
		if v == "" {
			continue
		}
		if p.date {
			if t, ok := parseTime(v); ok {
				attrs[p.attr] = t.UTC().Format(time.RFC3339)
				continue
			}
		} else if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f == math.Trunc(f) && f < 1e15 {
			attrs[p.attr] = strconv.FormatInt(int64(f), 10)
			continue
		}
		attrs[p.hs] = v
	}
}
