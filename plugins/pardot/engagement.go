package pardot

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Visitor activity types counted as engagement (visitor-activity-v5.html,
// the type table of the Visitor Activity object).
const (
	typeClick   = 1  // a click (emailId set: an email link click)
	typeView    = 2  // a page view
	typeSuccess = 4  // a successful form or form-handler submission
	typeOpen    = 11 // an email open
)

// engagement is one prospect's visitor activity counts.
type engagement struct {
	Opens, Clicks, Views, FormHandlers int
	Last                               time.Time
}

// put writes the counts as attributes.
func (e *engagement) put(attrs map[string]string) {
	attrs["pardot_email_opens"] = strconv.Itoa(e.Opens)
	attrs["pardot_email_clicks"] = strconv.Itoa(e.Clicks)
	attrs["pardot_page_views"] = strconv.Itoa(e.Views)
	attrs["pardot_form_handler_submits"] = strconv.Itoa(e.FormHandlers)
	if !e.Last.IsZero() {
		attrs["pardot_last_activity_at"] = e.Last.UTC().Format(time.RFC3339)
	}
}

type activity struct {
	ID            int       `json:"id"`
	ProspectID    int       `json:"prospectId"`
	Type          int       `json:"type"`
	EmailID       int       `json:"emailId"`
	FormHandlerID int       `json:"formHandlerId"`
	CreatedAt     time.Time `json:"createdAt"`
}

// engagement reads every visitor activity of a prospect, 1000 a page,
// and counts them per prospect; it returns the counts and the latest
// activity time.
func (p *Plugin) engagement(ctx context.Context) (map[int]*engagement, time.Time, error) {
	q := url.Values{"fields": {"id,prospectId,type,emailId,formHandlerId,createdAt"}, "limit": {strconv.Itoa(maxPageSize)}}
	next := "/api/v5/objects/visitor-activities?" + q.Encode()
	out := map[int]*engagement{}
	var latest time.Time
	for next != "" {
		var body struct {
			Values      []activity `json:"values"`
			NextPageURL string     `json:"nextPageUrl"`
		}
		if err := p.call(ctx, http.MethodGet, next, nil, &body); err != nil {
			return nil, time.Time{}, fmt.Errorf("pardot: querying visitor activities: %w", err)
		}
		for _, a := range body.Values {
			if a.ProspectID == 0 {
				continue
			}
			e := out[a.ProspectID]
			if e == nil {
				e = &engagement{}
				out[a.ProspectID] = e
			}
			switch {
			case a.Type == typeOpen:
				e.Opens++
			case a.Type == typeClick && a.EmailID != 0:
				e.Clicks++
			case a.Type == typeView:
				e.Views++
			case a.Type == typeSuccess && a.FormHandlerID != 0:
				e.FormHandlers++
			default:
				continue
			}
			if a.CreatedAt.After(e.Last) {
				e.Last = a.CreatedAt
			}
			if a.CreatedAt.After(latest) {
				latest = a.CreatedAt
			}
		}
		next = body.NextPageURL
	}
	return out, latest, nil
}
