package config

import (
	"net/url"
	"slices"
)

// Review schedules the segment review (see `connector report review`).
type Review struct {
	// Schedule is "" (off), "monthly" or "quarterly": on the first day of
	// each month or quarter (UTC) the daemon writes the review of the
	// period that just ended and sends it through the alert destinations.
	Schedule string `koanf:"schedule"`
	// Link is the web app's address as the recipients reach it
	// (https://connector.example.com); the message links to its review
	// page. Empty: no link.
	Link string `koanf:"link"`
}

func (r Review) validate(a Alerts) Problems {
	var ps Problems
	if !slices.Contains([]string{"", "monthly", "quarterly"}, r.Schedule) {
		ps = append(ps, Problem{"review.schedule", `must be "", monthly or quarterly`})
	}
	if r.Schedule != "" && !a.Enabled() {
		ps = append(ps, Problem{"review.schedule", "needs a destination in alerts (slack, email or webhook) to send the review to"})
	}
	if r.Link != "" {
		u, err := url.Parse(r.Link)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			ps = append(ps, Problem{"review.link", "must be an http or https URL"})
		}
	}
	return ps
}
