package marketo

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// engagementTypes are the activity types read as engagement: Visit
// Webpage, Fill Out Form, Open Email, Click Email.
var engagementTypes = []string{"1", "2", "10", "11"}

// engagement counts one lead's engagement activities.
type engagement struct {
	opens, clicks, visits, forms int
	lastOpen, lastClick, lastVis time.Time
	last                         time.Time
}

func (e *engagement) add(typeID int, at time.Time) {
	switch typeID {
	case 10:
		e.opens++
		e.lastOpen = later(e.lastOpen, at)
	case 11:
		e.clicks++
		e.lastClick = later(e.lastClick, at)
	case 1:
		e.visits++
		e.lastVis = later(e.lastVis, at)
	case 2:
		e.forms++
	default:
		return
	}
	e.last = later(e.last, at)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// put writes the engagement attributes: Open Email and Click Email as
// email opens and clicks, Visit Webpage as page views, Fill Out Form as
// form submissions.
func (e *engagement) put(attrs map[string]string) {
	attrs[domain.AttrEmailOpens] = strconv.Itoa(e.opens)
	attrs[domain.AttrEmailClicks] = strconv.Itoa(e.clicks)
	attrs[domain.AttrPageViews] = strconv.Itoa(e.visits)
	attrs[domain.AttrFormSubmissions] = strconv.Itoa(e.forms)
	if !e.lastOpen.IsZero() {
		attrs[domain.AttrLastEmailOpen] = e.lastOpen.UTC().Format(time.RFC3339)
	}
	if !e.lastClick.IsZero() {
		attrs[domain.AttrLastEmailClick] = e.lastClick.UTC().Format(time.RFC3339)
	}
	if !e.lastVis.IsZero() {
		attrs[domain.AttrLastVisit] = e.lastVis.UTC().Format(time.RFC3339)
	}
}

func latest(eng map[int]*engagement, since time.Time) time.Time {
	for _, e := range eng {
		since = later(since, e.last)
	}
	return since
}

func sortInts(ids []int) []int {
	slices.Sort(ids)
	return ids
}

// engagement reads the engagement activities of the last
// engagement_days, of the given leads (30 a call, Marketo's leadIds
// limit) or of all leads (nil), 300 a page.
func (p *Plugin) engagement(ctx context.Context, leads []int) (map[int]*engagement, error) {
	p.mu.Lock()
	days := p.cfg.EngagementDays
	p.mu.Unlock()
	start, err := p.pagingToken(ctx, time.Now().AddDate(0, 0, -days))
	if err != nil {
		return nil, fmt.Errorf("marketo: reading engagement: %w", err)
	}
	out := map[int]*engagement{}
	groups := [][]int{nil}
	if leads != nil {
		groups = nil
		for i := 0; i < len(leads); i += maxLeadIDs {
			groups = append(groups, leads[i:min(i+maxLeadIDs, len(leads))])
		}
	}
	for _, g := range groups {
		// Integer lists go as repeated parameters, the description's
		// collectionFormat multi (the guides' comma-separated form is
		// accepted too).
		q := url.Values{"activityTypeIds": engagementTypes, "nextPageToken": {start}, "batchSize": {strconv.Itoa(maxBatch)}}
		for _, id := range g {
			q.Add("leadIds", strconv.Itoa(id))
		}
		for {
			env, err := p.call(ctx, request{op: "activities", method: http.MethodGet, path: "/rest/v1/activities.json", query: q})
			if err != nil {
				return nil, fmt.Errorf("marketo: reading engagement: %w", err)
			}
			var acts []activity
			if err := decode(env, "activities", &acts); err != nil {
				return nil, err
			}
			for _, a := range acts {
				e := out[a.LeadID]
				if e == nil {
					e = &engagement{}
					out[a.LeadID] = e
				}
				e.add(a.TypeID, a.Date)
			}
			if !env.MoreResult || env.NextPageToken == "" {
				break
			}
			q.Set("nextPageToken", env.NextPageToken)
			if err := ctx.Err(); err != nil {
				return nil, adapter.Retryable(err)
			}
		}
	}
	return out, nil
}
