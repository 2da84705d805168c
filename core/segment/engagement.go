package segment

import (
	"fmt"
	"strconv"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// Engagement is a customer's engagement with marketing as the platforms
// report it (the domain.Attr* attributes): lifetime totals and the days
// since the latest web visit, email open or email click. Platforms keep
// totals and last dates, not counts per window, so none of these is "in
// the last N days". Unknown counts are -1 (the platform does not report
// them, or reported something that is not a whole number ≥ 0).
type Engagement struct {
	PageViews, Visits, EmailOpens, EmailClicks, EmailBounces, FormSubmissions int
	// DaysSince is the as-of day minus the day of the latest visit, email
	// open or click (0 when that is after the as-of day), -1 when no date
	// is known.
	DaysSince int
	// Known: at least one engagement attribute is present.
	Known bool
}

// Engaged reports whether the latest engagement is at most days old.
func (e Engagement) Engaged(days int) bool { return e.DaysSince >= 0 && e.DaysSince <= days }

// NeverEngaged reports engagement data with no visit, open or click at all.
func (e Engagement) NeverEngaged() bool {
	return e.Known && e.DaysSince < 0 && e.PageViews <= 0 && e.Visits <= 0 && e.EmailOpens <= 0 && e.EmailClicks <= 0 && e.FormSubmissions <= 0
}

// EngagementOf reads a customer's engagement at asOfDay.
func EngagementOf(a *Attrs, asOfDay int32) Engagement {
	e := Engagement{PageViews: -1, Visits: -1, EmailOpens: -1, EmailClicks: -1, EmailBounces: -1, FormSubmissions: -1, DaysSince: -1}
	if a == nil || len(a.Custom) == 0 {
		return e
	}
	m := a.Custom
	count := func(key string, dst *int) {
		v, ok := m[key]
		if !ok {
			return
		}
		e.Known = true
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			*dst = n
		}
	}
	count(domain.AttrPageViews, &e.PageViews)
	count(domain.AttrVisits, &e.Visits)
	count(domain.AttrEmailOpens, &e.EmailOpens)
	count(domain.AttrEmailClicks, &e.EmailClicks)
	count(domain.AttrEmailBounces, &e.EmailBounces)
	count(domain.AttrFormSubmissions, &e.FormSubmissions)
	latest, have := int32(0), false
	for _, key := range []string{domain.AttrLastVisit, domain.AttrLastEmailOpen, domain.AttrLastEmailClick} {
		v, ok := m[key]
		if !ok {
			continue
		}
		e.Known = true
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			continue
		}
		if d := DayOf(t); !have || d > latest {
			latest, have = d, true
		}
	}
	if have {
		e.DaysSince = int(max(0, asOfDay-latest))
	}
	return e
}

// engagementWhy is behavioral explain's reason for the engagement groups.
func engagementWhy(e Engagement, ft *Features, p *BehavioralParams) string {
	last := "no engagement date known"
	if e.DaysSince >= 0 {
		last = fmt.Sprintf("last visit, open or click %d days ago", e.DaysSince)
	}
	if !e.Known {
		last = "no engagement data for the profile"
	}
	return fmt.Sprintf("%d purchases, %s (engaged within %d days, disengaged after %d)", ft.Orders, last, p.EngagedDays, p.DisengagedDays)
}

// isEngagementVar reports whether a rule name is one of the engagement
// variables.
func isEngagementVar(name string) bool {
	switch name {
	case "has_engagement", "page_views_total", "visits_total", "email_opens_total", "email_clicks_total",
		"email_bounces_total", "form_submissions_total", "days_since_engagement":
		return true
	}
	return false
}

// setEngagement fills the rule environment's engagement variables.
func setEngagement(env *RuleEnv, e Engagement) {
	env.HasEngagement, env.DaysSinceEngagement = e.Known, e.DaysSince
	env.PageViewsTotal, env.VisitsTotal, env.EmailOpensTotal = e.PageViews, e.Visits, e.EmailOpens
	env.EmailClicksTotal, env.EmailBouncesTotal, env.FormSubmissionsTotal = e.EmailClicks, e.EmailBounces, e.FormSubmissions
}
