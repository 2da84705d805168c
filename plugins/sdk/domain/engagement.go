package domain

// Engagement attributes: a connector that reads a person's engagement with
// marketing (web visits, email, forms) from a platform puts it on the
// contact's Attributes under these names, so the segment engine reads the
// same names whatever the platform. Counts are whole lifetime totals as
// decimal integers ("12"); times are RFC 3339 in UTC. A platform that does
// not hold a value leaves the attribute out: absent means unknown, not 0.
//
// Platforms keep lifetime totals and last dates, not counts per window, so
// there is no "page views in the last 90 days" here.
const (
	AttrPageViews       = "engagement_page_views"       // web page views
	AttrVisits          = "engagement_visits"           // web sessions
	AttrLastVisit       = "engagement_last_visit"       // start of the last web session
	AttrEmailOpens      = "engagement_email_opens"      // marketing emails opened
	AttrEmailClicks     = "engagement_email_clicks"     // marketing emails clicked
	AttrEmailBounces    = "engagement_email_bounces"    // marketing emails bounced
	AttrFormSubmissions = "engagement_form_submissions" // form submissions
	AttrLastEmailOpen   = "engagement_last_email_open"  // last marketing email open
	AttrLastEmailClick  = "engagement_last_email_click" // last marketing email click
)
