package config_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/config"
)

func TestAlertsAndSpend(t *testing.T) {
	p := writeFile(t, "c.yaml", `
alerts:
  platform_failing_for: 5m
  slack: {webhook_url: "https://hooks.slack.example/services/T0/B0/abcdefSECRET"}
  email: {addr: "smtp.shop.example:587", from: "connector@shop.example", to: [owner@shop.example], username: alerts, password: s3cret-pass}
  webhook: {url: "https://ops.shop.example/alerts", secret: "0123456789abcdef0123"}
spend:
  - {segment: "rfm:champions", amount: "500.00", currency: EUR, from: 2026-07-01, to: 2026-10-01}
`)
	l, err := config.Load(config.Source{File: p})
	if err != nil {
		t.Fatal(err)
	}
	a := l.Alerts
	if !a.Enabled() || a.PlatformFailingFor != 5*time.Minute || a.Interval != time.Minute || !a.RunFailed || a.Email.To[0] != "owner@shop.example" {
		t.Errorf("alerts %+v", a)
	}
	if m, err := l.Spend[0].Minor(); err != nil || m != 50000 {
		t.Errorf("spend %d, %v", m, err)
	}
	for _, secret := range []string{"https://hooks.slack.example/services/T0/B0/abcdefSECRET", "s3cret-pass", "0123456789abcdef0123"} {
		if !slices.Contains(l.SecretValues, secret) {
			t.Errorf("%q is not treated as a secret", secret)
		}
	}

	bad := writeFile(t, "bad.yaml", `
alerts:
  interval: 1s
  writeback_failure_share: 5
  slack: {webhook_url: "http://hooks.slack.example/x"}
  email: {addr: smtp.shop.example, from: nobody, to: []}
  webhook: {url: "ops", secret: short}
spend:
  - {segment: "", amount: "12,5", currency: EUR, from: 2026-10-01, to: 2026-07-01}
`)
	_, err = config.Load(config.Source{File: bad})
	var ps config.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("bad alerts: %v", err)
	}
	got := ps.Error()
	for _, path := range []string{"alerts.interval", "alerts.writeback_failure_share", "alerts.slack.webhook_url", "alerts.email.addr",
		"alerts.email.from", "alerts.email.to", "alerts.webhook.url", "alerts.webhook.secret", "spend[0].segment", "spend[0].amount", "spend[0].to"} {
		if !strings.Contains(got, path) {
			t.Errorf("no problem at %s in:\n%s", path, got)
		}
	}
}

func TestReviewSchedule(t *testing.T) {
	p := writeFile(t, "c.yaml", `
alerts:
  slack: {webhook_url: "https://hooks.slack.example/services/T0/B0/abcdefSECRET"}
review: {schedule: quarterly, link: "https://connector.shop.example"}
`)
	l, err := config.Load(config.Source{File: p})
	if err != nil {
		t.Fatal(err)
	}
	if l.Review.Schedule != "quarterly" || l.Review.Link != "https://connector.shop.example" {
		t.Errorf("review %+v", l.Review)
	}
	for body, path := range map[string]string{
		"review: {schedule: yearly}":  "review.schedule",
		"review: {schedule: monthly}": "review.schedule", // nowhere to send it
		"alerts: {webhook: {url: \"https://ops.example/a\", secret: 0123456789abcdef}}\nreview: {link: \"connector\"}": "review.link",
	} {
		_, err := config.Load(config.Source{File: writeFile(t, "bad.yaml", body)})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want a problem at %s", body, err, path)
		}
	}
}
