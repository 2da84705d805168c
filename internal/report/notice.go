package report

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/segconn/connector/internal/alert"
)

// Notice turns the review into the message the alert destinations send:
// a title, a short summary (the suggested actions first, then the
// largest moves), a link to the web app's review page when linkBase (the
// app's address) is set, the HTML page without scripts for email, and
// the review itself for the webhook.
func (r *ReviewResult) Notice(linkBase string, at time.Time) (alert.Report, error) {
	from, to := r.From.UTC().Format(time.DateOnly), r.To.UTC().Format(time.DateOnly)
	n := alert.Report{Kind: "review", Title: fmt.Sprintf("Segment review, %s to %s", from, to), At: at, ID: from + "/" + to, Data: r}
	n.Summary = append(n.Summary, fmt.Sprintf("%d profiles in %d segments.", r.Profiles, len(r.Segments)))
	if len(r.Findings) == 0 {
		n.Summary = append(n.Summary, "Nothing stands out this period.")
	}
	for i, f := range r.Findings {
		if i == 5 {
			n.Summary = append(n.Summary, fmt.Sprintf("…and %d more suggestions in the full review.", len(r.Findings)-5))
			break
		}
		n.Summary = append(n.Summary, f.Action+" ("+f.Text+")")
	}
	for i, f := range r.Flows {
		if i == 3 {
			break
		}
		n.Summary = append(n.Summary, FlowText(f)+".")
	}
	if linkBase != "" {
		q := url.Values{"from": {from}, "to": {to}}
		n.Link = strings.TrimRight(linkBase, "/") + "/review?" + q.Encode()
	}
	var b bytes.Buffer
	if err := r.WriteHTML(&b, nil); err != nil {
		return n, fmt.Errorf("rendering the review for email: %w", err)
	}
	n.HTML = b.Bytes()
	return n, nil
}
