package alert

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/segconn/connector/internal/config"
)

// FromConfig returns the rules and the destinations the alerts section
// names (none when it names no destination).
func FromConfig(c config.Alerts) (Rules, []Notifier, error) {
	rules := Rules{PlatformFailingFor: c.PlatformFailingFor, WriteBackFailureShare: c.WriteBackFailureShare, MinWriteBacks: 20,
		SegmentChangeShare: c.SegmentChangeShare, MinSegmentSize: 50, RunFailed: c.RunFailed, DeadLetterGrowth: c.DeadLetterGrowth}
	ns, err := notifiers(c)
	return rules, ns, err
}

// notifiers builds the alert destinations the configuration names.
func notifiers(c config.Alerts) ([]Notifier, error) {
	var out []Notifier
	if c.Slack.WebhookURL != "" {
		out = append(out, &Slack{URL: c.Slack.WebhookURL})
	}
	if e := c.Email; e.Addr != "" {
		n := &Email{Addr: e.Addr, From: e.From, To: e.To, Username: e.Username, Password: e.Password, Insecure: e.Insecure}
		if e.CAFile != "" {
			b, err := os.ReadFile(e.CAFile)
			if err != nil {
				return nil, fmt.Errorf("alerts.email.ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(b) {
				return nil, fmt.Errorf("alerts.email.ca_file %s: no PEM certificate in it", e.CAFile)
			}
			n.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		out = append(out, n)
	}
	if w := c.Webhook; w.URL != "" {
		out = append(out, &Webhook{URL: w.URL, Secret: w.Secret})
	}
	return out, nil
}
