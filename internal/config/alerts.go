package config

import (
	"fmt"
	"net"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// Alerts configures who is told when something breaks (see package
// internal/alert for the rules and the messages). Nothing is sent unless
// a destination is configured.
type Alerts struct {
	// Interval is how often the daemon checks the rules; default 1m.
	Interval time.Duration `koanf:"interval"`
	// PlatformFailingFor alerts when a platform has been failing (auth,
	// quota stop, unreachable) this long; 0 turns the rule off.
	PlatformFailingFor time.Duration `koanf:"platform_failing_for"`
	// WriteBackFailureShare alerts when more than this share of a
	// platform's write-back items failed in the last hour.
	WriteBackFailureShare float64 `koanf:"writeback_failure_share"`
	// SegmentChangeShare alerts when a segment's size changed by more
	// than this share in a day.
	SegmentChangeShare float64 `koanf:"segment_change_share"`
	// DeadLetterGrowth alerts when this many outbound deliveries were
	// given up on in an hour.
	DeadLetterGrowth int `koanf:"dead_letter_growth"`
	// RunFailed alerts when a scheduled run failed.
	RunFailed bool `koanf:"run_failed"`

	Slack   SlackAlerts   `koanf:"slack"`
	Email   EmailAlerts   `koanf:"email"`
	Webhook WebhookAlerts `koanf:"webhook"`
}

// SlackAlerts posts to a Slack incoming webhook.
type SlackAlerts struct {
	WebhookURL string `koanf:"webhook_url"` // a secret: it carries the token
}

// EmailAlerts sends mail by SMTP submission (STARTTLS required unless
// insecure is set for a relay on the same host).
type EmailAlerts struct {
	Addr     string   `koanf:"addr"` // host:port, usually port 587
	From     string   `koanf:"from"`
	To       []string `koanf:"to"`
	Username string   `koanf:"username"`
	Password string   `koanf:"password"`
	Insecure bool     `koanf:"insecure"`
	// CAFile is a PEM file of the CA that signed the server's
	// certificate, for a server with a private CA; default: the system's.
	CAFile string `koanf:"ca_file"`
}

// WebhookAlerts posts each alert as signed JSON.
type WebhookAlerts struct {
	URL    string `koanf:"url"`
	Secret string `koanf:"secret"`
}

// Enabled reports whether any destination is configured.
func (a Alerts) Enabled() bool {
	return a.Slack.WebhookURL != "" || a.Email.Addr != "" || a.Webhook.URL != ""
}

func (a Alerts) validate() Problems {
	var ps Problems
	if a.Interval < 10*time.Second {
		ps = append(ps, Problem{"alerts.interval", fmt.Sprintf("must be at least 10s; got %s", a.Interval)})
	}
	if a.WriteBackFailureShare < 0 || a.WriteBackFailureShare > 1 {
		ps = append(ps, Problem{"alerts.writeback_failure_share", "must be a share between 0 and 1"})
	}
	if a.SegmentChangeShare < 0 {
		ps = append(ps, Problem{"alerts.segment_change_share", "must not be negative"})
	}
	if u := a.Slack.WebhookURL; u != "" && !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://127.0.0.1") && !strings.HasPrefix(u, "http://localhost") {
		ps = append(ps, Problem{"alerts.slack.webhook_url", "must be an https URL (Slack's incoming webhook)"})
	}
	if e := a.Email; e.Addr != "" || e.From != "" || len(e.To) > 0 {
		if _, _, err := net.SplitHostPort(e.Addr); err != nil {
			ps = append(ps, Problem{"alerts.email.addr", "must be host:port of the SMTP server"})
		}
		if _, err := mail.ParseAddress(e.From); err != nil {
			ps = append(ps, Problem{"alerts.email.from", "must be an email address"})
		}
		if len(e.To) == 0 {
			ps = append(ps, Problem{"alerts.email.to", "required: at least one recipient"})
		}
		for i, to := range e.To {
			if _, err := mail.ParseAddress(to); err != nil {
				ps = append(ps, Problem{fmt.Sprintf("alerts.email.to[%d]", i), "must be an email address"})
			}
		}
		if e.CAFile != "" {
			if _, err := os.ReadFile(e.CAFile); err != nil {
				ps = append(ps, Problem{"alerts.email.ca_file", err.Error()})
			}
		}
		if e.Username != "" && e.Password == "" {
			ps = append(ps, Problem{"alerts.email.password", "required when username is set"})
		}
	}
	if w := a.Webhook; w.URL != "" || w.Secret != "" {
		if !strings.HasPrefix(w.URL, "http://") && !strings.HasPrefix(w.URL, "https://") {
			ps = append(ps, Problem{"alerts.webhook.url", "must be an http or https URL"})
		}
		if len(w.Secret) < 16 {
			ps = append(ps, Problem{"alerts.webhook.secret", "must be at least 16 characters: alerts are signed with it"})
		}
	}
	return ps
}

// Spend is money spent on one segment's campaigns in a period, for ROI.
type Spend struct {
	Segment  string `koanf:"segment"`
	Amount   string `koanf:"amount"` // a decimal, "500.00"
	Currency string `koanf:"currency"`
	From     any    `koanf:"from"` // first day, 2026-07-01 (YAML reads a bare date as a time)
	To       any    `koanf:"to"`   // the day after, 2026-10-01
}

// Minor returns the amount in minor units of its currency.
func (s Spend) Minor() (int64, error) {
	m, err := domain.ParseMoney(s.Amount, s.Currency)
	return m.Amount, err
}

// Period returns the spend's period.
func (s Spend) Period() (from, to time.Time, err error) {
	if from, err = day(s.From); err != nil {
		return
	}
	to, err = day(s.To)
	return
}

func day(v any) (time.Time, error) {
	switch v := v.(type) {
	case time.Time:
		return v.UTC(), nil
	case string:
		return time.Parse(time.DateOnly, v)
	}
	return time.Time{}, fmt.Errorf("%v is not a date", v)
}

func validateSpend(spend []Spend) Problems {
	var ps Problems
	for i, s := range spend {
		path := fmt.Sprintf("spend[%d]", i)
		if s.Segment == "" {
			ps = append(ps, Problem{path + ".segment", "required"})
		}
		if _, err := s.Minor(); err != nil {
			ps = append(ps, Problem{path + ".amount", err.Error()})
		}
		from, to, err := s.Period()
		switch {
		case err != nil:
			ps = append(ps, Problem{path, "from and to must be dates (2026-07-01): " + err.Error()})
		case !from.Before(to):
			ps = append(ps, Problem{path + ".to", "must be after from"})
		}
	}
	return ps
}
